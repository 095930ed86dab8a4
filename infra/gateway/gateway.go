// Package gateway emulates API Gateway's REST API for local runs and
// tests: it routes by the template's Api events, runs the Lambda REQUEST
// authorizer in-process with a real authorizer event, applies its policy
// and context as API Gateway does, and calls each function's Lambda
// handler (the api-proxy adapter) with a real proxy event. Its own answers
// are the template's GatewayResponses.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/infra/iam"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/metering"
	"github.com/waickoff/waickoff/shared/payload"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// Identity of the emulated API.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
	APIID     = "local"
	Stage     = "v1stage"
	// MaxPayload is API Gateway's request payload limit.
	MaxPayload = 10 << 20
	// MaxLambdaResponse is Lambda's synchronous response payload limit,
	// on the encoded invoke response (invokeSize), not the body alone.
	MaxLambdaResponse = payload.MaxInvoke
	// IntegrationTimeout is API Gateway's limit on a Lambda integration.
	IntegrationTimeout = 29 * time.Second
	// MaxLambdaRequest is Lambda's synchronous invoke limit on the event:
	// the whole proxy event JSON, body escaped (or base64), as API
	// Gateway sends it.
	MaxLambdaRequest = payload.MaxInvoke
)

// gatewayError is one of API Gateway's own refusals: its response type
// ("" for an error that has none of its own: DEFAULT_4XX or DEFAULT_5XX
// answers it), its status and API Gateway's message for it.
type gatewayError struct {
	typ     string
	status  int
	message string
}

// What API Gateway answers in the cases the gateway emulates. An invoke
// that the Lambda API refuses (an event over MaxLambdaRequest) is a 500
// and a function that fails or answers a malformed or oversized response
// is a 502, both {"message": "Internal server error"} by default
// (Lambda developer guide, "Handling Lambda errors with an API Gateway
// API").
var (
	errMissingRoute   = gatewayError{"MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"}
	errUnauthorized   = gatewayError{"UNAUTHORIZED", 401, "Unauthorized"}
	errAccessDenied   = gatewayError{"ACCESS_DENIED", 403, "User is not authorized to access this resource"}
	errAuthorizer     = gatewayError{"AUTHORIZER_FAILURE", 500, "Internal server error"}
	errRequestTooLong = gatewayError{"REQUEST_TOO_LARGE", 413, "Request Too Long"}
	errInvokeRefused  = gatewayError{"", 500, "Internal server error"}
	errFunction       = gatewayError{"", 502, "Internal server error"}
	errTimeout        = gatewayError{"INTEGRATION_TIMEOUT", 504, "Endpoint request timed out"}
)

// ProxyHandler is a function's Lambda handler.
type ProxyHandler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

type route struct {
	samtemplate.Route
	segments []string
	handler  ProxyHandler
	timeout  time.Duration // the function's Timeout: its invocation deadline
	invoked  *atomic.Int64
}

// Gateway is an http.Handler emulating the REST API.
type Gateway struct {
	routes     []route
	authorizer app.AuthorizerHandler
	responses  map[string]samtemplate.GatewayResponse
	logger     *slog.Logger
	onAccess   func(Access)
	authorized atomic.Int64 // authorizer invocations
}

// Invocations returns the Lambda invocations so far: each function's
// (the functions behind routes, by logical ID) and the authorizer's.
func (g *Gateway) Invocations() (functions map[string]int64, authorizer int64) {
	functions = map[string]int64{}
	for _, r := range g.routes {
		functions[r.Function] = r.invoked.Load()
	}
	return functions, g.authorized.Load()
}

