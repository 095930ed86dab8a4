package candle

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// genSet returns n valid candles shaped like exchange data: a price random
// walk with 2 decimals and volumes with up to 6 decimals.
func genSet(n int, seed uint64) Set {
	r := rand.New(rand.NewPCG(seed, 99))
	s := Set{Time: make([]int64, n), Open: make([]float64, n), High: make([]float64, n),
		Low: make([]float64, n), Close: make([]float64, n), Volume: make([]float64, n)}
	price := 43000.0
	for i := range n {
		round := func(f float64) float64 { return math.Round(f*100) / 100 }
		o := round(price)
		c := round(price * (1 + r.NormFloat64()*0.002))
		h := round(math.Max(o, c) * (1 + r.Float64()*0.001))
		l := round(math.Min(o, c) * (1 - r.Float64()*0.001))
		s.Time[i] = 1700000000 + int64(i)*60
		s.Open[i], s.High[i], s.Low[i], s.Close[i] = o, h, l, c
		s.Volume[i] = math.Round(r.ExpFloat64()*10*1e6) / 1e6
		price = c
	}
	return s
}

func rowsJSON(s Set) []byte {
	b := []byte(`{"candles":[`)
	for i := range s.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"t":`...)
		b = strconv.AppendInt(b, s.Time[i], 10)
		for k, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
			b = append(b, `,"`...)
			b = append(b, rowKeys[k+1]...)
			b = append(b, `":`...)
			b = AppendFloat(b, col[i])
		}
		b = append(b, '}')
	}
	return append(b, `],"params":{"period":14}}`...)
}

func columnsJSON(s Set) []byte {
	b := []byte(`{"time":[`)
	for i, t := range s.Time {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, t, 10)
	}
	b = append(b, ']')
	for k, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
		b = append(b, `,"`...)
		b = append(b, colNames[k+1]...)
		b = append(b, `":`...)
		b = AppendFloats(b, col)
	}
	return append(b, `,"params":{"period":14}}`...)
}

func csvBody(s Set) []byte {
	b := []byte(CSVHeader + "\n")
	for i := range s.Len() {
		b = strconv.AppendInt(b, s.Time[i], 10)
		for _, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
			b = append(b, ',')
			b = AppendFloat(b, col[i])
		}
		b = append(b, '\n')
	}
	return b
}

// The encoding/json baselines do the same work as Decode: decode into
// structs, build the Set, validate it.
type stdRows struct {
	Candles []struct {
		T int64   `json:"t"`
		O float64 `json:"o"`
		H float64 `json:"h"`
		L float64 `json:"l"`
		C float64 `json:"c"`
		V float64 `json:"v"`
	} `json:"candles"`
	Params map[string]float64 `json:"params"`
}

type stdColumns struct {
	Time   []int64            `json:"time"`
	Open   []float64          `json:"open"`
	High   []float64          `json:"high"`
	Low    []float64          `json:"low"`
	Close  []float64          `json:"close"`
	Volume []float64          `json:"volume"`
	Params map[string]float64 `json:"params"`
}

func stdDecodeRows(body []byte) (Set, error) {
	s, _, err := stdDecodeRowsParams(body)
	return s, err
}

func stdDecodeRowsParams(body []byte) (Set, map[string]float64, error) {
	var in stdRows
	if err := json.Unmarshal(body, &in); err != nil {
		return Set{}, nil, err
	}
	n := len(in.Candles)
	s := Set{Time: make([]int64, n), Open: make([]float64, n), High: make([]float64, n),
		Low: make([]float64, n), Close: make([]float64, n), Volume: make([]float64, n)}
	for i, c := range in.Candles {
		s.Time[i], s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i] = c.T, c.O, c.H, c.L, c.C, c.V
	}
	return s, in.Params, s.Validate()
}

func stdDecodeColumns(body []byte) (Set, error) {
	var in stdColumns
	if err := json.Unmarshal(body, &in); err != nil {
		return Set{}, err
	}
	s := Set{Time: in.Time, Open: in.Open, High: in.High, Low: in.Low, Close: in.Close, Volume: in.Volume}
	return s, s.Validate()
}

func stdDecodeCSV(body []byte) (Set, error) {
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		return Set{}, err
	}
	recs = recs[1:]
	n := len(recs)
	s := Set{Time: make([]int64, n), Open: make([]float64, n), High: make([]float64, n),
		Low: make([]float64, n), Close: make([]float64, n), Volume: make([]float64, n)}
	for i, rec := range recs {
		if s.Time[i], err = strconv.ParseInt(rec[0], 10, 64); err != nil {
			return Set{}, err
		}
		for k, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
			if col[i], err = strconv.ParseFloat(rec[k+1], 64); err != nil {
				return Set{}, err
			}
		}
	}
	return s, s.Validate()
}

const benchCandles = 10_000

