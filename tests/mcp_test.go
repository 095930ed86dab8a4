package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

// exchange is one HTTP round trip of an MCP client, as sent and received.
type mcpExchange struct {
	method  string // JSON-RPC method ("" for a non-POST)
	httpM   string
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

// mcpWire is an http.RoundTripper that adds the key header and records
// every exchange, for the token figures and the conformance check.
type mcpWire struct {
	key, scheme string // scheme "bearer" sends Authorization: Bearer
	host        string // a Host header other than the URL's
	mu          sync.Mutex
	log         []mcpExchange
}

func (w *mcpWire) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	r = r.Clone(r.Context())
	if r.Body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if w.scheme == "bearer" {
		r.Header.Set("Authorization", "Bearer "+w.key)
	} else {
		r.Header.Set("X-API-Key", w.key)
	}
	if w.host != "" {
		r.Host = w.host
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(out))
	var m struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(body, &m)
	w.mu.Lock()
	w.log = append(w.log, mcpExchange{method: m.Method, httpM: r.Method, reqBody: body, status: resp.StatusCode, header: resp.Header, body: out})
	w.mu.Unlock()
	return resp, nil
}

// last returns the last exchange of method.
func (w *mcpWire) last(t *testing.T, method string) mcpExchange {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.log) - 1; i >= 0; i-- {
		if w.log[i].method == method {
			return w.log[i]
		}
	}
	t.Fatalf("no %s exchange", method)
	return mcpExchange{}
}

// mcpConnect connects the SDK's client; sse lets it try the standalone
// SSE stream (a GET, which this server answers 405).
func mcpConnect(t *testing.T, a *local.API, w *mcpWire, sse bool) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: a.URL + "/api/v1/mcp",
		HTTPClient: &http.Client{Transport: w}, MaxRetries: -1, DisableStandaloneSSE: !sse}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// mcpAccount creates an account with quota and returns its ADMIN key and
// a READ key with the given rate limit.
func mcpAccount(t *testing.T, a *local.API, rate int) (admin, reader string) {
	t.Helper()
	r := callAt(t, a.URL, "POST", "/api/v1/accounts", a.MasterKey, map[string]any{"name": "agent"})
	expect(t, "create account", r, 201, "")
	admin = r.body["admin_key"].(map[string]any)["key"].(string)
	expect(t, "buy", callAt(t, a.URL, "POST", "/api/v1/sessions/quota/add", admin, map[string]any{"sessions": 3}), 201, "")
	rk := callAt(t, a.URL, "POST", "/api/v1/keys", admin, map[string]any{"name": "agent", "permission": "READ", "rate_limit_per_minute": rate})
	expect(t, "READ key", rk, 201, "")
	return admin, rk.body["key"].(string)
}

type toolMeta struct {
	SessionID        *string `json:"session_id"`
	Tokens           int64   `json:"tokens"`
	TokensUsed       *int64  `json:"tokens_used"`
	TokensRemaining  *int64  `json:"tokens_remaining"`
	SessionExpiresAt *string `json:"session_expires_at"`
}

func metaOf(t *testing.T, res *mcp.CallToolResult) toolMeta {
	t.Helper()
	b, _ := json.Marshal(res.Meta)
	var m toolMeta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("_meta %s: %v", b, err)
	}
	return m
}

// toolProblem returns the problem document of a tool error.
func toolProblem(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if !res.IsError || len(res.Content) != 1 {
		t.Fatalf("not a tool error: %+v", res)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &p); err != nil {
		t.Fatalf("tool error text is not a problem: %v", err)
	}
	return p
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", res.Content[0].(*mcp.TextContent).Text)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	// The text is the same JSON, for clients that read only text.
	var text map[string]any
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &text); err != nil || !reflect.DeepEqual(text, m) {
		t.Fatalf("text content is not the structured content: %v", err)
	}
	return m
}