// New builds the gateway: every Api route of the template, served by the
// handler of its function; authorizer runs for non-public routes.
func New(tpl *samtemplate.Template, handlers map[string]ProxyHandler, authorizer app.AuthorizerHandler, logger *slog.Logger) (*Gateway, error) {
	g := &Gateway{authorizer: authorizer, responses: tpl.GatewayResponses, logger: logger}
	counters := map[string]*atomic.Int64{}
	for _, r := range tpl.Routes() {
		if counters[r.Function] == nil {
			counters[r.Function] = &atomic.Int64{}
		}
		h, ok := handlers[r.Function]
		if !ok {
			return nil, fmt.Errorf("no handler for function %s (route %s)", r.Function, r.Pattern())
		}
		if !r.Public && authorizer == nil {
			return nil, fmt.Errorf("route %s needs the authorizer", r.Pattern())
		}
		g.routes = append(g.routes, route{Route: r, segments: splitPath(r.Path), handler: h,
			timeout: tpl.Functions[r.Function].Timeout, invoked: counters[r.Function]})
	}
	// Literal segments win over path parameters, as in API Gateway.
	sort.SliceStable(g.routes, func(i, j int) bool {
		return specificity(g.routes[i].segments) > specificity(g.routes[j].segments)
	})
	return g, nil
}

