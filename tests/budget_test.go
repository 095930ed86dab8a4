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
