package wyckoffapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
	"github.com/waickoff/waickoff/shared/wyckoffapi"
)

func columns(s schematic.Series, params string) string {
	var b strings.Builder
	col := func(name string, v []float64) {
		b.WriteString(`"` + name + `":[`)
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		b.WriteString("],")
	}
	b.WriteString(`{"time":[`)
	for i := range s.Close {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(1700000000 + 60*i))
	}
	b.WriteString("],")
	col("open", s.Open)
	col("high", s.High)
	col("low", s.Low)
	col("close", s.Close)
	col("volume", s.Volume)
	b.WriteString(`"params":{` + params + `}}`)
	return b.String()
}

func csvBody(s schematic.Series) string {
	var b strings.Builder
	b.WriteString(candle.CSVHeader + "\n")
	for i := range s.Close {
		fmt.Fprintf(&b, "%d,%v,%v,%v,%v,%v\n", 1700000000+60*i, s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i])
	}
	return b.String()
}

func TestAnalyze(t *testing.T) {
	s := schematic.Generate(schematic.Accumulation1, 3)
	direct, err := wyckoff.Analyze(s.Input(), wyckoff.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ct, body, query string
	}{
		{"json columns", "application/json", columns(s, ""), ""},
		{"json columns with a default sent", "application/json", columns(s, `"atr_period":14`), ""},
		{"csv", "text/csv", csvBody(s), ""},
		{"csv with a parameter", "text/csv", csvBody(s), "?reversal=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/analysis/wyckoff"+tt.query, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ct)
			res, err := wyckoffapi.Analyze(r, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Analysis    string `json:"analysis"`
				Count       int    `json:"count"`
				StableUntil int    `json:"stable_until"`
				Events      []struct {
					Type        string  `json:"type"`
					Bar         int     `json:"bar"`
					Time        int64   `json:"time"`
					ConfirmedAt int     `json:"confirmed_at"`
					Score       float64 `json:"score"`
				} `json:"events"`
				Ranges []struct {
					Kind      string `json:"kind"`
					StartTime int64  `json:"start_time"`
				} `json:"ranges"`
			}
			if err := json.Unmarshal(res.Body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Analysis != "wyckoff" || got.Count != len(s.Close) || len(got.Events) != len(direct.Events) ||
				len(got.Ranges) != 1 || got.Ranges[0].Kind != wyckoff.Accumulation || got.StableUntil != direct.StableUntil {
				t.Fatalf("response %+v", got)
			}
			for k, e := range got.Events {
				if e.Type != direct.Events[k].Type || e.Bar != direct.Events[k].Bar || e.Time != int64(1700000000+60*e.Bar) {
					t.Errorf("event %d: %+v, engine %+v", k, e, direct.Events[k])
				}
			}
			if res.Meta.EngineVersion != wyckoff.Version || len(res.Meta.InputChecksum) < 16 ||
				res.Meta.Params["atr_period"] != 14 || res.Meta.Params["reversal"] != 3 || res.Meta.Candles != len(s.Close) {
				t.Errorf("meta %+v", res.Meta)
			}
		})
	}
}

func TestAnalyzeRefuses(t *testing.T) {
	s := schematic.Generate(schematic.Distribution2, 3)
	huge := schematic.Generate(schematic.Distribution2, 3)
	huge.Open[5] = 1e19
	top := 0.0 // the largest price of s
	for i := range s.Close {
		top = max(top, s.High[i], -s.Low[i], math.Abs(s.Close[i]))
	}
	short := schematic.Generate(schematic.Distribution2, 3)
	short.Open, short.High, short.Low, short.Close, short.Volume = s.Open[:20], s.High[:20], s.Low[:20], s.Close[:20], s.Volume[:20]
	tests := []struct {
		name, ct, body, query string
		code                  problem.Code
		field                 string
	}{
		{"unknown parameter", "application/json", columns(s, `"period":14`), "", problem.InvalidRequest, "params.period"},
		{"parameter out of bounds", "application/json", columns(s, `"st_zone":2`), "", problem.InvalidRequest, "params.st_zone"},
		{"integer parameter with a fraction", "application/json", columns(s, `"reversal":2.5`), "", problem.InvalidRequest, "params.reversal"},
		{"two box sizes", "application/json", columns(s, `"box_size":1,"box_percent":1`), "", problem.InvalidRequest, "params.box_percent"},
		{"csv parameter out of bounds", "text/csv", csvBody(s), "?atr_period=1", problem.InvalidRequest, "params.atr_period"},
		// audit F10: a box this small overflowed the chart to +Inf (a 500).
		{"box_size subnormal", "application/json", columns(s, `"box_size":1e-310`), "", problem.InvalidRequest, "params.box_size"},
		{"box_size smallest", "application/json", columns(s, `"box_size":5e-324`), "", problem.InvalidRequest, "params.box_size"},
		{"csv box_size smallest", "text/csv", csvBody(s), "?box_size=5e-324", problem.InvalidRequest, "params.box_size"},
		{"box_size under the bound", "application/json", columns(s, `"box_size":`+num(top*0.999/wyckoff.MaxBoxes)), "", problem.InvalidRequest, "params.box_size"},
		{"box_percent subnormal", "application/json", columns(s, `"box_percent":5e-324`), "", problem.InvalidRequest, "params.box_percent"},
		{"box_percent under 0.0001", "application/json", columns(s, `"box_percent":0.0000999`), "", problem.InvalidRequest, "params.box_percent"},
		{"fewer candles than the warm-up", "application/json", columns(short, ""), "", problem.InvalidRequest, "candles"},
		{"a batch body", "application/json", strings.Replace(columns(s, ""), `"params":{}`, `"indicators":[{"name":"rsi"}]`, 1), "", problem.InvalidRequest, "indicators"},
		{"query with a JSON body", "application/json", columns(s, ""), "?atr_period=10", problem.InvalidRequest, "query.atr_period"},
		{"precision in the body", "application/json", strings.Replace(columns(s, ""), `"params":{}`, `"precision":4`, 1), "", problem.InvalidRequest, "precision"},
		{"precision in a CSV query", "text/csv", csvBody(s), "?precision=4", problem.InvalidRequest, "query.precision"},
		{"price out of range", "application/json", columns(huge, ""), "", problem.InvalidRequest, "open[5]"},
		{"xml", "application/xml", "<candles/>", "", problem.UnsupportedMediaType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/analysis/wyckoff"+tt.query, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ct)
			_, err := wyckoffapi.Analyze(r, []byte(tt.body))
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Code != tt.code || pe.Field != tt.field {
				t.Fatalf("error %#v, want %s on %q", err, tt.code, tt.field)
			}
		})
	}
}

