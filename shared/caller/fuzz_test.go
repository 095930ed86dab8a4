package caller_test

import (
	"fmt"
	"testing"

	"github.com/waickoff/waickoff/shared/caller"
)

// stringify renders a context as API Gateway hands it to a function:
// every value a string.
func stringify(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// FuzzFromContext: FromContext never panics on any authorizer context;
// what it accepts has a known permission and, unless it is the master,
// an account and a key; and a caller survives the trip through Context,
// API Gateway's stringification and FromContext unchanged.
func FuzzFromContext(f *testing.F) {
	f.Add("acc_0123456789abcdef", "key_019abde3950012345678", "READ", "60", "59", "1", "", "0", "", "0", "0", "0", false)
	f.Add("", "", "MASTER", "", "", "", "", "", "", "", "", "", false)
	f.Add("acc_1", "key_1", "ADMIN", "5", "0", "12", "rate_limited", "12", "", "", "", "", true)
	f.Add("acc_1", "key_1", "WRITE", "60", "59", "1", "", "", "ses_019abde395000a1b2c3d4e", "99", "100000", "1764208800000", false)
	f.Add("acc_1", "key_1", "master", "1e3", "-1", "NaN", "session_required", "1.5", "x", "9223372036854775808", "1e400", "-0", false)
	f.Add("acc_1", "", "READ", "x", "y", "z", "", "", "", "", "", "", false)
	f.Add("", "key_1", "SUPERUSER", "", "", "", "", "", "", "", "", "", false)
	f.Fuzz(func(t *testing.T, acc, key, perm, rl, rr, reset, refusal, retry, sid, used, limit, exp string, numbers bool) {
		m := map[string]any{"account_id": acc, "key_id": key, "permission": perm, "rate_limit": rl, "rate_remaining": rr,
			"rate_reset": reset, "refusal": refusal, "retry_after": retry, "session_id": sid,
			"session_tokens_used": used, "session_token_limit": limit, "session_expires_at": exp}
		if numbers {
			// Some clients of FromContext see numbers, not strings.
			m["rate_limit"], m["session_tokens_used"] = len(rl), float64(len(used))*1.5
		}
		c, err := caller.FromContext(m)
		if err != nil {
			return
		}
		switch c.Permission {
		case caller.Read, caller.Write, caller.Admin:
			if c.AccountID == "" || c.KeyID == "" {
				t.Fatalf("a key caller without account or key: %+v", c)
			}
		case caller.Master:
		default:
			t.Fatalf("permission %q accepted", c.Permission)
		}
		if c.IsMaster() != (c.Permission == caller.Master) || !c.Permission.Allows(caller.Read) {
			t.Fatalf("%+v", c)
		}
		// The canonical form: what Context keeps survives the trip.
		c2, err := caller.FromContext(stringify(c.Context()))
		if err != nil {
			t.Fatalf("a caller's own context refused: %v (%+v)", err, c)
		}
		if c2.AccountID != c.AccountID || c2.KeyID != c.KeyID || c2.Permission != c.Permission ||
			c2.RateLimit != c.RateLimit || c2.RateRemaining != c.RateRemaining || c2.RateReset != c.RateReset ||
			c2.Refusal != c.Refusal || c2.SessionID != c.SessionID {
			t.Fatalf("trip changed %+v into %+v", c, c2)
		}
		c3, err := caller.FromContext(stringify(c2.Context()))
		if err != nil || c3 != c2 {
			t.Fatalf("the canonical form is not stable: %+v -> %+v (%v)", c2, c3, err)
		}
	})
}
