package tests

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// csvCandles renders n candles as a text/csv body, prices in cents.
func csvCandles(n int) []byte {
	var b strings.Builder
	b.WriteString("time,open,high,low,close,volume\n")
	for _, r := range candleRows(n) {
		fmt.Fprintf(&b, "%d,%.2f,%.2f,%.2f,%.2f,%d\n", r["t"], r["o"], r["h"], r["l"], r["c"], r["v"])
	}
	return []byte(b.String())
}

// batchList is the query value of a CSV batch of the named indicators:
// the URL-encoded JSON array of their items.
func batchList(names ...string) string {
	items := make([]map[string]string, len(names))
	for i, n := range names {
		items[i] = map[string]string{"name": n}
	}
	b, _ := json.Marshal(items)
	return url.QueryEscape(string(b))
}

// sessionFigures reads a session's tokens_used and requests.
func sessionFigures(t *testing.T, tn *tenant, sid string) (used, requests int64) {
	t.Helper()
	s := do(t, tn.a, req{method: "GET", path: "/api/v1/sessions/" + sid, key: tn.read})
	expect(t, "read session", s, 200, "")
	return int64(s.body["tokens_used"].(float64)), int64(s.body["requests"].(float64))
}

// checkInsufficient asserts a 402 insufficient_tokens that names the cost
// and what is left.
func checkInsufficient(t *testing.T, what string, r response, left int64) int64 {
	t.Helper()
	expect(t, what, r, 402, "insufficient_tokens")
	need, _ := r.body["tokens_required"].(float64)
	rem, ok := r.body["tokens_remaining"].(float64)
	if !ok || int64(rem) != left || int64(need) <= left {
		t.Fatalf("%s: 402 names %v required, %v remaining; want more than %d required and %d remaining: %s",
			what, r.body["tokens_required"], r.body["tokens_remaining"], left, left, shorten(string(r.raw)))
	}
	return int64(need)
}

// A batch whose answer costs more than the whole session (50,000 CSV
// candles, 7 indicators, a fresh 100,000-token session: an answer of
// about 5.8 MB, deliverable, costing some 2 million tokens) is refused
// with 402 insufficient_tokens, costs nothing, and leaves the session
// active.
func TestBillingBatchOverTheSessionIsRefused(t *testing.T) {
	tn := newTenant(t, api, "billing-batch", 1)
	sid := tn.active(t)
	r := do(t, api, req{method: "POST", path: "/api/v1/indicators/batch?indicators=" + batchList("sma", "ema", "rsi", "atr", "obv", "mom", "ad"),
		key: tn.read, raw: csvCandles(50_000), ct: "text/csv"})
	need := checkInsufficient(t, "50,000-candle batch of 7", r, 100_000)
	used, requests := sessionFigures(t, tn, sid)
	t.Logf("50,000 CSV candles x 7 indicators: %d %s, tokens_required %d; session tokens_used %d, requests %d",
		r.status, r.body["code"], need, used, requests)
	if used != 0 || requests != 0 {
		t.Fatalf("the refused batch was charged: tokens_used %d, requests %d", used, requests)
	}
	cur := do(t, api, req{method: "GET", path: "/api/v1/sessions/current", key: tn.read})
	if cur.status != 200 || cur.body["session_id"] != sid || cur.body["status"] != "active" {
		t.Fatalf("after the refusal the session is %d %s", cur.status, shorten(string(cur.raw)))
	}
}

