package wyckoff

import "math"

// series holds the running measures every rule reads, updated one bar at a
// time so that the value at bar i depends only on bars 0..i and is computed
// by the same operations whatever the number of bars that follow (the
// engine's no-repaint guarantee rests on this).
//
// ATR is Wilder's, seeded as TA-Lib seeds it (the mean true range of bars
// 1..p), but evaluated one bar at a time: shared/indicator's ATR advances
// two bars per step for speed, so the value it gives at the last bar of a
// prefix can differ in the last bits from the value at the same bar of a
// longer run, which a never-repainting engine cannot allow.
type series struct {
	p Params

	n        int // bars seen
	prevC    float64
	trSum    float64
	atr      float64 // ATR through the previous bar (0 until seeded)
	volRing  []float64
	volSum   float64
	volSum2  float64
	volCount int
	slot     int
	a, b     float64 // Wilder's weights (p-1)/p and 1/p
	inv      float64 // 1/VolPeriod
}

// features are the running measures of one bar against the bars before
// it. Ratios are left to the rules that read them.
type features struct {
	atr      float64 // ATR through the previous bar
	mean, sq float64 // mean volume and mean squared volume of the VolPeriod bars before
	ready    bool    // ATR and the volume baseline are warmed up
}

func newSeries(p Params) *series {
	return &series{p: p, volRing: make([]float64, p.VolPeriod),
		a: float64(p.ATRPeriod-1) / float64(p.ATRPeriod), b: 1 / float64(p.ATRPeriod),
		inv: 1 / float64(p.VolPeriod)}
}

// next measures bar i and then folds it into the running state.
func (s *series) next(h, l, c, v float64) features {
	f := features{atr: s.atr}
	switch {
	case s.volCount == s.p.VolPeriod:
		f.mean, f.sq = s.volSum*s.inv, s.volSum2*s.inv
	case s.volCount > 0:
		k := float64(s.volCount)
		f.mean, f.sq = s.volSum/k, s.volSum2/k
	}
	f.ready = s.n > s.p.ATRPeriod && s.volCount == s.p.VolPeriod && f.atr > 0

	// Fold the bar in.
	p := s.p.ATRPeriod
	if s.n > 0 {
		tr := trueRange(h, l, s.prevC)
		switch {
		case s.n < p:
			s.trSum += tr
		case s.n == p:
			s.trSum += tr
			s.atr = s.trSum / float64(p)
		default:
			s.atr = float64(s.atr*s.a) + float64(tr*s.b)
		}
	}
	s.prevC = c
	slot := s.slot
	if s.slot++; s.slot == s.p.VolPeriod {
		s.slot = 0
	}
	if s.volCount == s.p.VolPeriod {
		old := s.volRing[slot]
		s.volSum -= old
		s.volSum2 -= old * old
	} else {
		s.volCount++
	}
	s.volRing[slot] = v
	s.volSum += v
	s.volSum2 += v * v
	s.n++
	return f
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
	out := make([]float64, len(close))
	s := newSeries(Params{ATRPeriod: period, VolPeriod: 1})
	for i := range close {
		s.next(high[i], low[i], close[i], 0)
		out[i] = math.NaN()
		if i >= period {
			out[i] = s.atr
		}
	}
	return out
}
