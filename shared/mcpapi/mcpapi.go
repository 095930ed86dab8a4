// Package mcpapi serves the API's tools over the Model Context Protocol
// (Streamable HTTP, protocol 2025-11-25) with the official Go SDK, in
// stateless mode with JSON responses: no server-side session and no SSE,
// so any Lambda instance answers any call.
//
// # Requests
//
// Each POST carries one JSON-RPC message (batches are refused: protocol
// 2025-11-25 has none). The HTTP layer reads the message's envelope, lifts
// the arguments of a tools/call out of it (see envelope), hands the SDK
// the rest, and lets the tool read the lifted bytes. GET and DELETE
// answer 405 with Allow: POST, as the protocol says for a server that
// offers no SSE stream and keeps no session.
//
// # Tools and metering
//
// A metered tool (the computing ones) needs an active session and is
// charged like the HTTP endpoint: tokens = ceil((JSON-RPC request bytes +
// JSON-RPC response bytes) / 4), charged through the meter only after the
// tool succeeded and its answer fits the response limit; an error costs
// nothing. Protocol calls (initialize, tools/list, ping) and the free
// tools cost nothing (the authorizer still rate limits them). Every tool
// result carries in its _meta the tokens it cost, the session's tokens
// used and left, and when the session ends, so an agent can budget.
// Tool errors are results with isError whose text is the HTTP API's
// problem+json document (same code, detail and field); protocol faults
// are JSON-RPC errors.
package mcpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// ProtocolVersion is the one MCP version the server speaks.
const ProtocolVersion = "2025-11-25"

// Pattern is the route of the server's JSON-RPC messages.
const Pattern = "POST /api/v1/mcp"

// Meter charges a metered tool call to the caller's session and returns
// nothing else (metering.Meter). Its error is a problem the tool answers
// with, nothing charged.
type Meter interface {
	Charge(ctx context.Context, c caller.Caller, requestID, endpoint string, tokens int64) error
}

// Options are the server's dependencies.
type Options struct {
	// Version is the server version in initialize's serverInfo.
	Version string
	Tools   []Tool
	Meter   Meter
	// Usage names a tool call for the usage statistics ("mcp/<tool>").
	Usage func(tool string) string
}

// Server is the MCP endpoint.
type Server struct {
	sdk   http.Handler
	tools map[string]*Tool
	meter Meter
	usage func(string) string
}

// New returns the server offering tools. It returns an error when a tool
// is ill defined (no name, a schema that is not a JSON object).
func New(o Options) (*Server, error) {
	s := &Server{tools: map[string]*Tool{}, meter: o.Meter, usage: o.Usage}
	if s.usage == nil {
		s.usage = func(tool string) string { return "mcp/" + tool }
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "waickoff", Title: "WAIckoff market analysis", Version: o.Version},
		&mcp.ServerOptions{
			Instructions:              instructions,
			SupportedProtocolVersions: []string{ProtocolVersion},
			Capabilities:              &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
		})
	for i := range o.Tools {
		t := &o.Tools[i]
		def, err := t.definition()
		if err != nil {
			return nil, err
		}
		s.tools[t.Name] = t
		srv.AddTool(def, s.handler(t))
	}
	s.sdk = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{
			Stateless:    true,
			JSONResponse: true,
			// The SDK refuses a request that a loopback socket received
			// with a non-loopback Host (DNS rebinding). Behind API Gateway
			// the function has no socket, and the local gateway's is
			// loopback whatever name a client used: the check would refuse
			// calls AWS serves. Rebinding gains a page nothing here: every
			// call needs an API key in a header, which a browser never
			// adds by itself.
			DisableLocalhostProtection: true,
			// httpapi bounds the body (MAX_BODY_BYTES) before the SDK.
			MaxRequestBodyBytes: -1,
		})
	return s, nil
}

const instructions = "WAIckoff computes technical indicators (TA-Lib conventions) and Wyckoff analysis over " +
	"OHLCV candles you send. Computing tools need an active session (start one with POST /api/v1/sessions) " +
	"and are charged ceil((request bytes + response bytes)/4) tokens; each result's _meta states the tokens " +
	"it cost, the tokens left and when the session ends. session_status, quota and pricing are free."

// call is one tools/call as the HTTP layer and the tool handler share it.
type call struct {
	r      *http.Request // the HTTP request (caller, request id, logger)
	c      caller.Caller
	nonce  string
	args   Args // the lifted arguments, when lifted
	lifted bool

	// Set by the tool handler.
	tool *Tool
	out  Output // the structured result of a success
	err  error  // the tool's error
}

type callKey struct{}