// TestBoxSizeAtTheBound: a box_size of the candles' largest price / MaxBoxes
// is accepted (the bound is not stricter than documented).
func TestBoxSizeAtTheBound(t *testing.T) {
	s := schematic.Generate(schematic.Distribution2, 3)
	top := 0.0
	for i := range s.Close {
		top = max(top, s.High[i], -s.Low[i], math.Abs(s.Close[i]))
	}
	for _, params := range []string{`"box_size":` + num(top/wyckoff.MaxBoxes*1.000001), `"box_percent":0.0001`} {
		body := columns(s, params)
		r := httptest.NewRequest("POST", "/api/v1/analysis/wyckoff", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if _, err := wyckoffapi.Analyze(r, []byte(body)); err != nil {
			t.Errorf("%s: %v", params, err)
		}
	}
}

// TestRunIsTheEndpoint: the Go call (for the MCP function) gives what the
// endpoint gives.
func TestRunIsTheEndpoint(t *testing.T) {
	s := schematic.Generate(schematic.Accumulation2, 8)
	set := candle.Set{Time: make([]int64, len(s.Close)), Open: s.Open, High: s.High, Low: s.Low, Close: s.Close, Volume: s.Volume}
	for i := range set.Time {
		set.Time[i] = 1700000000 + 60*int64(i)
	}
	res, meta, err := wyckoffapi.Run(wyckoffapi.Request{Candles: set, Params: map[string]float64{"reversal": 2}})
	if err != nil {
		t.Fatal(err)
	}
	body := columns(s, `"reversal":2`)
	r := httptest.NewRequest("POST", "/api/v1/analysis/wyckoff", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	hres, err := wyckoffapi.Analyze(r, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	if string(b) != string(hres.Body) || meta.InputChecksum != hres.Meta.InputChecksum || meta.Params["reversal"] != 2 {
		t.Error("Run and Analyze differ")
	}
}

// TestFlatCandles: no movement and no volume give an empty analysis, not a
// division by zero in the JSON.
func TestFlatCandles(t *testing.T) {
	n := 300
	set := candle.Set{Time: make([]int64, n), Open: make([]float64, n), High: make([]float64, n),
		Low: make([]float64, n), Close: make([]float64, n), Volume: make([]float64, n)}
	for i := 0; i < n; i++ {
		set.Time[i] = int64(i + 1)
		set.Open[i], set.High[i], set.Low[i], set.Close[i] = 5, 5, 5, 5
	}
	res, _, err := wyckoffapi.Run(wyckoffapi.Request{Candles: set})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(res); err != nil || len(res.Events) != 0 || res.Events == nil {
		t.Errorf("%+v %v", res, err)
	}
}

// TestContractStatesEveryRule: the OpenAPI description of the endpoint
// carries every rule's formula and every parameter's default and bounds,
// as the catalog does.
func TestContractStatesEveryRule(t *testing.T) {
	b, err := os.ReadFile("../openapi/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range wyckoff.Rules() {
		if !strings.Contains(doc, r.Formula) {
			t.Errorf("openapi.yaml lacks the formula of rule %s", r.Name)
		}
	}
	for _, s := range wyckoff.ParamSpecs() {
		row := fmt.Sprintf("| `%s` | %s | %s | %s..%s | %s |", s.Name, s.Type, num(s.Default), num(s.Min), num(s.Max), s.Description)
		if !strings.Contains(doc, row) {
			t.Errorf("openapi.yaml lacks the row %s", row)
		}
	}
	c := wyckoffapi.Catalog()
	if len(c["rules"].([]wyckoff.Rule)) != len(wyckoff.Rules()) || len(c["params"].([]wyckoff.ParamSpec)) != len(wyckoff.ParamSpecs()) {
		t.Error("the catalog does not list every rule and parameter")
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
