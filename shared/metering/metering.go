// Package metering charges metered requests to their session: it wraps a
// metered endpoint, measures the request and the response, appends the
// body's "meta" member, charges the tokens in one DynamoDB transaction and
// sets the X-Session-* headers.
//
// # Use
//
// A metered endpoint is a Func: it reads the request as any endpoint does
// and returns its answer as a Result (a JSON object, without a "meta"
// member) instead of writing it; an error is rendered as usual and
// spends nothing. Mount it with Meter.Handler:
//
//	m := metering.New(sessions, usageStore, metrics, time.Now)
//	s.Handle("POST /api/v1/indicators/{name}", httpapi.Need(caller.Read),
//		m.Handler(func(r *http.Request) string { return "indicators/" + r.PathValue("name") },
//			func(w http.ResponseWriter, r *http.Request) (metering.Result, error) {
//				... decode, compute ...
//				body, err := json.Marshal(out) // {"indicator":...,"values":{...}}
//				return metering.Result{Body: body,
//					Meta: map[string]string{"engine_version": v, "input_checksum": sum}}, err
//			}))
//
// The endpoint name (first argument) is the usage name of the request,
// DESIGN.md's "indicators/<name>" ("indicators/batch" for a batch); nil
// uses the route pattern. Result.Meta holds extra members of meta, after
// the metering ones; it must marshal to a JSON object (a struct or a
// map) or be nil.
//
// # What a request costs
//
// tokens = ceil((request body bytes + response body bytes) / 4), the
// response body being the final one, meta included: meta states the
// tokens, so they are found by a fixed point (render meta with a guess,
// measure, repeat), padding meta with spaces when the figures would
// oscillate between two lengths. A client can check the figure from the
// bytes it sent and received.
//
// The response's meta is {session_id, tokens, tokens_used,
// tokens_remaining, ...extra}. tokens_used (also X-Session-Tokens-Used)
// is the session's count when the authorizer admitted the request plus
// this request's tokens: concurrent requests of the same session may have
// added more by the time the client reads it. tokens_remaining (also
// X-Session-Tokens-Remaining) is token_limit minus that, never below zero.
//
// # Charging
//
// After the endpoint succeeds and before anything is written, the meter
// calls session.Store.Charge: one TransactWriteItems with the session's
// tokens_used and requests, the hub's active_tokens_used, the session's
// usage by endpoint, the account's usage counters (usage.Store's
// ChargeItems) and a charge receipt keyed by the request id, so a retried
// charge counts once. If the charge fails the client gets 503
// service_unavailable and no result: nothing is served free.
//
// A session never passes its token limit: an answer whose tokens do not
// fit what the session has left (token_limit - tokens_used) is not
// delivered and costs nothing: 402 insufficient_tokens with members
// tokens_required and tokens_remaining. An answer that cannot fit what
// was left at admission is refused before any write; otherwise the
// charge's own condition (tokens_used + tokens <= token_limit) decides,
// so concurrent requests can never together pass the limit. The charge
// that fills the session exactly ends it (exhausted); a session with too
// few tokens left for a request stays active until it expires, is
// terminated or is filled exactly.
//
// The master key has no session: its requests are served with meta
// session_id, tokens_used and tokens_remaining null, no X-Session-*
// headers, and nothing charged. Any other caller without a session (the
// authorizer should have refused it) gets 403 session_required before the
// endpoint runs.
package metering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// Sessions charges a session (session.Store).
type Sessions interface {
	Charge(ctx context.Context, c session.Charge) (session.Charged, error)
}

// Counters returns the account's usage counter updates of a charge
// (usage.Store.ChargeItems).
type Counters interface {
	ChargeItems(accountID, keyID, endpoint, requestID string, tokens int64, at time.Time) []types.TransactWriteItem
}

var _ Sessions = (*session.Store)(nil)

// Meter wraps metered endpoints.
type Meter struct {
	sessions Sessions
	counters Counters
	metrics  *telemetry.Metrics
	now      func() time.Time
}

