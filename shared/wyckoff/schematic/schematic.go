// Package schematic generates candle series with planted Wyckoff
// schematics (accumulation and distribution, schematics #1 and #2) whose
// events and phases are known, and random walks with none, and scores an
// analysis against them. It is the engine's labelled test data: seeded,
// so every figure it gives can be repeated.
//
// The schematics follow the textbook drawings (Pruden, "The Three Skills of
// Top Trading"; Wyckoff's course as taught at the Wyckoff Stock Market
// Institute): a prior trend, PS, a climax, the automatic reaction, a
// secondary test, a phase B of swings inside the range, in schematic #1 a
// spring (upthrust after distribution) and its test, in #2 a higher low
// (lower high) instead, the sign of strength (weakness) across the range, a
// last point of support (supply) and, for accumulation, the back-up. Noise,
// the length of every leg, the depth of every test, the scale of prices and
// volumes are drawn at random.
package schematic

import (
	"math"
	"math/rand/v2"
)

// Kind names a schematic.
type Kind int

// The schematics.
const (
	Accumulation1 Kind = iota
	Accumulation2
	Distribution1
	Distribution2
)

func (k Kind) String() string {
	return [...]string{"accumulation #1", "accumulation #2", "distribution #1", "distribution #2"}[k]
}

// Planted is an event put in the series at Bar.
type Planted struct {
	Type string
	Bar  int
}

// Series is a generated candle series.
type Series struct {
	Kind                           Kind
	Open, High, Low, Close, Volume []float64
	Events                         []Planted
	// Phases holds the first bar of phases A to E (index 0 to 4).
	Phases [5]int
}

type builder struct {
	r      *rand.Rand
	sig    float64 // noise of one bar's close, in price units of x
	noise  float64
	x      float64
	o      []float64
	h, l   []float64
	c, v   []float64
	events []Planted
}

func (b *builder) u(lo, hi float64) float64 { return lo + (hi-lo)*b.r.Float64() }
func (b *builder) n(lo, hi int) int         { return lo + b.r.IntN(hi-lo+1) }

// vol is one bar's volume: mult times the base (1) with lognormal noise.
func (b *builder) vol(mult float64) float64 { return mult * math.Exp(0.25*b.r.NormFloat64()) }

// bar appends one candle and moves x to its close.
func (b *builder) bar(o, h, l, c, mult float64) int {
	b.o, b.h, b.l, b.c = append(b.o, o), append(b.h, math.Max(h, math.Max(o, c))), append(b.l, math.Min(l, math.Min(o, c))), append(b.c, c)
	b.v = append(b.v, b.vol(mult))
	b.x = c
	return len(b.c) - 1
}

// key appends a planted event's candle: its volume is mult times the
// recent mean volume with little noise, so that what the schematic says of
// it (climactic, light) holds against the bars before it.
func (b *builder) key(o, h, l, c, mult float64) int {
	i := b.bar(o, h, l, c, 1)
	b.v[i] = mult * b.recentVol() * math.Exp(0.08*b.r.NormFloat64())
	return i
}

// recentRange is the mean true range of the last 14 bars.
func (b *builder) recentRange() float64 {
	n := len(b.c)
	if n < 2 {
		return b.sig
	}
	s, k := 0.0, 0
	for i := max(1, n-14); i < n; i++ {
		s += math.Max(b.h[i], b.c[i-1]) - math.Min(b.l[i], b.c[i-1])
		k++
	}
	return s / float64(k)
}

func (b *builder) recentVol() float64 {
	n := len(b.v)
	s, k := 0.0, 0
	for i := max(0, n-21); i < n-1; i++ {
		s += b.v[i]
		k++
	}
	if k == 0 {
		return 1
	}
	return s / float64(k)
}

// walk moves the close from x to `to` in n bars along a Brownian bridge,
// each bar's wicks random, every price kept inside [lo, hi].
func (b *builder) walk(to float64, n int, mult, lo, hi float64) {
	w := make([]float64, n+1)
	for j := 1; j <= n; j++ {
		w[j] = w[j-1] + b.r.NormFloat64()*b.sig*b.noise
	}
	from := b.x
	for j := 1; j <= n; j++ {
		f := float64(j) / float64(n)
		c := from + (to-from)*f + w[j] - f*w[n]
		c = math.Min(math.Max(c, lo), hi)
		o := b.x
		hh := math.Max(o, c) + math.Abs(b.r.NormFloat64())*0.35*b.sig
		ll := math.Min(o, c) - math.Abs(b.r.NormFloat64())*0.35*b.sig
		hh, ll = math.Min(hh, hi), math.Max(ll, lo)
		b.bar(o, hh, ll, c, mult*b.u(0.8, 1.2))
	}
}

func (b *builder) plant(typ string, bar int) {
	b.events = append(b.events, Planted{Type: typ, Bar: bar})
}