// Post answers POST /api/v1/mcp.
func (s *Server) Post(w http.ResponseWriter, r *http.Request) error {
	body, err := httpapi.ReadBody(r)
	if err != nil {
		return err
	}
	c, _ := httpapi.CallerOf(r)
	env, ok := readEnvelope(body)
	if env.batch {
		return writeRPCError(w, http.StatusBadRequest, nil, -32600, "JSON-RPC batches are not part of MCP "+ProtocolVersion+": send one message a request")
	}
	cl := &call{r: r, c: c, nonce: nonce()}
	small := body
	if ok && env.method == "tools/call" {
		if t := s.tools[env.tool]; t != nil {
			httpapi.NoteUsage(r, s.usage(t.Name), 0, false)
		}
		if env.argStart >= 0 {
			cl.args, cl.lifted = env.args, true
			small = make([]byte, 0, len(body)-(env.argEnd-env.argStart)+2)
			small = append(append(append(small, body[:env.argStart]...), "{}"...), body[env.argEnd:]...)
		}
	}
	req := r.Clone(context.WithValue(r.Context(), callKey{}, cl))
	req.Body = readCloser{bytes.NewReader(small)}
	req.ContentLength = int64(len(small))
	rec := newRecorder()
	s.sdk.ServeHTTP(rec, req)
	if cl.tool == nil || rec.status != http.StatusOK {
		return s.relay(w, rec, body)
	}
	return s.answer(w, r, cl, rec.body.Bytes(), int64(len(body)))
}

// Reject answers GET and DELETE: this server offers no SSE stream and
// keeps no session, so both are 405 with Allow: POST.
func Reject(w http.ResponseWriter, r *http.Request) error {
	return &problem.Error{Code: problem.MethodNotAllowed,
		Detail: "this MCP server keeps no session and offers no SSE stream: POST one JSON-RPC message a request",
		Header: http.Header{"Allow": {"POST"}}}
}

// relay writes the SDK's answer to body. The SDK answers transport faults
// in plain text; relay answers them as JSON-RPC errors: a method the
// server does not have (-32601) and a request missing its params
// (-32602) are JSON-RPC error responses to a readable request (200, with
// its id); any other message it cannot accept (400) is -32600, or -32700
// when it is not JSON, with the id when one could be read. The other
// statuses become the API's problems.
func (s *Server) relay(w http.ResponseWriter, rec *recorder, body []byte) error {
	isJSON := strings.HasPrefix(rec.header.Get("Content-Type"), "application/json")
	text := strings.TrimSpace(rec.body.String())
	switch {
	case rec.status == http.StatusBadRequest && !isJSON:
		id := requestID(body)
		switch {
		case strings.HasPrefix(text, "malformed payload"):
			return writeRPCError(w, rec.status, nil, -32700, text)
		case id != nil && strings.HasPrefix(text, "JSON RPC not handled"):
			return writeRPCError(w, http.StatusOK, id, -32601, text)
		case id != nil && strings.HasPrefix(text, `invalid request: missing required "params"`):
			return writeRPCError(w, http.StatusOK, id, -32602, text)
		}
		return writeRPCError(w, rec.status, id, -32600, text)
	case rec.status == http.StatusUnsupportedMediaType:
		return problem.New(problem.UnsupportedMediaType, "send application/json: one JSON-RPC message")
	case rec.status > http.StatusBadRequest:
		return fmt.Errorf("MCP SDK answered %d: %.200s", rec.status, text)
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, err := w.Write(rec.body.Bytes())
	return err
}

// writeRPCError writes a JSON-RPC error response (id omitted when nil).
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string) error {
	out := map[string]any{"jsonrpc": "2.0", "error": map[string]any{"code": code, "message": msg}}
	if id != nil {
		out["id"] = id
	}
	return httpapi.WriteJSON(w, status, out)
}

// requestID is the id of the JSON-RPC request in body: nil when body is
// not one JSON object or has no id, or a null one.
func requestID(body []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &m) != nil || len(m.ID) == 0 || string(m.ID) == "null" {
		return nil
	}
	return m.ID
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// recorder buffers the SDK's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// handler is the SDK tool handler of t: it runs t over the call's
// arguments and leaves the outcome in the call for answer, returning
// placeholders that answer replaces.
func (s *Server) handler(t *Tool) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		cl, ok := ctx.Value(callKey{}).(*call)
		if !ok {
			return nil, errors.New("mcpapi: tool called outside Server.Post")
		}
		cl.tool = t
		cl.out, cl.err = s.run(t, cl, req.Params.Arguments)
		res := &mcp.CallToolResult{Meta: mcp.Meta{metaKey: cl.nonce + "-meta"}}
		if cl.err != nil {
			res.IsError = true
			res.Content = []mcp.Content{&mcp.TextContent{Text: cl.nonce + "-text"}}
			return res, nil
		}
		res.Content = []mcp.Content{&mcp.TextContent{Text: cl.nonce + "-text"}}
		res.StructuredContent = cl.nonce + "-data"
		return res, nil
	}
}

