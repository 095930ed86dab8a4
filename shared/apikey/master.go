package apikey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
)

// MasterMinSecretChars is the least number of URL-safe characters after
// the prefix of a master key (40 characters of base64url hold 240 bits).
const MasterMinSecretChars = 40

// masterMaxChars bounds a master key (a secret is at most 64 KB; a key needs far less).
const masterMaxChars = 512

// ErrMasterFormat is returned for a master key that is not wk_ + at least
// 40 URL-safe characters.
var ErrMasterFormat = errors.New("apikey: a master key is wk_ followed by at least 40 URL-safe characters (A-Z a-z 0-9 - _)")

// CheckMaster reports whether s has the master key's format. It never
// echoes s.
func CheckMaster(s string) error {
	if len(s) > masterMaxChars || len(s) < len(Scheme)+MasterMinSecretChars || s[:len(Scheme)] != Scheme {
		return ErrMasterFormat
	}
	for i := len(Scheme); i < len(s); i++ {
		if !urlSafe(s[i]) {
			return ErrMasterFormat
		}
	}
	return nil
}

// MasterLimitPK is the partition key of the master key's rate-limit item:
// one item for every authorizer instance, so the limit holds however many
// run (the master key has no lookup item of its own).
const MasterLimitPK = "LIMIT#master"

func masterLimitKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: dynamo.S(MasterLimitPK), attrSK: dynamo.S("LIMIT")}
}

// AuthorizeMaster takes a token of the master key's own rate limit of
// perMinute requests a minute. It returns a grant that is Valid or
// Limited (with the limit's figures); an error when the store cannot
// decide, and the request must then be refused. The limit item is
// created, or given a changed limit, by a conditional UpdateItem (the
// authorizer writes nothing else).
func (s *Store) AuthorizeMaster(ctx context.Context, requestID string, perMinute int, now time.Time) (Grant, error) {
	for range 2 {
		r, err := s.limiter.Take(ctx, masterLimitKey(), ratelimit.Guard{}, requestID, now)
		if err != nil {
			return Grant{}, fmt.Errorf("authorize master key: %w", err)
		}
		if r.Outcome == ratelimit.Admitted || r.Outcome == ratelimit.Limited {
			if r.Limit == perMinute {
				g := Grant{Status: Valid, Rate: r}
				if r.Outcome == ratelimit.Limited {
					g.Status = Limited
				}
				return g, nil
			}
			if r.Outcome == ratelimit.Admitted {
				// The token was taken under the old limit: that one
				// request is judged by it, the next ones by the new.
				if err := s.setMasterLimit(ctx, perMinute); err != nil {
					return Grant{}, err
				}
				return Grant{Status: Valid, Rate: r}, nil
			}
		}
		if err := s.setMasterLimit(ctx, perMinute); err != nil {
			return Grant{}, err
		}
	}
	return Grant{}, errors.New("authorize master key: the limit item did not settle")
}

// setMasterLimit creates the master limit item, or sets its limit to
// perMinute, unless it already has that limit.
func (s *Store) setMasterLimit(ctx context.Context, perMinute int) error {
	p := ratelimit.ParamsFor(perMinute)
	names := map[string]string{"#pk": attrPK, "#limit": ratelimit.AttrLimit}
	values := map[string]types.AttributeValue{}
	set := ""
	i := 0
	for name, v := range p.Attributes() {
		i++
		n, val := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[val] = name, v
		if set != "" {
			set += ", "
		}
		set += n + " = " + val
	}
	values[":want"] = dynamo.N(int64(perMinute))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       masterLimitKey(),
		UpdateExpression:          aws.String("SET " + set),
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #limit <> :want"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("set the master key's rate limit: %w", err)
	}
	return nil
}
