package quota_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/session/sessiontest"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON lines whose msg is msg.
func (l *logs) lines(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func (l *logs) metric(name string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["_aws"] != nil {
			if v, ok := m[name].(float64); ok {
				sum += v
			}
		}
	}
	return sum
}

type env struct {
	t     *testing.T
	d     *store.Deps
	logs  *logs
	now   time.Time
	mu    sync.Mutex
	add   sessiontest.Handler
	get   sessiontest.Handler
	start sessiontest.Handler
}

func newEnv(t *testing.T, over map[string]string) *env {
	t.Helper()
	// Tables of its own: the reconciler walks every account.
	cfg, err := fx.IsolatedConfig(context.Background(), over)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, logs: &logs{}, now: time.Now()}
	e.d, err = store.NewDeps(context.Background(), cfg, "test", e.logs, fx.DB)
	if err != nil {
		t.Fatal(err)
	}
	e.d.Now = e.clock
	for h, b := range map[*sessiontest.Handler]store.HTTPBuilder{&e.add: sessions.QuotaAdd, &e.get: sessions.QuotaGet, &e.start: sessions.Start} {
		s, err := b(e.d)
		if err != nil {
			t.Fatal(err)
		}
		*h = s.Lambda()
	}
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) account(n int64) string {
	return sessiontest.Account(e.t, fx.DB, e.d.Config.Tables.Quotas, n)
}

func (e *env) buy(c caller.Caller, body string) sessiontest.Response {
	return sessiontest.Do(e.t, e.add, sessiontest.Request{Method: "POST", Path: "/api/v1/sessions/quota/add", Body: body, Caller: &c})
}

func (e *env) quota(acc string) sessiontest.Response {
	c := sessiontest.Key(acc, caller.Read)
	return sessiontest.Do(e.t, e.get, sessiontest.Request{Method: "GET", Path: "/api/v1/sessions/quota", Caller: &c})
}

func TestQuotaAdd(t *testing.T) {
	e := newEnv(t, nil)
	acc, other := e.account(0), e.account(0)
	admin, write := sessiontest.Key(acc, caller.Admin), sessiontest.Key(acc, caller.Write)
	master := sessiontest.Master
	tests := []struct {
		name                  string
		c                     caller.Caller
		body                  string
		status                int
		code                  string
		sessions, total, disc int64
	}{
		{"one at list price", admin, `{"sessions":1}`, 201, "", 1, 100, 0},
		{"ten at 10% off", admin, `{"sessions":10,"idempotency_key":"k-10"}`, 201, "", 10, 900, 10},
		{"same key, same purchase", admin, `{"sessions":10,"idempotency_key":"k-10"}`, 201, "", 10, 900, 10},
		{"same key, other body", admin, `{"sessions":11,"idempotency_key":"k-10"}`, 409, "conflict", 0, 0, 0},
		{"hundred at 30% off", admin, `{"sessions":100}`, 201, "", 100, 7000, 30},
		{"write key is too low", write, `{"sessions":1}`, 403, "forbidden", 0, 0, 0},
		{"zero", admin, `{"sessions":0}`, 400, "invalid_request", 0, 0, 0},
		{"fractional", admin, `{"sessions":1.5}`, 400, "invalid_request", 0, 0, 0},
		{"too many", admin, `{"sessions":100001}`, 400, "invalid_request", 0, 0, 0},
		{"missing", admin, `{}`, 400, "invalid_request", 0, 0, 0},
		{"empty key", admin, `{"sessions":1,"idempotency_key":""}`, 400, "invalid_request", 0, 0, 0},
		{"another account", admin, `{"sessions":1,"account_id":"` + other + `"}`, 404, "not_found", 0, 0, 0},
		{"master grants", master, `{"sessions":50,"account_id":"` + other + `"}`, 201, "", 50, 4000, 20},
		{"master must name", master, `{"sessions":5}`, 400, "invalid_request", 0, 0, 0},
		{"master, unknown account", master, `{"sessions":5,"account_id":"acc_0000000000000000"}`, 404, "not_found", 0, 0, 0},
	}
	var firstKeyed string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.buy(tc.c, tc.body)
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("%d %q: %s", r.Status, r.Code(), r.Raw)
			}
			if tc.status != 201 {
				return
			}
			if r.Int("sessions") != tc.sessions || r.Int("total_price_cents") != tc.total || r.Int("discount_pct") != tc.disc ||
				r.Int("unit_price_cents") != 100 || r.Str("currency") != "usd" || r.Str("payment_status") != "placeholder" ||
				r.Str("created_at") == "" || r.Str("purchase_id") == "" {
				t.Fatalf("purchase %s", r.Raw)
			}
			if tc.name == "ten at 10% off" {
				firstKeyed = r.Str("purchase_id")
			}
			if tc.name == "same key, same purchase" && r.Str("purchase_id") != firstKeyed {
				t.Fatalf("replay gave purchase %s, want %s", r.Str("purchase_id"), firstKeyed)
			}
		})
	}
	q := e.quota(acc)
	if q.Status != 200 || q.Int("purchased") != 111 || q.Int("used") != 0 || q.Int("remaining") != 111 || q.Str("account_id") != acc {
		t.Fatalf("quota %s", q.Raw)
	}
	if got := e.logs.metric("QuotaPurchased"); got != 161 {
		t.Errorf("QuotaPurchased = %v, want 161", got)
	}
}

