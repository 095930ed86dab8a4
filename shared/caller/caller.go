// Package caller holds the identity a request acts as: the account, key
// and permission the authorizer found, handed to the functions through
// the API Gateway authorizer context (strings, numbers and booleans only).
package caller

import (
	"fmt"
	"strconv"
)

// Permission is a key's level.
type Permission string

// The levels, lowest first. Master is the operator key.
const (
	Read   Permission = "READ"
	Write  Permission = "WRITE"
	Admin  Permission = "ADMIN"
	Master Permission = "MASTER"
)

var rank = map[Permission]int{Read: 1, Write: 2, Admin: 3, Master: 4}

// Valid reports whether p is a level a key may hold (not Master).
func (p Permission) Valid() bool { return p == Read || p == Write || p == Admin }

// Allows reports whether p is at least need.
func (p Permission) Allows(need Permission) bool { return rank[p] >= rank[need] && rank[p] > 0 }

// Caller is who a request acts as.
type Caller struct {
	AccountID  string
	KeyID      string
	Permission Permission
	// RateLimit, RateRemaining and RateReset are the key's rate-limit
	// figures after this request (0 for the master key).
	RateLimit     int
	RateRemaining int
	RateReset     int
	// Refusal is a problem code the authorizer decided on but could not
	// send itself (API Gateway lets an authorizer say only allow, deny or
	// unauthorized): rate_limited or session_required. The function
	// answers it before doing any work.
	Refusal    string
	RetryAfter int
	// Session is the active session a metered request runs in.
	SessionID         string
	SessionTokensUsed int64
	SessionTokenLimit int64
	SessionExpiresAt  int64 // Unix milliseconds
}

// IsMaster reports whether the caller is the operator key.
func (c Caller) IsMaster() bool { return c.Permission == Master }

// Context keys.
const (
	keyAccount       = "account_id"
	keyKey           = "key_id"
	keyPermission    = "permission"
	keyRateLimit     = "rate_limit"
	keyRateRemaining = "rate_remaining"
	keyRateReset     = "rate_reset"
	keyRefusal       = "refusal"
	keyRetryAfter    = "retry_after"
	keySession       = "session_id"
	keyTokensUsed    = "session_tokens_used"
	keyTokenLimit    = "session_token_limit"
	keyExpiresAt     = "session_expires_at"
)

// Context renders c as an authorizer context. API Gateway turns every
// value into a string on the way to the function.
func (c Caller) Context() map[string]any {
	m := map[string]any{
		keyAccount:       c.AccountID,
		keyKey:           c.KeyID,
		keyPermission:    string(c.Permission),
		keyRateLimit:     c.RateLimit,
		keyRateRemaining: c.RateRemaining,
		keyRateReset:     c.RateReset,
	}
	if c.Refusal != "" {
		m[keyRefusal] = c.Refusal
		m[keyRetryAfter] = c.RetryAfter
	}
	if c.SessionID != "" {
		m[keySession] = c.SessionID
		m[keyTokensUsed] = c.SessionTokensUsed
		m[keyTokenLimit] = c.SessionTokenLimit
		m[keyExpiresAt] = c.SessionExpiresAt
	}
	return m
}

// FromContext reads a caller from the authorizer context as the function
// receives it (values may be strings or numbers). It returns an error
// when the context holds no valid caller.
func FromContext(m map[string]any) (Caller, error) {
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case nil:
			return ""
		default:
			return fmt.Sprint(v)
		}
	}
	num := func(k string) int64 {
		s := str(k)
		if s == "" {
			return 0
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int64(f)
		}
		return 0
	}
	c := Caller{
		AccountID:         str(keyAccount),
		KeyID:             str(keyKey),
		Permission:        Permission(str(keyPermission)),
		RateLimit:         int(num(keyRateLimit)),
		RateRemaining:     int(num(keyRateRemaining)),
		RateReset:         int(num(keyRateReset)),
		Refusal:           str(keyRefusal),
		RetryAfter:        int(num(keyRetryAfter)),
		SessionID:         str(keySession),
		SessionTokensUsed: num(keyTokensUsed),
		SessionTokenLimit: num(keyTokenLimit),
		SessionExpiresAt:  num(keyExpiresAt),
	}
	if _, ok := rank[c.Permission]; !ok {
		return Caller{}, fmt.Errorf("authorizer context: unknown permission %q", c.Permission)
	}
	if c.Permission != Master && (c.AccountID == "" || c.KeyID == "") {
		return Caller{}, fmt.Errorf("authorizer context: missing account or key")
	}
	return c, nil
}
