package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/problem"
)

func TestStatusOfEveryContractCode(t *testing.T) {
	want := map[problem.Code]int{
		problem.InvalidRequest: 400, problem.Unauthorized: 401, problem.Forbidden: 403, problem.SessionRequired: 403,
		problem.QuotaExhausted: 402, problem.RateLimited: 429, problem.NotFound: 404, problem.Conflict: 409,
		problem.PayloadTooLarge: 413, problem.UnsupportedMediaType: 415, problem.PaymentsDisabled: 402,
		problem.ServiceUnavailable: 503, problem.Internal: 500, problem.InsufficientTokens: 402,
		problem.ResponseTooLarge: 413,
	}
	for code, status := range want {
		if got := problem.Status(code); got != status {
			t.Errorf("%s: %d, want %d", code, got, status)
		}
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		detail string
	}{
		{"invalid", problem.Invalid("params.period", "period must be at least 2"), 400, "invalid_request", "period must be at least 2"},
		{"wrapped", fmt.Errorf("start session: %w", problem.New(problem.Conflict, "a session is active")), 409, "conflict", "a session is active"},
		{"internal hides cause", errors.New("dynamodb table QuotasTable-x: AccessDenied"), 500, "internal", "internal error"},
		{"unavailable hides cause", problem.Unavailable(errors.New("dial tcp 10.0.0.1: refused")), 503, "service_unavailable", "the service is temporarily unavailable; retry shortly"},
		{"a large echo is clipped", problem.Invalid("name", "unknown indicator %q", strings.Repeat("a", 64<<10)), 400, "invalid_request",
			`unknown indicator "` + strings.Repeat("a", 512-len(`unknown indicator "`)-3) + "..."},
		{"clipped at a rune boundary", problem.Invalid("name", "%s", strings.Repeat("é", 300)), 400, "invalid_request",
			strings.Repeat("é", 254) + "..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			problem.Write(rec, tc.err, "req-1")
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.status || body["code"] != tc.code || body["detail"] != tc.detail ||
				body["status"] != float64(tc.status) || body["request_id"] != "req-1" ||
				body["type"] != problem.TypeBase+tc.code || body["title"] == "" {
				t.Fatalf("%d %v", rec.Code, body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestExtraAndHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	err := &problem.Error{Code: problem.Conflict, Detail: "active", Extra: map[string]any{"active_session_id": "ses_1", "code": "spoof"}}
	problem.Write(rec, err, "")
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body["active_session_id"] != "ses_1" || body["code"] != "conflict" {
		t.Fatalf("%v", body)
	}
	if problem.CodeOf(err) != problem.Conflict || problem.CodeOf(errors.New("x")) != problem.Internal {
		t.Fatal("CodeOf")
	}
}
