package wyckoff

import (
	"math"
	"strconv"
)

// The sentences of the events, built only from the measured values.
//
// They are appended with strconv rather than fmt.Sprintf: fmt's %.Nf and %d
// print exactly what strconv.AppendFloat(x, 'f', N) and AppendInt print
// (Inf and NaN included), without parsing a format and boxing every
// argument, which cost more than the rules themselves. appendFixed prints
// the same as AppendFloat for the one or no decimal the sentences use,
// faster.

// sentence is the text of the events so far, the one being built at its
// end: each builder appends its sentence and returns the text.
type sentence []byte

// s appends text, f a number with prec decimals (as %.<prec>f), d an
// integer (as %d).
func (b sentence) s(text string) sentence         { return append(b, text...) }
func (b sentence) f(x float64, prec int) sentence { return appendFixed(b, x, prec) }
func (b sentence) d(x int) sentence               { return strconv.AppendInt(b, int64(x), 10) }

// appendFixed appends x with prec decimals (0 or 1), exactly as
// strconv.AppendFloat(b, x, 'f', prec, 64) does (TestAppendFixed), which
// rounds the exact binary value to nearest, ties to even. Here y, |x|
// scaled by 10^prec, is within 2^-14 of the exact |x|*10^prec when below
// 1e12; unless it lies within 1e-3 of a half-integer, no rounding boundary
// separates the two, and rounding y is rounding the exact value. Other
// values (near a tie, large, NaN, infinite) go to strconv.
func appendFixed(b []byte, x float64, prec int) []byte {
	y := math.Abs(x)
	if prec == 1 {
		y *= 10
	} else if prec != 0 {
		return strconv.AppendFloat(b, x, 'f', prec, 64)
	}
	if !(y < 1e12) || math.Abs(y-math.Floor(y)-0.5) < 1e-3 {
		return strconv.AppendFloat(b, x, 'f', prec, 64)
	}
	n := uint64(y + 0.5)
	if math.Signbit(x) {
		b = append(b, '-') // -0.04 prints -0.0, as strconv prints it
	}
	if prec == 0 {
		return strconv.AppendUint(b, n, 10)
	}
	b = strconv.AppendUint(b, n/10, 10)
	return append(b, '.', byte('0'+n%10))
}

func words(dist bool, acc, dis string) string {
	if dist {
		return dis
	}
	return acc
}

func climaxText(s sentence, dist bool, b *view, movePct float64, bars int, p *Params) sentence {
	// volume %.1fx its %d-bar mean on a spread of %.1f ATR, closing %.0f%%
	// of the bar off its %s, after a %.1f%% %s in %d bars
	return s.s("volume ").f(b.volRatio(), 1).s("x its ").d(p.VolPeriod).
		s("-bar mean on a spread of ").f(b.spread(), 1).s(" ATR, closing ").f(100*b.closePos(), 0).
		s("% of the bar off its ").s(words(dist, "low", "high")).s(", after a ").f(movePct, 1).
		s("% ").s(words(dist, "fall", "rise")).s(" in ").d(bars).s(" bars")
}

func arText(s sentence, dist bool, atr, pct float64, bars int, retrace float64) sentence {
	// %s %.1f ATR (%.1f%%) from the climax %s in %d bars, retracing %.0f%%
	// of the move into it
	return s.s(words(dist, "rallied", "fell")).s(" ").f(atr, 1).s(" ATR (").f(pct, 1).
		s("%) from the climax ").s(words(dist, "low", "high")).s(" in ").d(bars).s(" bars, retracing ").
		f(100*retrace, 0).s("% of the move into it")
}

func psText(s sentence, dist bool, volRatio float64, period, before int) sentence {
	// volume %.1fx its %d-bar mean on a %s that held two bars either side,
	// %d bars before the climax
	return s.s("volume ").f(volRatio, 1).s("x its ").d(period).s("-bar mean on a ").
		s(words(dist, "low", "high")).s(" that held two bars either side, ").d(before).s(" bars before the climax")
}

func stText(s sentence, dist bool, volVsClimax, pos float64) sentence {
	// back to the climax area (%.0f%% of the range height %s) on %.0f%% of
	// the climax volume
	return s.s("back to the climax area (").f(100*pos, 0).s("% of the range height ").
		s(words(dist, "above support", "below resistance")).s(") on ").f(100*volVsClimax, 0).
		s("% of the climax volume")
}

func springText(s sentence, dist bool, v *verdict, volRatio float64, p *Params) sentence {
	variant := "on average volume"
	switch {
	case volRatio >= p.SOSVolRatio:
		variant = "on heavy volume: a shakeout, to be tested"
	case volRatio < 1:
		variant = "on light volume: supply is exhausted"
	}
	if dist {
		variant = "on average volume"
		switch {
		case volRatio >= p.SOSVolRatio:
			variant = "on heavy volume: demand met by supply"
		case volRatio < 1:
			variant = "on light volume: no demand above resistance"
		}
	}
	// broke %s by %.1f ATR (%.0f%% of the range height) and closed back
	// inside within %d bars, volume %.1fx its mean %s
	return s.s("broke ").s(words(dist, "support", "resistance")).s(" by ").f(v.m[0].Value, 1).
		s(" ATR (").f(100*v.m[1].Value, 0).s("% of the range height) and closed back inside within ").
		d(int(v.m[2].Value)).s(" bars, volume ").f(volRatio, 1).s("x its mean ").s(variant)
}

func testText(s sentence, volVsSpring float64, bars int) sentence {
	// retested the spring area %d bars after it on %.0f%% of its volume,
	// holding above its low
	return s.s("retested the spring area ").d(bars).s(" bars after it on ").
		f(100*volVsSpring, 0).s("% of its volume, holding above its low")
}

func sosText(s sentence, dist bool, v *verdict, window int) sentence {
	// closed %.1f ATR %s with volume up to %.1fx its mean and a spread up
	// to %.1f ATR in the last %d bars
	return s.s("closed ").f(v.m[0].Value, 1).s(" ATR ").
		s(words(dist, "above resistance", "below support")).s(" with volume up to ").f(v.m[1].Value, 1).
		s("x its mean and a spread up to ").f(v.m[2].Value, 1).s(" ATR in the last ").d(window).s(" bars")
}

func lpsText(s sentence, dist bool, pos, volRatio float64, bars int) sentence {
	// %s %d bars after the %s, holding %.0f%% of the range height %s, on
	// volume %.1fx its mean
	return s.s(words(dist, "pulled back", "rallied")).s(" ").d(bars).s(" bars after the ").
		s(words(dist, "SOS", "SOW")).s(", holding ").f(100*pos, 0).s("% of the range height ").
		s(words(dist, "above support", "below resistance")).s(", on volume ").f(volRatio, 1).s("x its mean")
}

func buText(s sentence, distATR, volRatio float64) sentence {
	// backed up to within %.1f ATR of the broken resistance on volume
	// %.1fx its mean
	return s.s("backed up to within ").f(distATR, 1).
		s(" ATR of the broken resistance on volume ").f(volRatio, 1).s("x its mean")
}