// run checks the session rule and runs t over the lifted arguments, or
// raw when they were not lifted.
func (s *Server) run(t *Tool, cl *call, raw []byte) (Output, error) {
	if t.Metered && !cl.c.IsMaster() && cl.c.SessionID == "" {
		return Output{}, problem.New(problem.SessionRequired,
			"%s needs an active session: start one with POST /api/v1/sessions (a WRITE key), then call again", t.Name)
	}
	args := cl.args
	if !cl.lifted {
		var err error
		if args, err = ParseArgs(raw); err != nil {
			return Output{}, err
		}
	}
	return t.Run(cl.r, args)
}

// metaKey is the placeholder member of _meta that answer replaces.
const metaKey = "waickoff"

// answer completes a tool call: it replaces the placeholders of the SDK's
// response with the result, its text and the _meta figures, refuses an
// answer over the response limit or over the call's max_tokens, charges a
// metered success, and writes the response.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, cl *call, sdkResp []byte, reqBytes int64) error {
	log := telemetry.Logger(r.Context())
	parts, err := split(sdkResp, cl.nonce, cl.err == nil)
	if err != nil {
		return err
	}
	var text, data []byte
	if cl.err != nil {
		text = toolError(log, cl.err, httpapi.RequestID(r))
	} else {
		data = cl.out.Data
		text = data
	}
	charged := cl.err == nil && cl.tool.Metered && !cl.c.IsMaster()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	res := parts.render(text, data, cl.c, charged, reqBytes, w.Header())
	// An answer Lambda cannot deliver is refused uncharged, measured as
	// the HTTP endpoints measure theirs: the invoke response, headers and
	// the body as a JSON string.
	var refusal error
	if cl.err == nil && res.invoke > answer.MaxResponseBytes {
		refusal = answer.TooLarge(res.invoke)
	}
	if e := answer.OverMax(&cl.c, res.tokens, cl.out.MaxTokens); refusal == nil && charged && e != nil {
		refusal = e
	}
	if refusal == nil && charged {
		refusal = s.meter.Charge(r.Context(), cl.c, httpapi.RequestID(r), s.usage(cl.tool.Name), res.tokens)
	}
	if refusal != nil {
		charged = false
		if sdkResp, err = errorResult(sdkResp, cl.nonce); err != nil {
			return err
		}
		if parts, err = split(sdkResp, cl.nonce, false); err != nil {
			return err
		}
		res = parts.render(toolError(log, refusal, httpapi.RequestID(r)), nil, cl.c, false, reqBytes, w.Header())
		cl.err = refusal
	}
	status := 0
	if cl.err != nil {
		status = problemStatus(cl.err)
	}
	httpapi.NoteUsage(r, s.usage(cl.tool.Name), status, charged)
	w.WriteHeader(http.StatusOK)
	return res.writeTo(w)
}

// errorResult turns the SDK's response to a successful call into the
// response of a failed one, with the same id and the placeholders of an
// error (a success refused after the tool ran: over the response limit, or
// not charged).
func errorResult(resp []byte, nonce string) ([]byte, error) {
	var env struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(resp, &env); err != nil || env.ID == nil {
		return nil, fmt.Errorf("mcpapi: the SDK's response has no id: %w", err)
	}
	res, err := json.Marshal(&mcp.CallToolResult{Meta: mcp.Meta{metaKey: nonce + "-meta"},
		Content: []mcp.Content{&mcp.TextContent{Text: nonce + "-text"}}, IsError: true})
	if err != nil {
		return nil, err
	}
	out := append([]byte(`{"jsonrpc":"2.0","id":`), env.ID...)
	out = append(append(append(out, `,"result":`...), res...), '}')
	return out, nil
}

func problemStatus(err error) int {
	if pe := problem.As(err); pe != nil {
		return pe.Status()
	}
	return http.StatusInternalServerError
}

// toolError renders err as the HTTP API's problem document; anything
// unclassified is logged and shown as internal.
func toolError(log interface {
	Error(string, ...any)
	Info(string, ...any)
}, err error, requestID string) []byte {
	pe := problem.As(err)
	switch {
	case pe == nil:
		log.Error("internal error", "error", err.Error())
	case pe.Code == problem.Internal || pe.Code == problem.ServiceUnavailable:
		log.Error("tool failed", "code", string(pe.Code), "error", err.Error())
	default:
		log.Info("tool refused", "code", string(pe.Code), "detail", pe.Detail, "field", pe.Field)
	}
	return problem.Marshal(err, requestID)
}
