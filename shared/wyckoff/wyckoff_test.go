package wyckoff_test

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

// TestNoRepaint checks the engine's promise for every t: the analysis of
// the first t+1 bars reports exactly the events of the full analysis whose
// confirmed_at <= t, with the same values; and nothing appears later at a
// bar before the prefix's stable_until.
func TestNoRepaint(t *testing.T) {
	var cases []struct {
		name string
		s    schematic.Series
	}
	for k := schematic.Accumulation1; k <= schematic.Distribution2; k++ {
		for seed := uint64(1); seed <= 3; seed++ {
			cases = append(cases, struct {
				name string
				s    schematic.Series
			}{k.String(), schematic.Generate(k, seed)})
		}
	}
	cases = append(cases, struct {
		name string
		s    schematic.Series
	}{"random walk", schematic.RandomWalk(1500, 3, true)}, struct {
		name string
		s    schematic.Series
	}{"random walk iid volume", schematic.RandomWalk(1500, 4, false)})
	p := wyckoff.DefaultParams()
	for _, c := range cases {
		in := c.s.Input()
		full, err := wyckoff.Analyze(in, p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.name != "random walk iid volume" && len(full.Events) == 0 {
			t.Fatalf("%s: no events: the property would hold vacuously", c.name)
		}
		n := len(in.Close)
		for end := 1; end <= n; end++ {
			pre, err := wyckoff.Analyze(prefix(in, end), p)
			if err != nil {
				t.Fatalf("%s prefix %d: %v", c.name, end, err)
			}
			var want []wyckoff.Event
			for _, e := range full.Events {
				if e.ConfirmedAt <= end-1 {
					want = append(want, e)
				}
			}
			if len(want) != len(pre.Events) {
				t.Fatalf("%s prefix %d: %d events, the full run has %d confirmed by then", c.name, end, len(pre.Events), len(want))
			}
			for k := range want {
				if !reflect.DeepEqual(want[k], pre.Events[k]) {
					t.Fatalf("%s prefix %d: event %d differs:\nprefix %+v\nfull   %+v", c.name, end, k, pre.Events[k], want[k])
				}
			}
			for _, e := range full.Events {
				if e.ConfirmedAt > end-1 && e.Bar < pre.StableUntil {
					t.Fatalf("%s prefix %d: stable_until %d but %s at bar %d is confirmed later (%d)", c.name, end, pre.StableUntil, e.Type, e.Bar, e.ConfirmedAt)
				}
			}
		}
	}
}

func prefix(in wyckoff.Input, n int) wyckoff.Input {
	return wyckoff.Input{Open: in.Open[:n:n], High: in.High[:n:n], Low: in.Low[:n:n], Close: in.Close[:n:n], Volume: in.Volume[:n:n]}
}

// TestEvalGoals is the short version of make eval: it fails below the
// issue's goals.
func TestEvalGoals(t *testing.T) {
	r, err := schematic.Evaluate(40, 100000, 1000, wyckoff.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Failures(); len(f) > 0 {
		t.Errorf("goals missed: %v", f)
	}
}

func TestPlantedSchematicsFindTheirRanges(t *testing.T) {
	tests := []struct {
		kind   schematic.Kind
		range_ string
		bias   string
		want   []string
	}{
		{schematic.Accumulation1, wyckoff.Accumulation, wyckoff.Bullish, []string{"SC", "AR", "ST", "Spring", "SOS", "LPS"}},
		{schematic.Accumulation2, wyckoff.Accumulation, wyckoff.Bullish, []string{"SC", "AR", "ST", "SOS", "LPS"}},
		{schematic.Distribution1, wyckoff.Distribution, wyckoff.Bearish, []string{"BC", "AR", "ST", "UTAD", "SOW", "LPSY"}},
		{schematic.Distribution2, wyckoff.Distribution, wyckoff.Bearish, []string{"BC", "AR", "ST", "SOW", "LPSY"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			s := schematic.Generate(tt.kind, 42)
			res, err := wyckoff.Analyze(s.Input(), wyckoff.DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Ranges) != 1 {
				t.Fatalf("%d ranges, want 1", len(res.Ranges))
			}
			g := res.Ranges[0]
			if g.Kind != tt.range_ || g.Bias != tt.bias || g.Status != "completed" || g.Phase != "E" {
				t.Errorf("range %s bias %s status %s phase %s", g.Kind, g.Bias, g.Status, g.Phase)
			}
			if !(g.Support < g.Resistance) || g.Count == nil || g.Count.Columns < 2 {
				t.Errorf("range levels %v-%v, count %+v", g.Support, g.Resistance, g.Count)
			}
			have := map[string]bool{}
			for _, e := range res.Events {
				have[e.Type] = true
				if e.Score < 0 || e.Score > 1 || e.Text == "" || len(e.Evidence) == 0 || e.ConfirmedAt < e.Bar {
					t.Errorf("event %+v", e)
				}
				for _, m := range e.Evidence {
					if m.Op != "" && !m.Pass {
						t.Errorf("%s reported with a failed condition %+v", e.Type, m)
					}
				}
			}
			for _, w := range tt.want {
				if !have[w] {
					t.Errorf("no %s among %v", w, res.Events)
				}
			}
		})
	}
}

// TestATRMatchesIndicator: the engine's own, bar-at-a-time ATR is TA-Lib's
// ATR (shared/indicator) to rounding.
func TestATRMatchesIndicator(t *testing.T) {
	s := schematic.RandomWalk(400, 9, true)
	spec, _ := indicator.Lookup("atr")
	p, _ := spec.Resolve(map[string]float64{"period": 14})
	out, err := spec.Run(indicator.Input{High: s.High, Low: s.Low, Close: s.Close}, p)
	if err != nil {
		t.Fatal(err)
	}
	got := wyckoff.ATR(s.High, s.Low, s.Close, 14)
	for i := 14; i < len(got); i++ {
		if d := math.Abs(got[i]-out[0][i]) / out[0][i]; d > 1e-12 {
			t.Fatalf("ATR[%d] = %v, indicator %v", i, got[i], out[0][i])
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		raw   map[string]float64
		param string
	}{
		{map[string]float64{"atr_period": 10, "climax_volume_ratio": 2.5}, ""},
		{map[string]float64{"nope": 1}, "nope"},
		{map[string]float64{"atr_period": 1}, "atr_period"},
		{map[string]float64{"atr_period": 14.5}, "atr_period"},
		{map[string]float64{"climax_volume_ratio": math.NaN()}, "climax_volume_ratio"},
		{map[string]float64{"st_zone": 1.5}, "st_zone"},
		{map[string]float64{"box_size": 1, "box_percent": 1}, "box_percent"},
	}
	for _, tt := range tests {
		p, err := wyckoff.Resolve(tt.raw)
		var pe *wyckoff.ParamError
		if tt.param == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.raw, err)
			} else if got := p.Map(); got["atr_period"] != tt.raw["atr_period"] || got["climax_volume_ratio"] != 2.5 || got["trend_bars"] != 20 {
				t.Errorf("%v resolved to %v", tt.raw, got)
			}
			continue
		}
		if !errors.As(err, &pe) || pe.Param != tt.param {
			t.Errorf("%v: error %v, want a ParamError on %s", tt.raw, err, tt.param)
		}
	}
}

