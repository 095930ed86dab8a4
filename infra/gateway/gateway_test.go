package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/infra/gateway"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/public"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

func template(t *testing.T) (*samtemplate.Template, string) {
	t.Helper()
	tpl, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	return tpl, root
}

// echo answers with the function name and the event it was given.
func echo(fn string) gateway.ProxyHandler {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		b, _ := json.Marshal(map[string]any{"function": fn, "resource": ev.Resource, "path_parameters": ev.PathParameters,
			"authorizer": ev.RequestContext.Authorizer, "body": ev.Body})
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}, nil
	}
}

func allow(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: "key_1",
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
			{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{req.MethodArn}}}},
		Context: map[string]any{"account_id": "acc_1", "rate_limit": 60, "flag": true},
	}, nil
}

func newGateway(t *testing.T, auth app.AuthorizerHandler) (*gateway.Gateway, *samtemplate.Template) {
	t.Helper()
	tpl, _ := template(t)
	handlers := map[string]gateway.ProxyHandler{}
	for id := range tpl.Functions {
		handlers[id] = echo(id)
	}
	g, err := gateway.New(tpl, handlers, auth, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return g, tpl
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, h http.Handler, method, path, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, rec.Body.String())
	}
	return reply{rec.Code, rec.Header(), m}
}

func TestGatewayServesExactlyTheTemplateRoutes(t *testing.T) {
	g, tpl := newGateway(t, allow)
	var want []string
	for _, r := range tpl.Routes() {
		want = append(want, r.Pattern())
	}
	sort.Strings(want)
	if got := g.Routes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("gateway routes %v\ntemplate routes %v", got, want)
	}
	// Every route reaches its own function.
	for _, r := range tpl.Routes() {
		path := strings.NewReplacer("{key_id}", "key_x", "{session_id}", "ses_x", "{name}", "rsi").Replace(r.Path)
		rep := do(t, g, r.Method, path, "")
		if rep.status != 200 || rep.body["function"] != r.Function {
			t.Errorf("%s %s reached %v (status %d), want %s", r.Method, path, rep.body["function"], rep.status, r.Function)
		}
	}
}

func TestGatewayRouting(t *testing.T) {
	g, _ := newGateway(t, allow)
	tests := []struct {
		method, path string
		function     string
		params       map[string]any
	}{
		{"GET", "/api/v1/sessions/current", "SessionCurrentFunction", nil},
		{"GET", "/api/v1/sessions/quota", "QuotaGetFunction", nil},
		{"GET", "/api/v1/sessions/ses_1", "SessionGetFunction", map[string]any{"session_id": "ses_1"}},
		{"POST", "/api/v1/indicators/batch", "IndicatorBatchFunction", nil},
		{"POST", "/api/v1/indicators/rsi", "IndicatorComputeFunction", map[string]any{"name": "rsi"}},
		{"POST", "/api/v1/keys/k1/rotate", "KeyRotateFunction", map[string]any{"key_id": "k1"}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rep := do(t, g, tc.method, tc.path, "")
			if rep.body["function"] != tc.function {
				t.Fatalf("reached %v, want %s", rep.body["function"], tc.function)
			}
			if tc.params != nil && !reflect.DeepEqual(rep.body["path_parameters"], tc.params) {
				t.Fatalf("path parameters %v, want %v", rep.body["path_parameters"], tc.params)
			}
		})
	}
}

// A denial's context fills its gateway response's mapped headers and
// $context variables, as API Gateway does; a variable with no value
// leaves its header out.
func TestDenialContextReachesTheGatewayResponse(t *testing.T) {
	deny := func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		r, _ := allow(ctx, req)
		r.PolicyDocument.Statement[0].Effect = "Deny"
		r.Context = map[string]any{"rate_limit": 7, "rate_remaining": 0, "rate_reset": 9, "retry_after": 9}
		return r, nil
	}
	g, _ := newGateway(t, deny)
	rep := do(t, g, "GET", "/api/v1/keys", "")
	if rep.status != 429 || rep.header.Get("Retry-After") != "9" || rep.header.Get("RateLimit-Limit") != "7" ||
		rep.header.Get("RateLimit-Remaining") != "0" || rep.header.Get("RateLimit-Reset") != "9" {
		t.Fatalf("429 headers %v", rep.header)
	}
	if rep.body["detail"] != "rate limit of 7 requests per minute exceeded" || rep.body["request_id"] != rep.header.Get("X-Request-Id") {
		t.Fatalf("429 body %v", rep.body)
	}
	noCtx := func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		r, _ := allow(ctx, req)
		r.PolicyDocument.Statement[0].Effect, r.Context = "Deny", nil
		return r, nil
	}
	g, _ = newGateway(t, noCtx)
	if rep := do(t, g, "GET", "/api/v1/keys", ""); rep.status != 429 || rep.header.Get("Retry-After") != "" {
		t.Fatalf("a denial without context: %d %v", rep.status, rep.header)
	}
}