// Routes returns the served routes as "METHOD /path" patterns, sorted.
func (g *Gateway) Routes() []string {
	out := make([]string, 0, len(g.routes))
	for _, r := range g.routes {
		out = append(out, r.Pattern())
	}
	sort.Strings(out)
	return out
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

func specificity(segs []string) int {
	n := 0
	for _, s := range segs {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n*100 + len(segs)
}

func (g *Gateway) match(method, path string) (*route, map[string]string, bool) {
	segs := splitPath(path)
	pathKnown := false
	for i := range g.routes {
		r := &g.routes[i]
		params, ok := matchSegments(r.segments, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if r.Method == method {
			return r, params, true
		}
	}
	return nil, nil, pathKnown
}

func matchSegments(tpl, segs []string) (map[string]string, bool) {
	if len(tpl) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, t := range tpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ServeHTTP answers one request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	start := time.Now()
	status, tokens := g.serve(w, r, reqID)
	a := Access{RequestID: reqID, Method: r.Method, Path: r.URL.Path, Status: status, Elapsed: time.Since(start), Tokens: tokens}
	g.logger.Info("gateway", "request_id", reqID, "method", r.Method, "path", r.URL.Path,
		"status", status, "elapsed_ms", float64(a.Elapsed.Microseconds())/1000, "tokens", tokens)
	if g.onAccess != nil {
		g.onAccess(a)
	}
}

// Access is what the gateway tells of each request it answered.
type Access struct {
	RequestID, Method, Path string
	Status                  int
	Elapsed                 time.Duration
	// Tokens are the tokens a metered function charged to the session
	// (its answer's meta.tokens); 0 when nothing was charged.
	Tokens int64
}

// OnAccess has f called once each request is answered (make run prints a
// line a request with it). Call it before serving.
func (g *Gateway) OnAccess(f func(Access)) { g.onAccess = f }

// charged reads the tokens a metered answer charged: its meta.tokens,
// when the answer carries the session headers of a charge.
func charged(out events.APIGatewayProxyResponse) int64 {
	if out.Headers[metering.HeaderTokensUsed] == "" && len(out.MultiValueHeaders[metering.HeaderTokensUsed]) == 0 {
		return 0
	}
	var body struct {
		Meta struct {
			Tokens int64 `json:"tokens"`
		} `json:"meta"`
	}
	if json.Unmarshal([]byte(out.Body), &body) != nil {
		return 0
	}
	return body.Meta.Tokens
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, reqID string) (status int, tokens int64) {
	rt, params, pathKnown := g.match(r.Method, r.URL.Path)
	if rt == nil {
		_ = pathKnown // API Gateway answers unknown methods like unknown paths.
		return g.gatewayResponse(w, errMissingRoute, reqID, nil), 0
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		return g.gatewayResponse(w, errFunction, reqID, nil), 0
	}
	if len(body) > MaxPayload {
		return g.gatewayResponse(w, errRequestTooLong, reqID, nil), 0
	}
	ev := proxyEvent(r, rt, params, body, reqID)
	if !rt.Public {
		authCtx, resp := g.authorize(r.Context(), ev)
		if resp.status != 0 {
			// A denial's context reaches its gateway response
			// ($context.authorizer.*), as in API Gateway.
			return g.gatewayResponse(w, resp, reqID, authCtx), 0
		}
		ev.RequestContext.Authorizer = authCtx
	}
	// Lambda measures the event as API Gateway sends it and refuses it,
	// before any function runs, when it is over the invoke limit.
	if size := payload.JSONSize(ev); size > MaxLambdaRequest {
		g.logger.Error("Lambda refused the invocation: event over the invoke limit", "request_id", reqID,
			"function", rt.Function, "event_bytes", size, "max_bytes", MaxLambdaRequest)
		return g.gatewayResponse(w, errInvokeRefused, reqID, nil), 0
	}
	// A Lambda invocation runs to its end even if the client goes away,
	// and no longer than the function's timeout: Lambda stops it there
	// (its context's deadline) and API Gateway answers a function error
	// (502: DEFAULT_5XX), whatever the function does next; past the
	// integration's own 29 s, API Gateway answers 504 INTEGRATION_TIMEOUT.
	ctx := context.WithoutCancel(r.Context())
	limit, onLimit := rt.timeout, errFunction
	if limit <= 0 || limit > IntegrationTimeout {
		limit, onLimit = IntegrationTimeout, errTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rt.invoked.Add(1)
	type result struct {
		out events.APIGatewayProxyResponse
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := invoke(ctx, rt.handler, ev)
		done <- result{out, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		select {
		case res = <-done: // it answered in time after all
		default:
			// A handler still running at its deadline is over: its
			// answer, if any ever comes, is dropped, as Lambda drops it.
			g.logger.Error("function timed out", "request_id", reqID, "function", rt.Function, "timeout", limit.String())
			return g.gatewayResponse(w, onLimit, reqID, nil), 0
		}
	}
	if res.err != nil {
		g.logger.Error("function failed", "request_id", reqID, "function", rt.Function, "error", res.err.Error())
		return g.gatewayResponse(w, errFunction, reqID, nil), 0
	}
	return writeProxyResponse(w, res.out, reqID, g), charged(res.out)
}

func invoke(ctx context.Context, h ProxyHandler, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("function panicked: %v", p)
		}
	}()
	return h(ctx, ev)
}

func proxyEvent(r *http.Request, rt *route, params map[string]string, body []byte, reqID string) events.APIGatewayProxyRequest {
	headers := map[string]string{}
	multi := map[string][]string{}
	for k, vs := range r.Header {
		headers[k] = vs[len(vs)-1]
		multi[k] = append([]string(nil), vs...)
	}
	var query map[string]string
	var multiQuery map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		query, multiQuery = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			query[k] = vs[len(vs)-1]
			multiQuery[k] = vs
		}
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayProxyRequest{
		Resource:                        rt.Path,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multi,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        AccountID,
			ResourceID:       "local",
			Stage:            Stage,
			RequestID:        reqID,
			Identity:         events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
			ResourcePath:     rt.Path,
			Path:             "/" + Stage + r.URL.Path,
			HTTPMethod:       r.Method,
			APIID:            APIID,
			DomainName:       r.Host,
			Protocol:         r.Proto,
			RequestTime:      time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: time.Now().UnixMilli(),
		},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	}
	return ev
}

// MethodARN is the ARN API Gateway gives the authorizer for a request.
func MethodARN(method, path string) string {
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", Region, AccountID, APIID, Stage, method, path)
}

// authorize runs the authorizer; it returns the context to hand the
// function, or the refusal to answer with (a zero status when allowed;
// for ACCESS_DENIED with the denial's context, for the response's
// mappings).
func (g *Gateway) authorize(ctx context.Context, ev events.APIGatewayProxyRequest) (map[string]any, gatewayError) {
	req := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       MethodARN(ev.HTTPMethod, ev.Path),
		Resource:                        ev.Resource,
		Path:                            ev.Path,
		HTTPMethod:                      ev.HTTPMethod,
		Headers:                         ev.Headers,
		MultiValueHeaders:               ev.MultiValueHeaders,
		QueryStringParameters:           ev.QueryStringParameters,
		MultiValueQueryStringParameters: ev.MultiValueQueryStringParameters,
		PathParameters:                  ev.PathParameters,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			Path: ev.RequestContext.Path, AccountID: AccountID, ResourceID: "local", Stage: Stage,
			RequestID: ev.RequestContext.RequestID, ResourcePath: ev.Resource, HTTPMethod: ev.HTTPMethod, APIID: APIID,
			Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: ev.RequestContext.Identity.SourceIP},
		},
	}
	resp, err := g.callAuthorizer(ctx, req)
	if err != nil {
		if err.Error() == "Unauthorized" {
			return nil, errUnauthorized
		}
		g.logger.Error("authorizer failed", "request_id", ev.RequestContext.RequestID, "error", err.Error())
		return nil, errAuthorizer
	}
	// API Gateway hands the function the context values as strings, plus
	// the principal.
	out := map[string]any{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		switch v.(type) {
		case string, bool, float64, float32, int, int64, int32, json.Number:
			out[k] = fmt.Sprint(v)
		default:
			// API Gateway refuses objects and arrays in the context.
			g.logger.Error("authorizer context holds a non-scalar", "key", k)
			return nil, errAuthorizer
		}
	}
	if !Allows(resp.PolicyDocument, req.MethodArn) {
		return out, errAccessDenied
	}
	return out, gatewayError{}
}