// An agent's conversation over MCP through the local gateway, with the
// SDK's own client: every tool, the free calls without a session, the
// metered ones charged exactly as their bytes say, errors as the HTTP API
// gives them, and every response checked against the protocol.
func TestMCPConversation(t *testing.T) {
	admin, reader := mcpAccount(t, api, 1000)
	w := &mcpWire{key: reader}
	cs := mcpConnect(t, api, w, true)
	if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
		t.Fatalf("protocol %s", v)
	}

	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]*mcp.Tool{}
	for _, tl := range list.Tools {
		tools[tl.Name] = tl
		if tl.Description == "" || tl.InputSchema == nil || tl.OutputSchema == nil {
			t.Errorf("tool %s lacks a description or a schema", tl.Name)
		}
	}
	for _, name := range []string{"compute_indicator", "batch", "wyckoff_analysis", "session_status", "quota", "pricing"} {
		if tools[name] == nil {
			t.Errorf("tools/list has no %s", name)
		}
	}
	if err := cs.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	// No session yet: the free tools answer, the metered ones refuse.
	// The pricing tool is GET /api/v1/pricing as a tool: the same terms,
	// payments included.
	price := structured(t, callTool(t, cs, "pricing", map[string]any{}))
	if http := callAt(t, api.URL, "GET", "/api/v1/pricing", "", nil); price["session_price_cents"] != 100.0 ||
		!reflect.DeepEqual(price, http.body) {
		t.Fatalf("pricing tool %v\nGET /api/v1/pricing %v", price, http.body)
	}
	res := callTool(t, cs, "quota", map[string]any{})
	if m := metaOf(t, res); m.Tokens != 0 || m.SessionID != nil || m.TokensRemaining != nil {
		t.Fatalf("free call outside a session: _meta %+v", m)
	}
	if q := structured(t, res); q["remaining"] != 3.0 {
		t.Fatalf("quota %v", q)
	}
	if p := toolProblem(t, callTool(t, cs, "session_status", map[string]any{})); p["code"] != "not_found" {
		t.Fatalf("session_status without a session: %v", p)
	}
	rows := candleRows(200)
	if p := toolProblem(t, callTool(t, cs, "compute_indicator", map[string]any{"indicator": "rsi", "candles": rows})); p["code"] != "session_required" {
		t.Fatalf("metered call without a session: %v", p)
	}

	start := callAt(t, api.URL, "POST", "/api/v1/sessions", admin, nil)
	expect(t, "start session", start, 201, "")
	sid := start.body["session_id"].(string)

	// The same RSI through HTTP and through MCP, candles as rows,
	// columns and CSV: the same values.
	httpBody, _ := json.Marshal(map[string]any{"candles": rows, "params": map[string]any{"period": 14}})
	resp, out := rawCall(t, "POST", "/api/v1/indicators/rsi", reader, "application/json", httpBody)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP rsi: %d %s", resp.StatusCode, out)
	}
	var viaHTTP map[string]any
	_ = json.Unmarshal(out, &viaHTTP)
	used := int64(viaHTTP["meta"].(map[string]any)["tokens_used"].(float64))
	cols := map[string]any{"indicator": "rsi", "params": map[string]any{"period": 14}}
	var csv strings.Builder
	csv.WriteString("time,open,high,low,close,volume\n")
	for _, k := range []string{"time", "open", "high", "low", "close", "volume"} {
		cols[k] = []any{}
	}
	for _, r := range rows {
		for k, short := range map[string]string{"time": "t", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"} {
			cols[k] = append(cols[k].([]any), r[short])
		}
		fmt.Fprintf(&csv, "%v,%v,%v,%v,%v,%v\n", r["t"], r["o"], r["h"], r["l"], r["c"], r["v"])
	}
	for _, tc := range []struct {
		name string
		args map[string]any
	}{
		{"rows", map[string]any{"indicator": "rsi", "params": map[string]any{"period": 14}, "candles": rows}},
		{"columns", cols},
		{"csv", map[string]any{"indicator": "rsi", "params": map[string]any{"period": 14}, "csv": csv.String()}},
	} {
		res := callTool(t, cs, "compute_indicator", tc.args)
		got := structured(t, res)
		if !reflect.DeepEqual(got["values"], viaHTTP["values"]) || got["count"] != 200.0 {
			t.Fatalf("%s: values differ from the HTTP endpoint's", tc.name)
		}
		used = w.charged(t, tc.name, res, sid, start.body["expires_at"], used)
	}

	// A request setting (precision) as the HTTP API takes it, with CSV
	// in the query string.
	resp, out = rawCall(t, "POST", "/api/v1/indicators/rsi?period=14&precision=4", reader, "text/csv", []byte(csv.String()))
	var csvHTTP map[string]any
	if err := json.Unmarshal(out, &csvHTTP); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP rsi with precision: %d %s", resp.StatusCode, out)
	}
	used += int64(csvHTTP["meta"].(map[string]any)["tokens"].(float64))
	res = callTool(t, cs, "compute_indicator", map[string]any{"indicator": "rsi", "params": map[string]any{"period": 14},
		"precision": 4, "csv": csv.String()})
	if got := structured(t, res); !reflect.DeepEqual(got["values"], csvHTTP["values"]) {
		t.Fatalf("precision: values differ from the HTTP endpoint's")
	}
	used += metaOf(t, res).Tokens

	// Errors: the HTTP API's code, detail and field, and nothing charged.
	bad := candleRows(30)
	bad[3]["h"] = bad[3]["l"].(float64) - 1
	badBody, _ := json.Marshal(map[string]any{"candles": bad})
	_, out = rawCall(t, "POST", "/api/v1/indicators/rsi", reader, "application/json", badBody)
	var httpProblem map[string]any
	_ = json.Unmarshal(out, &httpProblem)
	for _, tc := range []struct {
		name  string
		tool  string
		args  map[string]any
		code  string
		field string
		like  map[string]any
	}{
		{"bad candle", "compute_indicator", map[string]any{"indicator": "rsi", "candles": bad}, "invalid_request", "candles[3].h", httpProblem},
		{"unknown indicator", "compute_indicator", map[string]any{"indicator": "nope", "candles": rows}, "invalid_request", "indicator", nil},
		{"unknown parameter", "compute_indicator", map[string]any{"indicator": "rsi", "params": map[string]any{"length": 3}, "candles": rows}, "invalid_request", "params.length", nil},
		{"two candle forms", "compute_indicator", map[string]any{"indicator": "rsi", "candles": rows, "csv": "x"}, "invalid_request", "csv", nil},
		{"empty batch", "batch", map[string]any{"indicators": []any{}, "candles": rows}, "invalid_request", "indicators", nil},
	} {
		p := toolProblem(t, callTool(t, cs, tc.tool, tc.args))
		if p["code"] != tc.code || p["field"] != tc.field {
			t.Errorf("%s: problem %v, want %s on %s", tc.name, p, tc.code, tc.field)
		}
		if tc.like != nil && (p["detail"] != tc.like["detail"] || p["field"] != tc.like["field"] || p["status"] != tc.like["status"]) {
			t.Errorf("%s: problem %v, the HTTP API says %v", tc.name, p, tc.like)
		}
		if m := metaOf(t, w.lastResult(t)); m.Tokens != 0 || *m.TokensUsed != used {
			t.Errorf("%s: an error was charged: %+v", tc.name, m)
		}
	}

	b := structured(t, callTool(t, cs, "batch", map[string]any{"candles": rows,
		"indicators": []any{map[string]any{"name": "sma"}, map[string]any{"name": "macd", "id": "m"}, map[string]any{"name": "nope"}}}))
	if b["count"] != 3.0 || len(b["results"].([]any)) != 3 || b["results"].([]any)[2].(map[string]any)["error"] == nil {
		t.Fatalf("batch %v", b)
	}
	used += metaOf(t, w.lastResult(t)).Tokens

	st := structured(t, callTool(t, cs, "session_status", map[string]any{}))
	if st["session_id"] != sid || st["tokens_used"] != float64(used) {
		t.Fatalf("session_status %v, want %d tokens used", st, used)
	}

	// Usage counts tool calls under mcp/<tool>, tokens with them.
	u := callAt(t, api.URL, "GET", "/api/v1/usage", admin, nil)
	byEP := map[string]map[string]any{}
	for _, e := range u.body["by_endpoint"].([]any) {
		byEP[e.(map[string]any)["endpoint"].(string)] = e.(map[string]any)
	}
	if e := byEP["mcp/compute_indicator"]; e == nil || e["requests"] != 9.0 || e["errors"] != 5.0 {
		t.Errorf("usage of mcp/compute_indicator: %v", e)
	}
	if e := byEP["mcp/batch"]; e == nil || e["requests"] != 2.0 || e["tokens"].(float64) <= 0 {
		t.Errorf("usage of mcp/batch: %v", e)
	}

	// The Bearer form of the key works as X-API-Key does.
	wb := &mcpWire{key: reader, scheme: "bearer"}
	if err := mcpConnect(t, api, wb, false).Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	mcpConformance(t, append(w.log, wb.log...))
	noIAMDenials(t, api)
}

