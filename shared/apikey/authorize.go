package apikey

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
)

// Status is what the authorizer learns of a key.
type Status int

// Statuses.
const (
	// Valid: the key is good and a rate-limit token was taken.
	Valid Status = iota + 1
	// Limited: the key is good but over its rate limit.
	Limited
	// Unknown: no key has this hash.
	Unknown
	// Revoked: the key was revoked (or rotated away).
	Revoked
	// Expired: the key's expires_at has passed.
	Expired
)

func (s Status) String() string {
	switch s {
	case Valid:
		return "valid"
	case Limited:
		return "limited"
	case Unknown:
		return "unknown"
	case Revoked:
		return "revoked"
	case Expired:
		return "expired"
	}
	return "invalid"
}

// Grant is the authorizer's view of a key after Authorize.
type Grant struct {
	Status     Status
	AccountID  string
	KeyID      string
	Permission caller.Permission
	// Rate holds the limit's figures (Limit, Remaining, Reset,
	// RetryAfter) and what Refund needs.
	Rate ratelimit.Result
}

// Authorize checks the key whose hash is given (exists, not revoked, not
// expired at now) and takes a rate-limit token, in one conditional
// UpdateItem in the common case (see package ratelimit). requestID names
// the request so that SDK retries do not take a second token. It returns
// an error only when the store cannot decide; the caller must then refuse
// the request.
func (s *Store) Authorize(ctx context.Context, hash, requestID string, now time.Time) (Grant, error) {
	if g, ok := s.refused.get(hash); ok {
		return g, nil
	}
	r, err := s.limiter.Take(ctx, lookupKey(hash), guard(now), requestID, now)
	if err != nil {
		return Grant{}, fmt.Errorf("authorize key: %w", err)
	}
	g := Grant{Rate: r}
	switch r.Outcome {
	case ratelimit.Missing:
		g.Status = Unknown
		s.refused.put(hash, g)
		return g, nil
	case ratelimit.Refused:
		g.Status = Expired
		if dynamo.BoolOf(r.Item, attrRevoked) {
			g.Status = Revoked
		}
		g.KeyID = dynamo.String(r.Item, attrKeyID)
		s.refused.put(hash, Grant{Status: g.Status, KeyID: g.KeyID})
		return g, nil
	case ratelimit.Limited:
		g.Status = Limited
	case ratelimit.Admitted:
		g.Status = Valid
	default:
		return Grant{}, fmt.Errorf("authorize key: unexpected outcome %v", r.Outcome)
	}
	g.AccountID, g.KeyID = dynamo.String(r.Item, attrAccount), dynamo.String(r.Item, attrKeyID)
	g.Permission = caller.Permission(dynamo.String(r.Item, attrPermission))
	if g.AccountID == "" || g.KeyID == "" || !g.Permission.Valid() {
		return Grant{}, fmt.Errorf("authorize key: malformed lookup item for key %q", g.KeyID)
	}
	return g, nil
}

// Refund gives back the rate-limit token a Valid grant took (the request
// was refused after all, for want of a session) and returns the grant with
// the figures after the refund. It returns the store's error.
func (s *Store) Refund(ctx context.Context, g Grant) (Grant, error) {
	if g.Status != Valid {
		return g, nil
	}
	r, err := s.limiter.Refund(ctx, g.Rate)
	if err != nil {
		return g, fmt.Errorf("refund key %s: %w", g.KeyID, err)
	}
	g.Rate = r
	return g, nil
}

// guard is the key check: not revoked and not expired at now.
func guard(now time.Time) ratelimit.Guard {
	nowMS := now.UnixMilli()
	return ratelimit.Guard{
		Expr:  "#g_rev = :g_false AND (#g_exp = :g_zero OR #g_exp > :g_now)",
		Names: map[string]string{"#g_rev": attrRevoked, "#g_exp": attrExpiresAt},
		Values: map[string]types.AttributeValue{
			":g_false": &types.AttributeValueMemberBOOL{Value: false},
			":g_zero":  &types.AttributeValueMemberN{Value: "0"},
			":g_now":   &types.AttributeValueMemberN{Value: strconv.FormatInt(nowMS, 10)},
		},
		Holds: func(it map[string]types.AttributeValue) bool {
			if v, ok := it[attrRevoked].(*types.AttributeValueMemberBOOL); !ok || v.Value {
				return false
			}
			exp := dynamo.Int(it, attrExpiresAt)
			return exp == 0 || exp > nowMS
		},
	}
}

// refusedKeys remembers, per process, the key hashes the store found
// unknown, revoked or expired, so that a client (or an attacker) repeating
// such a key costs no store call after the first. Each of these states is
// final: a key's hash names a lookup item only if the key was created
// before anyone could present it (keys are 256 random bits, made and
// shown by the create call), revocation is never undone, and expires_at
// never moves. A well-formed key never seen costs one conditional
// UpdateItem (the check and the rate-limit take are one call; a read
// first would cost every valid request a second round trip).
type refusedKeys struct {
	mu sync.Mutex
	m  map[string]Grant
}

// maxRefusedKeys bounds the cache; it is cleared when full.
const maxRefusedKeys = 16384

func newRefusedKeys() *refusedKeys { return &refusedKeys{m: map[string]Grant{}} }

func (r *refusedKeys) get(hash string) (Grant, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.m[hash]
	return g, ok
}

func (r *refusedKeys) put(hash string, g Grant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) >= maxRefusedKeys {
		clear(r.m)
	}
	r.m[hash] = g
}
