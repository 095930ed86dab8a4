package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/infra/gateway"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// every answers each function with fn.
func every(tpl *samtemplate.Template, fn gateway.ProxyHandler) map[string]gateway.ProxyHandler {
	handlers := map[string]gateway.ProxyHandler{}
	for id := range tpl.Functions {
		handlers[id] = fn
	}
	return handlers
}

// The gateway's own answers are the template's GatewayResponses, read from
// it: each emulated case gets the status, Content-Type and body (with the
// request id filled in) of the response type API Gateway uses for it, or
// of DEFAULT_5XX when that type is not configured; none reaches a client
// as API Gateway's bare {"message": ...}.
func TestGatewayAnswersFromTheTemplate(t *testing.T) {
	tpl, _ := template(t)
	for _, typ := range []string{"DEFAULT_4XX", "DEFAULT_5XX"} {
		if _, ok := tpl.GatewayResponses[typ]; !ok {
			t.Fatalf("the template has no %s gateway response", typ)
		}
	}
	short := tpl.Functions["KeyListFunction"]
	short.Timeout = 50 * time.Millisecond
	failing := func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{}, errors.New("function crashed")
	}
	slow := func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		<-ctx.Done()
		return events.APIGatewayProxyResponse{}, ctx.Err()
	}
	huge := func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: strings.Repeat(`"`, gateway.MaxLambdaResponse/2+1)}, nil
	}
	authErr := func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("store unreachable")
	}
	tests := []struct {
		name, typ    string // typ: the configured type expected, else DEFAULT_5XX
		fn           gateway.ProxyHandler
		auth         app.AuthorizerHandler
		method, path string
		body         string
	}{
		{"missing route", "MISSING_AUTHENTICATION_TOKEN", echo("x"), allow, "GET", "/api/v1/nope", ""},
		{"bad method", "MISSING_AUTHENTICATION_TOKEN", echo("x"), allow, "PATCH", "/api/v1/keys", ""},
		{"authorizer failure", "AUTHORIZER_FAILURE", echo("x"), authErr, "GET", "/api/v1/keys", ""},
		{"function error", "DEFAULT_5XX", failing, allow, "GET", "/api/v1/keys", ""},
		{"function timeout", "DEFAULT_5XX", slow, allow, "GET", "/api/v1/keys", ""},
		{"response over 6 MB", "DEFAULT_5XX", huge, allow, "GET", "/api/v1/keys", ""},
		{"event over 6 MB", "DEFAULT_5XX", echo("x"), allow, "POST", "/api/v1/keys", strings.Repeat("\n", gateway.MaxLambdaRequest/2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp := *tpl
			cp.Functions = maps.Clone(tpl.Functions)
			cp.Functions["KeyListFunction"] = short
			g, err := gateway.New(&cp, every(&cp, tc.fn), tc.auth, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			want := tpl.GatewayResponses[tc.typ]
			reqID := rec.Header().Get("X-Request-Id")
			if rec.Code != want.Status || rec.Header().Get("Content-Type") != want.Headers["Content-Type"] || reqID == "" {
				t.Fatalf("got %d %q (request id %q), want the template's %s: %d %q", rec.Code, rec.Header().Get("Content-Type"),
					reqID, tc.typ, want.Status, want.Headers["Content-Type"])
			}
			if wantBody := strings.ReplaceAll(want.Body, "$context.requestId", reqID); rec.Body.String() != wantBody {
				t.Fatalf("body %s, want the template's %s", rec.Body.String(), wantBody)
			}
			if fns, _ := g.Invocations(); tc.name == "event over 6 MB" && fns["KeyCreateFunction"] != 0 {
				t.Fatalf("the function ran %d times for an event Lambda refuses", fns["KeyCreateFunction"])
			}
		})
	}
	// The default responses are problem documents naming the request.
	for _, typ := range []string{"DEFAULT_4XX", "DEFAULT_5XX"} {
		gr := tpl.GatewayResponses[typ]
		body := strings.NewReplacer("$context.requestId", "req-1", "$context.error.messageString", `"Forbidden"`).Replace(gr.Body)
		var p map[string]any
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%s body is not JSON: %s", typ, body)
		}
		if gr.Headers["Content-Type"] != "application/problem+json" || p["type"] == nil || p["title"] == nil || p["detail"] == nil ||
			p["code"] == nil || p["status"] != float64(gr.Status) || p["request_id"] != "req-1" {
			t.Errorf("%s: %s %s is not a problem of its status %d naming the request", typ, gr.Headers["Content-Type"], body, gr.Status)
		}
	}
}