// charged checks the _meta of res, the result of the last tools/call in a
// session of 100,000 tokens of which used were spent before it: it cost
// ceil(wire bytes / 4), and states the session, its end and its balance.
// It returns the tokens used after the call.
func (w *mcpWire) charged(t *testing.T, name string, res *mcp.CallToolResult, sid string, expiresAt any, used int64) int64 {
	t.Helper()
	ex := w.last(t, "tools/call")
	m := metaOf(t, res)
	want := int64(math.Ceil(float64(len(ex.reqBody)+len(ex.body)) / 4))
	used += want
	if m.Tokens != want || *m.SessionID != sid || *m.TokensUsed != used || *m.TokensRemaining != 100000-used ||
		*m.SessionExpiresAt != expiresAt {
		t.Fatalf("%s: _meta %+v, want tokens %d (%d+%d bytes), used %d", name, m, want, len(ex.reqBody), len(ex.body), used)
	}
	return used
}

// lastResult decodes the result of the last tools/call.
func (w *mcpWire) lastResult(t *testing.T) *mcp.CallToolResult {
	t.Helper()
	ex := w.last(t, "tools/call")
	var env struct {
		Result *mcp.CallToolResult `json:"result"`
	}
	if err := json.Unmarshal(ex.body, &env); err != nil || env.Result == nil {
		t.Fatalf("tools/call answer %s", ex.body)
	}
	return env.Result
}

