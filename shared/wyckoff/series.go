package wyckoff

import "math"

// series computes the running measures every rule reads, a block of bars
// at a time (before the state machine reads them), so that the value at
// bar i depends only on bars 0..i and is computed by the same operations
// whatever the number of bars that follow (the engine's no-repaint
// guarantee rests on this).
//
// ATR is Wilder's, seeded as TA-Lib seeds it (the mean true range of bars
// 1..p), but evaluated one bar at a time: shared/indicator's ATR advances
// two bars per step for speed, so the value it gives at the last bar of a
// prefix can differ in the last bits from the value at the same bar of a
// longer run, which a never-repainting engine cannot allow.
//
// The measures are kept in a ring of ringLen bars that holds the block
// being measured and the maxLookback bars before it, the most a rule looks
// back (trend_bars, ps_window and sos_window, at their bounds, plus two):
// 24 KB whatever the number of bars. A constant length makes the index a
// mask the compiler knows, with no bounds check.
type series struct {
	ring *[ringLen]measures

	atrPeriod, volPeriod int
	wa, wb               float64 // Wilder's weights (p-1)/p and 1/p
	inv                  float64 // 1/VolPeriod

	// The running state, through the last bar measured.
	prevC, trSum, atr, volSum, volSum2 float64
}

// measures are the running measures of one bar against the bars before
// it. Ratios are left to the rules that read them.
type measures struct {
	mean, sq float64 // mean volume and mean squared volume of the VolPeriod bars before (of the i bars before in the warm-up, 0 at bar 0)
	atr      float64 // ATR through the previous bar (0 until seeded)
}

const (
	block       = 512             // bars measured at a time
	ringLen     = 1024            // a power of two
	maxLookback = ringLen - block // TestRingHoldsLookback
)

// newSeries returns a series for parameters p.
func newSeries(p *Params) *series {
	return &series{ring: new([ringLen]measures), atrPeriod: p.ATRPeriod, volPeriod: p.VolPeriod,
		wa: float64(p.ATRPeriod-1) / float64(p.ATRPeriod), wb: 1 / float64(p.ATRPeriod),
		inv: 1 / float64(p.VolPeriod)}
}

// at returns the measures of bar i, one of the last block+maxLookback bars
// measured.
func (s *series) at(i int) *measures { return &s.ring[i&(ringLen-1)] }

// ready reports whether bar i is warmed up: a full volume baseline and a
// seeded, non-zero ATR (atr > 0 implies i > ATRPeriod).
func (s *series) ready(i int) bool { return i >= s.volPeriod && s.at(i).atr > 0 }

// The candle check works on the bits of |x|: for x >= 0, IEEE 754 orders
// floats as it orders their bits, and NaN and the infinities lie above
// every finite value. So |x| is in [MinAbsValue, MaxAbsValue] when
// bits(|x|) - minAbsBits, as an unsigned number, is at most absSpan (below
// MinAbsValue it wraps around to a huge number).
const (
	minAbsBits = 0x3c32725dd1d243ac // math.Float64bits(MinAbsValue), TestAbsBits
	maxAbsBits = 0x43abc16d674ec800 // math.Float64bits(MaxAbsValue)
	absSpan    = maxAbsBits - minAbsBits
)

// offRange returns how far the bits of |x| lie past minAbsBits: at most
// absSpan when x is 0 or inRange(x), more otherwise (NaN and the
// infinities included). Branch-free, so that the five values of a candle
// are checked with one comparison of their maximum.
func offRange(x float64) uint64 {
	u := math.Float64bits(x) &^ (1 << 63)
	d := u - minAbsBits
	if u == 0 {
		d = 0
	}
	return d
}

// check returns the index of the first of bars from..to-1 that Analyze
// cannot use (the fast test; badCandle says why), or -1.
func check(in *Input, from, to int) int {
	open, high, low, closes, volume := in.Open[:to], in.High[:to], in.Low[:to], in.Close[:to], in.Volume[:to]
	for i := from; i < to; i++ {
		o, h, l, c, v := open[i], high[i], low[i], closes[i], volume[i]
		off := max(offRange(o), offRange(h), offRange(l), offRange(c), offRange(v))
		if off > absSpan || h < l || v < 0 {
			return i
		}
	}
	return -1
}

