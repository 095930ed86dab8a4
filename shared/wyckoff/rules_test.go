package wyckoff

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

func TestRules(t *testing.T) {
	p := DefaultParams()
	bar := func(volRatio, spread float64) *view {
		return &view{v: volRatio, mean: 1, sq: 1.25, h: spread, l: 0, c: 0.4 * spread, atr: 1}
	}
	tests := []struct {
		name   string
		v      verdict
		ok     bool
		failed string // the condition that fails, when !ok
	}{
		{"climax", climax(bar(3.1, 2.4), 6, 12, 9, 1, &p), true, ""},
		{"climax on ordinary volume", climax(bar(1.6, 2.4), 6, 12, 9, 1, &p), false, "volume_ratio"},
		{"climax below an earlier peak", climax(bar(3.1, 2.4), 6, 12, 9, 0.8, &p), false, "volume_of_trend_peak"},
		{"climax on a narrow bar", climax(bar(3.1, 1.2), 6, 12, 9, 1, &p), false, "spread_atr"},
		{"climax after no decline", climax(bar(3.1, 2.4), 2, 3, 9, 1, &p), false, "prior_move_atr"},
		{"AR", automaticRally(5, 6, 8, 0.5, &p), true, ""},
		{"AR too small", automaticRally(3, 6, 8, 0.5, &p), false, "rally_atr"},
		{"AR too slow", automaticRally(5, 16, 8, 0.5, &p), false, "bars_to_min_rally"},
		{"ST", secondaryTest(0.1, 0, 0.3, 0.6, &p), true, ""},
		{"ST mid-range", secondaryTest(0.4, 0, 0.3, 0.6, &p), false, "position_in_range"},
		{"ST too far below", secondaryTest(-0.05, 0.8, 0.3, 0.6, &p), false, "undercut_atr"},
		{"ST on climax volume", secondaryTest(0.1, 0, 0.9, 0.6, &p), false, "volume_vs_climax"},
		{"ST on above-average volume", secondaryTest(0.1, 0, 0.3, 1.4, &p), false, "volume_ratio"},
		{"spring on light volume", spring(0.8, 0.1, 0, 0.6, -0.5, 40, &p), true, ""},
		{"shakeout on heavy volume", spring(1.5, 0.3, 2, 2.8, 3, 40, &p), true, ""},
		{"spring too shallow", spring(0.1, 0.01, 0, 0.6, -0.5, 40, &p), false, "penetration_atr"},
		{"breakdown, not a spring", spring(4, 0.6, 1, 0.6, -0.5, 40, &p), false, "penetration_of_height"},
		{"spring recovered too late", spring(0.8, 0.1, 4, 0.6, -0.5, 40, &p), false, "bars_to_recover"},
		{"test", testOfSpring(0.5, 0.05, 0.5, 6, &p), true, ""},
		{"test under the spring", testOfSpring(-0.2, -0.1, 0.5, 6, &p), false, "above_spring_atr"},
		{"test on more volume", testOfSpring(0.5, 0.05, 1.3, 6, &p), false, "volume_vs_spring"},
		{"test too late", testOfSpring(0.5, 0.05, 0.5, 16, &p), false, "bars_after_spring"},
		{"SOS", breakout(0.6, 2.1, 1.8, 0.8, 60, &p), true, ""},
		{"breakout without volume", breakout(0.6, 1.2, 1.8, 0.8, 60, &p), false, "window_volume_ratio"},
		{"breakout on narrow bars", breakout(0.6, 2.1, 0.7, 0.8, 60, &p), false, "window_spread_atr"},
		{"LPS", lastPoint(0.7, 0.6, 5, &p), true, ""},
		{"LPS too deep", lastPoint(0.3, 0.6, 5, &p), false, "position_in_range"},
		{"LPS on heavy volume", lastPoint(0.7, 1.6, 5, &p), false, "volume_ratio"},
		{"BU", backUp(0.3, 0.6, &p), true, ""},
		{"BU far from resistance", backUp(2, 0.6, &p), false, "distance_to_resistance_atr"},
		{"PS", preliminary(1.8, 1.2, 2, &p), true, ""},
		{"PS below the climax", preliminary(1.8, 1.2, -1, &p), false, "above_climax_atr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.v.ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", tt.v.ok, tt.ok, tt.v.measures())
			}
			s := tt.v.score()
			if s < 0 || s > 1 || (tt.ok && s < 0.5) {
				t.Errorf("score %v", s)
			}
			for _, m := range tt.v.measures() {
				if m.Op != "" && !m.Pass && m.Name != tt.failed {
					t.Errorf("%s failed, want only %q to fail", m.Name, tt.failed)
				}
				if m.Name == tt.failed && m.Pass {
					t.Errorf("%s passed", m.Name)
				}
			}
		})
	}
}

