package contract

import (
	"encoding/json"
	"strings"

	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

// samples are the requests TestResponsesMatchSchemas sends, in order,
// before its generic ones (a body over the limit on every route, no key
// on every keyed route). Each answer must have the status `want` and
// match the document. Every route of template.yaml needs at least one
// sample that succeeds: a new route gets its requests here, after the
// samples that make what it needs (a key, a session).
//
// A sample's path and body may name ${var}s: "master" is the master key;
// the others are saved from earlier answers by `save` (var name -> the
// answer's member, dotted: "admin_key.key", "items.0.key_id"). `key`
// names the var holding the key to send ("" sends none).
type sample struct {
	method, path string
	key          string
	contentType  string
	body         string
	want         int
	save         map[string]string
	// header holds more request headers (MCP's Accept).
	header map[string]string
}

const (
	jsonType = "application/json"
	csvType  = "text/csv"

	rows    = `"candles":[{"t":1700000000,"o":1,"h":2,"l":0.5,"c":1.5,"v":1000},{"t":1700000060,"o":1.5,"h":2.2,"l":1.4,"c":2.1,"v":1200},{"t":1700000120,"o":2.1,"h":2.3,"l":1.9,"c":2.0,"v":900}]`
	columns = `"time":[1700000000,1700000060,1700000120],"open":[1,1.5,2.1],"high":[2,2.2,2.3],"low":[0.5,1.4,1.9],"close":[1.5,2.1,2.0],"volume":[1000,1200,900]`
	csv     = "time,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,1000\n1700000060,1.5,2.2,1.4,2.1,1200\n1700000120,2.1,2.3,1.9,2.0,900\n"
	// unknownKeyID and unknownSessionID are well formed and name nothing.
	unknownKeyID     = "key_01a21c70bc403c9e41a0"
	unknownSessionID = "ses_01a21c7291009e7d21aa6b"
)

var samples = []sample{
	// public
	{method: "GET", path: "/api/v1/health", want: 200},
	{method: "GET", path: "/api/v1/pricing", want: 200},
	{method: "GET", path: "/api/v1/openapi.json", want: 200},
	{method: "GET", path: "/api/v1/docs", want: 200},
	{method: "GET", path: "/api/v1/docs/swagger-ui.css", want: 200},
	{method: "GET", path: "/api/v1/docs/nothing.js", want: 404},
	{method: "GET", path: "/dashboard", want: 200},
	{method: "GET", path: "/dashboard/app.js", want: 200},
	{method: "GET", path: "/dashboard/app.css", want: 200},
	{method: "GET", path: "/dashboard/nope.js", want: 404},

	// accounts, by the master key
	{method: "POST", path: "/api/v1/accounts", key: "master", contentType: jsonType, body: `{"name":"contract"}`, want: 201,
		save: map[string]string{"admin": "admin_key.key", "account": "account_id"}},
	{method: "POST", path: "/api/v1/accounts", key: "master", contentType: jsonType, body: `{"name":"no quota"}`, want: 201,
		save: map[string]string{"broke": "admin_key.key"}},
	{method: "POST", path: "/api/v1/accounts", key: "admin", contentType: jsonType, body: `{"name":"x"}`, want: 403},
	{method: "POST", path: "/api/v1/accounts", key: "master", contentType: jsonType, body: `{"name":""}`, want: 400},
	{method: "POST", path: "/api/v1/accounts", key: "master", contentType: "text/plain", body: `name=x`, want: 415},

	// quota
	{method: "POST", path: "/api/v1/sessions/quota/add", key: "admin", contentType: jsonType,
		body: `{"sessions":3,"idempotency_key":"contract-1"}`, want: 201},
	{method: "POST", path: "/api/v1/sessions/quota/add", key: "admin", contentType: jsonType,
		body: `{"sessions":4,"idempotency_key":"contract-1"}`, want: 409},
	{method: "POST", path: "/api/v1/sessions/quota/add", key: "admin", contentType: jsonType, body: `{"sessions":0}`, want: 400},
	{method: "GET", path: "/api/v1/sessions/quota", key: "admin", want: 200},
	{method: "GET", path: "/api/v1/sessions/quota?account_id=${account}", key: "master", want: 200},
	{method: "GET", path: "/api/v1/sessions/quota", key: "master", want: 400},

	// the operator's figures: the master key only, 404 to any other key
	{method: "GET", path: "/api/v1/operator/metrics", key: "master", want: 200},
	{method: "GET", path: "/api/v1/operator/metrics?limit=1", key: "master", want: 200},
	{method: "GET", path: "/api/v1/operator/metrics?from=yesterday", key: "master", want: 400},
	{method: "GET", path: "/api/v1/operator/metrics", key: "admin", want: 404},

	// keys
	{method: "POST", path: "/api/v1/keys", key: "admin", contentType: jsonType, body: `{"name":"reader","permission":"READ"}`, want: 201,
		save: map[string]string{"read": "key", "read_id": "key_id"}},
	{method: "POST", path: "/api/v1/keys", key: "admin", contentType: jsonType,
		body: `{"name":"slow","permission":"READ","rate_limit_per_minute":1,"expires_at":"2099-01-01T00:00:00Z"}`, want: 201,
		save: map[string]string{"slow": "key", "slow_id": "key_id"}},
	{method: "POST", path: "/api/v1/keys", key: "read", contentType: jsonType, body: `{"name":"x","permission":"READ"}`, want: 403},
	{method: "POST", path: "/api/v1/keys", key: "admin", contentType: jsonType, body: `{"name":"x","permission":"ROOT"}`, want: 400},
	{method: "GET", path: "/api/v1/keys?limit=1", key: "admin", want: 200, save: map[string]string{"next": "next_token"}},
	{method: "GET", path: "/api/v1/keys?limit=1&next_token=${next}", key: "admin", want: 200},
	{method: "GET", path: "/api/v1/keys?limit=0", key: "admin", want: 400},
	{method: "GET", path: "/api/v1/keys/${read_id}", key: "read", want: 200},
	{method: "GET", path: "/api/v1/keys/" + unknownKeyID, key: "read", want: 404},
	{method: "GET", path: "/api/v1/keys/${read_id}/usage", key: "read", want: 200},
	{method: "GET", path: "/api/v1/keys/${read_id}/usage?from=2026-01-01", key: "read", want: 200},
	{method: "GET", path: "/api/v1/keys/${read_id}/usage?from=yesterday", key: "read", want: 400},
	{method: "POST", path: "/api/v1/keys/${read_id}/rotate", key: "admin", want: 201,
		save: map[string]string{"old_read_id": "key_id"}},
	{method: "POST", path: "/api/v1/keys/${read_id}/rotate", key: "admin", want: 409},
	{method: "POST", path: "/api/v1/keys/${old_read_id}/rotate", key: "admin", contentType: jsonType, body: `{}`, want: 201,
		save: map[string]string{"read": "key", "read_id": "key_id"}},
	{method: "GET", path: "/api/v1/keys", key: "slow", want: 200},
	{method: "GET", path: "/api/v1/keys", key: "slow", want: 429},
	{method: "DELETE", path: "/api/v1/keys/${slow_id}", key: "admin", want: 204},
	{method: "DELETE", path: "/api/v1/keys/" + unknownKeyID, key: "admin", want: 404},

	// sessions
	{method: "POST", path: "/api/v1/sessions", key: "broke", want: 402},
	{method: "GET", path: "/api/v1/sessions/current", key: "read", want: 404},
	{method: "POST", path: "/api/v1/sessions", key: "admin", want: 201, save: map[string]string{"session": "session_id"}},
	{method: "POST", path: "/api/v1/sessions", key: "admin", contentType: jsonType, body: `{}`, want: 409},
	{method: "GET", path: "/api/v1/sessions/current", key: "read", want: 200},
	{method: "GET", path: "/api/v1/sessions?status=active", key: "read", want: 200},
	{method: "GET", path: "/api/v1/sessions?status=bogus", key: "read", want: 400},

	// indicators
	{method: "GET", path: "/api/v1/indicators", key: "read", want: 200},
	{method: "POST", path: "/api/v1/indicators/sma", key: "read", contentType: jsonType, body: `{` + rows + `,"params":{"period":2}}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/macd", key: "read", contentType: jsonType, body: `{` + columns + `,"params":{"fast_period":2,"slow_period":3,"signal_period":1}}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/bbands?period=2", key: "read", contentType: csvType, body: csv, want: 200},
	{method: "POST", path: "/api/v1/indicators/sma", key: "master", contentType: jsonType, body: `{` + rows + `,"params":{"period":2}}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/sma", key: "read", contentType: jsonType, body: `{` + rows + `,"params":{"length":2}}`, want: 400},
	{method: "POST", path: "/api/v1/indicators/sma", key: "read", contentType: jsonType,
		body: `{"candles":[{"t":1,"o":1,"h":2,"l":0.5,"c":1.5,"v":1},{"t":2,"o":1,"h":0.5,"l":2,"c":1.5,"v":1}],"params":{"period":2}}`, want: 400},
	{method: "POST", path: "/api/v1/indicators/sma?period=2", key: "read", contentType: csvType,
		body: "time,open,high,low,close,volume\n1,1,2,0.5,1.5,1\n2,1,2,0.5,oops,1\n", want: 400},
	{method: "POST", path: "/api/v1/indicators/sma", key: "read", contentType: "text/plain", body: "1,2,3", want: 415},
	{method: "POST", path: "/api/v1/indicators/batch", key: "read", contentType: jsonType,
		body: `{` + rows + `,"indicators":[{"name":"sma","params":{"period":2},"id":"sma2"},{"name":"rsi","params":{"period":50}},{"name":"obv"}]}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/batch?indicators=%5B%7B%22name%22%3A%22ema%22%2C%22params%22%3A%7B%22period%22%3A2%7D%7D%5D",
		key: "read", contentType: csvType, body: csv, want: 200},
	{method: "POST", path: "/api/v1/indicators/batch", key: "read", contentType: jsonType, body: `{` + columns + `,"indicators":[]}`, want: 400},
	// last: the trailing values only (JSON field, CSV query, batch item), and its refusals
	{method: "POST", path: "/api/v1/indicators/macd", key: "read", contentType: jsonType, body: `{` + rows + `,"last":1,"params":{"fast_period":2,"slow_period":3,"signal_period":1}}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/sma?period=2&last=2", key: "read", contentType: csvType, body: csv, want: 200},
	{method: "POST", path: "/api/v1/indicators/batch", key: "read", contentType: jsonType,
		body: `{` + columns + `,"last":2,"indicators":[{"name":"sma","params":{"period":2},"last":1},{"name":"obv"},{"name":"ema","last":0}]}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/sma?last=0", key: "read", contentType: csvType, body: csv, want: 400},
	{method: "POST", path: "/api/v1/indicators/sma", key: "read", contentType: jsonType, body: `{` + rows + `,"last":2.5}`, want: 400},
	// the dry-run quote: a fit, a refusal (over max_tokens), a CSV batch, bad input
	{method: "POST", path: "/api/v1/indicators/quote/sma", key: "read", contentType: jsonType, body: `{` + rows + `,"last":1,"params":{"period":2}}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/quote/sma?period=2&max_tokens=1", key: "read", contentType: csvType, body: csv, want: 200},
	{method: "POST", path: "/api/v1/indicators/quote/batch?indicators=%5B%7B%22name%22%3A%22ema%22%2C%22params%22%3A%7B%22period%22%3A2%7D%7D%5D",
		key: "read", contentType: csvType, body: csv, want: 200},
	{method: "POST", path: "/api/v1/indicators/quote/batch", key: "read", contentType: jsonType, body: `{` + columns + `,"indicators":[{"name":"sma","params":{"period":2},"last":1}]}`, want: 200},
	{method: "POST", path: "/api/v1/indicators/quote/sma?last=0", key: "read", contentType: csvType, body: csv, want: 400},
	{method: "POST", path: "/api/v1/indicators/quote/sma", key: "master", contentType: jsonType, body: `{` + rows + `,"params":{"period":3}}`, want: 200},

	// the Wyckoff analysis: a planted accumulation (ranges, events and a
	// point-and-figure count in the answer), too few candles, a bad parameter
	{method: "POST", path: "/api/v1/analysis/wyckoff", key: "read", contentType: jsonType, body: wyckoffBody(), want: 200},
	{method: "POST", path: "/api/v1/analysis/wyckoff?reversal=2", key: "read", contentType: csvType, body: csv, want: 400},
	// its quote: a fit, a refusal (over max_tokens), bad input
	{method: "POST", path: "/api/v1/analysis/quote/wyckoff", key: "read", contentType: jsonType, body: wyckoffBody(), want: 200},
	{method: "POST", path: "/api/v1/analysis/quote/wyckoff", key: "read", contentType: jsonType, body: strings.TrimSuffix(wyckoffBody(), "}") + `,"max_tokens":1}`, want: 200},
	{method: "POST", path: "/api/v1/analysis/quote/wyckoff?precision=3", key: "read", contentType: csvType, body: csv, want: 400},
	{method: "POST", path: "/api/v1/analysis/wyckoff", key: "read", contentType: jsonType, body: `{` + columns + `,"params":{"reversal":0}}`, want: 400},

	// usage
	{method: "GET", path: "/api/v1/usage", key: "read", want: 200},
	{method: "GET", path: "/api/v1/usage?from=2026-02-01&to=2026-01-01", key: "read", want: 400},

	// a session's end, and what it stops
	{method: "GET", path: "/api/v1/sessions/${session}", key: "read", want: 200},
	{method: "GET", path: "/api/v1/sessions/" + unknownSessionID, key: "read", want: 404},
	{method: "POST", path: "/api/v1/sessions/${session}/terminate", key: "admin", want: 200},
	{method: "POST", path: "/api/v1/sessions/${session}/terminate", key: "admin", contentType: jsonType, body: `{}`, want: 409},
	{method: "POST", path: "/api/v1/indicators/sma?period=2", key: "read", contentType: csvType, body: csv, want: 403},
	{method: "POST", path: "/api/v1/indicators/quote/sma?period=2", key: "read", contentType: csvType, body: csv, want: 403},
	{method: "GET", path: "/api/v1/sessions?status=ended", key: "read", want: 200},

	// MCP (no session left: the protocol calls and free tools still answer)
	{method: "POST", path: "/api/v1/mcp", key: "read", contentType: jsonType, header: mcpAccept,
		body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"contract","version":"1"}}}`, want: 200},
	{method: "POST", path: "/api/v1/mcp", key: "read", contentType: jsonType, header: mcpAccept,
		body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, want: 202},
	{method: "POST", path: "/api/v1/mcp", key: "read", contentType: jsonType, header: mcpAccept,
		body: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"compute_indicator","arguments":{"indicator":"sma",` + rows + `}}}`, want: 200},
	{method: "POST", path: "/api/v1/mcp", key: "read", contentType: jsonType, header: mcpAccept,
		body: `[{"jsonrpc":"2.0","id":3,"method":"ping"}]`, want: 400},
	{method: "POST", path: "/api/v1/mcp", key: "read", contentType: "text/plain", header: mcpAccept, body: `ping`, want: 415},
	{method: "GET", path: "/api/v1/mcp", key: "read", header: map[string]string{"Accept": "text/event-stream"}, want: 405},
	{method: "DELETE", path: "/api/v1/mcp", key: "read", want: 405},
}

// wyckoffBody is a planted accumulation schematic as JSON columns.
func wyckoffBody() string {
	s := schematic.Generate(schematic.Accumulation1, 7)
	t := make([]int64, len(s.Close))
	for i := range t {
		t[i] = 1700000000 + 60*int64(i)
	}
	b, err := json.Marshal(map[string]any{"time": t, "open": s.Open, "high": s.High, "low": s.Low, "close": s.Close, "volume": s.Volume})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// mcpAccept is the Accept header MCP's Streamable HTTP transport requires.
var mcpAccept = map[string]string{"Accept": "application/json, text/event-stream"}