// A batch of every indicator over 50,000 candles asks for an answer far
// over Lambda's 6 MB response limit: it is refused 413
// response_too_large, naming its size and the limit, before any charge.
func TestBillingUndeliverableAnswerIsRefused(t *testing.T) {
	tn := newTenant(t, api, "billing-too-large", 1)
	sid := tn.active(t)
	cat := do(t, api, req{method: "GET", path: "/api/v1/indicators", key: tn.read})
	expect(t, "catalog", cat, 200, "")
	var names []string
	for _, x := range cat.body["indicators"].([]any) {
		names = append(names, x.(map[string]any)["name"].(string))
	}
	r := do(t, api, req{method: "POST", path: "/api/v1/indicators/batch?indicators=" + batchList(names...),
		key: tn.read, raw: csvCandles(50_000), ct: "text/csv"})
	expect(t, fmt.Sprintf("50,000 candles x %d indicators", len(names)), r, 413, "response_too_large")
	size, _ := r.body["response_bytes"].(float64)
	if r.body["max_response_bytes"] != 6291456.0 || size <= 6291456 {
		t.Fatalf("413 names %v of %v bytes", r.body["response_bytes"], r.body["max_response_bytes"])
	}
	used, requests := sessionFigures(t, tn, sid)
	t.Logf("50,000 CSV candles x %d indicators: %d %s, response_bytes %.0f; session tokens_used %d, requests %d",
		len(names), r.status, r.body["code"], size, used, requests)
	if used != 0 || requests != 0 {
		t.Fatalf("the undeliverable answer was charged: tokens_used %d, requests %d", used, requests)
	}
}

// Twenty concurrent RSI requests of 450 candles each, whose sum passes a
// fresh session's 100,000 tokens: tokens_used ends at most at the limit,
// it is exactly the sum of the delivered answers' tokens, and every
// refused request is a 402 that cost nothing.
func TestBillingConcurrentRequestsNeverPassTheLimit(t *testing.T) {
	tn := newTenant(t, api, "billing-concurrent", 1)
	sid := tn.active(t)
	body, _ := json.Marshal(map[string]any{"candles": candleRows(450), "params": map[string]any{"period": 14}})
	const n = 20
	var (
		wg                   sync.WaitGroup
		mu                   sync.Mutex
		delivered, refused   int
		deliveredTokens      int64
		maxUsedSeenInAnswers int64
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A 503 (the store too slow for the moment, on a busy
			// machine) charged nothing: retry it as a client would.
			var r response
			for try := 0; try < 10; try++ {
				r = do(t, api, req{method: "POST", path: "/api/v1/indicators/rsi", key: tn.read, raw: body, ct: "application/json"})
				if r.status != 503 {
					break
				}
				time.Sleep(time.Second)
			}
			mu.Lock()
			defer mu.Unlock()
			switch r.status {
			case 200:
				meta := r.body["meta"].(map[string]any)
				delivered++
				deliveredTokens += int64(meta["tokens"].(float64))
				maxUsedSeenInAnswers = max(maxUsedSeenInAnswers, int64(meta["tokens_used"].(float64)))
			case 402:
				refused++
				if r.body["code"] != "insufficient_tokens" || r.body["tokens_required"] == nil || r.body["tokens_remaining"] == nil {
					t.Errorf("refusal %s", shorten(string(r.raw)))
				}
			default:
				t.Errorf("unexpected answer %d %s", r.status, shorten(string(r.raw)))
			}
		}()
	}
	wg.Wait()
	used, requests := sessionFigures(t, tn, sid)
	t.Logf("%d concurrent RSI(450 candles): %d delivered (%d tokens), %d refused 402; session tokens_used %d of 100000, requests %d",
		n, delivered, deliveredTokens, refused, used, requests)
	if used > 100_000 || used != deliveredTokens || requests != int64(delivered) || delivered+refused != n || refused == 0 ||
		maxUsedSeenInAnswers > 100_000 {
		t.Fatalf("tokens_used %d (limit 100000), delivered %d answers worth %d tokens, %d refused, requests %d",
			used, delivered, deliveredTokens, refused, requests)
	}
	u := do(t, api, req{method: "GET", path: "/api/v1/usage", key: tn.read})
	expect(t, "usage", u, 200, "")
	if got := u.body["tokens"]; got != float64(deliveredTokens) {
		t.Fatalf("account usage counts %v tokens, delivered %d: %s", got, deliveredTokens, shorten(string(u.raw)))
	}
}