func (g *Gateway) callAuthorizer(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (resp events.APIGatewayCustomAuthorizerResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("authorizer panicked: %v", p)
		}
	}()
	// The authorizer's answer travels as JSON, as in Lambda.
	g.authorized.Add(1)
	resp, err = g.authorizer(ctx, req)
	if err != nil {
		return resp, err
	}
	raw, mErr := json.Marshal(resp)
	if mErr != nil {
		return resp, fmt.Errorf("authorizer response: %w", mErr)
	}
	var round events.APIGatewayCustomAuthorizerResponse
	if uErr := json.Unmarshal(raw, &round); uErr != nil {
		return resp, fmt.Errorf("authorizer response: %w", uErr)
	}
	return round, nil
}

// Allows evaluates an authorizer policy for a method ARN as API Gateway
// does: an explicit Deny wins, then any Allow; nothing is a deny.
func Allows(p events.APIGatewayCustomAuthorizerPolicy, methodARN string) bool {
	allowed := false
	for _, st := range p.Statement {
		if !actionMatches(st.Action) || !resourceMatches(st.Resource, methodARN) {
			continue
		}
		switch strings.ToLower(st.Effect) {
		case "deny":
			return false
		case "allow":
			allowed = true
		}
	}
	return allowed
}

func actionMatches(actions []string) bool {
	for _, a := range actions {
		if a == "execute-api:Invoke" || a == "execute-api:*" || a == "*" {
			return true
		}
	}
	return false
}

func resourceMatches(resources []string, arn string) bool {
	for _, r := range resources {
		if iam.Match(r, arn) {
			return true
		}
	}
	return false
}

