package indicator

import (
	"errors"
	"math"
	"math/rand"
	"sort"
	"testing"
)

var nan = math.NaN()

// checkValues compares got with hand-computed want (NaN meaning warm-up)
// to 1e-12 relative.
func checkValues(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.IsNaN(want[i]) {
			if !math.IsNaN(got[i]) {
				t.Errorf("%s[%d] = %v, want NaN (warm-up)", name, i, got[i])
			}
			continue
		}
		if math.Abs(got[i]-want[i]) > 1e-12*max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.15g, want %.15g", name, i, got[i], want[i])
		}
	}
}

func run(t *testing.T, name string, in Input, raw map[string]float64) [][]float64 {
	t.Helper()
	s := mustLookup(t, name)
	return mustRun(t, s, in, mustResolve(t, s, raw))
}

func TestHandComputed(t *testing.T) {
	t.Run("vwap", func(t *testing.T) {
		// Typical prices 9, 11, 10, 12 with volumes 100, 300, 0, 100.
		in := Input{
			High:   []float64{10, 12, 11, 13},
			Low:    []float64{8, 10, 9, 11},
			Close:  []float64{9, 11, 10, 12},
			Volume: []float64{100, 300, 0, 100},
		}
		// (900+3300)/400, unchanged by a zero-volume bar, then
		// (4200+1200)/500.
		checkValues(t, "vwap", run(t, "vwap", in, nil)[0], []float64{9, 10.5, 10.5, 10.8})
	})
	t.Run("vwap leading zero volume", func(t *testing.T) {
		in := Input{
			High:   []float64{10, 12, 11},
			Low:    []float64{8, 10, 9},
			Close:  []float64{9, 11, 10},
			Volume: []float64{0, 0, 200},
		}
		// No volume yet: the typical price itself.
		checkValues(t, "vwap", run(t, "vwap", in, nil)[0], []float64{9, 11, 10})
	})
	t.Run("cmf", func(t *testing.T) {
		in := Input{
			High:   []float64{10, 12, 11, 10, 10, 10},
			Low:    []float64{8, 10, 9, 10, 9, 9},
			Close:  []float64{9, 12, 9, 10, 10, 9},
			Volume: []float64{100, 300, 200, 50, 0, 0},
		}
		// MFV: 0 (mid-range), +300 (close at high), -200 (close at low),
		// 0 (high == low), 0 and 0 (no volume).
		want := []float64{
			nan,
			(0 + 300.0) / (100 + 300),
			(300 - 200.0) / (300 + 200),
			(-200 + 0.0) / (200 + 50),
			0.0 / 50,
			0, // no volume in the window
		}
		checkValues(t, "cmf", run(t, "cmf", in, map[string]float64{"period": 2})[0], want)
	})
	t.Run("keltner", func(t *testing.T) {
		in := Input{
			High:  []float64{10, 12, 11, 13},
			Low:   []float64{8, 10, 9, 11},
			Close: []float64{9, 11, 10, 12},
		}
		// EMA(2), k = 2/3: seed (9+11)/2 = 10 at index 1, then 10, then
		// 10 + 2/3*(12-10). True ranges of bars 1..3: 3, 2, 3; ATR(2):
		// (3+2)/2 = 2.5 at index 2, then (2.5+3)/2 = 2.75.
		out := run(t, "keltner", in, map[string]float64{"period": 2, "multiplier": 2})
		mid := 10 + 2.0/3*2
		checkValues(t, "upper", out[0], []float64{nan, nan, 15, mid + 5.5})
		checkValues(t, "middle", out[1], []float64{nan, 10, 10, mid})
		checkValues(t, "lower", out[2], []float64{nan, nan, 5, mid - 5.5})
	})
	t.Run("donchian", func(t *testing.T) {
		in := Input{
			High: []float64{1, 3, 2, 5, 4, 1},
			Low:  []float64{0, 1, 1, 2, 3, 0.5},
		}
		out := run(t, "donchian", in, map[string]float64{"period": 3})
		checkValues(t, "upper", out[0], []float64{nan, nan, 3, 5, 5, 5})
		checkValues(t, "middle", out[1], []float64{nan, nan, 1.5, 3, 3, 2.75})
		checkValues(t, "lower", out[2], []float64{nan, nan, 0, 1, 1, 0.5})
	})
	t.Run("macd", func(t *testing.T) {
		// fast 2 (k 2/3), slow 3 (k 1/2), signal 2 (k 2/3) on 1, 3, 2, 6, 4.
		// At index 2: slow seed (1+3+2)/3 = 2, fast seed (3+2)/2 = 2.5
		// (TA-Lib seeds the fast EMA on the bars ending where the slow one
		// starts), macd 0.5. Index 3: fast 29/6, slow 4, macd 5/6; signal
		// seed (0.5 + 5/6)/2 = 2/3. Index 4: fast 77/18, slow 4, macd 5/18,
		// signal 2/3 + 2/3*(5/18 - 2/3) = 11/27.
		in := Input{Close: []float64{1, 3, 2, 6, 4}}
		out := run(t, "macd", in, map[string]float64{"fast_period": 2, "slow_period": 3, "signal_period": 2})
		checkValues(t, "macd", out[0], []float64{nan, nan, nan, 5.0 / 6, 5.0 / 18})
		checkValues(t, "signal", out[1], []float64{nan, nan, nan, 2.0 / 3, 11.0 / 27})
		checkValues(t, "hist", out[2], []float64{nan, nan, nan, 1.0 / 6, -7.0 / 54})
	})
	t.Run("mfi", func(t *testing.T) {
		// Typical prices 2, 3, 2, 4, 4: flows +30, -40, +40, none.
		in := Input{
			High:   []float64{3, 4, 3, 5, 5},
			Low:    []float64{1, 2, 1, 3, 3},
			Close:  []float64{2, 3, 2, 4, 4},
			Volume: []float64{10, 10, 20, 10, 50},
		}
		want := []float64{nan, nan, 100 * 30.0 / 70, 50, 100}
		checkValues(t, "mfi", run(t, "mfi", in, map[string]float64{"period": 2})[0], want)
		// The same with money flows below 1.0: TA-Lib 0.6 gives 0.
		for i := range in.Volume {
			in.Volume[i] /= 1000
		}
		checkValues(t, "mfi small", run(t, "mfi", in, map[string]float64{"period": 2})[0], []float64{nan, nan, 0, 0, 0})
	})
	t.Run("obv", func(t *testing.T) {
		in := Input{Close: []float64{10, 11, 11, 9, 12}, Volume: []float64{5, 7, 3, 2, 4}}
		// TA-Lib starts at the first volume.
		checkValues(t, "obv", run(t, "obv", in, nil)[0], []float64{5, 12, 12, 10, 14})
	})
	t.Run("rsi", func(t *testing.T) {
		// period 2 on 1, 2, 1, 3: seed gains (1+0)/2, losses (0+1)/2 → 50;
		// then gain (0.5+2)/2 = 1.25, loss 0.5/2 = 0.25 → 100*1.25/1.5.
		in := Input{Close: []float64{1, 2, 1, 3}}
		checkValues(t, "rsi", run(t, "rsi", in, map[string]float64{"period": 2})[0], []float64{nan, nan, 50, 100 * 1.25 / 1.5})
	})
}