func TestGatewayOwnResponses(t *testing.T) {
	tests := []struct {
		name         string
		auth         app.AuthorizerHandler
		method, path string
		status       int
		code         string
	}{
		{"unknown path", allow, "GET", "/api/v1/nope", 404, "not_found"},
		{"unknown method", allow, "PATCH", "/api/v1/keys", 404, "not_found"},
		{"trailing segment", allow, "GET", "/api/v1/health/x", 404, "not_found"},
		{"unauthorized", func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
		}, "GET", "/api/v1/keys", 401, "unauthorized"},
		{"authorizer failure", func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("store unreachable")
		}, "GET", "/api/v1/keys", 503, "service_unavailable"},
		{"authorizer panic", func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			panic("boom")
		}, "GET", "/api/v1/keys", 503, "service_unavailable"},
		// Any denial is the template's ACCESS_DENIED, which is the 429
		// of a key over its rate limit (the only thing our authorizer
		// denies).
		{"explicit deny", func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			r, _ := allow(ctx, req)
			r.PolicyDocument.Statement[0].Effect = "Deny"
			return r, nil
		}, "GET", "/api/v1/keys", 429, "rate_limited"},
		{"allow for another method", func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			r, _ := allow(ctx, req)
			r.PolicyDocument.Statement[0].Resource = []string{gateway.MethodARN("DELETE", "/api/v1/keys")}
			return r, nil
		}, "GET", "/api/v1/keys", 429, "rate_limited"},
		{"object in context", func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			r, _ := allow(ctx, req)
			r.Context["nested"] = map[string]any{"a": 1}
			return r, nil
		}, "GET", "/api/v1/keys", 503, "service_unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := newGateway(t, tc.auth)
			rep := do(t, g, tc.method, tc.path, "")
			if rep.status != tc.status || rep.body["code"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", rep.status, rep.body["code"], tc.status, tc.code)
			}
			if ct := rep.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if rep.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if int(rep.body["status"].(float64)) != tc.status {
				t.Errorf("body status %v, response status %d", rep.body["status"], tc.status)
			}
		})
	}
}

func TestGatewayHandsAuthorizerContextAsStrings(t *testing.T) {
	g, _ := newGateway(t, allow)
	rep := do(t, g, "GET", "/api/v1/keys", "")
	want := map[string]any{"principalId": "key_1", "account_id": "acc_1", "rate_limit": "60", "flag": "true"}
	if !reflect.DeepEqual(rep.body["authorizer"], want) {
		t.Fatalf("authorizer context %v, want %v", rep.body["authorizer"], want)
	}
	// Public routes never run the authorizer.
	rep = do(t, g, "GET", "/api/v1/health", "")
	if rep.body["authorizer"] != nil {
		t.Fatalf("public route got authorizer context %v", rep.body["authorizer"])
	}
}

func TestGatewayRefusesOversizedPayload(t *testing.T) {
	g, _ := newGateway(t, allow)
	rep := do(t, g, "POST", "/api/v1/indicators/rsi", strings.Repeat("x", gateway.MaxPayload+1))
	if rep.status != 413 || rep.body["code"] != "payload_too_large" {
		t.Fatalf("got %d %v", rep.status, rep.body["code"])
	}
}

