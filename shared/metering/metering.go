// Package metering charges metered requests to their session: it wraps a
// metered endpoint, measures the request and the response, appends the
// body's "meta" member, charges the tokens in one DynamoDB transaction and
// sets the X-Session-* headers. Rendering and measuring the answer, and
// the refusals before any charge, are package answer's (shared with the
// dry-run quote, so that a quote is what the charge will be).
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
// service_unavailable and no result: nothing is served free. Nor is
// anything charged without its answer delivered: with less than
// DeliveryMargin left before the request's deadline (the Lambda
// context's) the charge is not attempted and the request is 503
// service_unavailable (Retry-After), and the charge's own context ends
// DeliveryReserve before the deadline.
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
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/answer"
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

// Result is a metered endpoint's successful answer (see answer.Result).
type Result = answer.Result

// Func is a metered endpoint (see answer.Func).
type Func = answer.Func

// Response headers of a metered response.
const (
	HeaderSessionID       = answer.HeaderSessionID
	HeaderTokensUsed      = answer.HeaderTokensUsed
	HeaderTokensRemaining = answer.HeaderTokensRemaining
)

// MaxResponseBytes is Lambda's synchronous response limit
// (answer.MaxResponseBytes).
const MaxResponseBytes = answer.MaxResponseBytes

// Handler returns f as an httpapi endpoint that is metered as the package
// documentation says. endpoint names the request for usage counting (nil:
// the route pattern). The wrapped endpoint answers 403 session_required
// for a non-master caller without a session, f's error as is, 500 when f
// returns a body that is not a JSON object, 402 insufficient_tokens when
// the answer does not fit the session, and 503 when the charge fails or
// would come too close to the request's deadline (Charge). Every answer
// to a caller in a session carries the X-Session-* headers: a refusal's
// state the session as the request was admitted (it charged nothing).
func (m *Meter) Handler(endpoint func(r *http.Request) string, f Func) httpapi.HandlerFunc {
	serve := m.serve(endpoint, f)
	return func(w http.ResponseWriter, r *http.Request) error {
		err := serve(w, r)
		if c, ok := httpapi.CallerOf(r); err != nil && ok && !c.IsMaster() && c.SessionID != "" {
			// A refusal charged nothing: the session's figures as the
			// request was admitted.
			answer.SetSessionHeaders(w.Header(), &c, c.SessionTokensUsed)
		}
		return err
	}
}

// serve is Handler but for the X-Session-* headers of its refusals.
func (m *Meter) serve(endpoint func(r *http.Request) string, f Func) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := answer.Run(w, r, f)
		if err != nil {
			return err
		}
		c := p.Caller
		// An answer Lambda cannot deliver, or over the client's ceiling,
		// is never charged.
		if e := p.Refusal(); e != nil {
			return e
		}
		if !c.IsMaster() {
			name := r.Pattern
			if endpoint != nil {
				name = endpoint(r)
			}
			if err := m.Charge(r.Context(), c, httpapi.RequestID(r), name, p.Tokens); err != nil {
				return err
			}
		}
		for k, v := range p.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(p.Status)
		_, err = w.Write(p.Body)
		return err
	}
}

// DeliveryMargin is the least time before the request's deadline (the
// Lambda context's: the function's Timeout) at which a charge starts; with
// less, the request is refused 503 service_unavailable (Retry-After 1)
// and nothing is charged. What follows the check is one TransactWriteItems
// (tens of milliseconds; its SDK retries are cut DeliveryReserve before the
// deadline) and handing at most 6 MB to the Lambda runtime (tens of
// milliseconds): a second is some ten times what they take, and a legal
// request's compute ends seconds before the deadline (README "Work
// budget"), so only a stalled invocation meets it.
const DeliveryMargin = time.Second

// DeliveryReserve is the time a charge leaves before the deadline to hand
// the answer over: its context ends then.
const DeliveryReserve = 250 * time.Millisecond

// Charge charges tokens to c's session for the answer to request reqID,
// counting it in the usage statistics under endpoint, as Handler does
// after its endpoint succeeded; it is for answers built outside Handler
// (the MCP endpoint). It returns a problem error when nothing was charged:
// 402 insufficient_tokens when the tokens do not fit what the session has
// left, 503 service_unavailable when ctx's deadline is under
// DeliveryMargin away or the charge failed.
func (m *Meter) Charge(ctx context.Context, c caller.Caller, reqID, endpoint string, tokens int64) error {
	// Too close to the function's deadline the answer might not leave
	// after the charge: nothing is charged, and the charge itself must
	// end in time to deliver (its context is cancelled at the deadline).
	deadline, bounded := ctx.Deadline()
	if bounded {
		if time.Until(deadline) < DeliveryMargin {
			return &problem.Error{Code: problem.ServiceUnavailable,
				Detail: "the answer was computed too close to the function's time limit to be delivered; nothing was charged: retry shortly",
				Header: map[string][]string{"Retry-After": {"1"}}}
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-DeliveryReserve))
		defer cancel()
	}
	// Refused without a round trip when it cannot fit what was left at
	// admission (the session's count only grows); the charge's own
	// condition decides the rest.
	if e := answer.Admissible(&c, tokens); e != nil {
		return e
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
		return answer.Insufficient(ie.Required, ie.Remaining)
	}
	if errors.Is(err, session.ErrExpired) {
		return problem.New(problem.SessionRequired, "the session expired before this answer was ready; nothing was charged: "+
			"start a new session with POST /api/v1/sessions")
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
	// Quote is the dry-run route that prices a request first.
	Quote string `json:"quote"`
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
		Quote: "POST /api/v1/indicators/quote/{name} ({name} an indicator or batch) or POST /api/v1/analysis/quote/wyckoff, with the request's query and body; charges nothing",
	}
}
