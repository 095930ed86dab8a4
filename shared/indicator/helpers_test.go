package indicator

import (
	"math"
	"math/rand"
	"testing"
)

// walk returns n candles of a seeded random walk around price level scale:
// closes move by ~1% a bar, opens are the previous close, highs and lows
// straddle them, volumes are 1e3..1e5. Every tenth bar repeats the previous
// close and every twentieth has high == low, so ties and zero ranges occur.
func walk(seed int64, n int, scale float64) Input {
	r := rand.New(rand.NewSource(seed))
	in := Input{
		Open: make([]float64, n), High: make([]float64, n), Low: make([]float64, n),
		Close: make([]float64, n), Volume: make([]float64, n),
	}
	c := scale
	for i := 0; i < n; i++ {
		o := c
		// The float64 conversions keep the data identical on platforms
		// where the compiler would fuse a multiply-add (arm64).
		if i%10 != 3 {
			c = c * (1 + float64(0.01*r.NormFloat64()))
		}
		h := max(o, c) * (1 + float64(0.005*math.Abs(r.NormFloat64())))
		l := min(o, c) * (1 - float64(0.005*math.Abs(r.NormFloat64())))
		if i%20 == 7 {
			o, h, l = c, c, c
		}
		in.Open[i], in.High[i], in.Low[i], in.Close[i] = o, h, l, c
		in.Volume[i] = math.Round(1e3 + float64(1e5*r.Float64()))
	}
	return in
}

// flat returns n identical candles at price with random volumes.
func flat(seed int64, n int, price float64) Input {
	r := rand.New(rand.NewSource(seed))
	in := Input{
		Open: make([]float64, n), High: make([]float64, n), Low: make([]float64, n),
		Close: make([]float64, n), Volume: make([]float64, n),
	}
	for i := 0; i < n; i++ {
		in.Open[i], in.High[i], in.Low[i], in.Close[i] = price, price, price, price
		in.Volume[i] = math.Round(1e3 + float64(1e5*r.Float64()))
	}
	return in
}

// ticks returns a walk on a 0.01 tick grid with small moves, so equal
// highs, lows and closes are frequent.
func ticks(seed int64, n int) Input {
	r := rand.New(rand.NewSource(seed))
	in := Input{
		Open: make([]float64, n), High: make([]float64, n), Low: make([]float64, n),
		Close: make([]float64, n), Volume: make([]float64, n),
	}
	c := 100.0
	for i := 0; i < n; i++ {
		o := c
		c = math.Round((c+float64(0.01*float64(r.Intn(5)-2)))*100) / 100
		h := math.Round((max(o, c)+float64(0.01*float64(r.Intn(2))))*100) / 100
		l := math.Round((min(o, c)-float64(0.01*float64(r.Intn(2))))*100) / 100
		in.Open[i], in.High[i], in.Low[i], in.Close[i] = o, h, l, c
		in.Volume[i] = float64(r.Intn(3) * 100)
	}
	return in
}

// collapse returns a walk around 80 whose prices fall by the factor drop
// over eight bars in the middle, as a crashing market does. Running sums keep
// rounding residue from before the collapse, which is then large relative
// to the prices: only TA-Lib's own sequence of operations reproduces it.
func collapse(seed int64, n int, drop float64) Input {
	in := walk(seed, n, 80)
	f := 1.0
	step := math.Sqrt(math.Sqrt(math.Sqrt(drop))) // drop^(1/8), correctly rounded everywhere
	for i := range in.Close {
		if i >= n/2 && i < n/2+8 {
			f /= step
		}
		in.Open[i] *= f
		in.High[i] *= f
		in.Low[i] *= f
		in.Close[i] *= f
	}
	return in
}

func withZeroVolume(in Input) Input {
	in.Volume = make([]float64, len(in.Close))
	return in
}

// prefix returns the first n candles.
func prefix(in Input, n int) Input {
	cut := func(x []float64) []float64 {
		if x == nil {
			return nil
		}
		return x[:n:n]
	}
	return Input{cut(in.Open), cut(in.High), cut(in.Low), cut(in.Close), cut(in.Volume)}
}

func maxAbs(xs ...[]float64) float64 {
	m := 0.0
	for _, x := range xs {
		for _, v := range x {
			m = max(m, math.Abs(v))
		}
	}
	return m
}

func sumAbs(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += math.Abs(v)
	}
	return s
}

// close reports whether got matches want within a relative difference of
// 1e-9: |got-want| <= 1e-9*max(|want|, floor). The floor is the natural
// scale of the output (the price level for price-valued outputs, 100 for
// 0..100 oscillators, ...): it stands in for |want| when want is near zero
// and its digits are only the rounding residue of cancelling terms.
func closeTo(got, want, floor float64) bool {
	return math.Abs(got-want) <= 1e-9*max(math.Abs(want), floor)
}

// checkSeries compares got[begin:] with want[begin:] (closeTo with floor(i)
// at bar i), and requires got[:begin] to be NaN and got[begin:] to be
// finite.
func checkSeries(t *testing.T, name string, got, want []float64, begin int, floor func(i int) float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", name, len(got), len(want))
	}
	for i, v := range got {
		if i < begin {
			if !math.IsNaN(v) {
				t.Fatalf("%s[%d] = %v during warm-up (begin %d), want NaN", name, i, v, begin)
			}
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s[%d] = %v, want a finite value (begin %d)", name, i, v, begin)
		}
		if f := floor(i); !closeTo(v, want[i], f) {
			t.Fatalf("%s[%d] = %.17g, want %.17g (diff %.3g, floor %g)", name, i, v, want[i], v-want[i], f)
		}
	}
}

func mustLookup(t testing.TB, name string) Spec {
	t.Helper()
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) failed", name)
	}
	return s
}

func mustResolve(t testing.TB, s Spec, raw map[string]float64) Params {
	t.Helper()
	p, err := s.Resolve(raw)
	if err != nil {
		t.Fatalf("%s.Resolve(%v): %v", s.Name, raw, err)
	}
	return p
}

func mustRun(t testing.TB, s Spec, in Input, p Params) [][]float64 {
	t.Helper()
	out, err := s.Run(in, p)
	if err != nil {
		t.Fatalf("%s.Run: %v", s.Name, err)
	}
	return out
}