// New returns a meter charging sessions through sessions and counting
// usage with counters (nil: no account counters); metrics receives
// TokensSpent.
func New(sessions Sessions, counters Counters, metrics *telemetry.Metrics, now func() time.Time) *Meter {
	return &Meter{sessions: sessions, counters: counters, metrics: metrics, now: now}
}

// Result is a metered endpoint's successful answer.
type Result struct {
	// Status is a 2xx status; 0 means 200.
	Status int
	// Body is the response body: a JSON object with no "meta" member.
	Body []byte
	// Meta holds extra members of meta (for example engine_version and
	// input_checksum): nil, or a value that marshals to a JSON object.
	Meta any
	// MaxTokens is the client's ceiling on this answer's tokens
	// (max_tokens; 0: none): an answer that costs more is refused 402
	// insufficient_tokens before any charge.
	MaxTokens int64
}

// Func is a metered endpoint. It may set response headers on w but must
// not write to it. An error is rendered as usual and spends nothing.
type Func func(w http.ResponseWriter, r *http.Request) (Result, error)

// Response headers of a metered response.
const (
	HeaderSessionID       = "X-Session-Id"
	HeaderTokensUsed      = "X-Session-Tokens-Used"
	HeaderTokensRemaining = "X-Session-Tokens-Remaining"
)

// Tokens is the cost of a request: ceil((request bytes + response bytes)
// / 4).
func Tokens(requestBytes, responseBytes int64) int64 { return (requestBytes + responseBytes + 3) / 4 }

// Handler returns f as an httpapi endpoint that is metered as the package
// documentation says. endpoint names the request for usage counting (nil:
// the route pattern). The wrapped endpoint answers 403 session_required
// for a non-master caller without a session, f's error as is, 500 when f
// returns a body that is not a JSON object, 402 insufficient_tokens when
// the answer does not fit the session, and 503 when the charge fails.
func (m *Meter) Handler(endpoint func(r *http.Request) string, f Func) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, ok := httpapi.CallerOf(r)
		if !ok {
			return problem.New(problem.Unauthorized, "a valid API key is required")
		}
		if !c.IsMaster() && c.SessionID == "" {
			return problem.New(problem.SessionRequired, "this endpoint needs an active session: start one with POST /api/v1/sessions")
		}
		body := &countingReader{r: r.Body}
		r.Body = body
		res, err := f(w, r)
		if err != nil {
			return err
		}
		// Bytes the endpoint did not read were still sent.
		if _, err := io.Copy(io.Discard, body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return problem.New(problem.PayloadTooLarge, "request bodies are limited to %d bytes", mbe.Limit)
			}
		}
		status := res.Status
		if status == 0 {
			status = http.StatusOK
		}
		if status < 200 || status > 299 {
			return fmt.Errorf("metered endpoint returned status %d as a result", status)
		}
		extra, err := extraMeta(res.Meta)
		if err != nil {
			return err
		}
		head, err := opening(res.Body)
		if err != nil {
			return err
		}
		fig := figures{extra: extra}
		if !c.IsMaster() {
			fig.session, fig.admitted, fig.limit = c.SessionID, c.SessionTokensUsed, c.SessionTokenLimit
		}
		out, tokens := render(head, body.n, fig)
		// The headers the answer will carry, to measure it with them.
		hdr := w.Header().Clone()
		if !c.IsMaster() {
			used := c.SessionTokensUsed + tokens
			hdr.Set(HeaderSessionID, c.SessionID)
			hdr.Set(HeaderTokensUsed, strconv.FormatInt(used, 10))
			hdr.Set(HeaderTokensRemaining, strconv.FormatInt(max(0, c.SessionTokenLimit-used), 10))
		}
		hdr.Set("Content-Type", "application/json")
		// An answer Lambda cannot deliver is never charged.
		if size := InvokeSize(status, hdr, out); size > MaxResponseBytes {
			return TooLarge(size)
		}
		if res.MaxTokens > 0 && tokens > res.MaxTokens {
			e := insufficient(tokens, c.SessionTokenLimit-c.SessionTokensUsed)
			e.Detail = fmt.Sprintf("this answer costs %d tokens, over the max_tokens of %d you set; nothing was charged", tokens, res.MaxTokens)
			e.Extra["max_tokens"] = res.MaxTokens
			if c.IsMaster() {
				delete(e.Extra, "tokens_remaining")
			}
			return e
		}
		if !c.IsMaster() {
			name := r.Pattern
			if endpoint != nil {
				name = endpoint(r)
			}
			if err := m.Charge(r.Context(), c, httpapi.RequestID(r), name, tokens); err != nil {
				return err
			}
		}
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, err = w.Write(out)
		return err
	}
}