func TestPaymentsDisabled(t *testing.T) {
	e := newEnv(t, map[string]string{"PAYMENTS_MODE": "disabled"})
	acc := e.account(0)
	if r := e.buy(sessiontest.Key(acc, caller.Admin), `{"sessions":1}`); r.Status != 402 || r.Code() != "payments_disabled" {
		t.Fatalf("admin: %d %s", r.Status, r.Raw)
	}
	if r := e.buy(sessiontest.Master, `{"sessions":3,"account_id":"`+acc+`"}`); r.Status != 201 {
		t.Fatalf("master: %d %s", r.Status, r.Raw)
	}
	if q := e.quota(acc); q.Int("remaining") != 3 {
		t.Fatalf("quota %s", q.Raw)
	}
}

// Concurrent adds with one idempotency key: one purchase, added once,
// every caller answered with it.
func TestConcurrentIdempotentAdds(t *testing.T) {
	e := newEnv(t, nil)
	acc := e.account(0)
	admin := sessiontest.Key(acc, caller.Admin)
	const n = 20
	out := make([]sessiontest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = e.buy(admin, `{"sessions":7,"idempotency_key":"race"}`)
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, r := range out {
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		ids[r.Str("purchase_id")] = true
	}
	q := e.quota(acc)
	if len(ids) != 1 || q.Int("purchased") != 7 || q.Int("remaining") != 7 {
		t.Fatalf("%d purchases, quota %s", len(ids), q.Raw)
	}
	ledger, err := e.d.Quotas().Ledger(context.Background(), acc)
	if err != nil || ledger != 7 {
		t.Fatalf("ledger %d %v", ledger, err)
	}
}

func TestQuotaGetShowsActiveSession(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h"})
	acc := e.account(2)
	if r := e.quota(acc); r.Status != 200 || r.Body["active_session_id"] != nil || r.Int("remaining") != 2 {
		t.Fatalf("before: %s", r.Raw)
	}
	w := sessiontest.Key(acc, caller.Write)
	s := sessiontest.Do(t, e.start, sessiontest.Request{Method: "POST", Path: "/api/v1/sessions", Caller: &w})
	r := e.quota(acc)
	if r.Str("active_session_id") != s.Str("session_id") || r.Int("used") != 1 || r.Int("remaining") != 1 || r.Int("purchased") != 2 {
		t.Fatalf("after start: %s", r.Raw)
	}
	e.advance(time.Hour)
	if r := e.quota(acc); r.Body["active_session_id"] != nil {
		t.Fatalf("after expiry: %s", r.Raw)
	}
	other := sessiontest.Key(e.account(0), caller.Read)
	if r := sessiontest.Do(t, e.get, sessiontest.Request{Method: "GET", Path: "/api/v1/sessions/quota",
		Query: map[string]string{"account_id": acc}, Caller: &other}); r.Status != 404 {
		t.Fatalf("another account's quota: %d", r.Status)
	}
}

func schedule(t *testing.T) events.EventBridgeEvent {
	t.Helper()
	b, err := os.ReadFile(fx.Root + "/events/schedule.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func setHub(t *testing.T, table, acc string, fields map[string]int64) {
	t.Helper()
	expr, vals, names := "SET ", map[string]types.AttributeValue{}, map[string]string{}
	i := 0
	for k, v := range fields {
		if i > 0 {
			expr += ", "
		}
		expr += fmt.Sprintf("#f%d = :v%d", i, i)
		names[fmt.Sprintf("#f%d", i)] = k
		vals[fmt.Sprintf(":v%d", i)] = &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
		i++
	}
	_, err := fx.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key: session.HubKey(acc), UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
	if err != nil {
		t.Fatal(err)
	}
}

// The reconciler repairs drift and ends overdue sessions; two runs at
// once do each repair once.
func TestReconcile(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h", "SESSION_TOKEN_LIMIT": "100"})
	ctx := context.Background()
	stored := e.d.Sessions()
	h, err := sessions.Reconcile(e.d)
	if err != nil {
		t.Fatal(err)
	}
	master := sessiontest.Master
	buy := func(acc string, n int) {
		if r := e.buy(master, fmt.Sprintf(`{"sessions":%d,"account_id":%q}`, n, acc)); r.Status != 201 {
			t.Fatalf("buy: %s", r.Raw)
		}
	}
	// drift: the ledger says 5, the hub was tampered with.
	drift := e.account(0)
	buy(drift, 5)
	if _, err := stored.Start(ctx, drift, e.clock()); err != nil {
		t.Fatal(err)
	}
	setHub(t, e.d.Config.Tables.Quotas, drift, map[string]int64{"purchased": 9, "used": 3, "remaining": 6})
	// expired: a session past expires_at that TTL has not removed.
	expired := e.account(0)
	buy(expired, 1)
	old, err := stored.Start(ctx, expired, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	// exhausted: tokens over the limit, still marked active.
	exhausted := e.account(0)
	buy(exhausted, 1)
	ex, err := stored.Start(ctx, exhausted, e.clock().Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fx.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.d.Config.Tables.Sessions),
		Key: session.Key(exhausted, ex.ID), UpdateExpression: aws.String("SET tokens_used = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "130"}}})
	if err != nil {
		t.Fatal(err)
	}
	// healthy: nothing to do.
	healthy := e.account(0)
	buy(healthy, 2)
	live, err := stored.Start(ctx, healthy, e.clock().Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour + time.Second)

	// Something that is not a schedule is ignored.
	if err := h(ctx, events.EventBridgeEvent{DetailType: "Object Created", Source: "aws.s3"}); err != nil {
		t.Fatal(err)
	}
	if len(e.logs.lines("reconcile done")) != 0 {
		t.Fatal("reconciled on a non-schedule event")
	}
	ev := schedule(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = h(ctx, ev) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := h(ctx, ev); err != nil { // and once more: nothing left to do
		t.Fatal(err)
	}

	q := func(acc string) sessiontest.Response { return e.quota(acc) }
	if r := q(drift); r.Int("purchased") != 5 || r.Int("used") != 1 || r.Int("remaining") != 4 {
		t.Fatalf("drift not repaired: %s", r.Raw)
	}
	repairs := e.logs.lines("quota repaired")
	if len(repairs) != 1 || repairs[0]["account_id"] != drift {
		t.Fatalf("repairs logged: %v", repairs)
	}
	s, _ := stored.Get(ctx, expired, old.ID)
	if s.Status != session.Ended || s.EndReason != session.Expired || !s.EndedAt.Equal(s.ExpiresAt) {
		t.Fatalf("expired session %+v", s)
	}
	s, _ = stored.Get(ctx, exhausted, ex.ID)
	if s.Status != session.Ended || s.EndReason != session.Exhausted {
		t.Fatalf("exhausted session %+v", s)
	}
	s, _ = stored.Get(ctx, healthy, live.ID)
	if s.Status != session.Active {
		t.Fatalf("live session %+v", s)
	}
	for _, acc := range []string{expired, exhausted} {
		if p, _ := stored.Pointer(ctx, acc); p != "" {
			t.Fatalf("hub of %s still points at %s", acc, p)
		}
	}
	if p, _ := stored.Pointer(ctx, healthy); p != live.ID {
		t.Fatalf("hub of the live session lost it: %q", p)
	}
	// drift's session has expired too: three ended, each once.
	ended := len(e.logs.lines("overdue session ended"))
	if ended != 3 || e.logs.metric("SessionsEnded") != 3 || e.logs.metric("QuotaRepairs") != 1 {
		t.Fatalf("sessions ended %d, SessionsEnded %v, QuotaRepairs %v", ended, e.logs.metric("SessionsEnded"), e.logs.metric("QuotaRepairs"))
	}
}