func writeProxyResponse(w http.ResponseWriter, out events.APIGatewayProxyResponse, reqID string, g *Gateway) int {
	body := []byte(out.Body)
	if out.IsBase64Encoded {
		dec, err := base64.StdEncoding.DecodeString(out.Body)
		if err != nil {
			return g.gatewayResponse(w, errFunction, reqID, nil)
		}
		body = dec
	}
	if invokeSize(out) > MaxLambdaResponse || out.StatusCode < 100 || out.StatusCode > 599 {
		return g.gatewayResponse(w, errFunction, reqID, nil)
	}
	h := w.Header()
	for k, v := range out.Headers {
		h.Set(k, v)
	}
	for k, vs := range out.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		h.Set("X-Request-Id", reqID)
	}
	w.WriteHeader(out.StatusCode)
	_, _ = w.Write(body)
	return out.StatusCode
}

// invokeSize is the size of the invoke response Lambda measures against
// MaxLambdaResponse: out as aws-lambda-go writes it (JSON without HTML
// escaping, then a newline), so quotes and control characters in the body
// count twice or more.
func invokeSize(out events.APIGatewayProxyResponse) int { return payload.JSONSize(out) }

// contextVar matches the $context variables of a gateway response
// template: $context.requestId, $context.authorizer.<key>,
// $context.error.message, .messageString (the message as a JSON string)
// and .responseType.
var contextVar = regexp.MustCompile(`\$context\.(requestId|authorizer\.[A-Za-z0-9_]+|error\.(?:messageString|message|responseType))`)

// contextValue is the value of the context variable name ("requestId",
// "authorizer.<key>", "error.message", ...) for the refusal e; ok is
// false when it has none.
func contextValue(name, reqID string, e gatewayError, authCtx map[string]any) (string, bool) {
	switch name {
	case "requestId":
		return reqID, true
	case "error.message":
		return e.message, true
	case "error.messageString":
		b, _ := json.Marshal(e.message)
		return string(b), true
	case "error.responseType":
		return e.responseType(), true
	}
	if k, isAuth := strings.CutPrefix(name, "authorizer."); isAuth {
		v, ok := authCtx[k].(string)
		return v, ok
	}
	return "", false
}

// responseType is e's type, or the default type that stands for it.
func (e gatewayError) responseType() string {
	if e.typ != "" {
		return e.typ
	}
	if e.status >= 500 {
		return "DEFAULT_5XX"
	}
	return "DEFAULT_4XX"
}

// gatewayResponse answers the refusal e as API Gateway does: with the
// template's GatewayResponse of e's type, else with its DEFAULT_4XX or
// DEFAULT_5XX (whose StatusCode, when set, replaces e's status), else
// with API Gateway's bare {"message": ...}. The response has its status,
// static headers, headers mapped from context variables
// (context.requestId, context.authorizer.<key> from authCtx; a header
// whose variable has no value is left out) and its body with the
// $context variables filled in (empty when they have no value).
func (g *Gateway) gatewayResponse(w http.ResponseWriter, e gatewayError, reqID string, authCtx map[string]any) int {
	gr, ok := g.responses[e.typ]
	if !ok || e.typ == "" {
		def := "DEFAULT_4XX"
		if e.status >= 500 {
			def = "DEFAULT_5XX"
		}
		gr, ok = g.responses[def]
	}
	if !ok {
		b, _ := json.Marshal(map[string]string{"message": e.message})
		gr = samtemplate.GatewayResponse{Body: string(b)}
	}
	status := gr.Status
	if status == 0 {
		status = e.status
	}
	for k, v := range gr.Headers {
		w.Header().Set(k, v)
	}
	for k, expr := range gr.Mapped {
		if name, ok := strings.CutPrefix(expr, "context."); ok {
			if v, ok := contextValue(name, reqID, e, authCtx); ok {
				w.Header().Set(k, v)
			}
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-Request-Id", reqID)
	w.WriteHeader(status)
	body := contextVar.ReplaceAllStringFunc(gr.Body, func(m string) string {
		v, _ := contextValue(strings.TrimPrefix(m, "$context."), reqID, e, authCtx)
		return v
	})
	_, _ = io.WriteString(w, body)
	return status
}

// ErrNoRoute is returned by lookups of unknown routes.
var ErrNoRoute = errors.New("no such route")