// A type the template does not configure falls back to DEFAULT_4XX or
// DEFAULT_5XX, whose StatusCode replaces its own and whose body reads its
// message; with neither, API Gateway answers its bare message.
func TestGatewayFallsBackToTheDefaultResponses(t *testing.T) {
	tpl, _ := template(t)
	cp := *tpl
	cp.GatewayResponses = map[string]samtemplate.GatewayResponse{
		"DEFAULT_4XX": tpl.GatewayResponses["DEFAULT_4XX"], "DEFAULT_5XX": tpl.GatewayResponses["DEFAULT_5XX"]}
	g, err := gateway.New(&cp, every(&cp, echo("x")), allow, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rep := do(t, g, "GET", "/api/v1/nope", "")
	if rep.status != cp.GatewayResponses["DEFAULT_4XX"].Status || rep.body["detail"] != "Missing Authentication Token" ||
		rep.body["request_id"] != rep.header.Get("X-Request-Id") {
		t.Fatalf("missing route without its own response: %d %v", rep.status, rep.body)
	}
	cp.GatewayResponses = nil
	g, err = gateway.New(&cp, every(&cp, echo("x")), allow, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if rep := do(t, g, "GET", "/api/v1/nope", ""); rep.status != 403 || rep.body["message"] != "Missing Authentication Token" {
		t.Fatalf("missing route with no gateway responses: %d %v", rep.status, rep.body)
	}
}

// Lambda refuses an event over 6 MB as it measures it: the whole proxy
// event JSON with the body escaped. A body of quotes under 6 MB raw but
// over it escaped never reaches the function; one whose event fits does.
func TestGatewayMeasuresTheEvent(t *testing.T) {
	tpl, _ := template(t)
	ok := func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"}, nil
	}
	g, err := gateway.New(tpl, every(tpl, ok), allow, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"quotes over the limit once escaped", strings.Repeat(`"`, gateway.MaxLambdaRequest/2+1), 503},
		{"quotes whose event fits", strings.Repeat(`"`, gateway.MaxLambdaRequest/2-4096), 200},
		{"plain just under", strings.Repeat("x", gateway.MaxLambdaRequest-4096), 200},
		{"plain just over", strings.Repeat("x", gateway.MaxLambdaRequest), 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := g.Invocations()
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/keys", strings.NewReader(tc.body)))
			after, _ := g.Invocations()
			ran := after["KeyCreateFunction"] - before["KeyCreateFunction"]
			if rec.Code != tc.status || (ran == 1) != (tc.status == 200) {
				t.Fatalf("a %d-byte body: %d, function ran %d times; want %d", len(tc.body), rec.Code, ran, tc.status)
			}
		})
	}
}

// A function still running at its Timeout is answered then, as Lambda
// stops it and API Gateway answers its DEFAULT_5XX, not whenever the
// function ends; the function's context is over by then, so whatever it
// does next (a charge) cannot reach the store.
func TestGatewayAnswersAtTheFunctionTimeout(t *testing.T) {
	tpl, _ := template(t)
	cp := *tpl
	cp.Functions = maps.Clone(tpl.Functions)
	short := cp.Functions["KeyListFunction"]
	short.Timeout = 100 * time.Millisecond
	cp.Functions["KeyListFunction"] = short
	release, after := make(chan struct{}), make(chan error, 1)
	// It ignores its context, as CPU-bound work does.
	stuck := func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		<-release
		after <- ctx.Err()
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"late":true}`}, nil
	}
	g, err := gateway.New(&cp, every(&cp, stuck), allow, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	go func() { time.Sleep(2 * time.Second); close(release) }()
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/keys", nil))
	elapsed := time.Since(start)
	want := tpl.GatewayResponses["DEFAULT_5XX"]
	if rec.Code != want.Status || elapsed > time.Second || strings.Contains(rec.Body.String(), "late") {
		t.Fatalf("after %v: %d %s; want the DEFAULT_5XX %d at the 100ms timeout", elapsed, rec.Code, rec.Body.String(), want.Status)
	}
	if err := <-after; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the function's context after its timeout: %v, want deadline exceeded", err)
	}
}
