// Package session holds metered sessions: their items in the SessionsTable,
// the account hub's active-session pointer and quota counters in the
// QuotasTable (DESIGN.md), starting one (which spends a quota), charging
// tokens to one, ending one (terminated, expired or exhausted), the
// authorizer's active-session lookup, the TTL stream handler and the
// session endpoints.
//
// A session is ended for every reader as soon as it is past expires_at or
// its tokens_used reached token_limit, whatever the table still says:
// Session.At computes that view. The writes that make the table agree
// (terminate, the metering charge that crosses the limit, the lease's TTL
// removal, the reconciler, the next start) are all conditional and
// idempotent: each ends a session at most once and keeps the first
// end_reason.
package session

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
)

// Status is a session's state.
type Status string

// The states.
const (
	Active Status = "active"
	Ended  Status = "ended"
)

// EndReason says why a session ended.
type EndReason string

// The reasons.
const (
	Expired    EndReason = "expired"
	Exhausted  EndReason = "exhausted"
	Terminated EndReason = "terminated"
)

// Session is one session as stored.
type Session struct {
	ID         string
	AccountID  string
	Status     Status
	StartedAt  time.Time
	ExpiresAt  time.Time
	EndedAt    time.Time // zero while active
	EndReason  EndReason // empty while active
	TokenLimit int64
	TokensUsed int64
	Requests   int64
}

// At returns the session as a reader sees it at now: a session the table
// still calls active is ended (expired, ended at expires_at) once now is
// past expires_at, and ended (exhausted) once tokens_used reached
// token_limit. Ended sessions are returned unchanged.
func (s Session) At(now time.Time) Session {
	if s.Status != Active {
		return s
	}
	switch {
	case s.TokensUsed >= s.TokenLimit:
		// Exhaustion can only precede expiry: tokens are spent by
		// requests admitted before expires_at.
		s.Status, s.EndReason, s.EndedAt = Ended, Exhausted, minTime(now, s.ExpiresAt)
	case !now.Before(s.ExpiresAt):
		s.Status, s.EndReason, s.EndedAt = Ended, Expired, s.ExpiresAt
	}
	return s
}

// Remaining is the tokens left, never below zero.
func (s Session) Remaining() int64 { return max(0, s.TokenLimit-s.TokensUsed) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// View is a session as the API shows it.
type View struct {
	SessionID       string `json:"session_id"`
	AccountID       string `json:"account_id"`
	Status          Status `json:"status"`
	StartedAt       string `json:"started_at"`
	ExpiresAt       string `json:"expires_at"`
	EndedAt         string `json:"ended_at,omitempty"`
	EndReason       string `json:"end_reason,omitempty"`
	TokenLimit      int64  `json:"token_limit"`
	TokensUsed      int64  `json:"tokens_used"`
	TokensRemaining int64  `json:"tokens_remaining"`
	Requests        int64  `json:"requests"`
}

// ViewAt renders s as seen at now (see At).
func ViewAt(s Session, now time.Time) View {
	s = s.At(now)
	return View{SessionID: s.ID, AccountID: s.AccountID, Status: s.Status,
		StartedAt: httpapi.Time(s.StartedAt), ExpiresAt: httpapi.Time(s.ExpiresAt), EndedAt: httpapi.Time(s.EndedAt),
		EndReason: string(s.EndReason), TokenLimit: s.TokenLimit, TokensUsed: s.TokensUsed,
		TokensRemaining: s.Remaining(), Requests: s.Requests}
}

// NewID returns a session id that sorts by start time: "ses_", the
// start's Unix milliseconds as 12 hex digits, then 10 random hex digits.
func NewID(now time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("ses_%012x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

// ValidID reports whether id has the shape NewID gives.
func ValidID(id string) bool {
	if len(id) != 26 || !strings.HasPrefix(id, "ses_") {
		return false
	}
	_, err := hex.DecodeString(id[4:])
	return err == nil
}

// Item attribute names.
const (
	attrSessionID  = "session_id"
	attrAccountID  = "account_id"
	attrStatus     = "status"
	attrStartedAt  = "started_at"
	attrExpiresAt  = "expires_at"
	attrEndedAt    = "ended_at"
	attrEndReason  = "end_reason"
	attrTokenLimit = "token_limit"
	attrTokensUsed = "tokens_used"
	attrRequests   = "requests"
	attrTTL        = "ttl"

	// Hub attributes (QuotasTable).
	attrPurchased        = "purchased"
	attrUsed             = "used"
	attrRemaining        = "remaining"
	attrActiveID         = "active_session_id"
	attrActiveExpiresAt  = "active_expires_at"
	attrActiveTokenLimit = "active_token_limit"
	attrActiveTokensUsed = "active_tokens_used"
)

// removeActive is the update clause that clears the hub's pointer.
const removeActive = "REMOVE " + attrActiveID + ", " + attrActiveExpiresAt + ", " + attrActiveTokenLimit + ", " + attrActiveTokensUsed

// Key is the primary key of a session item.
func Key(accountID, sessionID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + accountID), "sk": dynamo.S(sessionPrefix + sessionID)}
}

const sessionPrefix = "SESSION#"

// LeaseKey is the primary key of a session's lease item.
func LeaseKey(sessionID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": dynamo.S(leasePrefix + sessionID), "sk": dynamo.S("LEASE")}
}

const leasePrefix = "LEASE#"

// HubKey is the primary key of an account's hub item (QuotasTable).
func HubKey(accountID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + accountID), "sk": dynamo.S("ACCOUNT")}
}

func item(s Session) map[string]types.AttributeValue {
	it := Key(s.AccountID, s.ID)
	it[attrSessionID] = dynamo.S(s.ID)
	it[attrAccountID] = dynamo.S(s.AccountID)
	it[attrStatus] = dynamo.S(string(s.Status))
	it[attrStartedAt] = ms(s.StartedAt)
	it[attrExpiresAt] = ms(s.ExpiresAt)
	it[attrTokenLimit] = dynamo.N(s.TokenLimit)
	it[attrTokensUsed] = dynamo.N(s.TokensUsed)
	it[attrRequests] = dynamo.N(s.Requests)
	return it
}

func fromItem(it map[string]types.AttributeValue) (Session, error) {
	s := Session{
		ID: dynamo.String(it, attrSessionID), AccountID: dynamo.String(it, attrAccountID),
		Status: Status(dynamo.String(it, attrStatus)), StartedAt: msAttr(it, attrStartedAt),
		ExpiresAt: msAttr(it, attrExpiresAt), EndedAt: msAttr(it, attrEndedAt),
		EndReason: EndReason(dynamo.String(it, attrEndReason)), TokenLimit: dynamo.Int(it, attrTokenLimit),
		TokensUsed: dynamo.Int(it, attrTokensUsed), Requests: dynamo.Int(it, attrRequests),
	}
	if s.ID == "" || s.AccountID == "" || (s.Status != Active && s.Status != Ended) || s.ExpiresAt.IsZero() {
		return Session{}, fmt.Errorf("malformed session item %v", it["sk"])
	}
	return s, nil
}

func ms(t time.Time) *types.AttributeValueMemberN { return dynamo.N(t.UnixMilli()) }

func msAttr(it map[string]types.AttributeValue, name string) time.Time {
	v := dynamo.Int(it, name)
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
