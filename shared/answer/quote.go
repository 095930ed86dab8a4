package answer

import (
	"encoding/json"
	"net/http"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// Quote is what a metered request would cost, sent instead of its
// answer: the dry run.
type Quote struct {
	// SessionID is the session that would pay (nil for the master key).
	SessionID *string `json:"session_id"`
	// Tokens is what the request would be charged: ceil((RequestBytes +
	// AnswerBytes) / 4).
	Tokens int64 `json:"tokens"`
	// TokensRemaining is what the session has left now (nil for the
	// master key).
	TokensRemaining *int64 `json:"tokens_remaining"`
	// MaxTokens is the request's max_tokens, when it set one.
	MaxTokens int64 `json:"max_tokens,omitempty"`
	// Fits says whether the request, sent now, would be answered and
	// charged Tokens; otherwise Refusal is the problem it would get
	// instead, at no charge.
	Fits    bool            `json:"fits"`
	Refusal json.RawMessage `json:"refusal,omitempty"`
	// RequestBytes and AnswerBytes are the request body's and the
	// answer body's bytes (meta included); ResponseBytes is the answer
	// as Lambda measures it (the invoke response), against
	// MaxResponseBytes.
	RequestBytes     int64 `json:"request_bytes"`
	AnswerBytes      int   `json:"answer_bytes"`
	ResponseBytes    int   `json:"response_bytes"`
	MaxResponseBytes int   `json:"max_response_bytes"`
}

// QuoteOf describes p as a Quote.
func QuoteOf(p *Priced) Quote {
	c := &p.Caller
	q := Quote{Tokens: p.Tokens, MaxTokens: p.MaxTokens, Fits: true, RequestBytes: p.RequestBytes,
		AnswerBytes: len(p.Body), ResponseBytes: p.Size, MaxResponseBytes: MaxResponseBytes}
	if !c.IsMaster() {
		id, left := c.SessionID, max(0, c.SessionTokenLimit-c.SessionTokensUsed)
		q.SessionID, q.TokensRemaining = &id, &left
	}
	if e := p.Refusal(); e != nil {
		q.Fits, q.Refusal = false, problem.Marshal(e, "")
	}
	return q
}

// QuoteHandler returns the dry run of the metered endpoint f: it runs f
// and prices its answer exactly as the metered route would (Run), then
// answers 200 with the Quote instead of the answer. It charges nothing
// and writes nothing. Errors are f's and Run's, as the metered route
// answers them.
func QuoteHandler(f Func) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := Run(w, r, f)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return httpapi.WriteJSON(w, http.StatusOK, QuoteOf(p))
	}
}