func TestFlatAndZeroVolume(t *testing.T) {
	in := withZeroVolume(flat(1, 200, 100))
	zero := map[string]bool{ // indicators that are 0 on a flat series (TA-Lib's choice)
		"rsi": true, "roc": true, "mom": true, "macd": true, "stochrsi": true, "atr": true,
		"natr": true, "cci": true, "willr": true, "adx": true, "stoch": true, "mfi": true,
		"ad": true, "adosc": true, "cmf": true, "obv": true,
	}
	for _, spec := range Catalog() {
		p := spec.Defaults()
		out := mustRun(t, spec, in, p)
		lbs := spec.OutputLookbacks(p)
		for k, o := range out {
			for i := lbs[k]; i < len(o); i++ {
				v := o[i]
				if zero[spec.Name] {
					if math.Abs(v) > 1e-9 {
						t.Fatalf("%s.%s[%d] = %v on a flat series, want 0", spec.Name, spec.Outputs[k], i, v)
					}
				} else if spec.Name != "sar" && math.Abs(v-100) > 1e-9 {
					t.Fatalf("%s.%s[%d] = %v on a flat series at 100, want 100", spec.Name, spec.Outputs[k], i, v)
				}
			}
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		indicator string
		raw       map[string]float64
		want      Params // on success
		errParam  string // on failure
	}{
		{"defaults", "sma", nil, Params{"period": 20}, ""},
		{"explicit", "sma", map[string]float64{"period": 2}, Params{"period": 2}, ""},
		{"partial defaults", "macd", map[string]float64{"fast_period": 5},
			Params{"fast_period": 5, "slow_period": 26, "signal_period": 9}, ""},
		{"number param", "bbands", map[string]float64{"std_dev": 2.5}, Params{"period": 20, "std_dev": 2.5}, ""},
		{"max period", "ema", map[string]float64{"period": MaxCandles}, Params{"period": MaxCandles}, ""},
		{"no params", "obv", nil, Params{}, ""},
		{"unknown", "sma", map[string]float64{"length": 5}, nil, "length"},
		{"unknown first in sorted order", "rsi", map[string]float64{"zeta": 1, "alpha": 1, "period": 3}, nil, "alpha"},
		{"unknown on parameterless", "obv", map[string]float64{"period": 5}, nil, "period"},
		{"below min", "sma", map[string]float64{"period": 1}, nil, "period"},
		{"above max", "sma", map[string]float64{"period": MaxCandles + 1}, nil, "period"},
		{"zero", "atr", map[string]float64{"period": 0}, nil, "period"},
		{"negative", "roc", map[string]float64{"period": -3}, nil, "period"},
		{"non-integer", "rsi", map[string]float64{"period": 14.5}, nil, "period"},
		{"NaN", "rsi", map[string]float64{"period": math.NaN()}, nil, "period"},
		{"infinite", "bbands", map[string]float64{"std_dev": math.Inf(1)}, nil, "std_dev"},
		{"number below min", "bbands", map[string]float64{"std_dev": 0}, nil, "std_dev"},
		{"sar maximum", "sar", map[string]float64{"maximum": 2}, nil, "maximum"},
		{"macd fast = slow", "macd", map[string]float64{"fast_period": 26, "slow_period": 26}, nil, "fast_period"},
		{"macd fast > slow", "macd", map[string]float64{"fast_period": 30}, nil, "fast_period"},
		{"adosc fast > slow", "adosc", map[string]float64{"fast_period": 10, "slow_period": 3}, nil, "fast_period"},
		{"bounds before cross rule", "macd", map[string]float64{"fast_period": 1, "slow_period": 1}, nil, "fast_period"},
		{"stoch smallest", "stoch", map[string]float64{"k_period": 1, "k_smooth": 1, "d_period": 1},
			Params{"k_period": 1, "k_smooth": 1, "d_period": 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLookup(t, tt.indicator)
			got, err := s.Resolve(tt.raw)
			if tt.errParam != "" {
				var pe *ParamError
				if !errors.As(err, &pe) {
					t.Fatalf("Resolve(%v) error = %v, want *ParamError", tt.raw, err)
				}
				if pe.Param != tt.errParam || pe.Reason == "" {
					t.Fatalf("Resolve(%v) = ParamError{%q, %q}, want param %q", tt.raw, pe.Param, pe.Reason, tt.errParam)
				}
				if got != nil {
					t.Fatalf("Resolve returned params %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%v): %v", tt.raw, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Resolve(%v) = %v, want %v", tt.raw, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("Resolve(%v) = %v, want %v", tt.raw, got, tt.want)
				}
			}
		})
	}
}

func TestComputeRejectsUnresolvedParams(t *testing.T) {
	s := mustLookup(t, "sma")
	in := walk(1, 50, 100)
	out := [][]float64{make([]float64, 50)}
	for _, p := range []Params{{}, {"period": 0}, {"period": 20, "extra": 1}, {"period": 2.5}} {
		var pe *ParamError
		if err := s.Compute(in, p, out); !errors.As(err, &pe) {
			t.Errorf("Compute with %v: error %v, want *ParamError", p, err)
		}
	}
	if got := s.Lookback(Params{"period": 0}); got != -1 {
		t.Errorf("Lookback of bad params = %d, want -1", got)
	}
}

func TestTooFewCandles(t *testing.T) {
	for _, spec := range Catalog() {
		t.Run(spec.Name, func(t *testing.T) {
			p := spec.Defaults()
			need := spec.MinCandles(p)
			if need != spec.Lookback(p)+1 || need < 1 {
				t.Fatalf("MinCandles = %d, Lookback = %d", need, spec.Lookback(p))
			}
			data := walk(3, need, 100)
			_, err := spec.Run(prefix(data, need-1), p)
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, ErrTooFewCandles) {
				t.Fatalf("Run with %d candles: error %v, want ErrTooFewCandles", need-1, err)
			}
			if ie.Need != need || ie.Have != need-1 {
				t.Fatalf("InputError = %+v, want Need %d Have %d", ie, need, need-1)
			}
			out, err := spec.Run(data, p)
			if err != nil {
				t.Fatalf("Run with %d candles: %v", need, err)
			}
			for k, o := range out {
				if v := o[need-1]; math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s[%d] = %v with exactly MinCandles candles", spec.Outputs[k], need-1, v)
				}
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		_, err := mustLookup(t, "obv").Run(Input{}, Params{})
		if !errors.Is(err, ErrTooFewCandles) {
			t.Fatalf("Run on no candles: %v, want ErrTooFewCandles", err)
		}
	})
}

func TestInputShape(t *testing.T) {
	in := walk(1, 30, 100)
	atrSpec := mustLookup(t, "atr")
	p := atrSpec.Defaults()

	missing := in
	missing.High = nil
	_, err := atrSpec.Run(missing, p)
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrMissingSeries) || ie.Series != SeriesHigh {
		t.Errorf("missing high: %v", err)
	}

	short := in
	short.Close = short.Close[:29]
	if _, err := atrSpec.Run(short, p); !errors.As(err, &ie) || !errors.Is(err, ErrLengthMismatch) || ie.Series != SeriesClose {
		t.Errorf("short close: %v", err)
	}

	// Series an indicator does not read are ignored.
	closeOnly := Input{Close: in.Close, Volume: []float64{1}}
	if _, err := mustLookup(t, "ema").Run(closeOnly, mustLookup(t, "ema").Defaults()); err != nil {
		t.Errorf("ema with an unrelated short series: %v", err)
	}

	out := [][]float64{make([]float64, 30), make([]float64, 30)}
	if err := atrSpec.Compute(in, p, out); !errors.Is(err, ErrOutputShape) {
		t.Errorf("two outputs for atr: %v", err)
	}
	if err := atrSpec.Compute(in, p, [][]float64{make([]float64, 29)}); !errors.Is(err, ErrOutputShape) {
		t.Errorf("short output: %v", err)
	}
	if err := (Spec{}).Compute(in, p, out); err == nil {
		t.Error("zero Spec computed")
	}
}

func TestValidate(t *testing.T) {
	good := walk(1, 20, 100)
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(random walk): %v", err)
	}
	if err := (Input{Close: []float64{1, 0, -2}}).Validate(); err != nil {
		t.Fatalf("zero and negative prices: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(in *Input)
		series string
		index  int
		err    error
	}{
		{"NaN", func(in *Input) { in.Close[3] = math.NaN() }, SeriesClose, 3, ErrNotFinite},
		{"Inf", func(in *Input) { in.Open[5] = math.Inf(-1) }, SeriesOpen, 5, ErrNotFinite},
		{"huge", func(in *Input) { in.Volume[2] = 1e19 }, SeriesVolume, 2, ErrOutOfRange},
		{"tiny", func(in *Input) { in.Low[4] = 1e-20 }, SeriesLow, 4, ErrOutOfRange},
		{"high below low", func(in *Input) { in.High[7] = in.Low[7] - 1 }, SeriesHigh, 7, ErrHighBelowLow},
		{"negative volume", func(in *Input) { in.Volume[9] = -1 }, SeriesVolume, 9, ErrNegativeVolume},
		{"length", func(in *Input) { in.Low = in.Low[:10] }, SeriesLow, -1, ErrLengthMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := walk(1, 20, 100)
			tt.mutate(&in)
			err := in.Validate()
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, tt.err) || ie.Series != tt.series || ie.Index != tt.index {
				t.Fatalf("Validate = %v (%+v), want %v at %s[%d]", err, ie, tt.err, tt.series, tt.index)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	cat := Catalog()
	if len(cat) < 26 {
		t.Fatalf("catalog has %d indicators, want at least 26", len(cat))
	}
	names := make([]string, len(cat))
	for i, s := range cat {
		names[i] = s.Name
	}
	if !sort.StringsAreSorted(names) {
		t.Fatalf("catalog not sorted: %v", names)
	}
	seen := map[string]bool{}
	for _, s := range cat {
		if seen[s.Name] {
			t.Fatalf("duplicate %s", s.Name)
		}
		seen[s.Name] = true
		if s.Title == "" || s.Description == "" || s.Conventions == "" || s.Category == "" ||
			len(s.Inputs) == 0 || len(s.Outputs) == 0 || len(s.Outputs) > 3 {
			t.Errorf("%s: incomplete spec %+v", s.Name, s)
		}
		for _, p := range s.Params {
			if (p.Type != TypeInt && p.Type != TypeNumber) || p.Min > p.Default || p.Default > p.Max || p.Description == "" {
				t.Errorf("%s.%s: bad param %+v", s.Name, p.Name, p)
			}
			if p.Type == TypeInt && (p.Min != math.Trunc(p.Min) || p.Default != math.Trunc(p.Default)) {
				t.Errorf("%s.%s: int param with fractional bounds %+v", s.Name, p.Name, p)
			}
		}
		if _, err := s.Resolve(nil); err != nil {
			t.Errorf("%s: defaults do not resolve: %v", s.Name, err)
		}
		got, ok := Lookup(s.Name)
		if !ok || got.Name != s.Name {
			t.Errorf("Lookup(%q) = %v, %v", s.Name, got.Name, ok)
		}
	}
	for _, name := range []string{
		"sma", "ema", "wma", "dema", "tema", "rsi", "roc", "mom", "macd", "bbands", "stochrsi",
		"atr", "natr", "cci", "willr", "adx", "stoch", "sar", "mfi", "obv", "ad", "adosc",
		"cmf", "vwap", "keltner", "donchian",
	} {
		if !seen[name] {
			t.Errorf("catalog lacks %s", name)
		}
	}
	if _, ok := Lookup("SMA"); ok {
		t.Error("Lookup is case-sensitive, SMA found")
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
	// Catalog and Lookup return copies.
	i := sort.SearchStrings(names, "sma")
	cat[i].Params[0].Default = -1
	cat[i].Outputs[0] = "changed"
	again, _ := Lookup("sma")
	if again.Params[0].Default == -1 || again.Outputs[0] == "changed" {
		t.Error("modifying Catalog's result changed the catalog")
	}
	again.Params[0].Default = -2
	if third, _ := Lookup("sma"); third.Params[0].Default != 20 {
		t.Error("modifying Lookup's result changed the catalog")
	}
}

// TestComputeOverwritesOutputs runs every indicator into outputs filled
// with junk (the kernels use output slices as scratch) and into fresh ones,
// with several parameter sets, and requires the same result.
func TestComputeOverwritesOutputs(t *testing.T) {
	in := walk(9, 300, 100)
	for _, spec := range Catalog() {
		sets := []map[string]float64{nil}
		if or, ok := oracles[spec.Name]; ok {
			sets = or.sets
		}
		for _, raw := range sets {
			p := mustResolve(t, spec, raw)
			want := mustRun(t, spec, in, p)
			out := make([][]float64, len(spec.Outputs))
			for k := range out {
				out[k] = make([]float64, len(in.Close))
				for i := range out[k] {
					out[k][i] = 12345.678 * float64(i%7-3)
				}
			}
			if err := spec.Compute(in, p, out); err != nil {
				t.Fatalf("%s %v: %v", spec.Name, raw, err)
			}
			for k := range out {
				for i := range out[k] {
					a, b := out[k][i], want[k][i]
					if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
						t.Fatalf("%s %v %s[%d] = %v into junk, %v into fresh", spec.Name, raw, spec.Outputs[k], i, a, b)
					}
				}
			}
		}
	}
}

// TestWindowExtremes checks the rolling extremes (donchian, willr, stoch)
// against brute force on monotonic series, where TA-Lib's rescanning would
// be quadratic, with windows both inside and beyond the stack buffer.
func TestWindowExtremes(t *testing.T) {
	const n = 2000
	up := make([]float64, n)
	down := make([]float64, n)
	zig := make([]float64, n)
	for i := range up {
		up[i] = float64(i)
		down[i] = float64(n - i)
		zig[i] = float64((i * 7919) % 101)
	}
	for _, series := range [][]float64{up, down, zig} {
		for _, p := range []int{1, 2, 5, 127, 128, 300, n} {
			s := mustLookup(t, "donchian")
			out := mustRun(t, s, Input{High: series, Low: series}, mustResolve(t, s, map[string]float64{"period": float64(p)}))
			for i := p - 1; i < n; i++ {
				hi, lo := series[i], series[i]
				for j := i - p + 1; j <= i; j++ {
					hi, lo = max(hi, series[j]), min(lo, series[j])
				}
				if out[0][i] != hi || out[2][i] != lo {
					t.Fatalf("period %d bar %d: got %v/%v, want %v/%v", p, i, out[0][i], out[2][i], hi, lo)
				}
			}
		}
	}
}

func TestComputeDoesNotAllocate(t *testing.T) {
	in := walk(5, 1000, 100)
	for _, spec := range Catalog() {
		p := spec.Defaults()
		out := make([][]float64, len(spec.Outputs))
		for k := range out {
			out[k] = make([]float64, len(in.Close))
		}
		allocs := testing.AllocsPerRun(5, func() {
			if err := spec.Compute(in, p, out); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Compute allocates %v times", spec.Name, allocs)
		}
	}
}

// TestRandomParamsAndLengths runs every indicator with seeded random
// parameters near their minimums over every length around the warm-up:
// short inputs must fail with ErrTooFewCandles, the others must give NaN
// exactly over each output's warm-up and finite values after it.
func TestRandomParamsAndLengths(t *testing.T) {
	r := rand.New(rand.NewSource(99))
	data := walk(31, 120, 100)
	for _, spec := range Catalog() {
		for trial := 0; trial < 25; trial++ {
			raw := map[string]float64{}
			for _, p := range spec.Params {
				if p.Type == TypeInt {
					raw[p.Name] = p.Min + float64(r.Intn(12))
				} else {
					raw[p.Name] = p.Min + (p.Max-p.Min)*r.Float64()
				}
			}
			if _, ok := raw["fast_period"]; ok && raw["fast_period"] >= raw["slow_period"] {
				raw["slow_period"] = raw["fast_period"] + 1 + float64(r.Intn(5))
			}
			p := mustResolve(t, spec, raw)
			lbs := spec.OutputLookbacks(p)
			need := spec.MinCandles(p)
			for n := 1; n <= need+3 && n <= len(data.Close); n++ {
				out, err := spec.Run(prefix(data, n), p)
				if n < need {
					if !errors.Is(err, ErrTooFewCandles) {
						t.Fatalf("%s %v n=%d: %v, want ErrTooFewCandles", spec.Name, raw, n, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s %v n=%d: %v", spec.Name, raw, n, err)
				}
				for k, o := range out {
					for i, v := range o {
						if (i < lbs[k]) != math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("%s %v n=%d: %s[%d] = %v, warm-up %d", spec.Name, raw, n, spec.Outputs[k], i, v, lbs[k])
						}
					}
				}
			}
		}
	}
}
