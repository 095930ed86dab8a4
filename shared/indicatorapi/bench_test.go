package indicatorapi_test

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/indicatorapi"
)

// The request path: decode, compute and encode a 10k-candle request, for
// one indicator and for a batch of ten, against the same work done with
// encoding/json into structs (the engine is the same on both sides, so
// the difference is the request path).
//
//	go test -run '^$' -bench RequestPath -benchmem ./shared/indicatorapi

const pathCandles = 10_000

var batchOfTen = `[{"name":"sma"},{"name":"ema"},{"name":"rsi"},{"name":"macd"},{"name":"bbands"},` +
	`{"name":"atr"},{"name":"adx"},{"name":"stoch"},{"name":"obv"},{"name":"cci"}]`

type stdCandle struct {
	T int64   `json:"t"`
	O float64 `json:"o"`
	H float64 `json:"h"`
	L float64 `json:"l"`
	C float64 `json:"c"`
	V float64 `json:"v"`
}

type stdItem struct {
	Name   string             `json:"name"`
	Params map[string]float64 `json:"params"`
}

type stdRequest struct {
	Candles    []stdCandle        `json:"candles"`
	Params     map[string]float64 `json:"params"`
	Indicators []stdItem          `json:"indicators"`
}

type stdResult struct {
	Indicator string                `json:"indicator"`
	Params    map[string]float64    `json:"params"`
	Count     int                   `json:"count"`
	Values    map[string][]*float64 `json:"values"`
}

// stdPath is the baseline: encoding/json in and out, with the same
// validation and the same engine.
func stdPath(body []byte, names []stdItem) []byte {
	var req stdRequest
	if err := json.Unmarshal(body, &req); err != nil {
		panic(err)
	}
	n := len(req.Candles)
	in := indicator.Input{Open: make([]float64, n), High: make([]float64, n), Low: make([]float64, n), Close: make([]float64, n), Volume: make([]float64, n)}
	for i, c := range req.Candles {
		if math.IsNaN(c.O+c.H+c.L+c.C+c.V) || c.H < c.L || (i > 0 && c.T <= req.Candles[i-1].T) {
			panic("invalid candle")
		}
		in.Open[i], in.High[i], in.Low[i], in.Close[i], in.Volume[i] = c.O, c.H, c.L, c.C, c.V
	}
	items := names
	if items == nil {
		items = req.Indicators
	}
	var results []stdResult
	for _, it := range items {
		spec, _ := indicator.Lookup(it.Name)
		p, err := spec.Resolve(it.Params)
		if err != nil {
			panic(err)
		}
		outs, err := spec.Run(in, p)
		if err != nil {
			panic(err)
		}
		res := stdResult{Indicator: spec.Name, Params: p, Count: n, Values: map[string][]*float64{}}
		for k, name := range spec.Outputs {
			vals := make([]*float64, n)
			for i := range outs[k] {
				if !math.IsNaN(outs[k][i]) {
					vals[i] = &outs[k][i]
				}
			}
			res.Values[name] = vals
		}
		results = append(results, res)
	}
	var out []byte
	var err error
	if names != nil {
		out, err = json.Marshal(results[0])
	} else {
		out, err = json.Marshal(map[string]any{"results": results, "count": len(results)})
	}
	if err != nil {
		panic(err)
	}
	return out
}

// requestBody is a 10k-candle request with prices in cents and whole
// volumes, as market data comes.
func requestBody(extra string) []byte {
	cs := walk(pathCandles)
	round := func(v []float64) {
		for i := range v {
			v[i] = math.Round(v[i]*100) / 100
		}
	}
	round(cs.o)
	round(cs.h)
	round(cs.l)
	round(cs.c)
	return []byte(cs.rows(extra))
}

