package session

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
)

// Charge is the cost of one metered request to its session.
type Charge struct {
	AccountID string
	SessionID string
	// RequestID ties the charge to the request: a charge whose request id
	// was charged before is recognised and not counted again.
	RequestID string
	// Endpoint is the usage name ("indicators/rsi").
	Endpoint string
	Tokens   int64
	// TokenLimit is the session's limit as the authorizer admitted it
	// (the hub's own limit is used when this one is stale).
	TokenLimit int64
	At         time.Time
	// Extra items join the transaction (the account's usage counters,
	// usage.Store.ChargeItems).
	Extra []types.TransactWriteItem
}

// Charged is what a charge did.
type Charged struct {
	// Duplicate: the request id had been charged already; nothing was
	// counted this time.
	Duplicate bool
	// Exhausted: this charge filled the session to its limit exactly and
	// ended it.
	Exhausted bool
	// TokensUsed is the session's tokens_used right after this charge
	// when the store told it (on the charge that exhausts the session),
	// else -1.
	TokensUsed int64
}

// InsufficientError is Charge's refusal of tokens that do not fit what
// the session has left: nothing was written.
type InsufficientError struct {
	SessionID string
	// Required is the charge's tokens; Remaining what the session had
	// left (token_limit - tokens_used) when the charge was refused.
	Required, Remaining int64
}

func (e *InsufficientError) Error() string {
	return fmt.Sprintf("session %s has %d tokens left, the charge needs %d", e.SessionID, e.Remaining, e.Required)
}

// ReceiptTTL is how long a charge receipt is kept: retries come within it.
const ReceiptTTL = 24 * time.Hour

// Transaction item positions of a charge.
const (
	chargeReceipt = iota
	chargeSession
	chargeUsage
	chargeHub
)

type hubMode int

const (
	hubCount   hubMode = iota // add to active_tokens_used, stay under the limit
	hubExhaust                // this charge fills the session exactly: end it
	hubNone                   // the hub points elsewhere: leave it
)

// Charge adds c.Tokens and one request to the session in one
// TransactWriteItems, whatever the session's status (what was admitted
// completes and is counted), but only if they fit and the session has not
// expired: the session's update is conditional on tokens_used + c.Tokens
// <= token_limit, so concurrent charges can never together pass the
// limit, and on expires_at > c.At, so an answer finished after the
// session's end is never charged to it (it is not delivered either). The transaction holds the
// session's counters, the hub's active_tokens_used (only while the hub
// points at the session), the session's usage by endpoint, c.Extra, and a
// receipt REQ#<request_id> put only if absent. A retry of a charge that
// landed finds the receipt and counts nothing (Duplicate). The charge
// that fills the session exactly fails its hub condition (which keeps
// the count under the limit), learns the count from the cancellation, and
// is written again ending the session as exhausted and clearing the hub's
// pointer, so one request in the common case costs one round trip and the
// filling one two. A session with fewer tokens left than a request needs
// stays active. It returns *InsufficientError when the tokens do not fit,
// ErrExpired when c.At is at or past expires_at, ErrNotFound when the
// session item does not exist, ErrBusy, or the store's error (nothing
// counted).
func (s *Store) Charge(ctx context.Context, c Charge) (Charged, error) {
	mode := hubCount
	for try := 0; ; try++ {
		items := s.chargeItems(c, mode)
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			res := Charged{TokensUsed: -1}
			if mode == hubExhaust {
				res.Exhausted, res.TokensUsed = true, c.TokenLimit
				s.ended(ctx, Session{ID: c.SessionID, AccountID: c.AccountID, EndReason: Exhausted}, "charge")
			}
			return res, nil
		}
		reasons := dynamo.CancellationReasons(err)
		switch {
		case reasons == nil:
			return Charged{}, fmt.Errorf("charge session %s: %w", c.SessionID, err)
		case dynamo.ReasonIs(reasons, chargeReceipt, "ConditionalCheckFailed"):
			return Charged{Duplicate: true, TokensUsed: -1}, nil
		case dynamo.ReasonIs(reasons, chargeSession, "ConditionalCheckFailed"):
			old := reasons[chargeSession].Item
			if len(old) == 0 {
				return Charged{}, fmt.Errorf("charge session %s: %w", c.SessionID, ErrNotFound)
			}
			if !msAttr(old, attrExpiresAt).After(c.At) {
				return Charged{}, fmt.Errorf("charge session %s: %w", c.SessionID, ErrExpired)
			}
			used, limit := dynamo.Int(old, attrTokensUsed), dynamo.Int(old, attrTokenLimit)
			if used+c.Tokens > limit {
				return Charged{}, &InsufficientError{SessionID: c.SessionID, Required: c.Tokens, Remaining: max(0, limit-used)}
			}
			if try >= attempts {
				return Charged{}, fmt.Errorf("charge session %s: %w", c.SessionID, ErrBusy)
			}
			// It fits the session's own limit: the admitted limit was
			// stale or missing.
			c.TokenLimit = limit
		case try >= attempts:
			return Charged{}, fmt.Errorf("charge session %s: %w", c.SessionID, ErrBusy)
		case dynamo.Transient(reasons):
			dynamo.Pause(ctx, try)
		case mode != hubNone && dynamo.ReasonIs(reasons, chargeHub, "ConditionalCheckFailed"):
			old := reasons[chargeHub].Item
			switch {
			case mode != hubCount || dynamo.String(old, attrActiveID) != c.SessionID:
				mode = hubNone // the hub points elsewhere now
			case dynamo.Int(old, attrActiveTokensUsed)+c.Tokens >= dynamo.Int(old, attrActiveTokenLimit):
				// The session's condition held, so this charge fills
				// the session exactly.
				mode, c.TokenLimit = hubExhaust, dynamo.Int(old, attrActiveTokenLimit)
			default:
				// Under the hub's own limit: the admitted limit was
				// stale or missing. Count against the hub's.
				c.TokenLimit = dynamo.Int(old, attrActiveTokenLimit)
			}
		default:
			return Charged{}, fmt.Errorf("charge session %s: %w", c.SessionID, err)
		}
	}
}