// The fast test in measure is sound but not complete: a block that passes
// it passes check, and a few blocks that fail it pass check too. For x
// whose bits lie in [base, base+2^58), a positive number, bits(x)-base is
// below 2^58 (for any other x, NaN and negative numbers included, it is
// not), and numbers are all below 2^58 when their OR is. Each window spans
// 64 binary orders of magnitude inside [MinAbsValue, MaxAbsValue]
// (TestFastWindows), so one subtraction and one OR a value, and one test a
// block, vouch for every value: prices in [2^-36, 2^28) (1.5e-11 to
// 2.7e8), volume in [2^-8, 2^56) (0.004 to 7.2e16). A block with a value
// outside (a zero volume, a negative price, a price of 1e9) goes to check,
// which decides.
const (
	priceBase  = (1023 - 36) << 52 // math.Float64bits(0x1p-36)
	volumeBase = (1023 - 8) << 52  // math.Float64bits(0x1p-8)
	fastSpan   = 1 << 58
)

// measure measures bars from..to-1 of the candles, which follow the bars
// measured before. It reports whether they all pass the fast test (see
// fastSpan) of the check Analyze makes, computed in the same pass with no
// branch a bar; when they do not, check decides.
//
// The running state lives in local variables for the loop. The arithmetic
// is the same operations in the same order as when it was done one bar at
// a time, float64() conversions included where a product must not be fused
// into an add: every value is the same to the last bit on every
// architecture.
func (s *series) measure(in *Input, from, to int) (ok bool) {
	open, high, low, closes, volume := in.Open[:to], in.High[:to], in.Low[:to], in.Close[:to], in.Volume[:to]
	ring := s.ring
	ap, vp := s.atrPeriod, s.volPeriod
	wa, wb, inv := s.wa, s.wb, s.inv
	prevC, trSum, atr, volSum, volSum2 := s.prevC, s.trSum, s.atr, s.volSum, s.volSum2
	var out uint64 // the OR of every value's bits less its window's base
	for i := from; i < to; i++ {
		o, h, l, c, v := open[i], high[i], low[i], closes[i], volume[i]
		out |= (math.Float64bits(o) - priceBase) | (math.Float64bits(h) - priceBase) |
			(math.Float64bits(l) - priceBase) | (math.Float64bits(c) - priceBase) |
			(math.Float64bits(v) - volumeBase)
		// A high below its low: h-l negative, its sign bit shifted to
		// 2^58 (the other bits stay below; a -0 fails too, and check
		// passes it).
		out |= math.Float64bits(h-l) >> 5
		// The measures of bar i, against the bars before it.
		m := &ring[i&(ringLen-1)]
		m.atr = atr
		switch {
		case i >= vp:
			m.mean, m.sq = volSum*inv, volSum2*inv
		case i > 0:
			k := float64(i)
			m.mean, m.sq = volSum/k, volSum2/k
		default:
			m.mean, m.sq = 0, 0
		}
		// Fold bar i in.
		if i > ap {
			atr = float64(atr*wa) + float64(trueRange(h, l, prevC)*wb)
		} else if i > 0 {
			trSum += trueRange(h, l, prevC)
			if i == ap {
				atr = trSum / float64(ap)
			}
		}
		prevC = c
		if i >= vp {
			old := volume[i-vp]
			volSum -= old
			volSum2 -= old * old
		}
		volSum += v
		volSum2 += v * v
	}
	s.prevC, s.trSum, s.atr, s.volSum, s.volSum2 = prevC, trSum, atr, volSum, volSum2
	return out < fastSpan
}

func trueRange(h, l, pc float64) float64 {
	r := h - l
	if d := h - pc; d > r {
		r = d
	}
	if d := pc - l; d > r {
		r = d
	}
	return r
}

// ATR returns Wilder's ATR as the engine computes it, one bar at a time
// (NaN before index period). Exported so that it can be checked against
// shared/indicator's TA-Lib ATR.
func ATR(high, low, close []float64, period int) []float64 {
	n := len(close)
	in := Input{Open: close, High: high, Low: low, Close: close, Volume: make([]float64, n)}
	s := newSeries(&Params{ATRPeriod: period, VolPeriod: 1})
	out := make([]float64, n)
	for from := 0; from < n; from += block {
		to := min(from+block, n)
		s.measure(&in, from, to)
		// The measure of bar i is the ATR through bar i-1.
		for i := from; i < to; i++ {
			if i > 0 {
				out[i-1] = s.at(i).atr
			}
		}
	}
	for i := range out {
		switch {
		case i < period:
			out[i] = math.NaN()
		case i == n-1:
			out[i] = s.atr
		}
	}
	return out
}
