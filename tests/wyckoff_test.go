package tests

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

// The Wyckoff analysis through the local gateway: a session is needed, the
// answer is metered like an indicator's (tokens from the bytes, session
// headers and meta), CSV and JSON give the same analysis, bad parameters
// are precise problems that cost nothing, usage is named analysis/wyckoff,
// and the catalog lists the analysis with its rules.
func TestWyckoffAnalysisEndToEnd(t *testing.T) {
	m := api.MasterKey
	acct := call(t, "POST", "/api/v1/accounts", m, map[string]any{"name": "wyckoff-e2e"})
	expect(t, "create account", acct, 201, "")
	admin := acct.body["admin_key"].(map[string]any)["key"].(string)
	expect(t, "buy", call(t, "POST", "/api/v1/sessions/quota/add", admin, map[string]any{"sessions": 1}), 201, "")
	rk := call(t, "POST", "/api/v1/keys", admin, map[string]any{"name": "reader", "permission": "READ"})
	expect(t, "READ key", rk, 201, "")
	reader := rk.body["key"].(string)

	s := schematic.Generate(schematic.Accumulation1, 11)
	cols := map[string]any{"time": times(len(s.Close)), "open": s.Open, "high": s.High, "low": s.Low, "close": s.Close, "volume": s.Volume,
		"params": map[string]any{"reversal": 3}}
	body, _ := json.Marshal(cols)
	const path = "/api/v1/analysis/wyckoff"
	resp, out := rawCall(t, "POST", path, reader, "application/json", body)
	if resp.StatusCode != 403 || !strings.Contains(string(out), `"session_required"`) {
		t.Fatalf("analysis without a session: %d %s", resp.StatusCode, out)
	}

	start := call(t, "POST", "/api/v1/sessions", admin, nil)
	expect(t, "start session", start, 201, "")
	sid := start.body["session_id"].(string)

	resp, out = rawCall(t, "POST", path, reader, "application/json", body)
	if resp.StatusCode != 200 {
		t.Fatalf("analysis: %d %s", resp.StatusCode, out)
	}
	var res struct {
		Analysis    string `json:"analysis"`
		Count       int    `json:"count"`
		StableUntil int    `json:"stable_until"`
		Events      []struct {
			Type        string            `json:"type"`
			Bar         int               `json:"bar"`
			Time        int64             `json:"time"`
			ConfirmedAt int               `json:"confirmed_at"`
			Evidence    []json.RawMessage `json:"evidence"`
			Text        string            `json:"text"`
		} `json:"events"`
		Ranges []struct {
			Kind  string `json:"kind"`
			Bias  string `json:"bias"`
			Count *struct {
				Columns      int     `json:"columns"`
				Conservative float64 `json:"conservative"`
			} `json:"count"`
		} `json:"ranges"`
		Meta struct {
			SessionID     string             `json:"session_id"`
			Tokens        int64              `json:"tokens"`
			TokensUsed    int64              `json:"tokens_used"`
			EngineVersion string             `json:"engine_version"`
			InputChecksum string             `json:"input_checksum"`
			Params        map[string]float64 `json:"params"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	want := int64(math.Ceil(float64(len(body)+len(out)) / 4))
	if res.Meta.Tokens != want || res.Meta.TokensUsed != want || res.Meta.SessionID != sid ||
		res.Meta.EngineVersion != wyckoff.Version || !strings.HasPrefix(res.Meta.InputChecksum, "sha256:") ||
		res.Meta.Params["reversal"] != 3 || res.Meta.Params["climax_volume_ratio"] != 2 {
		t.Fatalf("meta %+v, want %d tokens for %d+%d bytes", res.Meta, want, len(body), len(out))
	}
	if resp.Header.Get("X-Session-Id") != sid || resp.Header.Get("X-Session-Tokens-Used") != strconv.FormatInt(want, 10) {
		t.Fatalf("session headers %v", resp.Header)
	}
	types := map[string]bool{}
	for _, e := range res.Events {
		types[e.Type] = true
		if e.Time != 1700000000+60*int64(e.Bar) || e.ConfirmedAt < e.Bar || len(e.Evidence) == 0 || e.Text == "" {
			t.Errorf("event %+v", e)
		}
	}
	for _, w := range []string{"SC", "AR", "ST", "Spring", "SOS", "LPS"} {
		if !types[w] {
			t.Errorf("no %s in %s", w, out)
		}
	}
	if res.Analysis != "wyckoff" || res.Count != len(s.Close) || len(res.Ranges) != 1 || res.Ranges[0].Kind != "accumulation" ||
		res.Ranges[0].Bias != "bullish" || res.Ranges[0].Count == nil || res.Ranges[0].Count.Columns < 2 {
		t.Fatalf("analysis %s", out)
	}

	// CSV, parameters in the query: the same analysis.
	var csv strings.Builder
	csv.WriteString("time,open,high,low,close,volume\n")
	for i := range s.Close {
		fmt.Fprintf(&csv, "%d,%v,%v,%v,%v,%v\n", 1700000000+60*i, s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i])
	}
	resp2, out2 := rawCall(t, "POST", path+"?reversal=3", reader, "text/csv", []byte(csv.String()))
	if resp2.StatusCode != 200 {
		t.Fatalf("csv analysis: %d %s", resp2.StatusCode, out2)
	}
	if a, b := withoutMeta(t, out), withoutMeta(t, out2); a != b {
		t.Fatalf("CSV and JSON differ:\n%s\n%s", a, b)
	}
	used := want + int64(math.Ceil(float64(csv.Len()+len(out2))/4))

	// Bad parameters: a problem naming the field, and nothing spent.
	for _, tc := range []struct {
		params map[string]any
		field  string
	}{
		{map[string]any{"st_zone": 2}, "params.st_zone"},
		{map[string]any{"atr_period": 14.5}, "params.atr_period"},
		{map[string]any{"period": 14}, "params.period"},
	} {
		cols["params"] = tc.params
		bad := call(t, "POST", path, reader, cols)
		expect(t, "bad "+tc.field, bad, 400, "invalid_request")
		if bad.body["field"] != tc.field {
			t.Fatalf("problem %s, want field %s", bad.raw, tc.field)
		}
	}
	// max_tokens holds here as on the indicator routes: over it, 402
	// naming it, and nothing spent.
	delete(cols, "params")
	cols["max_tokens"] = 10
	over := call(t, "POST", path, reader, cols)
	expect(t, "over max_tokens", over, 402, "insufficient_tokens")
	if over.body["max_tokens"] != 10.0 {
		t.Fatalf("problem %s, want max_tokens 10", over.raw)
	}
	delete(cols, "max_tokens")
	cur := call(t, "GET", "/api/v1/sessions/"+sid, reader, nil)
	expect(t, "get session", cur, 200, "")
	if cur.body["tokens_used"] != float64(used) || cur.body["requests"] != 2.0 {
		t.Fatalf("session %s, want %d tokens used over 2 requests", cur.raw, used)
	}
	if !strings.Contains(string(cur.raw), `"analysis/wyckoff"`) {
		t.Fatalf("session usage does not name analysis/wyckoff: %s", cur.raw)
	}

	cat := call(t, "GET", "/api/v1/indicators", reader, nil)
	expect(t, "catalog", cat, 200, "")
	an, _ := cat.body["analyses"].([]any)
	if len(an) != 1 || an[0].(map[string]any)["name"] != "wyckoff" || len(an[0].(map[string]any)["rules"].([]any)) != len(wyckoff.Rules()) {
		t.Fatalf("catalog analyses %v", cat.body["analyses"])
	}
	noIAMDenials(t, api)
}

func times(n int) []int64 {
	t := make([]int64, n)
	for i := range t {
		t[i] = 1700000000 + 60*int64(i)
	}
	return t
}

// withoutMeta returns the body's JSON without its meta member.
func withoutMeta(t *testing.T, b []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "meta")
	out, _ := json.Marshal(m)
	return string(out)
}