func TestAnalyzeRefusesBadCandles(t *testing.T) {
	good := schematic.RandomWalk(50, 1, false).Input()
	tests := []struct {
		name string
		mut  func(in *wyckoff.Input)
		want error

		series string
		index  int
	}{
		{"short volume", func(in *wyckoff.Input) { in.Volume = in.Volume[:49] }, wyckoff.ErrLengthMismatch, "close", -1},
		{"NaN close", func(in *wyckoff.Input) { in.Close[7] = math.NaN() }, wyckoff.ErrNotFinite, "close", 7},
		{"infinite volume", func(in *wyckoff.Input) { in.Volume[8] = math.Inf(1) }, wyckoff.ErrNotFinite, "volume", 8},
		{"huge open", func(in *wyckoff.Input) { in.Open[5] = 1e19 }, wyckoff.ErrOutOfRange, "open", 5},
		{"tiny low", func(in *wyckoff.Input) { in.Low[6] = 1e-19 }, wyckoff.ErrOutOfRange, "low", 6},
		{"high below low", func(in *wyckoff.Input) { in.High[3] = in.Low[3] - 1 }, wyckoff.ErrHighBelowLow, "high", 3},
		{"negative volume", func(in *wyckoff.Input) { in.Volume[9] = -1 }, wyckoff.ErrNegativeVolume, "volume", 9},
	}
	for _, tt := range tests {
		in := clone(good)
		tt.mut(&in)
		_, err := wyckoff.Analyze(in, wyckoff.DefaultParams())
		var ie *wyckoff.InputError
		if !errors.Is(err, tt.want) || !errors.As(err, &ie) || ie.Series != tt.series || ie.Index != tt.index {
			t.Errorf("%s: %v, want %v on %s[%d]", tt.name, err, tt.want, tt.series, tt.index)
		}
	}
	zero := clone(good)
	zero.Volume[4], zero.Low[4], zero.Open[4] = 0, 0, 0
	if _, err := wyckoff.Analyze(zero, wyckoff.DefaultParams()); err != nil {
		t.Errorf("zeros refused: %v", err)
	}
	res, err := wyckoff.Analyze(clone(good), wyckoff.DefaultParams())
	if err != nil || res.Bars != 50 || res.Events == nil || res.Ranges == nil {
		t.Errorf("good candles: %+v %v", res, err)
	}
}

func clone(in wyckoff.Input) wyckoff.Input {
	c := func(x []float64) []float64 { return append([]float64(nil), x...) }
	return wyckoff.Input{Open: c(in.Open), High: c(in.High), Low: c(in.Low), Close: c(in.Close), Volume: c(in.Volume)}
}

func TestDeterministic(t *testing.T) {
	in := schematic.Generate(schematic.Distribution1, 5).Input()
	a, _ := wyckoff.Analyze(in, wyckoff.DefaultParams())
	b, _ := wyckoff.Analyze(in, wyckoff.DefaultParams())
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs differ")
	}
}

// TestRulesNameEveryParameter: the published rules and the parameters
// agree both ways.
func TestRulesNameEveryParameter(t *testing.T) {
	known := map[string]bool{}
	for _, s := range wyckoff.ParamSpecs() {
		known[s.Name] = true
		if s.Description == "" || s.Default < s.Min || s.Default > s.Max {
			t.Errorf("parameter %+v", s)
		}
	}
	used := map[string]bool{}
	for _, r := range wyckoff.Rules() {
		if r.Formula == "" {
			t.Errorf("rule %s has no formula", r.Name)
		}
		for _, p := range r.Params {
			if !known[p] {
				t.Errorf("rule %s names unknown parameter %s", r.Name, p)
			}
			used[p] = true
		}
	}
	for p := range known {
		if !used[p] {
			t.Errorf("parameter %s is in no rule", p)
		}
	}
}