// Charge charges tokens to c's session for the answer to request reqID,
// counting it in the usage statistics under endpoint, as Handler does
// after its endpoint succeeded; it is for answers built outside Handler
// (the MCP endpoint). It returns a problem error when nothing was charged:
// 402 insufficient_tokens when the tokens do not fit what the session has
// left, 503 service_unavailable when the charge failed.
func (m *Meter) Charge(ctx context.Context, c caller.Caller, reqID, endpoint string, tokens int64) error {
	// Refused without a round trip when it cannot fit what was left at
	// admission (the session's count only grows); the charge's own
	// condition decides the rest.
	if c.SessionTokenLimit > 0 && c.SessionTokensUsed+tokens > c.SessionTokenLimit {
		return insufficient(tokens, c.SessionTokenLimit-c.SessionTokensUsed)
	}
	accountID, keyID, sessionID := c.AccountID, c.KeyID, c.SessionID
	at := m.now()
	ch := session.Charge{AccountID: accountID, SessionID: sessionID, RequestID: reqID, Endpoint: endpoint,
		Tokens: tokens, TokenLimit: c.SessionTokenLimit, At: at}
	if m.counters != nil {
		ch.Extra = m.counters.ChargeItems(accountID, keyID, endpoint, reqID, tokens, at)
	}
	res, err := m.sessions.Charge(ctx, ch)
	var ie *session.InsufficientError
	if errors.As(err, &ie) {
		return insufficient(ie.Required, ie.Remaining)
	}
	if err != nil {
		// Never served free: no charge, no result.
		return problem.Unavailable(fmt.Errorf("charge %d tokens: %w", tokens, err))
	}
	if res.Duplicate {
		telemetry.Logger(ctx).Info("charge already recorded for this request", "session_id", sessionID)
		return nil
	}
	m.metrics.Emit(map[string]string{"endpoint": endpoint}, map[string]any{"account_id": accountID,
		"session_id": sessionID, "request_id": reqID}, telemetry.Metric{Name: "TokensSpent", Value: float64(tokens)})
	return nil
}

// Terms are what the indicator catalog publishes about metering: how a
// request's tokens are counted and the refusals, besides
// invalid_request, that a metered request may get (none costs
// anything).
type Terms struct {
	Tokens   string    `json:"tokens"`
	Refusals []Refusal `json:"refusals"`
}

// Refusal is one problem code of Terms.
type Refusal struct {
	Code        problem.Code `json:"code"`
	Status      int          `json:"status"`
	Description string       `json:"description"`
}

// PublishedTerms returns the meter's Terms.
func PublishedTerms() Terms {
	return Terms{
		Tokens: "ceil((request body bytes + response body bytes) / 4), the response's meta included",
		Refusals: []Refusal{
			{problem.InsufficientTokens, problem.Status(problem.InsufficientTokens),
				"the answer costs more tokens than the session has left (tokens_required, tokens_remaining); nothing is charged and the session stays active"},
			{problem.ResponseTooLarge, problem.Status(problem.ResponseTooLarge),
				"the answer is over the response limit (response_bytes, max_response_bytes); nothing is charged"},
		},
	}
}

