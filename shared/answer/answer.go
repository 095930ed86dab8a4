// Package answer prices a metered answer as it will be delivered: the
// endpoint's JSON object with the "meta" member that states its cost
// (tokens = ceil((request bytes + response bytes) / 4), found as a fixed
// point, Fit), its size as Lambda measures it (InvokeSize) and the
// refusals that come before any charge (413 response_too_large, 402
// insufficient_tokens over max_tokens or over what the session had left
// at admission). Package metering charges what Price renders; the dry-run
// quote reports it. It reaches no store.
package answer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// Tokens is the cost of a request: ceil((request bytes + response bytes)
// / 4).
func Tokens(requestBytes, responseBytes int64) int64 { return (requestBytes + responseBytes + 3) / 4 }

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

// Run runs the metered endpoint f for r and prices its answer as it
// would be delivered to r's caller. It answers 401
// without a caller, 403 session_required for a caller other than the
// master key without a session (before f runs), f's error as is, 413
// payload_too_large when the unread rest of the body is over the limit,
// and Price's error. It neither charges nor writes to w.
func Run(w http.ResponseWriter, r *http.Request, f Func) (*Priced, error) {
	c, ok := httpapi.CallerOf(r)
	if !ok {
		return nil, problem.New(problem.Unauthorized, "a valid API key is required")
	}
	if !c.IsMaster() && c.SessionID == "" {
		return nil, problem.New(problem.SessionRequired, "this endpoint needs an active session: start one with POST /api/v1/sessions")
	}
	body := &countingReader{r: r.Body}
	r.Body = body
	res, err := f(w, r)
	if err != nil {
		return nil, err
	}
	// Bytes the endpoint did not read were still sent.
	if _, err := io.Copy(io.Discard, body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, problem.New(problem.PayloadTooLarge, "request bodies are limited to %d bytes", mbe.Limit)
		}
	}
	return Price(&c, w.Header(), body.n, &res)
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

// Response headers of a metered response.
const (
	HeaderSessionID       = "X-Session-Id"
	HeaderTokensUsed      = "X-Session-Tokens-Used"
	HeaderTokensRemaining = "X-Session-Tokens-Remaining"
)

// SetSessionHeaders sets the X-Session-* headers of an answer to c in
// its session, which has used tokens (this answer's included).
func SetSessionHeaders(h http.Header, c *caller.Caller, used int64) {
	h.Set(HeaderSessionID, c.SessionID)
	h.Set(HeaderTokensUsed, strconv.FormatInt(used, 10))
	h.Set(HeaderTokensRemaining, strconv.FormatInt(max(0, c.SessionTokenLimit-used), 10))
}

// Priced is an answer ready to send and what it costs.
type Priced struct {
	// Caller is whom it answers.
	Caller caller.Caller
	Status int
	// Body is the final body, meta included; Header the headers it is
	// sent with (those already set on the response, the X-Session-*
	// ones and Content-Type).
	Body   []byte
	Header http.Header
	// Tokens is what the answer costs; Size the bytes of its invoke
	// response (InvokeSize).
	Tokens int64
	Size   int
	// RequestBytes is the request body's length.
	RequestBytes int64
	// MaxTokens is the request's max_tokens (0: none).
	MaxTokens int64
}

// Price renders res as the answer, to caller c, of a request whose body
// was requestBytes long, with the headers h already set on the response.
// The meta states c's session figures after this answer (nulls for the
// master key). It returns an error when res is not a 2xx JSON object or
// its meta does not marshal to one.
func Price(c *caller.Caller, h http.Header, requestBytes int64, res *Result) (*Priced, error) {
	p := &Priced{Caller: *c, Status: res.Status, RequestBytes: requestBytes, MaxTokens: res.MaxTokens}
	if p.Status == 0 {
		p.Status = http.StatusOK
	}
	if p.Status < 200 || p.Status > 299 {
		return nil, fmt.Errorf("metered endpoint returned status %d as a result", p.Status)
	}
	extra, err := extraMeta(res.Meta)
	if err != nil {
		return nil, err
	}
	head, err := opening(res.Body)
	if err != nil {
		return nil, err
	}
	fig := figures{extra: extra}
	if !c.IsMaster() {
		fig.session, fig.admitted, fig.limit = c.SessionID, c.SessionTokensUsed, c.SessionTokenLimit
	}
	p.Body, p.Tokens = render(head, requestBytes, fig)
	// A shallow copy: only keys are added, no value slice is changed.
	hdr := make(http.Header, len(h)+4)
	for k, v := range h {
		hdr[k] = v
	}
	if !c.IsMaster() {
		SetSessionHeaders(hdr, c, c.SessionTokensUsed+p.Tokens)
	}
	hdr.Set("Content-Type", "application/json")
	p.Header, p.Size = hdr, InvokeSize(p.Status, hdr, p.Body)
	return p, nil
}

// Refusal returns the problem that stops p before any charge to its
// caller's session, in this order: 413 response_too_large when Lambda could not
// deliver it, 402 insufficient_tokens when it costs more than the
// request's max_tokens or than the session had left at admission (the
// session's count only grows). It returns nil when only the charge's own
// condition can still refuse it.
func (p *Priced) Refusal() *problem.Error {
	c := &p.Caller
	if p.Size > MaxResponseBytes {
		return TooLarge(p.Size)
	}
	if e := OverMax(c, p.Tokens, p.MaxTokens); e != nil {
		return e
	}
	return Admissible(c, p.Tokens)
}

// OverMax returns 402 insufficient_tokens when an answer costing tokens
// passes the max_tokens the request set (maxTokens; 0: none), nil
// otherwise.
func OverMax(c *caller.Caller, tokens, maxTokens int64) *problem.Error {
	if maxTokens <= 0 || tokens <= maxTokens {
		return nil
	}
	e := Insufficient(tokens, c.SessionTokenLimit-c.SessionTokensUsed)
	e.Detail = fmt.Sprintf("this answer costs %d tokens, over the max_tokens of %d you set; nothing was charged", tokens, maxTokens)
	e.Extra["max_tokens"] = maxTokens
	if c.IsMaster() {
		delete(e.Extra, "tokens_remaining")
	}
	return e
}

// Admissible returns 402 insufficient_tokens when tokens cannot fit what
// c's session had left at admission, nil otherwise (and for a caller
// without a session).
func Admissible(c *caller.Caller, tokens int64) *problem.Error {
	if c.SessionTokenLimit > 0 && c.SessionTokensUsed+tokens > c.SessionTokenLimit {
		return Insufficient(tokens, c.SessionTokenLimit-c.SessionTokensUsed)
	}
	return nil
}

// TooLarge is the 413 of an answer whose invoke response would be size
// bytes.
func TooLarge(size int) *problem.Error {
	return &problem.Error{Code: problem.ResponseTooLarge,
		Detail: fmt.Sprintf("the answer would be %d bytes, over the %d-byte response limit; nothing was charged: "+
			"ask for less (fewer candles or indicators)", size, MaxResponseBytes),
		Extra: map[string]any{"response_bytes": size, "max_response_bytes": MaxResponseBytes}}
}

// Insufficient is the 402 of an answer costing required tokens where the
// session has remaining left.
func Insufficient(required, remaining int64) *problem.Error {
	remaining = max(0, remaining)
	return &problem.Error{Code: problem.InsufficientTokens,
		Detail: fmt.Sprintf("this answer costs %d tokens and the session has %d left; nothing was charged", required, remaining),
		Extra:  map[string]any{"tokens_required": required, "tokens_remaining": remaining}}
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
	// In place: head, the body's copy, has room for a meta.
	return append(append(head, meta...), '}'), t
}