// BenchmarkRequestStages splits the request path of our single and batch
// requests into decoding, computing and encoding.
func BenchmarkRequestStages(b *testing.B) {
	for _, tc := range []struct {
		name  string
		body  []byte
		items []stdItem
	}{
		{"single", requestBody(`,"params":{"period":14}`), []stdItem{{Name: "rsi", Params: map[string]float64{"period": 14}}}},
		{"batch10", requestBody(`,"indicators":` + batchOfTen), nil},
	} {
		req, err := candle.Decode("application/json", tc.body, nil, candle.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		items := tc.items
		if items == nil {
			for _, it := range req.Items {
				items = append(items, stdItem{Name: it.Name, Params: it.Params})
			}
		}
		set := req.Candles
		in := indicator.Input{Open: set.Open, High: set.High, Low: set.Low, Close: set.Close, Volume: set.Volume}
		var results []candle.Result
		for _, it := range items {
			spec, _ := indicator.Lookup(it.Name)
			p, _ := spec.Resolve(it.Params)
			outs, _ := spec.Run(in, p)
			r := candle.Result{Indicator: spec.Name}
			for k, name := range spec.Outputs {
				r.Outputs = append(r.Outputs, candle.Output{Name: name, Values: outs[k]})
			}
			results = append(results, r)
		}
		b.Run(tc.name+"/decode", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := candle.Decode("application/json", tc.body, nil, candle.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/compute", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, it := range items {
					spec, _ := indicator.Lookup(it.Name)
					p, _ := spec.Resolve(it.Params)
					if _, err := spec.Run(in, p); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		for _, p := range []int{0, 10} {
			name := tc.name + "/encode"
			if p != 0 {
				name += "-precision" + strconv.Itoa(p)
			}
			b.Run(name, func(b *testing.B) {
				var buf []byte
				for i := 0; i < b.N; i++ {
					buf = buf[:0]
					for _, r := range results {
						r.Precision = p
						buf = candle.AppendResult(buf, r)
					}
				}
			})
		}
		b.Run(tc.name+"/checksum", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_ = set.Checksum()
			}
		})
	}
}

// BenchmarkRequestPath reports wall time and the process's CPU time per
// request (cpu-ns/op), which other work on a shared machine inflates far
// less than wall time.
func BenchmarkRequestPath(b *testing.B) {
	single := requestBody(`,"params":{"period":14}`)
	batch := requestBody(`,"indicators":` + batchOfTen)
	post := func() *http.Request {
		r, _ := http.NewRequest("POST", "/api/v1/indicators/rsi", strings.NewReader(""))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	b.Run("single/ours", func(b *testing.B) {
		r := post()
		cpu0 := cpuTime()
		b.SetBytes(int64(len(single)))
		for i := 0; i < b.N; i++ {
			if _, err := indicatorapi.Compute("rsi", r, single); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pathCandles, "ns/candle")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("single/encoding-json", func(b *testing.B) {
		cpu0 := cpuTime()
		b.SetBytes(int64(len(single)))
		for i := 0; i < b.N; i++ {
			stdPath(single, []stdItem{{Name: "rsi", Params: map[string]float64{"period": 14}}})
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pathCandles, "ns/candle")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("batch10/ours", func(b *testing.B) {
		r := post()
		cpu0 := cpuTime()
		b.SetBytes(int64(len(batch)))
		for i := 0; i < b.N; i++ {
			if _, err := indicatorapi.Batch(r, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pathCandles, "ns/candle")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
	// At precision=10 encoding costs less, so the batch's extra outputs do.
	singleP10 := requestBody(`,"precision":10,"params":{"period":14}`)
	batchP10 := requestBody(`,"precision":10,"indicators":` + batchOfTen)
	b.Run("single-precision10/ours", func(b *testing.B) {
		r := post()
		cpu0 := cpuTime()
		b.SetBytes(int64(len(singleP10)))
		for i := 0; i < b.N; i++ {
			if _, err := indicatorapi.Compute("rsi", r, singleP10); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pathCandles, "ns/candle")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("batch10-precision10/ours", func(b *testing.B) {
		r := post()
		cpu0 := cpuTime()
		b.SetBytes(int64(len(batchP10)))
		for i := 0; i < b.N; i++ {
			if _, err := indicatorapi.Batch(r, batchP10); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pathCandles, "ns/candle")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("batch10/encoding-json", func(b *testing.B) {
		cpu0 := cpuTime()
		b.SetBytes(int64(len(batch)))
		for i := 0; i < b.N; i++ {
			stdPath(batch, nil)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pathCandles, "ns/candle")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

// cpuTime returns the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
