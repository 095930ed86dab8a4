package indicatorapi_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/indicatorapi"
	"github.com/waickoff/waickoff/shared/problem"
)

type candles struct {
	t             []int64
	o, h, l, c, v []float64
}

func walk(n int) candles {
	var cs candles
	p := 100.0
	for i := 0; i < n; i++ {
		o := p
		p += math.Sin(float64(i)*0.7) * 1.3
		c := p
		h := math.Max(o, c) + 0.5
		l := math.Min(o, c) - 0.5
		cs.t = append(cs.t, 1700000000+int64(i)*60)
		cs.o, cs.h, cs.l, cs.c = append(cs.o, o), append(cs.h, h), append(cs.l, l), append(cs.c, c)
		cs.v = append(cs.v, float64(1000+i))
	}
	return cs
}

func (cs candles) rows(extra string) string {
	var b strings.Builder
	b.WriteString(`{"candles":[`)
	for i := range cs.t {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"t":%d,"o":%v,"h":%v,"l":%v,"c":%v,"v":%v}`, cs.t[i], cs.o[i], cs.h[i], cs.l[i], cs.c[i], cs.v[i])
	}
	b.WriteString("]")
	b.WriteString(extra)
	b.WriteString("}")
	return b.String()
}

func (cs candles) columns(extra string) string {
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return fmt.Sprintf(`{"time":%s,"open":%s,"high":%s,"low":%s,"close":%s,"volume":%s%s}`,
		js(cs.t), js(cs.o), js(cs.h), js(cs.l), js(cs.c), js(cs.v), extra)
}

func (cs candles) csv() string {
	var b strings.Builder
	b.WriteString("time,open,high,low,close,volume\n")
	for i := range cs.t {
		fmt.Fprintf(&b, "%d,%v,%v,%v,%v,%v\n", cs.t[i], cs.o[i], cs.h[i], cs.l[i], cs.c[i], cs.v[i])
	}
	return b.String()
}

func req(ct, query string) *http.Request {
	r, _ := http.NewRequest("POST", "/api/v1/indicators/x?"+query, nil)
	r.Header.Set("Content-Type", ct)
	return r
}

type out struct {
	Indicator string                `json:"indicator"`
	Params    map[string]float64    `json:"params"`
	Count     int                   `json:"count"`
	Values    map[string][]*float64 `json:"values"`
}

func TestComputeSameAcrossFormats(t *testing.T) {
	cs := walk(60)
	bodies := map[string]struct{ ct, q, body string }{
		"rows":    {"application/json", "", cs.rows(`,"params":{"period":14}`)},
		"columns": {"application/json", "", cs.columns(`,"params":{"period":14}`)},
		"csv":     {"text/csv", "period=14", cs.csv()},
	}
	var first []byte
	var sums []any
	for name, tc := range bodies {
		res, err := indicatorapi.Compute("rsi", req(tc.ct, tc.q), []byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var o out
		if err := json.Unmarshal(res.Body, &o); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if o.Indicator != "rsi" || o.Count != 60 || o.Params["period"] != 14 || len(o.Values["value"]) != 60 {
			t.Fatalf("%s: %+v", name, o)
		}
		if o.Values["value"][13] != nil || o.Values["value"][14] == nil {
			t.Fatalf("%s: warm-up nulls wrong", name)
		}
		if first == nil {
			first = res.Body
		} else if string(first) != string(res.Body) {
			t.Fatalf("%s differs from another format", name)
		}
		sums = append(sums, res.Meta["input_checksum"])
	}
	if sums[0] != sums[1] || sums[1] != sums[2] {
		t.Fatalf("checksums differ: %v", sums)
	}
}

// The endpoint's numbers are the engine's, bit for bit.
func TestComputeMatchesEngine(t *testing.T) {
	cs := walk(200)
	res, err := indicatorapi.Compute("macd", req("application/json", ""), []byte(cs.rows("")))
	if err != nil {
		t.Fatal(err)
	}
	var o out
	_ = json.Unmarshal(res.Body, &o)
	spec, _ := indicator.Lookup("macd")
	want, err := spec.Run(indicator.Input{Open: cs.o, High: cs.h, Low: cs.l, Close: cs.c, Volume: cs.v}, spec.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	for k, name := range spec.Outputs {
		for i, w := range want[k] {
			got := o.Values[name][i]
			if math.IsNaN(w) != (got == nil) || (got != nil && *got != w) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got, w)
			}
		}
	}
}

func TestComputeRefusals(t *testing.T) {
	cs := walk(30)
	tests := []struct {
		name, indicator, ct, q, body string
		code                         problem.Code
		field                        string
	}{
		{"unknown indicator", "nope", "application/json", "", cs.rows(""), problem.InvalidRequest, "name"},
		{"unknown param", "rsi", "application/json", "", cs.rows(`,"params":{"periodd":3}`), problem.InvalidRequest, "params.periodd"},
		{"param out of bounds", "rsi", "application/json", "", cs.rows(`,"params":{"period":0}`), problem.InvalidRequest, "params.period"},
		{"fractional period", "sma", "application/json", "", cs.rows(`,"params":{"period":2.5}`), problem.InvalidRequest, "params.period"},
		{"too few candles", "sma", "application/json", "", cs.rows(`,"params":{"period":31}`), problem.InvalidRequest, "candles"},
		{"high below low", "sma", "application/json", "", strings.Replace(cs.rows(""), `"l":`, `"l":1e6,"x":`, 1), problem.InvalidRequest, ""},
		{"wrong media type", "sma", "text/plain", "", cs.rows(""), problem.UnsupportedMediaType, ""},
		{"batch body on single", "sma", "application/json", "", cs.rows(`,"indicators":[{"name":"sma"}]`), problem.InvalidRequest, "indicators"},
		{"csv bad param", "rsi", "text/csv", "period=abc", cs.csv(), problem.InvalidRequest, "params.period"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := indicatorapi.Compute(tc.indicator, req(tc.ct, tc.q), []byte(tc.body))
			pe := problem.As(err)
			if pe == nil || pe.Code != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if tc.field != "" && pe.Field != tc.field {
				t.Fatalf("field %q, want %q", pe.Field, tc.field)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	cs := walk(80)
	body := cs.columns(`,"indicators":[{"name":"rsi","id":"a"},{"name":"nope"},{"name":"bbands","params":{"period":10,"std_dev":1.5}},{"name":"sma","params":{"period":500}}]`)
	res, err := indicatorapi.Batch(req("application/json", ""), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Results []map[string]any `json:"results"`
		Count   int              `json:"count"`
	}
	if err := json.Unmarshal(res.Body, &o); err != nil {
		t.Fatal(err)
	}
	if o.Count != 4 || len(o.Results) != 4 || res.Meta["computed"] != 2 || res.Meta["failed"] != 2 {
		t.Fatalf("%+v %v", o, res.Meta)
	}
	if o.Results[0]["id"] != "a" || o.Results[0]["values"] == nil {
		t.Errorf("item 0: %v", o.Results[0])
	}
	for i, field := range map[int]string{1: "indicators[1].name", 3: "candles"} {
		e, _ := o.Results[i]["error"].(map[string]any)
		if e == nil || e["code"] != "invalid_request" || e["field"] != field {
			t.Errorf("item %d error %v, want field %s", i, e, field)
		}
	}
	if p := o.Results[2]["params"].(map[string]any); p["period"] != 10.0 || p["std_dev"] != 1.5 {
		t.Errorf("bbands params %v", p)
	}
}

func TestBatchRefusals(t *testing.T) {
	cs := walk(20)
	sma := url.QueryEscape(`[{"name":"sma"}]`)
	tests := []struct {
		name, ct, q, body string
		field             string
	}{
		{"no indicators", "application/json", "", cs.rows(""), "indicators"},
		{"top-level params", "application/json", "", cs.rows(`,"params":{"period":3},"indicators":[{"name":"sma"}]`), "params"},
		{"every item fails", "application/json", "", cs.rows(`,"indicators":[{"name":"nope"}]`), "indicators[0].name"},
		{"every item fails: the first item's problem", "application/json", "",
			cs.rows(`,"indicators":[{"name":"sma","params":{"period":-1}},{"name":"nope"}]`), "indicators[0].params.period"},
		{"csv without list", "text/csv", "", cs.csv(), "query.indicators"},
		// A CSV batch reads no parameter from the query: an unknown key is
		// refused by name, never dropped (audit F8).
		{"csv batch period", "text/csv", "indicators=" + sma + "&period=3&last=1", cs.csv(), "query.period"},
		{"csv batch unknown key", "text/csv", "indicators=" + sma + "&zzz=3", cs.csv(), "query.zzz"},
		{"csv batch period out of bounds", "text/csv", "indicators=" + sma + "&period=999999", cs.csv(), "query.period"},
		{"csv batch not a number", "text/csv", "indicators=" + sma + "&foo=bar", cs.csv(), "query.foo"},
		{"csv batch odd key", "text/csv", "indicators=" + sma + "&a.b=1", cs.csv(), `query["a.b"]`},
		{"csv batch short form", "text/csv", "indicators=sma,obv", cs.csv(), "query.indicators"},
		{"csv batch bare name", "text/csv", "indicators=sma", cs.csv(), "query.indicators"},
		{"csv batch list twice", "text/csv", "indicators=" + sma + "&indicators=" + sma, cs.csv(), "query.indicators"},
		{"csv batch text after the list", "text/csv", "indicators=" + url.QueryEscape(`[{"name":"sma"}],"params":{"period":3}`), cs.csv(), "query.indicators"},
		{"csv batch setting after the list", "text/csv", "indicators=" + url.QueryEscape(`[{"name":"sma"}],"last":1`), cs.csv(), "query.indicators"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := indicatorapi.Batch(req(tc.ct, tc.q), []byte(tc.body))
			pe := problem.As(err)
			if pe == nil || pe.Code != problem.InvalidRequest || pe.Field != tc.field {
				t.Fatalf("got %v, want invalid_request on %s", err, tc.field)
			}
		})
	}
}

func TestCSVBatch(t *testing.T) {
	cs := walk(40)
	for _, q := range []string{
		"indicators=" + url.QueryEscape(`[{"name":"sma","params":{"period":5}},{"name":"ema"}]`),
		"indicators=" + url.QueryEscape(`[{"name":"sma"},{"name":"ema"}]`) + "&last=2&precision=4&max_tokens=100000",
	} {
		res, err := indicatorapi.Batch(req("text/csv", q), []byte(cs.csv()))
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if res.Meta["computed"] != 2 {
			t.Fatalf("%s: %v", q, res.Meta)
		}
	}
}

func TestCatalogCoversTheContract(t *testing.T) {
	want := map[string][]string{
		"sma": {"value"}, "ema": {"value"}, "wma": {"value"}, "dema": {"value"}, "tema": {"value"},
		"rsi": {"value"}, "roc": {"value"}, "mom": {"value"}, "macd": {"macd", "signal", "hist"},
		"bbands": {"upper", "middle", "lower"}, "stochrsi": {"k", "d"}, "atr": {"value"}, "natr": {"value"},
		"cci": {"value"}, "willr": {"value"}, "adx": {"adx", "plus_di", "minus_di"}, "stoch": {"k", "d"},
		"sar": {"value"}, "mfi": {"value"}, "obv": {"value"}, "ad": {"value"}, "adosc": {"value"},
		"cmf": {"value"}, "vwap": {"value"}, "keltner": {"upper", "middle", "lower"}, "donchian": {"upper", "middle", "lower"},
	}
	got := map[string]indicatorapi.CatalogEntry{}
	for _, e := range indicatorapi.Catalog() {
		got[e.Name] = e
	}
	for name, outs := range want {
		e, ok := got[name]
		if !ok {
			t.Errorf("catalog lacks %s", name)
			continue
		}
		if fmt.Sprint(e.Outputs) != fmt.Sprint(outs) {
			t.Errorf("%s outputs %v, want %v", name, e.Outputs, outs)
		}
		for _, p := range e.Params {
			if p.Default < p.Minimum || p.Default > p.Maximum || (p.Type != "integer" && p.Type != "number") {
				t.Errorf("%s param %+v", name, p)
			}
		}
		if e.Conventions == "" || e.Lookback < 0 {
			t.Errorf("%s: conventions %q lookback %d", name, e.Conventions, e.Lookback)
		}
	}
}

func TestInputRangeAndWorkBounds(t *testing.T) {
	cs := walk(40)
	cs.c[7], cs.h[7] = 1e19, 1e19
	_, err := indicatorapi.Compute("sma", req("application/json", ""), []byte(cs.rows(`,"params":{"period":5}`)))
	if pe := problem.As(err); pe == nil || pe.Code != problem.InvalidRequest || pe.Field != "high[7]" {
		t.Fatalf("huge price: %v", err)
	}
	big := walk(40000)
	_, err = indicatorapi.Compute("cci", req("application/json", ""), []byte(big.columns(`,"params":{"period":30000}`)))
	if pe := problem.As(err); pe == nil || pe.Field != "params.period" {
		t.Fatalf("cci work bound: %v", err)
	}
}

// TestPrecision: "precision" (a JSON body field, a CSV query parameter)
// rounds every value to that many significant digits, in single and
// batch requests, and makes the answer smaller; params stay exact.
func TestPrecision(t *testing.T) {
	cs := walk(60)
	spec, _ := indicator.Lookup("macd")
	p, _ := spec.Resolve(map[string]float64{"fast_period": 3, "slow_period": 7, "signal_period": 2})
	in := indicator.Input{Open: cs.o, High: cs.h, Low: cs.l, Close: cs.c, Volume: cs.v}
	want, err := spec.Run(in, p)
	if err != nil {
		t.Fatal(err)
	}
	params := `"params":{"fast_period":3,"slow_period":7,"signal_period":2}`
	csvParams := "fast_period=3&slow_period=7&signal_period=2"
	items := `[{"name":"macd",` + params + `}]`
	check := func(t *testing.T, body []byte, digits int) {
		t.Helper()
		var o out
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if o.Params["slow_period"] != 7 {
			t.Errorf("params %v", o.Params)
		}
		for k, name := range spec.Outputs {
			for i, v := range o.Values[name] {
				w := want[k][i]
				if math.IsNaN(w) {
					if v != nil {
						t.Fatalf("%s[%d] = %v, want null", name, i, *v)
					}
					continue
				}
				ref := w
				if digits > 0 {
					ref, _ = strconv.ParseFloat(strconv.FormatFloat(w, 'e', digits-1, 64), 64)
				}
				if v == nil || *v != ref {
					t.Fatalf("%s[%d] = %v, want %v (%v to %d digits)", name, i, v, ref, w, digits)
				}
			}
		}
	}
	batchOf := func(t *testing.T, body []byte) []byte {
		t.Helper()
		var o struct{ Results []json.RawMessage }
		if err := json.Unmarshal(body, &o); err != nil || len(o.Results) != 1 {
			t.Fatalf("%v: %s", err, body)
		}
		return o.Results[0]
	}
	full, err := indicatorapi.Compute("macd", req("application/json", ""), []byte(cs.rows(","+params)))
	if err != nil {
		t.Fatal(err)
	}
	check(t, full.Body, 0)
	for _, digits := range []int{1, 4, 10, 17} {
		d := strconv.Itoa(digits)
		t.Run("json/"+d, func(t *testing.T) {
			res, err := indicatorapi.Compute("macd", req("application/json", ""), []byte(cs.columns(`,"precision":`+d+","+params)))
			if err != nil {
				t.Fatal(err)
			}
			check(t, res.Body, digits)
			if digits <= 10 && len(res.Body) >= len(full.Body) {
				t.Errorf("precision %d: %d bytes, no fewer than the default's %d", digits, len(res.Body), len(full.Body))
			}
		})
		t.Run("csv/"+d, func(t *testing.T) {
			res, err := indicatorapi.Compute("macd", req("text/csv", csvParams+"&precision="+d), []byte(cs.csv()))
			if err != nil {
				t.Fatal(err)
			}
			check(t, res.Body, digits)
		})
		t.Run("batch/"+d, func(t *testing.T) {
			res, err := indicatorapi.Batch(req("application/json", ""), []byte(cs.rows(`,"precision":`+d+`,"indicators":`+items)))
			if err != nil {
				t.Fatal(err)
			}
			check(t, batchOf(t, res.Body), digits)
		})
		t.Run("csv-batch/"+d, func(t *testing.T) {
			res, err := indicatorapi.Batch(req("text/csv", "precision="+d+"&indicators="+url.QueryEscape(items)), []byte(cs.csv()))
			if err != nil {
				t.Fatal(err)
			}
			check(t, batchOf(t, res.Body), digits)
		})
	}
}

// TestPrecisionRefusals: a precision that is not an integer in 1..17 is a
// 400 that names where it was sent.
func TestPrecisionRefusals(t *testing.T) {
	cs := walk(30)
	refused(t, []refusal{
		{"zero", "application/json", "", cs.rows(`,"precision":0`), false, "precision"},
		{"eighteen", "application/json", "", cs.rows(`,"precision":18`), false, "precision"},
		{"fraction", "application/json", "", cs.rows(`,"precision":2.5`), false, "precision"},
		{"negative", "application/json", "", cs.columns(`,"precision":-3`), false, "precision"},
		{"string", "application/json", "", cs.rows(`,"precision":"6"`), false, "precision"},
		{"null", "application/json", "", cs.rows(`,"precision":null`), false, "precision"},
		{"twice", "application/json", "", cs.rows(`,"precision":6,"precision":6`), false, "precision"},
		{"in the query of a JSON body", "application/json", "precision=6", cs.rows(""), false, "query.precision"},
		{"csv zero", "text/csv", "precision=0", cs.csv(), false, "query.precision"},
		{"csv word", "text/csv", "precision=six", cs.csv(), false, "query.precision"},
		{"csv twice", "text/csv", "precision=6&precision=7", cs.csv(), false, "query.precision"},
		{"batch eighteen", "application/json", "", cs.rows(`,"precision":18,"indicators":[{"name":"sma"}]`), true, "precision"},
		{"csv batch fraction", "text/csv", "indicators=" + url.QueryEscape(`[{"name":"sma"}]`) + "&precision=1.5", cs.csv(), true, "query.precision"},
	})
}

// refusal is a request that Compute ("sma") or Batch refuses, naming field.
type refusal struct {
	name, ct, q, body string
	batch             bool
	field             string
}

// refused checks that each request is invalid_request naming its field.
func refused(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.batch {
				_, err = indicatorapi.Batch(req(tc.ct, tc.q), []byte(tc.body))
			} else {
				_, err = indicatorapi.Compute("sma", req(tc.ct, tc.q), []byte(tc.body))
			}
			pe := problem.As(err)
			if pe == nil || pe.Code != problem.InvalidRequest || pe.Field != tc.field {
				t.Fatalf("got %v, want invalid_request on %s", err, tc.field)
			}
		})
	}
}

// TestCatalogSettings: the catalog publishes precision with the bounds
// that Decode enforces.
func TestCatalogSettings(t *testing.T) {
	for _, s := range indicatorapi.Settings() {
		if s.Name == "precision" {
			if s.Minimum != 1 || s.Maximum != candle.MaxPrecision || s.JSON == "" || s.CSV == "" {
				t.Fatalf("%+v", s)
			}
			return
		}
	}
	t.Fatal("no precision in the catalog's settings")
}

// TestCatalogMaximumsAreUsable holds every integer parameter's published
// maximum to what a request can use: a request at the maximum (the other
// parameters at their minimums, slow_period above fast_period, as many
// candles as the request cap and cci's candles x period limit allow) is
// computed, and one at maximum+1 is refused naming the parameter.
func TestCatalogMaximumsAreUsable(t *testing.T) {
	if candle.DefaultMaxCandles != indicator.MaxCandles {
		t.Fatalf("candle caps requests at %d candles, the catalog assumes %d", candle.DefaultMaxCandles, indicator.MaxCandles)
	}
	body := walk(indicator.MaxCandles).csv()
	// lineEnd[n] is the length of the CSV holding the first n candles.
	lineEnd := []int{strings.IndexByte(body, '\n') + 1}
	for i := lineEnd[0]; i < len(body); {
		i += strings.IndexByte(body[i:], '\n') + 1
		lineEnd = append(lineEnd, i)
	}
	for _, e := range indicatorapi.Catalog() {
		for _, p := range e.Params {
			if p.Type != "integer" {
				continue
			}
			query := func(v float64) string {
				q := url.Values{}
				for _, o := range e.Params {
					if o.Type == "integer" && o.Name != p.Name {
						q.Set(o.Name, strconv.FormatFloat(o.Minimum, 'f', -1, 64))
					}
				}
				q.Set(p.Name, strconv.FormatFloat(v, 'f', -1, 64))
				if fast, err := strconv.Atoi(q.Get("fast_period")); err == nil && p.Name != "slow_period" {
					q.Set("slow_period", strconv.Itoa(fast+1))
				}
				return q.Encode()
			}
			n := indicator.MaxCandles
			if p.MaxCandlesTimes > 0 {
				n = min(n, int(p.MaxCandlesTimes/p.Maximum))
			}
			if _, err := indicatorapi.Compute(e.Name, req("text/csv", query(p.Maximum)), []byte(body[:lineEnd[n]])); err != nil {
				t.Errorf("%s %s=%v (its maximum) over %d candles: %v", e.Name, p.Name, p.Maximum, n, err)
			}
			_, err := indicatorapi.Compute(e.Name, req("text/csv", query(p.Maximum+1)), []byte(body))
			if pe := problem.As(err); pe == nil || pe.Field != "params."+p.Name && !(p.Name == "fast_period" && pe.Field == "params.slow_period") {
				t.Errorf("%s %s=%v (its maximum + 1): %v, want a refusal naming it", e.Name, p.Name, p.Maximum+1, err)
			}
		}
	}
}

// TestLast: "last" keeps the trailing values of every output, computed
// over all the candles: the same numbers as the tail of the full answer,
// whatever the form of the request; a batch item's own last overrides
// the request's.
func TestLast(t *testing.T) {
	cs := walk(60)
	params := `"params":{"fast_period":3,"slow_period":7,"signal_period":2}`
	full, err := indicatorapi.Compute("macd", req("application/json", ""), []byte(cs.rows(","+params)))
	if err != nil {
		t.Fatal(err)
	}
	var whole out
	if err := json.Unmarshal(full.Body, &whole); err != nil {
		t.Fatal(err)
	}
	// tail checks that o holds the last n values of the full answer.
	tail := func(t *testing.T, raw []byte, n int) {
		t.Helper()
		var o out
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		if o.Count != n {
			t.Errorf("count %d, want %d", o.Count, n)
		}
		for name, all := range whole.Values {
			got := o.Values[name]
			if len(got) != n {
				t.Fatalf("%s has %d values, want %d", name, len(got), n)
			}
			for i, v := range got {
				w := all[len(all)-n+i]
				if (v == nil) != (w == nil) || v != nil && *v != *w {
					t.Fatalf("%s[-%d] = %v, want %v", name, n-i, v, w)
				}
			}
		}
	}
	csvParams := "fast_period=3&slow_period=7&signal_period=2"
	for _, tc := range []struct {
		name, ct, q, body string
		want              int
	}{
		{"rows 1", "application/json", "", cs.rows(`,"last":1,` + params), 1},
		{"columns 5", "application/json", "", cs.columns(`,"last":5,` + params), 5},
		{"csv 3", "text/csv", csvParams + "&last=3", cs.csv(), 3},
		{"every candle", "application/json", "", cs.rows(`,"last":60,` + params), 60},
		{"over the length", "application/json", "", cs.rows(`,"last":50000,` + params), 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := indicatorapi.Compute("macd", req(tc.ct, tc.q), []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			tail(t, res.Body, tc.want)
			if tc.want < 60 && len(res.Body) >= len(full.Body) {
				t.Errorf("%d bytes, the full answer %d", len(res.Body), len(full.Body))
			}
		})
	}
	items := `[{"name":"macd",` + params + `},{"name":"macd","last":2,` + params + `}]`
	for _, tc := range []struct {
		name, ct, q, body string
		want              [2]int
	}{
		{"batch item", "application/json", "", cs.rows(`,"indicators":` + items), [2]int{60, 2}},
		{"batch default", "application/json", "", cs.rows(`,"last":4,"indicators":` + items), [2]int{4, 2}},
		{"csv batch", "text/csv", "last=7&indicators=" + url.QueryEscape(items), cs.csv(), [2]int{7, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := indicatorapi.Batch(req(tc.ct, tc.q), []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var o struct{ Results []json.RawMessage }
			if err := json.Unmarshal(res.Body, &o); err != nil || len(o.Results) != 2 {
				t.Fatalf("%v: %s", err, res.Body)
			}
			for i, r := range o.Results {
				tail(t, r, tc.want[i])
			}
		})
	}
}

// TestLastRefusals: a bad "last" is invalid_request naming it; in a batch
// item it fails that item only.
func TestLastRefusals(t *testing.T) {
	cs := walk(30)
	refused(t, []refusal{
		{"zero", "application/json", "", cs.rows(`,"last":0`), false, "last"},
		{"negative", "application/json", "", cs.rows(`,"last":-1`), false, "last"},
		{"fraction", "application/json", "", cs.columns(`,"last":1.5`), false, "last"},
		{"over the cap", "application/json", "", cs.rows(`,"last":50001`), false, "last"},
		{"string", "application/json", "", cs.rows(`,"last":"1"`), false, "last"},
		{"twice", "application/json", "", cs.rows(`,"last":1,"last":1`), false, "last"},
		{"in the query of a JSON body", "application/json", "last=1", cs.rows(""), false, "query.last"},
		{"csv zero", "text/csv", "last=0", cs.csv(), false, "query.last"},
		{"csv word", "text/csv", "last=one", cs.csv(), false, "query.last"},
		{"csv twice", "text/csv", "last=1&last=2", cs.csv(), false, "query.last"},
		{"batch zero", "application/json", "", cs.rows(`,"last":0,"indicators":[{"name":"sma"}]`), true, "last"},
		{"batch item zero", "application/json", "", cs.rows(`,"indicators":[{"name":"sma","last":0}]`), true, "indicators[0].last"},
		{"batch item string", "application/json", "", cs.rows(`,"indicators":[{"name":"sma","last":"2"}]`), true, "indicators[0].last"},
		{"batch item huge", "application/json", "", cs.rows(`,"indicators":[{"name":"sma","last":1e999}]`), true, "indicators[0].last"},
		{"batch item twice", "application/json", "", cs.rows(`,"indicators":[{"name":"sma","last":1,"last":2}]`), true, "indicators[0].last"},
		{"csv batch fraction", "text/csv", "indicators=" + url.QueryEscape(`[{"name":"sma"}]`) + "&last=1.5", cs.csv(), true, "query.last"},
	})
	// A bad item's last fails that item; the others are computed.
	res, err := indicatorapi.Batch(req("application/json", ""),
		[]byte(cs.rows(`,"indicators":[{"name":"sma","last":-2},{"name":"ema","last":2}]`)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Meta["computed"] != 1 || res.Meta["failed"] != 1 || !strings.Contains(string(res.Body), `"field":"indicators[0].last"`) {
		t.Fatalf("%v %s", res.Meta, res.Body)
	}
}

// TestWorkBudget: a request's indicators are weighed before any is
// computed (candles x work_per_candle, plus cci's period for each value
// after its warm-up, summed over the batch); over MaxWork it is a 400
// naming what to shrink, with the work and the budget, and nothing is
// computed; exactly at the budget it is answered (items refused on their
// own weigh nothing).
func TestWorkBudget(t *testing.T) {
	items := func(name string, period, times int) string {
		out := make([]string, times)
		for i := range out {
			out[i] = fmt.Sprintf(`{"name":%q,"params":{"period":%d},"last":1}`, name, period)
		}
		return strings.Join(out, ",")
	}
	cci, _ := indicator.Lookup("cci")
	sma, _ := indicator.Lookup("sma")
	work := func(spec indicator.Spec, n, period int) int64 {
		return spec.WorkOver(n, indicator.Params{"period": float64(period)})
	}
	// The largest legal request: 4 x cci(4000) and 21 x sma over 49,090
	// candles, exactly MaxWork (721,456,000 of it cci's window steps).
	const n = 49_090
	if w := 4*work(cci, n, 4000) + 21*work(sma, n, 20); w != indicatorapi.MaxWork {
		t.Fatalf("the request at the budget weighs %d, want %d", w, indicatorapi.MaxWork)
	}
	atBudget := items("cci", 4000, 4) + "," + items("sma", 20, 21)
	c50k, cn := walk(50_000), walk(n)
	tests := []struct {
		name     string
		body     string
		field    string // "": answered
		computed int
		work     int64
		limit    time.Duration // the refusal's time limit
	}{
		{"the audit's batch: 20 x cci(4000) over 50,000 candles", c50k.columns(`,"indicators":[` + items("cci", 4000, 20) + `]`),
			"indicators", 0, 20 * work(cci, 50_000, 4000), 2 * time.Second},
		{"exactly at the budget; refused items weigh nothing", cn.columns(`,"indicators":[` + atBudget +
			`,{"name":"cci","params":{"period":1}},` + items("cci", 5000, 1) + `]`), "", 25, 0, 0},
		{"one candle more", walk(n + 1).columns(`,"indicators":[` + atBudget + `]`),
			"indicators", 0, 4*work(cci, n+1, 4000) + 21*work(sma, n+1, 20), time.Second},
		{"one more indicator", cn.columns(`,"indicators":[` + atBudget + `,{"name":"obv"}]`),
			"indicators", 0, indicatorapi.MaxWork + n*64, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res, err := indicatorapi.Batch(req("application/json", ""), []byte(tc.body))
			elapsed := time.Since(start)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Meta["computed"] != tc.computed {
					t.Fatalf("computed %v items, want %d", res.Meta["computed"], tc.computed)
				}
				t.Logf("answered in %v", elapsed)
				return
			}
			pe := problem.As(err)
			if pe == nil || pe.Code != problem.InvalidRequest || pe.Field != tc.field ||
				pe.Extra["work"] != tc.work || pe.Extra["max_work"] != indicatorapi.MaxWork {
				t.Fatalf("got %v %+v, want invalid_request on %s with work %d", err, pe, tc.field, tc.work)
			}
			if elapsed > tc.limit {
				t.Fatalf("refused after %v: computed before weighing?", elapsed)
			}
		})
	}
}

// One indicator alone never passes MaxWork, at the most candles a request
// may carry and its heaviest parameters: its work is at most candles x
// work_per_candle plus its own bound on the rest (cci's candles x period),
// so only a batch is weighed against the budget.
func TestOneIndicatorFitsTheBudget(t *testing.T) {
	for _, s := range indicator.Catalog() {
		w := int64(candle.DefaultMaxCandles) * s.WorkPerCandle()
		if s.Work.Param != "" {
			w += int64(s.Work.Max)
		}
		if w > indicatorapi.MaxWork {
			t.Errorf("%s alone may weigh %d, over MaxWork %d: weigh the single route too", s.Name, w, indicatorapi.MaxWork)
		}
	}
}