func TestBaselinesAgree(t *testing.T) {
	s := genSet(500, 1)
	for name, f := range map[string]func() (Set, error){
		"rows":    func() (Set, error) { return stdDecodeRows(rowsJSON(s)) },
		"columns": func() (Set, error) { return stdDecodeColumns(columnsJSON(s)) },
		"csv":     func() (Set, error) { return stdDecodeCSV(csvBody(s)) },
	} {
		got, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		assertSetBits(t, got, s)
	}
	for name, body := range map[string][]byte{"rows": rowsJSON(s), "columns": columnsJSON(s)} {
		req, err := Decode(ctJSON, body, nil, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		assertSetBits(t, req.Candles, s)
	}
	req, err := Decode(ctCSV, csvBody(s), nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	assertSetBits(t, req.Candles, s)
}

func BenchmarkDecode(b *testing.B) {
	s := genSet(benchCandles, 1)
	cases := []struct {
		name string
		body []byte
		ours func([]byte) (Set, error)
		std  func([]byte) (Set, error)
	}{
		{"rows", rowsJSON(s), func(body []byte) (Set, error) {
			req, err := Decode(ctJSON, body, nil, Limits{})
			return req.Candles, err
		}, stdDecodeRows},
		{"columns", columnsJSON(s), func(body []byte) (Set, error) {
			req, err := Decode(ctJSON, body, nil, Limits{})
			return req.Candles, err
		}, stdDecodeColumns},
		{"csv", csvBody(s), func(body []byte) (Set, error) {
			req, err := Decode(ctCSV, body, nil, Limits{})
			return req.Candles, err
		}, stdDecodeCSV},
	}
	for _, c := range cases {
		for _, impl := range []struct {
			name string
			f    func([]byte) (Set, error)
		}{{"candle", c.ours}, {"std", c.std}} {
			b.Run(c.name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(c.body)))
				b.ReportAllocs()
				for b.Loop() {
					got, err := impl.f(c.body)
					if err != nil || got.Len() != benchCandles {
						b.Fatalf("decode: %v, %d candles", err, got.Len())
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/candle")
			})
		}
	}
}

// stdResponse is what an encoding/json implementation would marshal.
type stdResponse struct {
	Indicator string                `json:"indicator"`
	Params    map[string]float64    `json:"params"`
	Count     int                   `json:"count"`
	Values    map[string][]*float64 `json:"values"`
	Meta      json.RawMessage       `json:"meta"`
}

// benchValues is an RSI-like output: 14 nulls of warm-up, then values in
// (0, 100) with full float64 precision.
func benchValues(n int) []float64 {
	r := rand.New(rand.NewPCG(8, 9))
	v := make([]float64, n)
	for i := range v {
		if i < 14 {
			v[i] = math.NaN()
		} else {
			v[i] = r.Float64() * 100
		}
	}
	return v
}

func BenchmarkEncode(b *testing.B) {
	values := benchValues(benchCandles)
	meta := []byte(`{"session_id":"ses_1","tokens":123,"tokens_used":456,"tokens_remaining":99544}`)
	b.Run("candle", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = AppendResponse(buf[:0], Result{Indicator: "rsi", Params: []Param{{"period", 14}},
				Outputs: []Output{{"value", values}}}, meta)
		}
		b.SetBytes(int64(len(buf)))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/value")
	})
	b.Run("std", func(b *testing.B) {
		// The []*float64 is built outside the timed loop, in the baseline's favour.
		ptrs := make([]*float64, len(values))
		for i := range values {
			if !math.IsNaN(values[i]) {
				ptrs[i] = &values[i]
			}
		}
		b.ReportAllocs()
		var n int
		for b.Loop() {
			out, err := json.Marshal(stdResponse{Indicator: "rsi", Params: map[string]float64{"period": 14}, Count: len(ptrs),
				Values: map[string][]*float64{"value": ptrs}, Meta: meta})
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/value")
	})
}

// BenchmarkRequestPath is the JSON cost of one 10k-candle request: decode
// and validate rows, then encode a one-output response.
func BenchmarkRequestPath(b *testing.B) {
	s := genSet(benchCandles, 1)
	body := rowsJSON(s)
	values := benchValues(benchCandles)
	meta := []byte(`{"session_id":"ses_1","tokens":123,"tokens_used":456,"tokens_remaining":99544}`)
	b.Run("candle", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			req, err := Decode(ctJSON, body, nil, Limits{})
			if err != nil {
				b.Fatal(err)
			}
			buf = AppendResponse(buf[:0], Result{Indicator: "rsi", Params: SortedParams(req.Params),
				Outputs: []Output{{"value", values}}}, meta)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/candle")
	})
	b.Run("std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, params, err := stdDecodeRowsParams(body)
			if err != nil {
				b.Fatal(err)
			}
			ptrs := make([]*float64, len(values))
			for i := range values {
				if !math.IsNaN(values[i]) {
					ptrs[i] = &values[i]
				}
			}
			if _, err := json.Marshal(stdResponse{Indicator: "rsi", Params: params, Count: len(ptrs),
				Values: map[string][]*float64{"value": ptrs}, Meta: meta}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/candle")
	})
}

func BenchmarkChecksum(b *testing.B) {
	s := genSet(benchCandles, 1)
	b.SetBytes(int64(48 * s.Len()))
	for b.Loop() {
		_ = s.Checksum()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/candle")
}

// BenchmarkEncodeDigits is the encoder alone on 10k RSI-like values: the
// default (shortest round-trip) digits, 10 significant digits, and
// encoding/json on the same values. Besides wall time it reports the
// process's CPU time (cpu-ns/value), which other work on a shared machine
// inflates far less.
func BenchmarkEncodeDigits(b *testing.B) {
	values := benchValues(benchCandles)
	report := func(b *testing.B, cpu0 time.Duration) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/value")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/benchCandles, "cpu-ns/value")
	}
	for _, p := range []int{0, 10} {
		b.Run("precision="+strconv.Itoa(p), func(b *testing.B) {
			var buf []byte
			cpu0 := cpuTime()
			for b.Loop() {
				buf = AppendFloatsPrecision(buf[:0], values, p)
			}
			report(b, cpu0)
		})
	}
	b.Run("encoding-json", func(b *testing.B) {
		ptrs := make([]*float64, len(values))
		for i := range values {
			if !math.IsNaN(values[i]) {
				ptrs[i] = &values[i]
			}
		}
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := json.Marshal(ptrs); err != nil {
				b.Fatal(err)
			}
		}
		report(b, cpu0)
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
