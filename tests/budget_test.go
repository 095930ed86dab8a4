package tests

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waickoff/waickoff/infra/local"
)

// cciItems is a batch's indicators as the query of a CSV batch: times x
// cci(period), each keeping its last value.
func cciItems(period, times int) string {
	items := make([]string, times)
	for i := range items {
		items[i] = fmt.Sprintf(`{"name":"cci","params":{"period":%d},"last":1}`, period)
	}
	return url.QueryEscape("[" + strings.Join(items, ",") + "]")
}

// The audit's batch (F15: 20 x cci(4000) over 50,000 candles, every item
// within the catalog's limits, 19 s of compute) is refused 400 before any
// work, on the metered route and on its quote, naming the indicators with
// the work it asks for and the budget; nothing is charged. The request
// exactly at the budget is answered (its quote), and the catalog
// publishes the budget and each indicator's work.
func TestWorkBudgetEndToEnd(t *testing.T) {
	tn := newTenant(t, api, "work-budget", 1)
	sid := tn.active(t)
	csv := csvCandles(50_000)
	for _, path := range []string{"/api/v1/indicators/batch", "/api/v1/indicators/quote/batch"} {
		start := time.Now()
		r := do(t, api, req{method: "POST", path: path + "?indicators=" + cciItems(4000, 20), key: tn.read, raw: csv, ct: "text/csv"})
		elapsed := time.Since(start)
		expect(t, path, r, 400, "invalid_request")
		if r.body["field"] != "indicators" || r.body["work"] != 3_744_080_000.0 || r.body["max_work"] != 800_000_000.0 {
			t.Fatalf("%s: %s", path, r.raw)
		}
		// Weighed before computing: the compute alone is seconds.
		if elapsed > 3*time.Second {
			t.Fatalf("%s: refused after %v", path, elapsed)
		}
		t.Logf("%s: 400 after %v: %s", path, elapsed, r.body["detail"])
	}
	if used, requests := sessionFigures(t, tn, sid); used != 0 || requests != 0 {
		t.Fatalf("the refused batch was charged: tokens_used %d, requests %d", used, requests)
	}
	cat := do(t, api, req{method: "GET", path: "/api/v1/indicators", key: tn.read})
	expect(t, "catalog", cat, 200, "")
	if l := cat.body["limits"].(map[string]any); l["max_work"] != 800_000_000.0 {
		t.Fatalf("catalog limits %v", l)
	}
	for _, x := range cat.body["indicators"].([]any) {
		e := x.(map[string]any)
		if want := 64.0 * float64(len(e["outputs"].([]any))); e["work_per_candle"] != want {
			t.Errorf("%s: work_per_candle %v, want %v", e["name"], e["work_per_candle"], want)
		}
	}
}

// A function still computing at its Timeout is answered then with API
// Gateway's DEFAULT_5XX problem, as Lambda stops it in AWS; the function
// runs on in the local process with its context over, and cannot charge.
// (IndicatorBatchFunction's Timeout is made 200 ms; its request, 3 x
// cci(4000) over 50,000 candles, computes for over a second.)
func TestFunctionTimeoutAnswersAndChargesNothing(t *testing.T) {
	out := &syncBuffer{}
	// A session large enough for the request, so that only the deadline
	// can stop its charge.
	env := map[string]string{"DYNAMODB_ENDPOINT": api.Endpoint, "SESSION_TOKEN_LIMIT": "10000000"}
	short, err := local.Start(context.Background(), local.Options{
		Getenv: func(k string) string { return env[k] }, Addr: "127.0.0.1:0", Logs: out,
		SweepEvery: 200 * time.Millisecond, TableSuffix: fmt.Sprintf("-e2e%d", time.Now().UnixNano()), IAMRecorder: iamUses,
		Timeouts: map[string]time.Duration{"IndicatorBatchFunction": 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		short.Stop()
		noIAMDenials(t, short)
	}()
	tn := newTenant(t, short, "timeout", 1)
	sid := tn.active(t)
	start := time.Now()
	r := do(t, short, req{method: "POST", path: "/api/v1/indicators/batch?indicators=" + cciItems(4000, 3), key: tn.read,
		raw: csvCandles(50_000), ct: "text/csv"})
	elapsed := time.Since(start)
	gr := short.Template.GatewayResponses["DEFAULT_5XX"]
	want := strings.ReplaceAll(gr.Body, "$context.requestId", r.header.Get("X-Request-Id"))
	if r.status != gr.Status || string(r.raw) != want {
		t.Fatalf("after %v: %d %s; want the DEFAULT_5XX %d %s", elapsed, r.status, r.raw, gr.Status, want)
	}
	// Answered at the Timeout (plus the authorizer), not when the
	// function ends.
	if elapsed > 2*time.Second {
		t.Fatalf("answered after %v, want about 200ms", elapsed)
	}
	// The function ends later, refused too close to its deadline (or, were
	// that check gone, with its charge's context over): nothing is charged.
	ended := `"msg":"request","function":"IndicatorBatchFunction","request_id":"` + r.header.Get("X-Request-Id") + `"`
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), ended) {
		if time.Now().After(deadline) {
			t.Fatalf("the overrunning function never ended: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if used, requests := sessionFigures(t, tn, sid); used != 0 || requests != 0 {
		t.Fatalf("the request answered 503 at the timeout was charged: tokens_used %d, requests %d", used, requests)
	}
	t.Logf("503 after %v; the function ended %v after the request", elapsed, time.Since(start))
}
