package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func candleRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	p := 100.0
	for i := range rows {
		o := p
		p += math.Sin(float64(i)*0.9) * 1.7
		rows[i] = map[string]any{"t": 1700000000 + i*60, "o": o, "h": math.Max(o, p) + 0.25, "l": math.Min(o, p) - 0.25, "c": p, "v": 1000 + i}
	}
	return rows
}

// rawCall sends body bytes as they are and returns the raw response; the
// token figures are checked against these bytes.
func rawCall(t *testing.T, method, path, key, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, api.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func expect(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.body["code"] != code) {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.status, r.raw, status, code)
	}
}

// A client's whole day, over HTTP through the local gateway: account,
// keys, quota, a session, metered calls whose token figures add up, and
// the refusals on the way.
func TestClientFlow(t *testing.T) {
	m := api.MasterKey
	r := call(t, "POST", "/api/v1/accounts", m, map[string]any{"name": "acme"})
	expect(t, "create account", r, 201, "")
	acct := r.body["account_id"].(string)
	admin := r.body["admin_key"].(map[string]any)["key"].(string)
	if !strings.HasPrefix(admin, "wk_") || len(admin) < 43 {
		t.Fatalf("admin key %q", admin)
	}
	other := call(t, "POST", "/api/v1/accounts", m, map[string]any{"name": "other"})
	expect(t, "create other account", other, 201, "")
	otherAdmin := other.body["admin_key"].(map[string]any)["key"].(string)

	expect(t, "non-master creates account", call(t, "POST", "/api/v1/accounts", admin, map[string]any{"name": "x"}), 403, "forbidden")
	expect(t, "start without quota", call(t, "POST", "/api/v1/sessions", admin, nil), 402, "quota_exhausted")

	buy := call(t, "POST", "/api/v1/sessions/quota/add", admin, map[string]any{"sessions": 10, "idempotency_key": "order-1"})
	expect(t, "buy", buy, 201, "")
	if buy.body["total_price_cents"] != 900.0 || buy.body["discount_pct"] != 10.0 || buy.body["payment_status"] != "placeholder" || buy.body["currency"] != "usd" {
		t.Fatalf("purchase %s", buy.raw)
	}
	again := call(t, "POST", "/api/v1/sessions/quota/add", admin, map[string]any{"sessions": 10, "idempotency_key": "order-1"})
	if again.body["purchase_id"] != buy.body["purchase_id"] {
		t.Fatalf("idempotent replay gave %s", again.raw)
	}
	q := call(t, "GET", "/api/v1/sessions/quota", admin, nil)
	if q.body["purchased"] != 10.0 || q.body["remaining"] != 10.0 {
		t.Fatalf("quota %s", q.raw)
	}

	rk := call(t, "POST", "/api/v1/keys", admin, map[string]any{"name": "reader", "permission": "READ", "rate_limit_per_minute": 100})
	expect(t, "create READ key", rk, 201, "")
	reader := rk.body["key"].(string)
	readerID := rk.body["key_id"].(string)
	expect(t, "READ starts session", call(t, "POST", "/api/v1/sessions", reader, nil), 403, "forbidden")

	body, _ := json.Marshal(map[string]any{"candles": candleRows(120), "params": map[string]any{"period": 14}})
	resp, out := rawCall(t, "POST", "/api/v1/indicators/rsi", reader, "application/json", body)
	if resp.StatusCode != 403 || !bytes.Contains(out, []byte(`"session_required"`)) {
		t.Fatalf("metered call without session: %d %s", resp.StatusCode, out)
	}

	start := call(t, "POST", "/api/v1/sessions", admin, nil)
	expect(t, "start session", start, 201, "")
	sid := start.body["session_id"].(string)
	conflict := call(t, "POST", "/api/v1/sessions", admin, nil)
	expect(t, "second start", conflict, 409, "conflict")
	if conflict.body["active_session_id"] != sid {
		t.Fatalf("409 names %v, want %s", conflict.body["active_session_id"], sid)
	}

	var spent int64
	plain, _ := json.Marshal(map[string]any{"candles": candleRows(120)})
	for _, tc := range []struct {
		path, ct string
		body     []byte
	}{{"/api/v1/indicators/rsi", "application/json", body}, {"/api/v1/indicators/macd", "application/json", plain}} {
		body := tc.body
		resp, out := rawCall(t, "POST", tc.path, reader, tc.ct, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, out)
		}
		var res struct {
			Count  int                   `json:"count"`
			Values map[string][]*float64 `json:"values"`
			Meta   struct {
				SessionID       string `json:"session_id"`
				Tokens          int64  `json:"tokens"`
				TokensUsed      int64  `json:"tokens_used"`
				TokensRemaining int64  `json:"tokens_remaining"`
				InputChecksum   string `json:"input_checksum"`
				EngineVersion   string `json:"engine_version"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		want := int64(math.Ceil(float64(len(body)+len(out)) / 4))
		if res.Meta.Tokens != want || res.Count != 120 || res.Meta.SessionID != sid || res.Meta.InputChecksum == "" || res.Meta.EngineVersion == "" {
			t.Fatalf("%s meta %+v, want %d tokens for %d+%d bytes", tc.path, res.Meta, want, len(body), len(out))
		}
		spent += res.Meta.Tokens
		if resp.Header.Get("X-Session-Id") != sid || resp.Header.Get("X-Session-Tokens-Used") != strconv.FormatInt(spent, 10) ||
			resp.Header.Get("X-Session-Tokens-Remaining") != strconv.FormatInt(100000-spent, 10) || res.Meta.TokensUsed != spent {
			t.Fatalf("%s headers %v, meta %+v, want %d used", tc.path, resp.Header, res.Meta, spent)
		}
		if resp.Header.Get("RateLimit-Limit") != "100" || resp.Header.Get("RateLimit-Remaining") == "" {
			t.Fatalf("%s rate-limit headers %v", tc.path, resp.Header)
		}
	}
	batch, _ := json.Marshal(map[string]any{"candles": candleRows(120), "indicators": []any{
		map[string]any{"name": "sma", "params": map[string]any{"period": 5}}, map[string]any{"name": "bbands"}, map[string]any{"name": "nope"}}})
	resp, out = rawCall(t, "POST", "/api/v1/indicators/batch", reader, "application/json", batch)
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, out)
	}
	spent += int64(math.Ceil(float64(len(batch)+len(out)) / 4))

	// Errors spend nothing.
	bad, _ := json.Marshal(map[string]any{"candles": []any{map[string]any{"t": 1, "o": 1, "h": 0.5, "l": 1, "c": 1, "v": 1}}})
	resp, out = rawCall(t, "POST", "/api/v1/indicators/sma", reader, "application/json", bad)
	if resp.StatusCode != 400 || !bytes.Contains(out, []byte(`"invalid_request"`)) {
		t.Fatalf("bad candles: %d %s", resp.StatusCode, out)
	}
	resp, _ = rawCall(t, "POST", "/api/v1/indicators/sma", reader, "text/plain", []byte("x"))
	if resp.StatusCode != 415 {
		t.Fatalf("text/plain: %d", resp.StatusCode)
	}

	got := call(t, "GET", "/api/v1/sessions/"+sid, reader, nil)
	expect(t, "get session", got, 200, "")
	if got.body["tokens_used"] != float64(spent) || got.body["requests"] != 3.0 || got.body["status"] != "active" {
		t.Fatalf("session %s, want %d tokens over 3 requests", got.raw, spent)
	}
	cur := call(t, "GET", "/api/v1/sessions/current", reader, nil)
	if cur.body["session_id"] != sid {
		t.Fatalf("current %s", cur.raw)
	}
	// Another account sees nothing of it.
	expect(t, "other account's session", call(t, "GET", "/api/v1/sessions/"+sid, otherAdmin, nil), 404, "not_found")
	expect(t, "other account's key", call(t, "GET", "/api/v1/keys/"+readerID, otherAdmin, nil), 404, "not_found")
	expect(t, "other account's terminate", call(t, "POST", "/api/v1/sessions/"+sid+"/terminate", otherAdmin, nil), 404, "not_found")

	keys := call(t, "GET", "/api/v1/keys", reader, nil)
	expect(t, "list keys", keys, 200, "")
	if bytes.Contains(keys.raw, []byte(reader)) || bytes.Contains(keys.raw, []byte(admin)) {
		t.Fatal("key list shows a key")
	}

	term := call(t, "POST", "/api/v1/sessions/"+sid+"/terminate", admin, nil)
	expect(t, "terminate", term, 200, "")
	if term.body["status"] != "ended" || term.body["end_reason"] != "terminated" {
		t.Fatalf("terminated %s", term.raw)
	}
	expect(t, "terminate twice", call(t, "POST", "/api/v1/sessions/"+sid+"/terminate", admin, nil), 409, "conflict")
	resp, out = rawCall(t, "POST", "/api/v1/indicators/rsi", reader, "application/json", body)
	if resp.StatusCode != 403 || !bytes.Contains(out, []byte("session_required")) {
		t.Fatalf("after terminate: %d %s", resp.StatusCode, out)
	}

	expect(t, "revoke", call(t, "DELETE", "/api/v1/keys/"+readerID, admin, nil), 204, "")
	expect(t, "revoked key", call(t, "GET", "/api/v1/sessions/quota", reader, nil), 401, "unauthorized")

	q = call(t, "GET", "/api/v1/sessions/quota", admin, nil)
	if q.body["used"] != 1.0 || q.body["remaining"] != 9.0 || q.body["account_id"] != acct {
		t.Fatalf("quota after one session %s", q.raw)
	}
	for _, k := range []string{admin, reader, otherAdmin} {
		if strings.Contains(logs.String(), k) || strings.Contains(logs.String(), k[:len(k)-6]) {
			t.Fatalf("a key appears in the logs")
		}
	}
}

// With a short SESSION_TTL, a session reads as ended the moment it
// expires, TTL removes its lease, and the stream handler finalises it.
func TestSessionExpiresEndToEnd(t *testing.T) {
	short, err := startAPI(map[string]string{"SESSION_TTL": "2s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		short.Stop()
		noIAMDenials(t, short)
	}()
	at := func(method, path, key string, body any) response {
		return callAt(t, short.URL, method, path, key, body)
	}
	r := at("POST", "/api/v1/accounts", short.MasterKey, map[string]any{"name": "ttl"})
	expect(t, "account", r, 201, "")
	admin := r.body["admin_key"].(map[string]any)["key"].(string)
	expect(t, "buy", at("POST", "/api/v1/sessions/quota/add", admin, map[string]any{"sessions": 2}), 201, "")
	s := at("POST", "/api/v1/sessions", admin, nil)
	expect(t, "start", s, 201, "")
	sid := s.body["session_id"].(string)
	before := short.Emulator.Delivered()["SessionExpiryFunction"]
	deadline := time.Now().Add(15 * time.Second)
	for short.Emulator.Delivered()["SessionExpiryFunction"] == before {
		if time.Now().After(deadline) {
			t.Fatal("the lease's TTL removal never reached the stream handler")
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := at("GET", "/api/v1/sessions/"+sid, admin, nil)
	if got.body["status"] != "ended" || got.body["end_reason"] != "expired" || got.body["ended_at"] != got.body["expires_at"] {
		t.Fatalf("after expiry: %s", got.raw)
	}
	expect(t, "no current session", at("GET", "/api/v1/sessions/current", admin, nil), 404, "not_found")
	q := at("GET", "/api/v1/sessions/quota", admin, nil)
	if _, has := q.body["active_session_id"]; has || q.body["remaining"] != 1.0 {
		t.Fatalf("quota %s", q.raw)
	}
	expect(t, "a new session", at("POST", "/api/v1/sessions", admin, nil), 201, "")
}

// In AWS, TTL removes an expired session's lease late (up to days), so a
// customer whose session ran out of time often starts the next one while
// the hub still points at the old. The start ends the old session in its
// own transaction (an UpdateItem on the sessions table), so the start
// function's grants must allow that; the stream handler finds it ended
// later. The sweeper here runs once a minute: it cannot end the session
// first.
func TestStartAfterExpiryBeforeTTLRemoval(t *testing.T) {
	a := startAPIAt(t, map[string]string{"SESSION_TTL": "1s"})
	at := func(method, path, key string, body any) response {
		return callAt(t, a.URL, method, path, key, body)
	}
	admin := newTenant(t, a, "late ttl", 2).admin
	first := at("POST", "/api/v1/sessions", admin, nil)
	expect(t, "first start", first, 201, "")
	expires, err := time.Parse(time.RFC3339Nano, first.body["expires_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	second := at("POST", "/api/v1/sessions", admin, nil)
	expect(t, "start after the first expired", second, 201, "")
	old := at("GET", "/api/v1/sessions/"+first.body["session_id"].(string), admin, nil)
	if old.body["status"] != "ended" || old.body["end_reason"] != "expired" || old.body["ended_at"] != old.body["expires_at"] {
		t.Fatalf("the expired session after the next start: %s", old.raw)
	}
	if q := at("GET", "/api/v1/sessions/quota", admin, nil); q.body["used"] != 2.0 || q.body["remaining"] != 0.0 {
		t.Fatalf("quota after two starts: %s", q.raw)
	}
}