// The catalog publishes how tokens are counted, the refusals that cost
// nothing and the limits of a request and of its answer.
func TestBillingTermsInTheCatalog(t *testing.T) {
	tn := newTenant(t, api, "billing-catalog", 0)
	r := do(t, api, req{method: "GET", path: "/api/v1/indicators", key: tn.read})
	expect(t, "catalog", r, 200, "")
	m, _ := r.body["metering"].(map[string]any)
	refusals, _ := m["refusals"].([]any)
	codes := map[string]float64{}
	for _, x := range refusals {
		rf := x.(map[string]any)
		codes[rf["code"].(string)] = rf["status"].(float64)
	}
	if !strings.HasPrefix(fmt.Sprint(m["tokens"]), "ceil((request body bytes + response body bytes) / 4)") ||
		codes["insufficient_tokens"] != 402 || codes["response_too_large"] != 413 {
		t.Fatalf("catalog metering %v", m)
	}
	l, _ := r.body["limits"].(map[string]any)
	if l["max_response_bytes"] != 6291456.0 || l["max_candles"] != 50000.0 || l["max_batch_items"] != 50.0 ||
		l["max_request_bytes"] != float64(api.Config.MaxBodyBytes) {
		t.Fatalf("catalog limits %v", l)
	}
}

// max_tokens, a query parameter with CSV and a body field with JSON, is
// the client's ceiling: an answer over it is refused 402
// insufficient_tokens naming it, before any charge; one within it is
// served; an out-of-bounds value is 400 naming the field.
func TestBillingMaxTokens(t *testing.T) {
	tn := newTenant(t, api, "billing-max-tokens", 1)
	sid := tn.active(t)
	csv := csvCandles(200)
	r := do(t, api, req{method: "POST", path: "/api/v1/indicators/sma?period=5&max_tokens=100", key: tn.read, raw: csv, ct: "text/csv"})
	expect(t, "CSV over max_tokens", r, 402, "insufficient_tokens")
	need, _ := r.body["tokens_required"].(float64)
	if r.body["max_tokens"] != 100.0 || need <= 100 {
		t.Fatalf("402 %s", shorten(string(r.raw)))
	}
	r = do(t, api, req{method: "POST", path: fmt.Sprintf("/api/v1/indicators/sma?period=5&max_tokens=%.0f", need), key: tn.read,
		raw: csv, ct: "text/csv"})
	expect(t, "CSV at max_tokens", r, 200, "")
	spent := r.body["meta"].(map[string]any)["tokens"].(float64)
	body := map[string]any{"candles": candleRows(200), "params": map[string]any{"period": 5}, "max_tokens": 50}
	r = do(t, api, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: body})
	expect(t, "JSON over max_tokens", r, 402, "insufficient_tokens")
	if r.body["max_tokens"] != 50.0 {
		t.Fatalf("402 %s", shorten(string(r.raw)))
	}
	for _, bad := range []struct{ path, field string }{
		{"/api/v1/indicators/sma?max_tokens=0", "query.max_tokens"},
		{"/api/v1/indicators/sma?max_tokens=1.5", "query.max_tokens"},
	} {
		r = do(t, api, req{method: "POST", path: bad.path, key: tn.read, raw: csv, ct: "text/csv"})
		expect(t, bad.path, r, 400, "invalid_request")
		if r.body["field"] != bad.field {
			t.Fatalf("%s names %v", bad.path, r.body["field"])
		}
	}
	body["max_tokens"] = -1
	r = do(t, api, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: body})
	expect(t, "negative max_tokens", r, 400, "invalid_request")
	if r.body["field"] != "max_tokens" {
		t.Fatalf("names %v", r.body["field"])
	}
	if used, requests := sessionFigures(t, tn, sid); used != int64(spent) || requests != 1 {
		t.Fatalf("tokens_used %d over %d requests, want only the served %v", used, requests, spent)
	}
}