// Generate draws schematic kind from seed.
func Generate(kind Kind, seed uint64) Series {
	r := rand.New(rand.NewPCG(seed, uint64(kind)+0x9e3779b97f4a7c15))
	b := &builder{r: r, sig: 1, noise: 0}
	b.noise = b.u(0.4, 0.9)
	s := b.sig
	H := b.u(10, 20) * s // range height
	inf := math.Inf(1)
	var ph [5]int

	// Prior trend down into the range (accumulation terms; distribution is
	// drawn mirrored below).
	top := H + b.u(12, 30)*s
	b.x = top
	b.walk(top-b.u(0, 4)*s, b.n(10, 30), 1, -inf, inf)
	psLevel := b.u(0.3, 0.6) * H
	b.walk(psLevel+b.u(1, 3)*s, b.n(20, 50), 1, -inf, inf)
	// PS: a down bar into support on rising volume that holds; then a
	// small bounce and the last leg down.
	ps := b.key(b.x, b.x+0.3*s, psLevel, psLevel+b.u(0.4, 0.8)*s, b.u(1.8, 2.6))
	ph[0] = ps
	b.plant("PS", ps)
	b.walk(psLevel+b.u(1.5, 3)*s, b.n(2, 4), 1.1, psLevel+0.2*s, inf)
	b.walk(b.u(1.5, 3)*s, b.n(4, 8), 1.2, 0.5*s, inf)
	// SC: a wide bar on climactic volume, low at 0, closing off the low.
	spread := b.u(2, 3) * b.recentRange()
	b.x = spread * b.u(0.75, 1)
	sc := b.key(b.x, b.x+0.2*s, 0, spread*b.u(0.25, 0.6), b.u(2.5, 4))
	b.plant("SC", sc)
	// AR: a sharp rally to H.
	b.walk(H-b.u(0.5, 1.5)*s, b.n(4, 8), 1.5, 0.3*s, H-0.3*s)
	ar := b.bar(b.x, H, b.x-0.3*s, H-b.u(0.3, 0.8)*s, 1.3)
	b.plant("AR", ar)
	// ST: back to the SC area on light volume.
	stLow := b.u(0.05, 0.2) * H
	b.walk(stLow+b.u(1, 2)*s, b.n(5, 10), 0.8, stLow+0.5*s, H-0.5*s)
	st := b.key(b.x, b.x+0.2*s, stLow, stLow+b.u(0.3, 0.8)*s, b.u(0.5, 0.75))
	b.plant("ST", st)
	ph[1] = st
	// Phase B: swings inside the range, some back to the lows.
	swings := b.n(1, 3)
	for k := 0; k < swings; k++ {
		b.walk(b.u(0.6, 0.9)*H, b.n(5, 12), 0.9, 0.1*H, 0.95*H)
		low := b.u(0.2, 0.4) * H
		if b.r.IntN(2) == 0 {
			low = b.u(0.06, 0.2) * H
			b.walk(low+b.u(1, 2)*s, b.n(5, 12), 0.8, low+0.5*s, 0.95*H)
			stb := b.key(b.x, b.x+0.2*s, low, low+b.u(0.3, 0.8)*s, b.u(0.5, 0.75))
			b.plant("ST", stb)
			continue
		}
		b.walk(low, b.n(5, 12), 0.8, 0.1*H, 0.95*H)
	}
	b.walk(b.u(0.5, 0.8)*H, b.n(5, 12), 0.9, 0.1*H, 0.95*H)

	spring := kind == Accumulation1 || kind == Distribution1
	if spring {
		// Spring: down to support, through it, and back inside at once.
		b.walk(b.u(1, 2.5)*s, b.n(4, 8), 0.9, 0.5*s, 0.95*H)
		depth := b.u(0.05, 0.18) * H
		shake := b.r.IntN(3) == 0
		vm := b.u(0.6, 1.1)
		if shake {
			vm = b.u(1.8, 3)
		}
		sp := b.key(b.x, b.x+0.2*s, -depth, b.u(0.2, 1)*s, vm)
		b.plant(springName(kind), sp)
		ph[2] = sp
		// Test (accumulation only names it): a rally and a higher low on
		// lighter volume.
		b.walk(b.u(0.3, 0.5)*H, b.n(3, 6), 1, 0.1*s, 0.7*H)
		tl := -depth + b.u(0.3, 0.6)*depth + b.u(0.02, 0.12)*H
		b.walk(tl+b.u(1, 2)*s, b.n(3, 6), 0.7, tl+0.5*s, 0.7*H)
		t := b.key(b.x, b.x+0.2*s, tl, tl+b.u(0.4, 0.9)*s, b.u(0.4, 0.6)*math.Min(vm, 1))
		if kind == Accumulation1 {
			b.plant("Test", t)
		}
	} else {
		// #2: a higher low instead of a spring.
		hl := b.u(0.15, 0.3) * H
		b.walk(hl+b.u(1, 2)*s, b.n(4, 8), 0.8, hl+0.5*s, 0.95*H)
		hb := b.key(b.x, b.x+0.2*s, hl, hl+b.u(0.3, 0.8)*s, b.u(0.5, 0.7))
		ph[2] = hb
	}
	// SOS: the advance across the range, the breakout bar wide and heavy.
	b.walk(H-b.u(1, 2)*s, b.n(4, 8), 1.2, 0.1*H, H-0.5*s)
	sosClose := H + b.u(0.8, 2)*s
	sosLow := math.Min(b.x, sosClose-b.u(1.5, 2.5)*b.recentRange())
	sos := b.key(sosLow+0.2*s, sosClose+b.u(0.1, 0.4)*s, sosLow, sosClose, b.u(2, 3))
	b.plant(sosName(kind), sos)
	ph[3] = sos
	b.walk(H+b.u(0.2, 0.4)*H, b.n(2, 5), 1.3, H, inf)
	// LPS: a pullback into the upper half of the range on light volume.
	lp := b.u(0.6, 0.9) * H
	b.walk(lp+b.u(1, 2)*s, b.n(3, 6), 0.7, lp+0.5*s, inf)
	lps := b.key(b.x, b.x+0.2*s, lp, lp+b.u(0.3, 0.8)*s, b.u(0.4, 0.6))
	b.plant(lpsName(kind), lps)
	// Markup (markdown), with a back-up to the broken resistance.
	b.walk(H+b.u(0.5, 0.8)*H, b.n(4, 8), 1.2, H-0.5*s, inf)
	if kind == Accumulation1 || kind == Accumulation2 {
		bu := H + b.u(-0.05, 0.05)*H
		b.walk(bu+b.u(1, 2)*s, b.n(3, 6), 0.7, bu+0.5*s, inf)
		bb := b.key(b.x, b.x+0.2*s, bu, bu+b.u(0.4, 0.9)*s, b.u(0.4, 0.6))
		b.plant("BU", bb)
	}
	b.walk(H+b.u(2.2, 3)*H, b.n(10, 30), 1.1, H+0.1*H, inf)
	ph[4] = len(b.c) - 1
	for k := ph[3] + 1; k < len(b.c); k++ {
		if b.c[k] >= 2*H {
			ph[4] = k
			break
		}
	}
	b.walk(b.x+b.u(-5, 10)*s, b.n(10, 30), 1, -inf, inf)

	// Scale: prices base + x*unit (mirrored for distribution), volume.
	dist := kind == Distribution1 || kind == Distribution2
	base := math.Exp(b.u(math.Log(5), math.Log(5000)))
	unit := base * b.u(0.002, 0.01)
	vol := math.Exp(b.u(math.Log(1e3), math.Log(1e7)))
	out := Series{Kind: kind, Events: b.events, Phases: ph}
	n := len(b.c)
	out.Open, out.High, out.Low, out.Close, out.Volume = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		o, h, l, c := b.o[i], b.h[i], b.l[i], b.c[i]
		if dist {
			o, h, l, c = -o, -l, -h, -c
			base2 := base + (top+H)*unit*1.5
			out.Open[i], out.High[i], out.Low[i], out.Close[i] = base2+o*unit, base2+h*unit, base2+l*unit, base2+c*unit
		} else {
			out.Open[i], out.High[i], out.Low[i], out.Close[i] = base+o*unit+(top+H)*unit*0.5, base+h*unit+(top+H)*unit*0.5, base+l*unit+(top+H)*unit*0.5, base+c*unit+(top+H)*unit*0.5
		}
		out.Volume[i] = math.Round(b.v[i] * vol)
	}
	if dist {
		for k, e := range out.Events {
			out.Events[k].Type = mirror[e.Type]
		}
	}
	return out
}