// TooLarge is the 413 of an answer whose invoke response would be size
// bytes (InvokeSize), over MaxResponseBytes.
func TooLarge(size int) *problem.Error {
	return &problem.Error{Code: problem.ResponseTooLarge,
		Detail: fmt.Sprintf("the answer would be %d bytes, over the %d-byte response limit; nothing was charged: "+
			"ask for less (fewer candles or indicators)", size, MaxResponseBytes),
		Extra: map[string]any{"response_bytes": size, "max_response_bytes": MaxResponseBytes}}
}

// insufficient is the 402 of an answer costing required tokens where the
// session has remaining left.
func insufficient(required, remaining int64) *problem.Error {
	remaining = max(0, remaining)
	return &problem.Error{Code: problem.InsufficientTokens,
		Detail: fmt.Sprintf("this answer costs %d tokens and the session has %d left; nothing was charged", required, remaining),
		Extra:  map[string]any{"tokens_required": required, "tokens_remaining": remaining}}
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.r == nil {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error {
	if c.r == nil {
		return nil
	}
	return c.r.Close()
}

// opening returns body without its closing brace, ready for "meta":
// `{` for an empty object, else `{...,`. Only the braces are checked (the
// endpoint's encoder owns the rest; a full validation would cost a pass
// over megabytes of values).
func opening(body []byte) ([]byte, error) {
	b := bytes.TrimSpace(body)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, errors.New("metered endpoint returned a body that is not a JSON object")
	}
	head := bytes.TrimSpace(b[:len(b)-1])
	out := make([]byte, 0, len(body)+160)
	out = append(out, head...)
	if len(head) > 1 {
		out = append(out, ',')
	}
	return append(out, `"meta":`...), nil
}

// extraMeta renders extra meta members as `,"a":1,"b":2` ("" for none).
func extraMeta(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render meta: %w", err)
	}
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, errors.New("metered endpoint's meta is not a JSON object")
	}
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	if len(inner) == 0 {
		return nil, nil
	}
	return append([]byte{','}, inner...), nil
}

// figures are what meta states besides the tokens.
type figures struct {
	session  string // "" outside a session (master key)
	admitted int64  // tokens_used at admission
	limit    int64
	extra    []byte
}

// meta renders the meta object for a request costing tokens.
func (f figures) meta(tokens int64) []byte {
	b := make([]byte, 0, 128+len(f.extra))
	b = AppendSessionFigures(b, f.session, tokens, f.admitted+tokens, f.limit)
	b = append(b, f.extra...)
	return append(b, '}')
}

// AppendSessionFigures appends the opening of a meta object to b:
// {"session_id","tokens","tokens_used","tokens_remaining" with used the
// session's tokens_used after this answer and limit its token limit; all
// but tokens are null outside a session (session ""). The caller adds its
// own members and the closing brace. The HTTP routes' meta and MCP's
// _meta both start this way.
func AppendSessionFigures(b []byte, session string, tokens, used, limit int64) []byte {
	if session == "" {
		b = append(b, `{"session_id":null,"tokens":`...)
		b = strconv.AppendInt(b, tokens, 10)
		return append(b, `,"tokens_used":null,"tokens_remaining":null`...)
	}
	id, _ := json.Marshal(session)
	b = append(b, `{"session_id":`...)
	b = append(b, id...)
	b = append(b, `,"tokens":`...)
	b = strconv.AppendInt(b, tokens, 10)
	b = append(b, `,"tokens_used":`...)
	b = strconv.AppendInt(b, used, 10)
	b = append(b, `,"tokens_remaining":`...)
	return strconv.AppendInt(b, max(0, limit-used), 10)
}

// render finds the tokens t of the final body: the response is head +
// meta(t) + "}" and t = Tokens(req, len(response)), found by Fit.
func render(head []byte, req int64, f figures) ([]byte, int64) {
	meta, t := Fit(req, int64(len(head)+1), f.meta)
	out := make([]byte, 0, len(head)+len(meta)+1)
	out = append(append(append(out, head...), meta...), '}')
	return out, t
}