// last pays for the values a client uses: a 5,000-candle RSI with last=1
// (a CSV query parameter) answers one value, the last of the full answer,
// and is charged ceil((request bytes + the bytes delivered) / 4), the
// answer's share a handful of tokens instead of the full series'. In a
// batch each item takes its own last. A bad last is 400 naming it and
// costs nothing.
func TestBillingLast(t *testing.T) {
	tn := newTenant(t, api, "billing-last", 1)
	sid := tn.active(t)
	csv := csvCandles(5_000)
	// The full answer, with the master key (served, not charged).
	full := do(t, api, req{method: "POST", path: "/api/v1/indicators/rsi?period=14", key: api.MasterKey, raw: csv, ct: "text/csv"})
	expect(t, "full RSI", full, 200, "")
	all := full.body["values"].(map[string]any)["value"].([]any)
	fullTokens := int64(full.body["meta"].(map[string]any)["tokens"].(float64))
	r := do(t, api, req{method: "POST", path: "/api/v1/indicators/rsi?period=14&last=1", key: tn.read, raw: csv, ct: "text/csv"})
	expect(t, "RSI last=1", r, 200, "")
	got := r.body["values"].(map[string]any)["value"].([]any)
	if len(got) != 1 || r.body["count"] != 1.0 || got[0] != all[len(all)-1] {
		t.Fatalf("last=1 answered %v (count %v), the full answer ends with %v", got, r.body["count"], all[len(all)-1])
	}
	tokens := int64(r.body["meta"].(map[string]any)["tokens"].(float64))
	if want := (int64(len(csv)+len(r.raw)) + 3) / 4; tokens != want {
		t.Fatalf("charged %d tokens for %d request and %d response bytes, want %d", tokens, len(csv), len(r.raw), want)
	}
	answer := (int64(len(r.raw)) + 3) / 4
	t.Logf("5,000-candle CSV RSI: full answer %d bytes (%d tokens with the request's %d); last=1 answer %d bytes: %d tokens, the answer's share %d",
		len(full.raw), fullTokens, (len(csv)+3)/4, len(r.raw), tokens, answer)
	if answer > 150 || len(full.raw) < 50*len(r.raw) {
		t.Fatalf("the last=1 answer is %d bytes, the full one %d", len(r.raw), len(full.raw))
	}
	if used, requests := sessionFigures(t, tn, sid); used != tokens || requests != 1 {
		t.Fatalf("session tokens_used %d over %d requests, want %d over 1", used, requests, tokens)
	}

	// A batch: each item's own last, the request's for the others.
	rows := candleRows(300)
	r = do(t, api, req{method: "POST", path: "/api/v1/indicators/batch", key: tn.read, json: map[string]any{
		"candles": rows, "last": 2, "indicators": []any{
			map[string]any{"name": "rsi", "last": 1}, map[string]any{"name": "macd"}, map[string]any{"name": "sma", "last": 500}}}})
	expect(t, "batch with last", r, 200, "")
	for i, want := range []int{1, 2, 300} {
		item := r.body["results"].([]any)[i].(map[string]any)
		for name, vs := range item["values"].(map[string]any) {
			if len(vs.([]any)) != want || item["count"] != float64(want) {
				t.Fatalf("item %d %s has %d values (count %v), want %d", i, name, len(vs.([]any)), item["count"], want)
			}
		}
	}
	spent := tokens + int64(r.body["meta"].(map[string]any)["tokens"].(float64))

	for _, bad := range []struct {
		r     req
		field string
	}{
		{req{method: "POST", path: "/api/v1/indicators/rsi?last=0", key: tn.read, raw: csv[:2000], ct: "text/csv"}, "query.last"},
		{req{method: "POST", path: "/api/v1/indicators/rsi", key: tn.read, json: map[string]any{"candles": rows, "last": 1.5}}, "last"},
		{req{method: "POST", path: "/api/v1/indicators/batch", key: tn.read, json: map[string]any{"candles": rows,
			"indicators": []any{map[string]any{"name": "rsi", "last": -1}}}}, "indicators[0].last"},
	} {
		r = do(t, api, bad.r)
		expect(t, bad.r.path, r, 400, "invalid_request")
		if r.body["field"] != bad.field {
			t.Fatalf("%s: field %v, want %s", bad.r.path, r.body["field"], bad.field)
		}
	}
	if used, requests := sessionFigures(t, tn, sid); used != spent || requests != 2 {
		t.Fatalf("session tokens_used %d over %d requests, want %d over 2", used, requests, spent)
	}
}