func (s *Store) chargeItems(c Charge, mode hubMode) []types.TransactWriteItem {
	t, at, room := dynamo.N(c.Tokens), ms(c.At), dynamo.N(c.TokenLimit-c.Tokens)
	receipt := map[string]types.AttributeValue{
		"pk": dynamo.S("REQ#" + c.RequestID), "sk": dynamo.S("REQ"),
		attrAccountID: dynamo.S(c.AccountID), attrSessionID: dynamo.S(c.SessionID), "endpoint": dynamo.S(c.Endpoint),
		"tokens": t, "charged_at": at, attrTTL: dynamo.N(c.At.Add(ReceiptTTL).Unix()),
	}
	ses := &types.Update{TableName: &s.tables.Sessions, Key: Key(c.AccountID, c.SessionID),
		UpdateExpression: aws.String("ADD #used :t, #requests :one"),
		// The charge fits (tokens_used + t <= token_limit) and comes
		// before the session's end.
		ConditionExpression:                 aws.String("#used <= :room AND #exp > :at"),
		ExpressionAttributeNames:            map[string]string{"#used": attrTokensUsed, "#requests": attrRequests, "#exp": attrExpiresAt},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":t": t, ":one": dynamo.N(1), ":room": room, ":at": at},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if mode == hubExhaust {
		ses.UpdateExpression = aws.String("ADD #used :t, #requests :one " +
			"SET #status = :ended, #reason = if_not_exists(#reason, :exhausted), #endedAt = if_not_exists(#endedAt, :at)")
		ses.ExpressionAttributeNames["#status"] = attrStatus
		ses.ExpressionAttributeNames["#reason"] = attrEndReason
		ses.ExpressionAttributeNames["#endedAt"] = attrEndedAt
		ses.ExpressionAttributeValues[":ended"] = dynamo.S(string(Ended))
		ses.ExpressionAttributeValues[":exhausted"] = dynamo.S(string(Exhausted))
	}
	items := []types.TransactWriteItem{
		chargeReceipt: {Put: &types.Put{TableName: &s.tables.Usage, Item: receipt,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		chargeSession: {Update: ses},
		chargeUsage: {Update: &types.Update{TableName: &s.tables.Usage,
			Key:                       map[string]types.AttributeValue{"pk": dynamo.S(usagePrefix + c.SessionID), "sk": dynamo.S("EP#" + c.Endpoint)},
			UpdateExpression:          aws.String("ADD #requests :one, tokens :t SET endpoint = :ep, session_id = :sid"),
			ExpressionAttributeNames:  map[string]string{"#requests": attrRequests},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": dynamo.N(1), ":t": t, ":ep": dynamo.S(c.Endpoint), ":sid": dynamo.S(c.SessionID)}}},
	}
	switch mode {
	case hubCount:
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.tables.Quotas,
			Key:                      HubKey(c.AccountID),
			UpdateExpression:         aws.String("ADD #aused :t"),
			ConditionExpression:      aws.String("#active = :sid AND #aused < :room"),
			ExpressionAttributeNames: map[string]string{"#active": attrActiveID, "#aused": attrActiveTokensUsed},
			// Still under the limit after this charge: used + t < limit
			// (the one that fills it exactly ends the session).
			ExpressionAttributeValues:           map[string]types.AttributeValue{":t": t, ":sid": dynamo.S(c.SessionID), ":room": room},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
	case hubExhaust:
		items = append(items, types.TransactWriteItem{Update: clearHub(s.tables.Quotas, c.AccountID, c.SessionID)})
	}
	return append(items, c.Extra...)
}