// TestSeriesByHand checks the measures of one bar against values computed
// by hand: volume mean and deviation over the bars before, spread in ATR
// through the previous bar, where the bar closed.
func TestSeriesByHand(t *testing.T) {
	p := DefaultParams()
	p.ATRPeriod, p.VolPeriod = 2, 5
	// Bars 0..5: high, low, close, volume. True ranges: bar1 max(11-9,
	// |11-10|, |10-9|) = 2, bar2 = 12-10 = 2 (close 10.5 inside), bar3:
	// max(12.5-10.5, |12.5-11|, |11-10.5|) = 2... see the table.
	bars := [][4]float64{
		{10.5, 9.5, 10, 100},
		{11, 9, 10.5, 200},  // TR 2
		{12, 10, 11, 300},   // TR 2
		{12, 11, 11.5, 400}, // TR 1
		{13, 11, 12, 500},   // TR 2
		{16, 12, 15, 1500},  // the bar measured
	}
	var in Input
	for _, b := range bars {
		in.Open = append(in.Open, b[2])
		in.High = append(in.High, b[0])
		in.Low = append(in.Low, b[1])
		in.Close = append(in.Close, b[2])
		in.Volume = append(in.Volume, b[3])
	}
	s := newSeries(&p)
	if bad := check(&in, 0, len(bars)); bad >= 0 {
		t.Fatalf("bar %d refused", bad)
	}
	s.measure(&in, 0, len(bars))
	// ATR(2): seed (2+2)/2 = 2 after bar 2; bar 3: (2*1+1)/2 = 1.5; bar 4:
	// (1.5*1+2)/2 = 1.75.
	b := view{h: 16, l: 12, c: 15, v: 1500, atr: s.at(5).atr, mean: s.at(5).mean, sq: s.at(5).sq}
	if b.atr != 1.75 {
		t.Errorf("atr %v, want 1.75", b.atr)
	}
	// Volume 100..500: mean 300, population deviation sqrt(20000) = 141.42.
	if b.mean != 300 || b.volRatio() != 5 {
		t.Errorf("volume mean %v ratio %v", b.mean, b.volRatio())
	}
	if math.Abs(b.volZ()-1200/math.Sqrt(20000)) > 1e-9 {
		t.Errorf("volume z %v", b.volZ())
	}
	// Spread 4 / 1.75; close 15 in 12..16 is 3/4 of the bar.
	if math.Abs(b.spread()-4/1.75) > 1e-12 || b.closePos() != 0.75 || !s.ready(5) {
		t.Errorf("spread %v close position %v ready %v", b.spread(), b.closePos(), s.ready(5))
	}
}

// TestAbsBits: the candle check's constants are the bits of the limits,
// and offRange agrees with inRange on the values around them.
func TestAbsBits(t *testing.T) {
	if math.Float64bits(MinAbsValue) != minAbsBits || math.Float64bits(MaxAbsValue) != maxAbsBits {
		t.Fatalf("minAbsBits %#x, maxAbsBits %#x: want %#x, %#x", uint64(minAbsBits), uint64(maxAbsBits),
			math.Float64bits(MinAbsValue), math.Float64bits(MaxAbsValue))
	}
	for _, x := range []float64{0, math.Copysign(0, -1), MinAbsValue, MaxAbsValue, 1, 5e-324,
		math.Nextafter(MinAbsValue, 0), math.Nextafter(MaxAbsValue, math.Inf(1)), math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.NaN()} {
		for _, y := range []float64{x, -x} {
			if got, want := offRange(y) <= absSpan, inRange(y); got != want {
				t.Errorf("offRange(%v) <= absSpan is %v, inRange %v", y, got, want)
			}
		}
	}
}

