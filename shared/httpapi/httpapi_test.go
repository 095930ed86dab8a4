package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

type countingRecorder struct{ events []httpapi.Event }

func (c *countingRecorder) Record(ctx context.Context, cl caller.Caller, e httpapi.Event) error {
	c.events = append(c.events, e)
	return nil
}

func server(logs *bytes.Buffer, rec httpapi.Recorder) *httpapi.Server {
	s := httpapi.New(httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Recorder: rec, MaxBody: 64})
	ok := func(w http.ResponseWriter, r *http.Request) error {
		c, _ := httpapi.CallerOf(r)
		body, err := httpapi.ReadBody(r)
		if err != nil {
			return err
		}
		return httpapi.WriteJSON(w, 200, map[string]any{"account": c.AccountID, "len": len(body), "request_id": httpapi.RequestID(r)})
	}
	s.Handle("GET /public", httpapi.Public, ok)
	s.Handle("POST /read", httpapi.Need(caller.Read), ok)
	s.Handle("POST /admin", httpapi.Need(caller.Admin), ok)
	s.Handle("POST /master", httpapi.MasterOnly, ok)
	s.Handle("GET /boom", httpapi.Need(caller.Read), func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("table QuotasTable-x exploded")
	})
	s.Handle("POST /strict", httpapi.Need(caller.Read), func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		}
		if err := httpapi.DecodeJSON(r, &in, false); err != nil {
			return err
		}
		return httpapi.WriteJSON(w, 201, in)
	})
	return s
}

func event(method, path, body string, c *caller.Caller) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, Body: body,
		Headers:        map[string]string{"Content-Type": "application/json"},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "gw-req-1"}}
	if c != nil {
		ev.RequestContext.Authorizer = map[string]any{}
		for k, v := range c.Context() {
			ev.RequestContext.Authorizer[k] = strings.TrimSpace(strings.Trim(jsonString(v), `"`))
		}
	}
	return ev
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestServer(t *testing.T) {
	read := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read, RateLimit: 60, RateRemaining: 59, RateReset: 1}
	admin := &caller.Caller{AccountID: "acc_1", KeyID: "key_2", Permission: caller.Admin, RateLimit: 60, RateRemaining: 10, RateReset: 2}
	master := &caller.Caller{Permission: caller.Master}
	limited := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Admin, RateLimit: 5, Refusal: "rate_limited", RetryAfter: 7}
	noSession := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read, RateLimit: 5, Refusal: "session_required"}
	tests := []struct {
		name   string
		ev     events.APIGatewayProxyRequest
		status int
		code   string
		header map[string]string
	}{
		{"public", event("GET", "/public", "", nil), 200, "", nil},
		{"keyed without caller", event("POST", "/read", "", nil), 401, "unauthorized", nil},
		{"read ok", event("POST", "/read", "{}", read), 200, "", map[string]string{"RateLimit-Limit": "60", "RateLimit-Remaining": "59", "RateLimit-Reset": "1"}},
		{"read below admin", event("POST", "/admin", "", read), 403, "forbidden", nil},
		{"admin ok", event("POST", "/admin", "", admin), 200, "", nil},
		{"master passes admin", event("POST", "/admin", "", master), 200, "", nil},
		{"admin not master", event("POST", "/master", "", admin), 403, "forbidden", nil},
		{"rate limited", event("POST", "/read", "", limited), 429, "rate_limited", map[string]string{"Retry-After": "7", "RateLimit-Limit": "5"}},
		{"session required", event("POST", "/read", "", noSession), 403, "session_required", nil},
		{"too large", event("POST", "/read", strings.Repeat("x", 65), read), 413, "payload_too_large", nil},
		// The limit (64) counts the body as Lambda's event carries it.
		{"quotes at the limit once escaped", event("POST", "/read", strings.Repeat(`"`, 32), read), 200, "", nil},
		{"quotes over the limit once escaped", event("POST", "/read", strings.Repeat(`"`, 33), read), 413, "payload_too_large", nil},
		{"newlines over the limit once escaped", event("POST", "/read", strings.Repeat("\n", 33), read), 413, "payload_too_large", nil},
		{"control characters over once escaped", event("POST", "/read", strings.Repeat("\x01", 11), read), 413, "payload_too_large", nil},
		{"control characters at the limit", event("POST", "/read", strings.Repeat("\x01", 10)+"xxxx", read), 200, "", nil},
		{"internal", event("GET", "/boom", "", read), 500, "internal", nil},
		{"unknown route", event("GET", "/nope", "", read), 404, "not_found", nil},
		{"unknown field", event("POST", "/strict", `{"name":"a","nope":1}`, read), 400, "invalid_request", nil},
		{"wrong type", event("POST", "/strict", `{"name":"a","count":"x"}`, read), 400, "invalid_request", nil},
		{"malformed", event("POST", "/strict", `{"name":`, read), 400, "invalid_request", nil},
		{"trailing", event("POST", "/strict", `{"name":"a"} {}`, read), 400, "invalid_request", nil},
		{"null", event("POST", "/strict", `null`, read), 400, "invalid_request", nil},
		{"array", event("POST", "/strict", ` [{"name":"a"}]`, read), 400, "invalid_request", nil},
		{"string", event("POST", "/strict", `"a"`, read), 400, "invalid_request", nil},
		{"strict ok", event("POST", "/strict", `{"name":"a","count":2}`, read), 201, "", nil},
		{"leading whitespace ok", event("POST", "/strict", "\r\n {\"name\":\"a\"}", read), 201, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			resp, err := server(&logs, nil).Lambda()(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.Unmarshal([]byte(resp.Body), &body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.code != "" && body["code"] != tc.code {
				t.Fatalf("code %v, want %s", body["code"], tc.code)
			}
			if tc.code == "internal" && strings.Contains(resp.Body, "QuotasTable") {
				t.Fatalf("internal detail leaked: %s", resp.Body)
			}
			if got := resp.MultiValueHeaders["X-Request-Id"]; len(got) != 1 || got[0] != "gw-req-1" {
				t.Errorf("X-Request-Id %v", got)
			}
			for k, v := range tc.header {
				if got := resp.MultiValueHeaders[http.CanonicalHeaderKey(k)]; len(got) != 1 || got[0] != v {
					t.Errorf("%s = %v, want %s", k, got, v)
				}
			}
			if !strings.Contains(logs.String(), `"request_id":"gw-req-1"`) {
				t.Errorf("logs lack the request id: %s", logs.String())
			}
		})
	}
}