// Lambda's response limit applies to the encoded invoke response: a body
// under 6 MB that escaping takes over it is refused as Lambda refuses it,
// and one just under after escaping is delivered.
func TestGatewayMeasuresTheInvokeResponse(t *testing.T) {
	tpl, _ := template(t)
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"quotes over the limit once escaped", `{"q":"` + strings.Repeat(`\"`, gateway.MaxLambdaResponse/4+1) + `"}`, 503},
		{"plain under the limit", `{"q":"` + strings.Repeat("x", gateway.MaxLambdaResponse-200) + `"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handlers := map[string]gateway.ProxyHandler{}
			for id := range tpl.Functions {
				handlers[id] = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
					return events.APIGatewayProxyResponse{StatusCode: 200, Body: tc.body}, nil
				}
			}
			g, err := gateway.New(tpl, handlers, allow, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.body) > gateway.MaxLambdaResponse {
				t.Fatalf("the body itself (%d bytes) is over the limit", len(tc.body))
			}
			if rep := do(t, g, "GET", "/api/v1/sessions/quota", ""); rep.status != tc.status {
				t.Fatalf("a %d-byte body: %d, want %d", len(tc.body), rep.status, tc.status)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	arn := gateway.MethodARN("GET", "/api/v1/keys")
	st := func(effect string, res ...string) events.IAMPolicyStatement {
		return events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: res}
	}
	tests := []struct {
		name string
		p    []events.IAMPolicyStatement
		want bool
	}{
		{"exact allow", []events.IAMPolicyStatement{st("Allow", arn)}, true},
		{"wildcard allow", []events.IAMPolicyStatement{st("Allow", "arn:aws:execute-api:*:*:local/v1stage/*")}, true},
		{"deny wins", []events.IAMPolicyStatement{st("Allow", "*"), st("Deny", arn)}, false},
		{"nothing", nil, false},
		{"other resource", []events.IAMPolicyStatement{st("Allow", gateway.MethodARN("POST", "/api/v1/keys"))}, false},
		{"other action", []events.IAMPolicyStatement{{Action: []string{"s3:GetObject"}, Effect: "Allow", Resource: []string{arn}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := gateway.Allows(events.APIGatewayCustomAuthorizerPolicy{Statement: tc.p}, arn); got != tc.want {
				t.Fatalf("Allows = %v, want %v", got, tc.want)
			}
		})
	}
}

// The sample API event in events/ runs through the real health function
// exactly as Lambda would hand it over.
func TestSampleAPIEventThroughHealthFunction(t *testing.T) {
	_, root := template(t)
	raw, err := os.ReadFile(filepath.Join(root, "events", "api-health.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"API_KEYS_TABLE": "k", "SESSIONS_TABLE": "s", "USAGE_TABLE": "u", "QUOTAS_TABLE": "q",
		"DYNAMODB_ENDPOINT": "http://127.0.0.1:1"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := public.Health(app.NewDeps(cfg, "HealthFunction", io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Lambda()(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Body)
	}
	if got := resp.MultiValueHeaders["X-Request-Id"]; len(got) != 1 || got[0] != ev.RequestContext.RequestID {
		t.Fatalf("X-Request-Id %v, want API Gateway's %s", got, ev.RequestContext.RequestID)
	}
}

// OnAccess reports each answered request, with the tokens a metered
// answer charged (its meta.tokens) and none for any other answer.
func TestOnAccess(t *testing.T) {
	tpl, _ := template(t)
	handlers := map[string]gateway.ProxyHandler{}
	for id := range tpl.Functions {
		handlers[id] = echo(id)
	}
	handlers["IndicatorComputeFunction"] = func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200,
			MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}, "X-Session-Tokens-Used": {"120"}},
			Body:              `{"values":[1],"meta":{"tokens":57,"tokens_used":120}}`}, nil
	}
	g, err := gateway.New(tpl, handlers, allow, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var got []gateway.Access
	g.OnAccess(func(a gateway.Access) { got = append(got, a) })
	for _, c := range []struct{ method, path string }{{"POST", "/api/v1/indicators/sma"}, {"GET", "/api/v1/health"}, {"GET", "/nowhere"}} {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(`{}`)))
	}
	want := []struct {
		method, path string
		status       int
		tokens       int64
	}{{"POST", "/api/v1/indicators/sma", 200, 57}, {"GET", "/api/v1/health", 200, 0}, {"GET", "/nowhere", 404, 0}}
	if len(got) != len(want) {
		t.Fatalf("%d accesses reported, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i]
		if a.Method != w.method || a.Path != w.path || a.Status != w.status || a.Tokens != w.tokens || a.RequestID == "" || a.Elapsed <= 0 {
			t.Errorf("access %d = %+v, want %+v", i, a, w)
		}
	}
}