// TestFastWindows: the fast test's windows lie within the magnitudes
// Analyze accepts, and measure's verdict agrees with check on blocks with
// one value changed to each edge value.
func TestFastWindows(t *testing.T) {
	for _, base := range []uint64{priceBase, volumeBase} {
		lo, hi := math.Float64frombits(base), math.Float64frombits(base+fastSpan)
		if lo < MinAbsValue || math.Nextafter(hi, 0) > MaxAbsValue {
			t.Errorf("window [%v, %v) outside [MinAbsValue, MaxAbsValue]", lo, hi)
		}
	}
	if math.Float64frombits(priceBase) != 0x1p-36 || math.Float64frombits(volumeBase) != 0x1p-8 {
		t.Errorf("bases %v %v", math.Float64frombits(priceBase), math.Float64frombits(volumeBase))
	}
	edges := []float64{0, math.Copysign(0, -1), MinAbsValue, MaxAbsValue, 0x1p-36, 0x1p28, 0x1p-8, 0x1p56,
		math.Nextafter(0x1p28, 0), math.Nextafter(0x1p56, 0), math.Nextafter(0x1p-36, 0), 1e-19, 1e19,
		math.Inf(1), math.NaN(), 1, 10, 100, 1e9}
	p := DefaultParams()
	for field := range 5 {
		for _, x := range edges {
			for _, y := range []float64{x, -x} {
				series := [][]float64{{10, 10, 10}, {11, 11, 11}, {9, 9, 9}, {10, 10, 10}, {100, 100, 100}}
				series[field] = []float64{10, y, 10}
				in := Input{Open: series[0], High: series[1], Low: series[2], Close: series[3], Volume: series[4]}
				fast := newSeries(&p).measure(&in, 0, 3)
				exact := check(&in, 0, 3) < 0
				if fast && !exact {
					t.Errorf("series %d value %v: the fast test passes what check refuses", field, y)
				}
				// Ordinary candles pass it: the fast path is the common one.
				if (y == 10 || (y == 100 && field != 2) || (y == 1 && field != 1)) && !fast {
					t.Errorf("series %d value %v: the fast test refuses an ordinary candle", field, y)
				}
			}
		}
	}
}

// TestRingHoldsLookback: the series' ring holds the bars the rules look
// back to (trend_bars, ps_window and sos_window bars, plus the two either
// side of a PS) at the parameters' upper bounds.
func TestRingHoldsLookback(t *testing.T) {
	most := 0
	for _, s := range ParamSpecs() {
		switch s.Name {
		case "trend_bars", "ps_window", "sos_window":
			most = max(most, int(s.Max))
		}
	}
	if most+2 > maxLookback {
		t.Errorf("rules look back %d bars, the ring keeps %d", most+2, maxLookback)
	}
}

// TestParamSpecsMatchFields: the k-th parameter sets the k-th field of
// Params, of its type, and that field only.
func TestParamSpecsMatchFields(t *testing.T) {
	specs := ParamSpecs()
	typ := reflect.TypeOf(Params{})
	if typ.NumField() != len(specs) {
		t.Fatalf("%d fields, %d parameters", typ.NumField(), len(specs))
	}
	for k, s := range specs {
		f := typ.Field(k)
		if (s.Type == "integer") != (f.Type.Kind() == reflect.Int) {
			t.Errorf("%s is %s, field %s is %s", s.Name, s.Type, f.Name, f.Type)
		}
		p := DefaultParams()
		s.set(&p, s.Max)
		for j := range specs {
			if got := specs[j].get(&p); j != k && got != specs[j].Default {
				t.Errorf("setting %s changed %s", s.Name, specs[j].Name)
			} else if j == k && got != s.Max {
				t.Errorf("%s set to %v reads %v", s.Name, s.Max, got)
			}
		}
	}
	// Names follow the fields: atr_period is ATRPeriod, reversal Reversal.
	if specs[0].Name != "atr_period" || typ.Field(0).Name != "ATRPeriod" || specs[len(specs)-1].Name != "reversal" || typ.Field(len(specs)-1).Name != "Reversal" {
		t.Error("the table and the fields are out of order")
	}
}

// TestAppendFixed: the sentences' number printer prints what strconv
// prints, on values chosen at the rounding boundaries and at random.
func TestAppendFixed(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 0.04, -0.04, 0.05, -0.05, 0.15, 0.25, 0.35, 0.45, 2.5, 3.5, -2.5,
		0.95, 9.95, 99.95, 1e11, 1e12, 1e12 - 0.05, 123456789012.34, 1e300, 5e-324, math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), 0.1 + 0.2, 1.0 / 3, 2.0 / 3}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		// Magnitudes from 1e-6 to 1e13, halves and tenths near the ties.
		x := math.Pow(10, r.Float64()*19-6) * (1 - 2*float64(r.IntN(2)))
		xs = append(xs, x, math.Round(x*10)/10+0.05, math.Round(x)+0.5, math.Nextafter(math.Round(x)+0.5, 0))
	}
	for _, x := range xs {
		for prec := range 2 {
			got := string(appendFixed(nil, x, prec))
			if want := strconv.FormatFloat(x, 'f', prec, 64); got != want {
				t.Fatalf("appendFixed(%v, %d) = %q, strconv %q", x, prec, got, want)
			}
		}
	}
}