func TestRecorderSeesKeyedRequestsOnly(t *testing.T) {
	var logs bytes.Buffer
	rec := &countingRecorder{}
	s := server(&logs, rec)
	read := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read}
	for _, ev := range []events.APIGatewayProxyRequest{event("GET", "/public", "", nil), event("POST", "/read", "", read), event("POST", "/admin", "", read)} {
		if _, err := s.Lambda()(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.events) != 2 || rec.events[0].Status != 200 || rec.events[1].Status != 403 || rec.events[0].Endpoint != "POST /read" {
		t.Fatalf("recorded %+v", rec.events)
	}
}

// Options.Endpoint names every recorded request of a route, refused ones
// included (a 429 never reaches the handler).
func TestRecorderUsesEndpointNames(t *testing.T) {
	rec := &countingRecorder{}
	s := httpapi.New(httpapi.Options{Logger: slog.New(slog.DiscardHandler), Recorder: rec,
		Endpoint: func(pattern string, r *http.Request) string { return "things/" + r.PathValue("x") }})
	s.Handle("POST /things/{x}", httpapi.Need(caller.Read), func(w http.ResponseWriter, r *http.Request) error {
		return httpapi.WriteJSON(w, 200, map[string]any{})
	})
	ok := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read, RateLimit: 5}
	limited := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read, RateLimit: 5, Refusal: "rate_limited", RetryAfter: 3}
	for _, c := range []*caller.Caller{ok, limited} {
		if _, err := s.Lambda()(context.Background(), event("POST", "/things/abc", "", c)); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.events) != 2 {
		t.Fatalf("recorded %+v", rec.events)
	}
	for i, want := range []int{200, 429} {
		if e := rec.events[i]; e.Status != want || e.Endpoint != "things/abc" || e.Pattern != "POST /things/{x}" {
			t.Fatalf("event %d: %+v, want status %d named things/abc", i, e, want)
		}
	}
}

func TestParsePage(t *testing.T) {
	for _, tc := range []struct {
		q     string
		limit int
		ok    bool
	}{{"", 20, true}, {"limit=100", 100, true}, {"limit=0", 0, false}, {"limit=101", 0, false}, {"limit=x", 0, false},
		{"next_token=" + httpapi.EncodeToken([]byte("abc")), 20, true}, {"next_token=!!", 0, false}} {
		r, _ := http.NewRequest("GET", "/x?"+tc.q, nil)
		p, err := httpapi.ParsePage(r)
		if (err == nil) != tc.ok || (tc.ok && p.Limit != tc.limit) {
			t.Errorf("%q: %+v %v", tc.q, p, err)
		}
		if err != nil && problem.CodeOf(err) != problem.InvalidRequest {
			t.Errorf("%q: code %s", tc.q, problem.CodeOf(err))
		}
	}
}

// A request stops before its invocation's deadline with a 503, so a slow
// store is a logged answer rather than a killed function.
func TestDeadlineIsServiceUnavailable(t *testing.T) {
	var logs bytes.Buffer
	s := httpapi.New(httpapi.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	var left time.Duration
	s.Handle("GET /slow", httpapi.Public, func(w http.ResponseWriter, r *http.Request) error {
		dl, _ := r.Context().Deadline()
		left = time.Until(dl)
		<-r.Context().Done()
		return fmt.Errorf("store call: %w", r.Context().Err())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	resp, err := s.Lambda()(ctx, event("GET", "/slow", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || !strings.Contains(resp.Body, "service_unavailable") || left > 300*time.Millisecond {
		t.Fatalf("%d %s (deadline left %v)", resp.StatusCode, resp.Body, left)
	}
	if !strings.Contains(logs.String(), "deadline exceeded") {
		t.Fatalf("cause not logged: %s", logs.String())
	}
}

// A body that is not UTF-8 travels base64-encoded, and the limit counts
// it so: 48 bytes are 64 in the event, 49 are 68.
func TestBodyLimitCountsBase64(t *testing.T) {
	read := &caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read, RateLimit: 60, RateRemaining: 59, RateReset: 1}
	for _, tc := range []struct {
		n      int
		status int
	}{{48, 200}, {49, 413}} {
		raw := bytes.Repeat([]byte{0xff}, tc.n)
		ev := event("POST", "/read", base64.StdEncoding.EncodeToString(raw), read)
		ev.IsBase64Encoded = true
		var logs bytes.Buffer
		resp, err := server(&logs, nil).Lambda()(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status {
			t.Fatalf("%d bytes not UTF-8: %d, want %d: %s", tc.n, resp.StatusCode, tc.status, resp.Body)
		}
	}
}
