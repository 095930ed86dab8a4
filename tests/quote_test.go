package tests

import (
	"encoding/json"
	"strings"
	"testing"
)

// quoted sends the same request to the quote route and to the metered
// route it quotes (path below /api/v1/: "indicators/rsi",
// "analysis/wyckoff").
type quoted struct {
	name, path, ct string
	body           []byte
}

// route is the metered route's path, quote its quote's.
func (q quoted) route() string { return "/api/v1/" + q.path }

func (q quoted) quote() string {
	dir, rest, _ := strings.Cut(q.path, "/")
	return "/api/v1/" + dir + "/quote/" + rest
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The dry run: POST /api/v1/indicators/quote/{name} answers what the same
// request to POST /api/v1/indicators/{name} would cost, and the request,
// sent next, is charged exactly that. A quote charges nothing, writes
// nothing (its function makes no store call; the session's figures do not
// move), needs a session as the metered routes do, answers bad input as
// they do, says when the request would be refused and why, and is rate
// limited like any keyed request.
func TestQuote(t *testing.T) {
	tn := newTenant(t, api, "quote", 1)
	rows := candleRows(400)
	csv := csvCandles(2_000)
	cases := []quoted{
		{"CSV RSI with last", "indicators/rsi?period=14&last=1", "text/csv", csv},
		{"CSV SMA, every value", "indicators/sma?period=20", "text/csv", csv},
		{"JSON MACD with precision", "indicators/macd", "application/json", jsonBody(t, map[string]any{"candles": rows, "precision": 6,
			"params": map[string]any{"fast_period": 5, "slow_period": 13, "signal_period": 4}})},
		{"JSON batch, a bad item", "indicators/batch", "application/json", jsonBody(t, map[string]any{"candles": rows, "last": 50,
			"indicators": []any{map[string]any{"name": "rsi"}, map[string]any{"name": "bbands", "last": 3},
				map[string]any{"name": "nope"}}})},
		{"CSV Wyckoff analysis", "analysis/wyckoff?reversal=2", "text/csv", []byte(schematicCSV())},
	}

	// No session: refused as the metered routes refuse, before any work.
	r := do(t, api, req{method: "POST", path: "/api/v1/indicators/quote/rsi", key: tn.read, raw: csv, ct: "text/csv"})
	expect(t, "quote without a session", r, 403, "session_required")
	r = do(t, api, req{method: "POST", path: "/api/v1/analysis/quote/wyckoff", key: tn.read, raw: csv, ct: "text/csv"})
	expect(t, "Wyckoff quote without a session", r, 403, "session_required")

	sid := tn.active(t)
	for _, tc := range cases {
		used, requests := sessionFigures(t, tn, sid)
		q := do(t, api, req{method: "POST", path: tc.quote(), key: tn.read, raw: tc.body, ct: tc.ct})
		expect(t, tc.name+": quote", q, 200, "")
		if q.body["values"] != nil || q.body["results"] != nil || q.body["events"] != nil || q.body["meta"] != nil ||
			q.header.Get("RateLimit-Limit") == "" {
			t.Fatalf("%s: the quote %s", tc.name, shorten(string(q.raw)))
		}
		tokens := int64(q.body["tokens"].(float64))
		if q.body["fits"] != true || q.body["session_id"] != sid || int64(q.body["tokens_remaining"].(float64)) != 100_000-used ||
			int64(q.body["request_bytes"].(float64)) != int64(len(tc.body)) || q.body["max_response_bytes"] != 6291456.0 {
			t.Fatalf("%s: quote %s (session had %d used)", tc.name, q.raw, used)
		}
		if u, n := sessionFigures(t, tn, sid); u != used || n != requests {
			t.Fatalf("%s: the quote moved the session: tokens_used %d -> %d, requests %d -> %d", tc.name, used, u, requests, n)
		}
		r := do(t, api, req{method: "POST", path: tc.route(), key: tn.read, raw: tc.body, ct: tc.ct})
		expect(t, tc.name, r, 200, "")
		charged := int64(r.body["meta"].(map[string]any)["tokens"].(float64))
		u, _ := sessionFigures(t, tn, sid)
		t.Logf("%s: quoted %d tokens, charged %d (answer %d bytes, quoted %v)", tc.name, tokens, charged, len(r.raw), q.body["answer_bytes"])
		if charged != tokens || u != used+tokens || int(q.body["answer_bytes"].(float64)) != len(r.raw) {
			t.Fatalf("%s: quoted %d tokens and %v answer bytes; the request was charged %d (%d bytes), tokens_used %d -> %d",
				tc.name, tokens, q.body["answer_bytes"], charged, len(r.raw), used, u)
		}
	}
	if calls := api.StoreCalls()["IndicatorQuoteFunction"]; len(calls) > 0 {
		t.Fatalf("the quote function called the store: %v", calls)
	}

	// An answer over what the session has left (20,000 candles): the quote
	// says it does not fit and why; the request then gets that refusal.
	used, _ := sessionFigures(t, tn, sid)
	big := csvCandles(20_000)
	q := do(t, api, req{method: "POST", path: "/api/v1/indicators/quote/rsi", key: tn.read, raw: big, ct: "text/csv"})
	expect(t, "quote over the session", q, 200, "")
	refusal, _ := q.body["refusal"].(map[string]any)
	tokens := q.body["tokens"].(float64)
	if q.body["fits"] != false || refusal["code"] != "insufficient_tokens" || refusal["status"] != 402.0 ||
		refusal["tokens_required"] != tokens || int64(refusal["tokens_remaining"].(float64)) != 100_000-used {
		t.Fatalf("quote over the session: %s", shorten(string(q.raw)))
	}
	r = do(t, api, req{method: "POST", path: "/api/v1/indicators/rsi", key: tn.read, raw: big, ct: "text/csv"})
	expect(t, "request over the session", r, 402, "insufficient_tokens")
	if r.body["tokens_required"] != tokens {
		t.Fatalf("quoted %v tokens, refused for %v", tokens, r.body["tokens_required"])
	}
	// Over the client's own max_tokens.
	q = do(t, api, req{method: "POST", path: "/api/v1/indicators/quote/sma?max_tokens=10", key: tn.read, raw: csv, ct: "text/csv"})
	refusal, _ = q.body["refusal"].(map[string]any)
	if q.status != 200 || q.body["fits"] != false || q.body["max_tokens"] != 10.0 || refusal["max_tokens"] != 10.0 {
		t.Fatalf("quote over max_tokens: %d %s", q.status, shorten(string(q.raw)))
	}

	// Bad input: the request's own 400, naming the same field.
	for _, bad := range []quoted{
		{"bad last", "indicators/rsi?last=0", "text/csv", csv},
		{"unknown indicator", "indicators/nope", "text/csv", csv},
		{"bad batch", "indicators/batch", "application/json", jsonBody(t, map[string]any{"candles": rows, "indicators": []any{}})},
		{"Wyckoff with precision", "analysis/wyckoff?precision=3", "text/csv", csv},
		{"Wyckoff parameter out of bounds", "analysis/wyckoff", "application/json", jsonBody(t, map[string]any{"candles": rows,
			"params": map[string]any{"st_zone": 2}})},
	} {
		q := do(t, api, req{method: "POST", path: bad.quote(), key: tn.read, raw: bad.body, ct: bad.ct})
		r := do(t, api, req{method: "POST", path: bad.route(), key: tn.read, raw: bad.body, ct: bad.ct})
		if q.status != 400 || r.status != 400 || q.body["field"] != r.body["field"] {
			t.Fatalf("%s: quote %d %v, request %d %v", bad.name, q.status, q.body["field"], r.status, r.body["field"])
		}
	}
	if u, _ := sessionFigures(t, tn, sid); u != used {
		t.Fatalf("refused requests and quotes moved tokens_used %d -> %d", used, u)
	}

	// The master key needs no session: its quote has no session figures.
	q = do(t, api, req{method: "POST", path: "/api/v1/indicators/quote/sma?period=5", key: api.MasterKey, raw: csv, ct: "text/csv"})
	m := do(t, api, req{method: "POST", path: "/api/v1/indicators/sma?period=5", key: api.MasterKey, raw: csv, ct: "text/csv"})
	expect(t, "master quote", q, 200, "")
	if q.body["session_id"] != nil || q.body["tokens_remaining"] != nil || q.body["fits"] != true ||
		q.body["tokens"] != m.body["meta"].(map[string]any)["tokens"] {
		t.Fatalf("master quote %s, answer meta %v", q.raw, m.body["meta"])
	}

	// Rate limited like any keyed request.
	slow, _ := tn.key(t, "READ", map[string]any{"rate_limit_per_minute": 2})
	small := csvCandles(30)
	var statuses []int
	for range 3 {
		statuses = append(statuses, do(t, api, req{method: "POST", path: "/api/v1/indicators/quote/sma", key: slow, raw: small,
			ct: "text/csv"}).status)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 {
		t.Fatalf("a key limited to 2 a minute got %v", statuses)
	}
}
