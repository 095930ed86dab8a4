package answer_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/caller"
)

// A quote says what the answer costs and, when it would be refused, the
// refusal the request would get: too large for Lambda first, then over
// max_tokens, then over what the session has left; a session that can
// pay exactly is a fit.
func TestQuoteOf(t *testing.T) {
	session := caller.Caller{Permission: caller.Read, SessionID: "ses_01a21c7291009e7d21aa6b", SessionTokensUsed: 1000,
		SessionTokenLimit: 100_000}
	body := []byte(`{"values":{"value":[1,2,3]}}`)
	price := func(t *testing.T, c caller.Caller, res answer.Result) *answer.Priced {
		t.Helper()
		p, err := answer.Price(&c, http.Header{}, 400, &res)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	exact := price(t, session, answer.Result{Body: body})
	full := session
	full.SessionTokensUsed = full.SessionTokenLimit - exact.Tokens
	huge := []byte(`{"v":"` + strings.Repeat(`\"`, answer.MaxResponseBytes/4) + `"}`)
	master := caller.Caller{Permission: caller.Master}
	for _, tc := range []struct {
		name   string
		p      *answer.Priced
		fits   bool
		code   string
		remain any
	}{
		{"fits", exact, true, "", 99000.0},
		{"fills the session exactly", price(t, full, answer.Result{Body: body}), true, "", float64(exact.Tokens)},
		{"one token short", func() *answer.Priced { c := full; c.SessionTokensUsed++; return price(t, c, answer.Result{Body: body}) }(),
			false, "insufficient_tokens", float64(exact.Tokens - 1)},
		{"over max_tokens", price(t, session, answer.Result{Body: body, MaxTokens: 5}), false, "insufficient_tokens", 99000.0},
		{"too large", price(t, session, answer.Result{Body: huge}), false, "response_too_large", 99000.0},
		{"master", price(t, master, answer.Result{Body: body}), true, "", nil},
		{"master too large", price(t, master, answer.Result{Body: huge}), false, "response_too_large", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(answer.QuoteOf(tc.p))
			var q map[string]any
			if err := json.Unmarshal(b, &q); err != nil {
				t.Fatal(err)
			}
			ref, _ := q["refusal"].(map[string]any)
			if q["fits"] != tc.fits || (ref == nil) != tc.fits || (ref != nil && ref["code"] != tc.code) ||
				q["tokens_remaining"] != tc.remain || q["tokens"] != float64(tc.p.Tokens) ||
				q["answer_bytes"] != float64(len(tc.p.Body)) || q["response_bytes"] != float64(tc.p.Size) {
				t.Fatalf("%s", b)
			}
		})
	}
}