var mirror = map[string]string{"PS": "PSY", "SC": "BC", "AR": "AR", "ST": "ST", "Spring": "UTAD",
	"SOS": "SOW", "LPS": "LPSY"}

func springName(Kind) string { return "Spring" }
func sosName(Kind) string    { return "SOS" }
func lpsName(Kind) string    { return "LPS" }

// RandomWalk draws n candles of a geometric random walk with no schematic:
// closes move by 1% a bar (log-normal), wicks are random, and volume is
// log-normal; with busy set, volume also grows with the size of the move,
// as real volume does.
func RandomWalk(n int, seed uint64, busy bool) Series {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := Series{Open: make([]float64, n), High: make([]float64, n), Low: make([]float64, n),
		Close: make([]float64, n), Volume: make([]float64, n)}
	x := 100.0
	for i := 0; i < n; i++ {
		z := r.NormFloat64()
		c := x * math.Exp(0.01*z)
		h := math.Max(x, c) * math.Exp(0.004*math.Abs(r.NormFloat64()))
		l := math.Min(x, c) * math.Exp(-0.004*math.Abs(r.NormFloat64()))
		v := 1e5 * math.Exp(0.4*r.NormFloat64())
		if busy {
			v *= 0.6 + 0.5*math.Abs(z)
		}
		s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i] = x, h, l, c, math.Round(v)
		x = c
	}
	return s
}
