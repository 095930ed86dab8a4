// Package tests holds the end-to-end tests: they boot the whole local API
// (gateway, authorizer, functions, moto, TTL and stream emulation) on a
// free loopback port and call it over HTTP as a client would.
package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/dynamo"
)

// syncBuffer collects the API's logs for assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	api  *local.API
	logs = &syncBuffer{}
)

func TestMain(m *testing.M) {
	var err error
	api, err = startAPI(nil, logs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local API:", err)
		os.Exit(1)
	}
	code := m.Run()
	api.Stop()
	// Every function called the store only as its template policies
	// allow (the local run enforces them, as IAM does in AWS).
	if denied := api.IAMDenied(); len(denied) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: calls the functions' IAM policies in template.yaml do not allow:\n  %s\n", strings.Join(denied, "\n  "))
		code = 1
	}
	if code == 0 {
		if err := checkLeastPrivilege(api.Template); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// noIAMDenials fails t when a's functions made store calls their template
// policies do not allow.
func noIAMDenials(t *testing.T, a *local.API) {
	t.Helper()
	if denied := a.IAMDenied(); len(denied) > 0 {
		t.Errorf("calls the functions' IAM policies in template.yaml do not allow:\n  %s", strings.Join(denied, "\n  "))
	}
}

// startAPI boots a local API on a free port with fresh tables; env adds
// configuration.
func startAPI(env map[string]string, out io.Writer) (*local.API, error) {
	all := map[string]string{"DYNAMODB_ENDPOINT": os.Getenv("DYNAMODB_ENDPOINT")}
	for k, v := range env {
		all[k] = v
	}
	return local.Start(context.Background(), local.Options{
		Getenv: func(k string) string { return all[k] }, Addr: "127.0.0.1:0", Logs: out,
		SweepEvery: 200 * time.Millisecond, TableSuffix: fmt.Sprintf("-e2e%d", time.Now().UnixNano()), IAMRecorder: iamUses,
	})
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func call(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	return callAt(t, api.URL, method, path, key, body)
}

func callAt(t *testing.T, base, method, path, key string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: not JSON: %q", method, path, raw)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	return r
}

func TestHealthAndPricing(t *testing.T) {
	r := call(t, "GET", "/api/v1/health", "", nil)
	if r.status != 200 || r.body["status"] != "ok" || r.body["version"] == "" {
		t.Fatalf("health: %d %s", r.status, r.raw)
	}
	r = call(t, "GET", "/api/v1/pricing", "", nil)
	if r.status != 200 || r.body["currency"] != "usd" || r.body["session_price_cents"] != float64(100) {
		t.Fatalf("pricing: %d %s", r.status, r.raw)
	}
	tiers := r.body["tiers"].([]any)
	want := []struct{ min, pct, unit float64 }{{1, 0, 100}, {10, 10, 90}, {50, 20, 80}, {100, 30, 70}}
	if len(tiers) != len(want) {
		t.Fatalf("tiers %v", tiers)
	}
	for i, w := range want {
		tier := tiers[i].(map[string]any)
		if tier["min_sessions"] != w.min || tier["discount_pct"] != w.pct || tier["unit_price_cents"] != w.unit {
			t.Errorf("tier %d = %v, want %+v", i, tier, w)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	r := call(t, "GET", "/api/v1/openapi.json", "", nil)
	if r.status != 200 || !strings.HasPrefix(fmt.Sprint(r.body["openapi"]), "3.") {
		t.Fatalf("openapi: %d %.200s", r.status, r.raw)
	}
}

func TestGatewayAnswersAsProblems(t *testing.T) {
	tests := []struct {
		name, method, path, key string
		status                  int
		code                    string
	}{
		{"unknown route", "GET", "/api/v1/nothing-here", "", 404, "not_found"},
		{"no key", "GET", "/api/v1/keys", "", 401, "unauthorized"},
		{"unknown key", "GET", "/api/v1/keys", "wk_" + strings.Repeat("A", 43), 401, "unauthorized"},
		{"garbage key", "GET", "/api/v1/sessions", "not-a-key", 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, tc.path, tc.key, nil)
			if r.status != tc.status || r.body["code"] != tc.code {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// A lease whose TTL passed is removed by the TTL emulation and the
// removal reaches the session-expiry stream function.
func TestTTLRemovalReachesStreamHandler(t *testing.T) {
	ctx := context.Background()
	db, err := dynamo.NewClient(ctx, dynamo.Options{Region: "us-east-1", Endpoint: api.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	before := api.Emulator.Delivered()["SessionExpiryFunction"]
	id := fmt.Sprintf("ses_e2e%d", time.Now().UnixNano())
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(api.Config.Tables.Sessions),
		Item: map[string]types.AttributeValue{
			"pk":         &types.AttributeValueMemberS{Value: "LEASE#" + id},
			"sk":         &types.AttributeValueMemberS{Value: "LEASE"},
			"session_id": &types.AttributeValueMemberS{Value: id},
			"account_id": &types.AttributeValueMemberS{Value: "acc_00000000000e2e00"},
			"ttl":        &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for api.Emulator.Delivered()["SessionExpiryFunction"] == before {
		if time.Now().After(deadline) {
			t.Fatal("the TTL removal never reached SessionExpiryFunction")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), id) {
		t.Errorf("the stream handler's logs do not mention %s", id)
	}
}