// mcpConformance checks every exchange against MCP 2025-11-25: responses
// to calls are application/json JSON-RPC responses whose result has the
// shape its method's result has, structured tool results follow the
// tool's output schema, notifications get 202 and no body.
func mcpConformance(t *testing.T, log []mcpExchange) {
	t.Helper()
	raw, err := os.ReadFile("testdata/mcp-2025-11-25-responses.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var defs struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &defs); err != nil {
		t.Fatal(err)
	}
	validator := func(def string) *jsonschema.Resolved {
		var s jsonschema.Schema
		doc := strings.Replace(string(raw), `"$defs"`, `"$ref": "#/$defs/`+def+`", "$defs"`, 1)
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			t.Fatal(err)
		}
		rs, err := s.Resolve(nil)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	results := map[string]*jsonschema.Resolved{"initialize": validator("InitializeResult"),
		"tools/list": validator("ListToolsResult"), "tools/call": validator("CallToolResult"), "ping": validator("EmptyResult")}
	envelope, errEnvelope := validator("ResultResponse"), validator("ErrorResponse")
	outputs := map[string]*jsonschema.Resolved{}
	checked := map[string]int{}
	for i, ex := range log {
		where := fmt.Sprintf("exchange %d (%s %s)", i, ex.httpM, ex.method)
		if ex.httpM != "POST" {
			if ex.status != 405 || ex.header.Get("Allow") != "POST" {
				t.Errorf("%s: %d, Allow %q", where, ex.status, ex.header.Get("Allow"))
			}
			continue
		}
		if strings.HasPrefix(ex.method, "notifications/") {
			if ex.status != 202 || len(ex.body) != 0 {
				t.Errorf("%s: %d %q, want 202 and no body", where, ex.status, ex.body)
			}
			continue
		}
		if ct := ex.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", where, ct)
			continue
		}
		var msg map[string]any
		if err := json.Unmarshal(ex.body, &msg); err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if msg["error"] != nil {
			if err := errEnvelope.Validate(msg); err != nil {
				t.Errorf("%s: %v", where, err)
			}
			continue
		}
		if err := envelope.Validate(msg); err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		var req struct {
			ID     any `json:"id"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		_ = json.Unmarshal(ex.reqBody, &req)
		if !reflect.DeepEqual(req.ID, msg["id"]) {
			t.Errorf("%s: id %v answers id %v", where, msg["id"], req.ID)
		}
		rs := results[ex.method]
		if rs == nil {
			t.Errorf("%s: no schema for the method", where)
			continue
		}
		result := msg["result"].(map[string]any)
		if err := rs.Validate(result); err != nil {
			t.Errorf("%s: %v", where, err)
		}
		checked[ex.method]++
		switch ex.method {
		case "tools/list":
			for _, tl := range result["tools"].([]any) {
				tm := tl.(map[string]any)
				b, _ := json.Marshal(tm["outputSchema"])
				var s jsonschema.Schema
				if err := json.Unmarshal(b, &s); err != nil {
					t.Fatal(err)
				}
				r, err := s.Resolve(nil)
				if err != nil {
					t.Fatalf("output schema of %s: %v", tm["name"], err)
				}
				outputs[tm["name"].(string)] = r
			}
		case "tools/call":
			if _, ok := result["_meta"].(map[string]any)["tokens"]; !ok {
				t.Errorf("%s: no tokens in _meta", where)
			}
			if result["isError"] == true {
				continue
			}
			o := outputs[req.Params.Name]
			if o == nil {
				t.Errorf("%s: tool %s was not listed before", where, req.Params.Name)
			} else if err := o.Validate(result["structuredContent"]); err != nil {
				t.Errorf("%s: structured content of %s: %v", where, req.Params.Name, err)
			}
		}
	}
	for _, m := range []string{"initialize", "tools/list", "tools/call", "ping"} {
		if checked[m] == 0 {
			t.Errorf("no %s response was checked", m)
		}
	}
}

// GET and DELETE answer 405 (no SSE stream, no session); a batch and an
// unreadable message are JSON-RPC errors; a call through a name other
// than the loopback address is served (no DNS-rebinding 403 behind the
// gateway).
func TestMCPTransport(t *testing.T) {
	_, reader := mcpAccount(t, api, 1000)
	for _, method := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(method, api.URL+"/api/v1/mcp", nil)
		req.Header.Set("X-API-Key", reader)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s: %d, Allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	post := func(body, host string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", api.URL+"/api/v1/mcp", strings.NewReader(body))
		req.Header.Set("X-API-Key", reader)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("not JSON: %d %q", resp.StatusCode, raw)
		}
		return resp, m
	}
	ping := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	// A readable request gets its JSON-RPC error with its id, the code
	// JSON-RPC gives the fault; a message that cannot be read, none.
	for _, tc := range []struct {
		name, body string
		status     int
		code       float64
		id         any
	}{
		{"batch", "[" + ping + "]", 400, -32600, nil},
		{"not JSON", "{nope", 400, -32700, nil},
		{"unknown method", `{"jsonrpc":"2.0","id":8,"method":"foo/bar"}`, 200, -32601, 8.0},
		{"tools/call without params", `{"jsonrpc":"2.0","id":"nine","method":"tools/call"}`, 200, -32602, "nine"},
		{"a notification with an id", `{"jsonrpc":"2.0","id":10,"method":"notifications/initialized"}`, 400, -32600, 10.0},
	} {
		resp, m := post(tc.body, "")
		e, _ := m["error"].(map[string]any)
		if resp.StatusCode != tc.status || e == nil || e["code"] != tc.code || m["jsonrpc"] != "2.0" || m["id"] != tc.id {
			t.Errorf("%s: %d %v", tc.name, resp.StatusCode, m)
		}
	}
	resp, m := post(ping, "mcp.example.test")
	if resp.StatusCode != 200 || m["id"] != 7.0 {
		t.Errorf("ping through another Host: %d %v", resp.StatusCode, m)
	}
}

// A key over its rate limit gets 429 on protocol calls as on tool calls,
// and the SDK client sees the call fail without losing its connection.
func TestMCPRateLimited(t *testing.T) {
	_, reader := mcpAccount(t, api, 4)
	w := &mcpWire{key: reader}
	cs := mcpConnect(t, api, w, false)
	if err := cs.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// The client tried server/discover (protocol 2026-07-28, which this
	// server does not speak: a JSON-RPC error) before it fell back to
	// initialize: four calls so far, all answered.
	var seen []string
	for _, ex := range w.log {
		seen = append(seen, fmt.Sprintf("%s %d", ex.method, ex.status))
	}
	if d := w.log[0]; !bytes.Contains(d.body, []byte(`"error"`)) {
		t.Fatalf("server/discover: %s", d.body)
	}
	if want := []string{"server/discover 400", "initialize 200", "notifications/initialized 202", "ping 200"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("exchanges %v, want %v", seen, want)
	}
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "pricing", Arguments: map[string]any{}})
	if err == nil {
		t.Fatal("a call over the rate limit succeeded")
	}
	ex := w.last(t, "tools/call")
	if ex.status != 429 || ex.header.Get("Retry-After") == "" || !bytes.Contains(ex.body, []byte(`"rate_limited"`)) {
		t.Fatalf("over the limit: %d %s", ex.status, ex.body)
	}
}

// A session with a small token limit runs out in the middle of an agent's
// conversation: each result's _meta says what is left, the answer that
// does not fit is refused with the HTTP API's insufficient_tokens and
// costs nothing, the session never passes its limit, and once the
// session is over the computing tools need a new one while the free
// calls still answer.
func TestMCPSessionRunsOut(t *testing.T) {
	const limit = 5000
	a, admin, sid, w, cs := mcpInSession(t, limit)
	args := map[string]any{"indicator": "sma", "params": map[string]any{"period": 3}, "candles": candleRows(40)}
	var spent int64
	var refused map[string]any
	for i := 0; refused == nil; i++ {
		if i > 20 {
			t.Fatalf("the session never ran out: %d spent, last %s", spent, w.last(t, "tools/call").body[:300])
		}
		res := callTool(t, cs, "compute_indicator", args)
		m := metaOf(t, res)
		if res.IsError {
			refused = toolProblem(t, res)
			if m.Tokens != 0 || *m.TokensUsed != spent {
				t.Fatalf("a refused call was charged: %+v", m)
			}
			break
		}
		spent += m.Tokens
		if *m.TokensUsed != spent || *m.TokensRemaining != limit-spent {
			t.Fatalf("call %d: _meta %+v, %d spent", i, m, spent)
		}
	}
	if refused["code"] != "insufficient_tokens" || refused["status"] != 402.0 ||
		refused["tokens_remaining"] != float64(limit-spent) || refused["tokens_required"].(float64) <= float64(limit-spent) {
		t.Fatalf("refusal %v after %d tokens", refused, spent)
	}
	ses := callAt(t, a.URL, "GET", "/api/v1/sessions/"+sid, admin, nil)
	if ses.body["tokens_used"] != float64(spent) || spent > limit {
		t.Fatalf("session %s, %d tokens charged through MCP", ses.raw, spent)
	}
	// What still fits is served; then the session ends, and with it the
	// computing tools.
	res := callTool(t, cs, "compute_indicator", map[string]any{"indicator": "sma", "params": map[string]any{"period": 2}, "candles": candleRows(2)})
	if !res.IsError {
		spent += metaOf(t, res).Tokens
	}
	expect(t, "terminate", callAt(t, a.URL, "POST", "/api/v1/sessions/"+sid+"/terminate", admin, nil), 200, "")
	if p := toolProblem(t, callTool(t, cs, "compute_indicator", args)); p["code"] != "session_required" {
		t.Fatalf("after the session: %v", p)
	}
	if q := structured(t, callTool(t, cs, "quota", map[string]any{})); q["used"] != 1.0 {
		t.Fatalf("quota %v", q)
	}
	ses = callAt(t, a.URL, "GET", "/api/v1/sessions/"+sid, admin, nil)
	if ses.body["tokens_used"] != float64(spent) || spent > limit {
		t.Fatalf("session %s, %d tokens charged through MCP", ses.raw, spent)
	}
	mcpConformance(t, w.log)
	noIAMDenials(t, a)
}

// The Wyckoff analysis as an MCP tool: the same analysis as the HTTP
// endpoint for the same candles (columns and CSV), metered like it (the
// result's _meta states its cost and the balance, which the session
// holds), the endpoint's errors at no cost, usage under
// mcp/wyckoff_analysis, and every response conforming.
func TestMCPWyckoffAnalysis(t *testing.T) {
	admin, reader := mcpAccount(t, api, 1000)
	w := &mcpWire{key: reader}
	cs := mcpConnect(t, api, w, false)
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var listed *mcp.Tool
	for _, tl := range list.Tools {
		if tl.Name == "wyckoff_analysis" {
			listed = tl
		}
	}
	if listed == nil || !strings.Contains(listed.Description, "stable_until") || listed.InputSchema == nil || listed.OutputSchema == nil {
		t.Fatalf("tools/list: wyckoff_analysis %+v", listed)
	}
	// max_tokens, which the analysis honours, is an argument a client
	// that follows the schema can send; precision and last, which it
	// refuses, are not.
	var in struct {
		Properties map[string]any `json:"properties"`
	}
	raw, _ := json.Marshal(listed.InputSchema)
	if err := json.Unmarshal(raw, &in); err != nil || in.Properties["max_tokens"] == nil ||
		in.Properties["precision"] != nil || in.Properties["last"] != nil {
		t.Fatalf("wyckoff_analysis input schema: %s", raw)
	}
	if err := cs.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	s := schematic.Generate(schematic.Accumulation1, 11)
	cols := map[string]any{"time": times(len(s.Close)), "open": s.Open, "high": s.High, "low": s.Low, "close": s.Close, "volume": s.Volume,
		"params": map[string]any{"reversal": 2}}
	if p := toolProblem(t, callTool(t, cs, "wyckoff_analysis", cols)); p["code"] != "session_required" {
		t.Fatalf("analysis without a session: %v", p)
	}
	start := callAt(t, api.URL, "POST", "/api/v1/sessions", admin, nil)
	expect(t, "start session", start, 201, "")
	sid := start.body["session_id"].(string)

	body, _ := json.Marshal(cols)
	resp, out := rawCall(t, "POST", "/api/v1/analysis/wyckoff", reader, "application/json", body)
	var viaHTTP map[string]any
	if err := json.Unmarshal(out, &viaHTTP); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP analysis: %d %.300s", resp.StatusCode, out)
	}
	if len(viaHTTP["events"].([]any)) < 5 || len(viaHTTP["ranges"].([]any)) != 1 {
		t.Fatalf("the schematic gave no analysis to compare: %.300s", out)
	}
	used := int64(viaHTTP["meta"].(map[string]any)["tokens_used"].(float64))
	var csv strings.Builder
	csv.WriteString("time,open,high,low,close,volume\n")
	for i := range s.Close {
		fmt.Fprintf(&csv, "%d,%v,%v,%v,%v,%v\n", 1700000000+60*i, s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i])
	}
	for _, tc := range []struct {
		name string
		args map[string]any
	}{
		{"columns", cols},
		{"csv", map[string]any{"csv": csv.String(), "params": map[string]any{"reversal": 2}}},
	} {
		res := callTool(t, cs, "wyckoff_analysis", tc.args)
		got := structured(t, res)
		for _, k := range []string{"analysis", "count", "stable_until", "ranges", "events"} {
			if !reflect.DeepEqual(got[k], viaHTTP[k]) {
				t.Fatalf("%s: %s differs from the HTTP endpoint's", tc.name, k)
			}
		}
		gm, hm := got["meta"].(map[string]any), viaHTTP["meta"].(map[string]any)
		for _, k := range []string{"engine_version", "input_checksum", "candles", "params"} {
			if gm[k] == nil || !reflect.DeepEqual(gm[k], hm[k]) {
				t.Fatalf("%s: meta.%s %v, the HTTP endpoint's %v", tc.name, k, gm[k], hm[k])
			}
		}
		used = w.charged(t, tc.name, res, sid, start.body["expires_at"], used)
	}

	// The endpoint's errors, field for field, at no cost.
	prec := withProps(cols, map[string]any{"precision": 4})
	precBody, _ := json.Marshal(prec)
	_, out = rawCall(t, "POST", "/api/v1/analysis/wyckoff", reader, "application/json", precBody)
	var httpProblem map[string]any
	_ = json.Unmarshal(out, &httpProblem)
	short := map[string]any{"candles": candleRows(10)}
	for _, tc := range []struct {
		name  string
		args  map[string]any
		field string
		like  map[string]any
	}{
		{"precision", prec, "precision", httpProblem},
		{"parameter out of bounds", withProps(cols, map[string]any{"params": map[string]any{"st_zone": 2}}), "params.st_zone", nil},
		{"unknown parameter", withProps(cols, map[string]any{"params": map[string]any{"period": 14}}), "params.period", nil},
		{"too few candles", short, "candles", nil},
		// audit F10: a subnormal box overflowed the chart to +Inf (internal).
		{"box_size 5e-324", withProps(cols, map[string]any{"params": map[string]any{"box_size": 5e-324}}), "params.box_size", nil},
		{"csv box_size 1e-310", map[string]any{"csv": string(csvCandles(40)), "params": map[string]any{"box_size": 1e-310}}, "params.box_size", nil},
	} {
		p := toolProblem(t, callTool(t, cs, "wyckoff_analysis", tc.args))
		if p["code"] != "invalid_request" || p["field"] != tc.field {
			t.Errorf("%s: problem %v, want invalid_request on %s", tc.name, p, tc.field)
		}
		if tc.like != nil && (p["detail"] != tc.like["detail"] || p["field"] != tc.like["field"] || p["status"] != tc.like["status"]) {
			t.Errorf("%s: problem %v, the HTTP API says %v", tc.name, p, tc.like)
		}
		if m := metaOf(t, w.lastResult(t)); m.Tokens != 0 || *m.TokensUsed != used {
			t.Errorf("%s: an error was charged: %+v", tc.name, m)
		}
	}

	ses := callAt(t, api.URL, "GET", "/api/v1/sessions/"+sid, admin, nil)
	if ses.body["tokens_used"] != float64(used) {
		t.Fatalf("session %s, want %d tokens used", ses.raw, used)
	}
	u := callAt(t, api.URL, "GET", "/api/v1/usage", admin, nil)
	var counted map[string]any
	for _, e := range u.body["by_endpoint"].([]any) {
		if e.(map[string]any)["endpoint"] == "mcp/wyckoff_analysis" {
			counted = e.(map[string]any)
		}
	}
	if counted == nil || counted["requests"] != 9.0 || counted["errors"] != 7.0 || counted["tokens"].(float64) <= 0 {
		t.Errorf("usage of mcp/wyckoff_analysis: %v", counted)
	}
	mcpConformance(t, w.log)
	noIAMDenials(t, api)
}

// withProps returns m with extra's members set (m unchanged).
func withProps(m, extra map[string]any) map[string]any {
	out := maps.Clone(m)
	maps.Copy(out, extra)
	return out
}

// mcpInSession starts an API whose sessions hold limit tokens, an account
// with a session, and the SDK's client of its READ key, which has listed
// the tools and pinged.
func mcpInSession(t *testing.T, limit int) (a *local.API, admin, sid string, w *mcpWire, cs *mcp.ClientSession) {
	t.Helper()
	a = startAPIAt(t, map[string]string{"SESSION_TOKEN_LIMIT": fmt.Sprint(limit)})
	admin, reader := mcpAccount(t, a, 1000)
	start := callAt(t, a.URL, "POST", "/api/v1/sessions", admin, nil)
	expect(t, "start session", start, 201, "")
	w = &mcpWire{key: reader}
	cs = mcpConnect(t, a, w, false)
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := cs.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return a, admin, start.body["session_id"].(string), w, cs
}

// A tool answer over Lambda's response limit (measured as for the HTTP
// endpoints: the invoke response) is a tool error response_too_large
// naming its size and the limit, and costs nothing, though the session
// could pay for it; a smaller answer of the same kind is delivered and
// charged. (An answer the session cannot pay for: TestMCPSessionRunsOut.)
func TestMCPAnswerTooLarge(t *testing.T) {
	a, admin, sid, w, cs := mcpInSession(t, 100_000_000)
	rows := candleRows(5000)
	batch := func(n int) map[string]any {
		var items []any
		for i := range n {
			items = append(items, map[string]any{"name": "sma", "params": map[string]any{"period": 2 + i}})
		}
		return map[string]any{"candles": rows, "indicators": items}
	}
	res := callTool(t, cs, "batch", batch(50))
	p := toolProblem(t, res)
	const limit = 6 << 20
	if p["code"] != "response_too_large" || p["status"] != 413.0 || p["max_response_bytes"] != float64(limit) ||
		p["response_bytes"].(float64) <= limit {
		t.Fatalf("an answer over the limit: %v", p)
	}
	if m := metaOf(t, res); m.Tokens != 0 || *m.TokensUsed != 0 || *m.SessionID != sid {
		t.Fatalf("the refused answer was charged: _meta %+v", m)
	}
	res = callTool(t, cs, "batch", batch(10))
	if r := structured(t, res); r["count"] != 10.0 {
		t.Fatalf("batch of 10: %v", r)
	}
	m := metaOf(t, res)
	ex := w.last(t, "tools/call")
	if m.Tokens != int64(math.Ceil(float64(len(ex.reqBody)+len(ex.body))/4)) || *m.TokensUsed != m.Tokens || m.Tokens < 100_000 {
		t.Fatalf("the delivered answer: _meta %+v for %d+%d bytes", m, len(ex.reqBody), len(ex.body))
	}
	ses := callAt(t, a.URL, "GET", "/api/v1/sessions/"+sid, admin, nil)
	if ses.body["tokens_used"] != float64(m.Tokens) || ses.body["requests"] != 1.0 {
		t.Fatalf("session %s: only the delivered answer is charged (%d tokens)", ses.raw, m.Tokens)
	}
	mcpConformance(t, w.log)
}

// max_tokens holds through MCP as through HTTP, on every computing tool:
// a result costing more than the call's max_tokens is a tool error
// insufficient_tokens naming both, charged nothing; the same call with a
// ceiling it fits is delivered and charged what its _meta says.
func TestMCPMaxTokens(t *testing.T) {
	a, admin, sid, w, cs := mcpInSession(t, 1_000_000)
	rows := candleRows(300)
	var used int64
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"compute_indicator", map[string]any{"indicator": "rsi", "candles": rows}},
		{"batch", map[string]any{"candles": rows, "indicators": []any{map[string]any{"name": "sma"}, map[string]any{"name": "ema"}}}},
		{"wyckoff_analysis", map[string]any{"candles": rows}},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			args := withProps(tc.args, map[string]any{"max_tokens": 10})
			res := callTool(t, cs, tc.tool, args)
			p := toolProblem(t, res)
			if p["code"] != "insufficient_tokens" || p["status"] != 402.0 || p["max_tokens"] != 10.0 ||
				p["tokens_required"].(float64) <= 10 {
				t.Fatalf("over max_tokens: %v", p)
			}
			if m := metaOf(t, res); m.Tokens != 0 || *m.TokensUsed != used {
				t.Fatalf("the refused call was charged: _meta %+v", m)
			}
			required := int64(p["tokens_required"].(float64))
			// The ceiling is the tokens this call would cost; the answer
			// with it is a few bytes longer, so give it room.
			res = callTool(t, cs, tc.tool, withProps(tc.args, map[string]any{"max_tokens": required + 16}))
			if res.IsError {
				t.Fatalf("within max_tokens: %v", toolProblem(t, res))
			}
			m := metaOf(t, res)
			if m.Tokens <= 10 || m.Tokens > required+16 || *m.TokensUsed != used+m.Tokens {
				t.Fatalf("within max_tokens %d: _meta %+v", required+16, m)
			}
			used += m.Tokens
		})
	}
	ses := callAt(t, a.URL, "GET", "/api/v1/sessions/"+sid, admin, nil)
	if ses.body["tokens_used"] != float64(used) {
		t.Fatalf("session %s, want %d tokens: only the delivered answers", ses.raw, used)
	}
	mcpConformance(t, w.log)
}
