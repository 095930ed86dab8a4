package load

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Body is one prepared metered request.
type Body struct {
	Path        string
	ContentType string
	Data        []byte
	Batch       bool
}

// Candles returns n deterministic candles (a noisy random walk, one a
// minute) as columns.
func Candles(n int, seed int) (t []int64, o, h, l, c, v []float64) {
	p := 100.0 + float64(seed)
	for i := 0; i < n; i++ {
		open := p
		p += math.Sin(float64(i)*0.37+float64(seed))*1.3 + math.Cos(float64(i)*0.11)*0.6
		if p < 1 {
			p = 1 + math.Abs(p)
		}
		t = append(t, 1_700_000_000+int64(i)*60)
		o = append(o, round4(open))
		h = append(h, round4(math.Max(open, p)+0.3+0.1*math.Abs(math.Sin(float64(i)))))
		l = append(l, round4(math.Min(open, p)-0.3-0.1*math.Abs(math.Cos(float64(i)))))
		c = append(c, round4(p))
		v = append(v, float64(1000+(i*37+seed*11)%900))
	}
	return
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// single indicators of the mix, with parameters.
var singles = []struct {
	name   string
	params map[string]any
}{
	{"rsi", map[string]any{"period": 14}},
	{"sma", map[string]any{"period": 20}},
	{"ema", map[string]any{"period": 50}},
	{"macd", nil},
	{"bbands", map[string]any{"period": 20, "std_dev": 2}},
	{"atr", map[string]any{"period": 14}},
	{"adx", nil},
	{"stoch", nil},
	{"obv", nil},
	{"vwap", nil},
	{"mfi", map[string]any{"period": 14}},
	{"keltner", nil},
}

// Bodies prepares the metered requests of the mix over n candles: every
// single indicator as candle rows, as columns and as CSV, and batches of
// four to six indicators.
func Bodies(n int) (singleBodies, batchBodies []Body) {
	for i, s := range singles {
		t, o, h, l, c, v := Candles(n, i)
		rows := make([]map[string]any, n)
		for j := range rows {
			rows[j] = map[string]any{"t": t[j], "o": o[j], "h": h[j], "l": l[j], "c": c[j], "v": v[j]}
		}
		path := "/api/v1/indicators/" + s.name
		body := map[string]any{"candles": rows}
		if s.params != nil {
			body["params"] = s.params
		}
		b, _ := json.Marshal(body)
		singleBodies = append(singleBodies, Body{Path: path, ContentType: "application/json", Data: b})
		cols := map[string]any{"time": t, "open": o, "high": h, "low": l, "close": c, "volume": v}
		if s.params != nil {
			cols["params"] = s.params
		}
		b, _ = json.Marshal(cols)
		singleBodies = append(singleBodies, Body{Path: path, ContentType: "application/json", Data: b})
		var csv strings.Builder
		csv.WriteString("time,open,high,low,close,volume\n")
		for j := range t {
			fmt.Fprintf(&csv, "%d,%s,%s,%s,%s,%s\n", t[j], num(o[j]), num(h[j]), num(l[j]), num(c[j]), num(v[j]))
		}
		q := ""
		for k, val := range s.params {
			if q == "" {
				q = "?"
			} else {
				q += "&"
			}
			q += fmt.Sprintf("%s=%v", k, val)
		}
		singleBodies = append(singleBodies, Body{Path: path + q, ContentType: "text/csv", Data: []byte(csv.String())})
	}
	sets := [][]map[string]any{
		{{"name": "sma", "params": map[string]any{"period": 20}}, {"name": "ema", "params": map[string]any{"period": 20}},
			{"name": "rsi"}, {"name": "macd"}},
		{{"name": "bbands"}, {"name": "atr"}, {"name": "adx"}, {"name": "stoch"}, {"name": "obv"}},
		{{"name": "vwap"}, {"name": "mfi"}, {"name": "cmf"}, {"name": "donchian"}, {"name": "keltner"}, {"name": "sar"}},
	}
	for i, items := range sets {
		t, o, h, l, c, v := Candles(n, 100+i)
		rows := make([]map[string]any, n)
		for j := range rows {
			rows[j] = map[string]any{"t": t[j], "o": o[j], "h": h[j], "l": l[j], "c": c[j], "v": v[j]}
		}
		b, _ := json.Marshal(map[string]any{"candles": rows, "indicators": items})
		batchBodies = append(batchBodies, Body{Path: "/api/v1/indicators/batch", ContentType: "application/json", Data: b, Batch: true})
	}
	return singleBodies, batchBodies
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
