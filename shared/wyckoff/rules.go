package wyckoff

// The rules. Each is a pure function of measured values and Params that
// returns a verdict: every measured value next to its threshold, whether all
// required conditions held, and a score. They are written in accumulation
// terms; distribution applies them to the mirrored series.
//
// Where the open detectors disagree, the choice made and why:
//
//   - Climax volume (SC/BC): volume >= climax_volume_ratio (2.0) times its
//     mean over the volume_period (20) bars BEFORE the climax, and a spread
//     >= climax_spread_atr (1.5) ATR. A ratio rather than a z-score because
//     Wyckoff and VSA read volume against its recent average ("ultra high"
//     is about twice it), and a z-score is undefined or explosive when
//     volume barely varies; the z-score is reported next to it. The mean
//     excludes the climax bar so that a climax does not dilute itself.
//   - Spring volume: NOT a condition. Wyckoff defines the spring by price
//     (a penetration of support that is quickly recovered); volume grades
//     it: a spring on light volume is the strongest (no supply left), one on
//     heavy volume is a shakeout that needs a Test. Detectors that demand
//     low volume (< 0.7x) miss shakeouts, those that demand a high z-score
//     (>= 0.8) miss the classic light-volume spring. Volume is reported,
//     names the variant (spring or shakeout) and scores it.
//   - ST volume: a condition, against the climax's own volume (<=
//     st_volume_max, 0.7), not against the mean: the method says the ST
//     comes on "significantly diminished" volume relative to the SC.
//   - SOS/SOW: a close beyond the range (not a mere poke), with effort in the
//     breakout window (volume ratio >= 1.5, spread >= 1 ATR within the last
//     sos_window bars): "a price advance on widening spread and increasing
//     volume". A close without that effort is no SOS.
//   - Spring vs ST, UTAD vs UT: the same price action; before cause_bars
//     bars from the climax it is a phase-B test (ST/UT), after it the phase-C
//     Spring/UTAD. The other reading is always listed as an alternative.
//   - Every swing point is confirmed by a close swing_atr ATR away from the
//     extreme, so it is known only then (confirmed_at), never earlier.

const maxMeasures = 8

// verdict is what a rule found: its measures and whether every condition
// held.
type verdict struct {
	ok bool
	m  [maxMeasures]measure
	k  int
}

// measure is a Measure as a rule records it, with its name (one of the
// m* constants) and operator as numbers: a verdict then holds no pointer
// and is copied as plain memory. With the names as strings, every verdict
// a side kept (the climax's, the AR's) and every measure written paid the
// garbage collector's write barrier while it marked. report gives the
// Measures.
type measure struct {
	Value, Threshold float64
	name, op         uint8
	Pass             bool
}

// Operators of a measure: reported only, value >= threshold required,
// value <= threshold required.
const (
	opInfo = iota
	opGE
	opLE
)

var opNames = [...]string{opInfo: "", opGE: ">=", opLE: "<="}

// The measures' names.
const (
	mAboveClimaxATR = iota
	mAboveSpringATR
	mBarsAfterSOS
	mBarsAfterSpring
	mBarsSinceClimax
	mBarsToMinRally
	mBarsToRecover
	mCloseBeyondATR
	mCloseOffExtreme
	mDistanceToResistanceATR
	mPenetrationATR
	mPenetrationOfHeight
	mPositionInRange
	mPriorMoveATR
	mPriorMoveBars
	mPriorMovePct
	mRallyATR
	mRallyPct
	mRetraceOfPriorMove
	mSpreadATR
	mUndercutATR
	mVolumeOfTrendPeak
	mVolumeRatio
	mVolumeVsClimax
	mVolumeVsSpring
	mVolumeZ
	mWindowSpreadATR
	mWindowVolumeRatio
)

var measureNames = [...]string{
	mAboveClimaxATR:          "above_climax_atr",
	mAboveSpringATR:          "above_spring_atr",
	mBarsAfterSOS:            "bars_after_sos",
	mBarsAfterSpring:         "bars_after_spring",
	mBarsSinceClimax:         "bars_since_climax",
	mBarsToMinRally:          "bars_to_min_rally",
	mBarsToRecover:           "bars_to_recover",
	mCloseBeyondATR:          "close_beyond_atr",
	mCloseOffExtreme:         "close_off_extreme",
	mDistanceToResistanceATR: "distance_to_resistance_atr",
	mPenetrationATR:          "penetration_atr",
	mPenetrationOfHeight:     "penetration_of_height",
	mPositionInRange:         "position_in_range",
	mPriorMoveATR:            "prior_move_atr",
	mPriorMoveBars:           "prior_move_bars",
	mPriorMovePct:            "prior_move_pct",
	mRallyATR:                "rally_atr",
	mRallyPct:                "rally_pct",
	mRetraceOfPriorMove:      "retrace_of_prior_move",
	mSpreadATR:               "spread_atr",
	mUndercutATR:             "undercut_atr",
	mVolumeOfTrendPeak:       "volume_of_trend_peak",
	mVolumeRatio:             "volume_ratio",
	mVolumeVsClimax:          "volume_vs_climax",
	mVolumeVsSpring:          "volume_vs_spring",
	mVolumeZ:                 "volume_z",
	mWindowSpreadATR:         "window_spread_atr",
	mWindowVolumeRatio:       "window_volume_ratio",
}

// need and info are not inlined: called once per condition of every
// rule, inlined they would make the rules several times larger (the
// Lambda's size goal) for no speed that matters (rules run on candidates,
// not on every bar).
//
//go:noinline
func (v *verdict) need(name uint8, value float64, op uint8, threshold float64) {
	pass := value >= threshold
	if op == opLE {
		pass = value <= threshold
	}
	if v.k == 0 {
		v.ok = true
	}
	v.ok = v.ok && pass
	v.m[v.k] = measure{name: name, Value: value, op: op, Threshold: threshold, Pass: pass}
	v.k++
}

//go:noinline
func (v *verdict) info(name uint8, value float64) {
	v.m[v.k] = measure{name: name, Value: value, op: opInfo, Pass: true}
	v.k++
}

// score is the mean, over the required conditions, of how far each measured
// value lies on the passing side of its threshold: 0.5 at the threshold, 1
// at twice it (or at 0 for an upper bound), 0 at 0 (or at twice an upper
// bound).
func (v *verdict) score() float64 {
	s, k := 0.0, 0
	for _, m := range v.m[:v.k] {
		if m.op == opInfo {
			continue
		}
		k++
		var x float64
		switch {
		case m.Threshold == 0 && m.op == opGE:
			x = 0.5
			if m.Value > 0 {
				x = 1
			}
		case m.Threshold == 0:
			x = 0.5
			if m.Value < 0 {
				x = 1
			}
		case m.op == opGE:
			x = 0.5 * m.Value / m.Threshold
		default:
			x = 1 - 0.5*m.Value/m.Threshold
		}
		s += clamp01(x)
	}
	if k == 0 {
		return 0
	}
	return round4(s / float64(k))
}

// measures returns the measures, values rounded as reported.
func (v *verdict) measures() []Measure {
	out := make([]Measure, v.k)
	v.report(out)
	return out
}

// report copies the measures, values rounded as reported, into out (v.k
// long).
//
// It sets the fields one by one: out is on the heap, and a Measure copied
// whole while the garbage collector marks goes through its bulk write
// barrier, which costs more than the two strings' barriers.
func (v *verdict) report(out []Measure) {
	out = out[:v.k]
	for j := range out {
		m, o := &v.m[j], &out[j]
		o.Name, o.Value, o.Op = measureNames[m.name], round6(m.Value), opNames[m.op]
		o.Threshold, o.Pass = m.Threshold, m.Pass
	}
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// climax: SC (BC mirrored). A wide-spread bar on climactic volume that ends
// a move of at least trend_min_atr ATR:
//
//	volume/mean >= climax_volume_ratio, (high-low)/ATR >= climax_spread_atr,
//	(highest high of trend_bars - low)/ATR >= trend_min_atr.
//
// Where it closed (close_off_extreme, the share of the bar between the low
// and the close) and the volume z-score are reported, not required: the SC
// often closes off its low, but the low is often made on the climax bar
// and the turn seen the bar after.
func climax(f *view, move, movePct float64, moveBars int, ofPeak float64, p *Params) verdict {
	var v verdict
	v.need(mVolumeRatio, f.volRatio(), opGE, p.ClimaxVolRatio)
	v.need(mVolumeOfTrendPeak, ofPeak, opGE, 1)
	v.need(mSpreadATR, f.spread(), opGE, p.ClimaxSpreadATR)
	v.need(mPriorMoveATR, move, opGE, p.TrendMinATR)
	v.info(mVolumeZ, f.volZ())
	v.info(mCloseOffExtreme, f.closePos())
	v.info(mPriorMovePct, movePct)
	v.info(mPriorMoveBars, float64(moveBars))
	return v
}

// automaticRally: AR. The rally from the climax extreme reaches ar_min_atr
// ATR within ar_max_bars bars; its top is known when a close falls
// swing_atr ATR below it.
//
//	(AR high - climax low)/ATR >= ar_min_atr, bars from climax to the
//	moment it got there <= ar_max_bars.
func automaticRally(rallyATR float64, bars int, rallyPct, retrace float64, p *Params) verdict {
	var v verdict
	v.need(mRallyATR, rallyATR, opGE, p.ARMinATR)
	v.need(mBarsToMinRally, float64(bars), opLE, float64(p.ARMaxBars))
	v.info(mRallyPct, rallyPct)
	v.info(mRetraceOfPriorMove, retrace)
	return v
}

// secondaryTest: ST. A swing low back in the climax area on diminished
// volume:
//
//	(low - support)/height <= st_zone, (support - low)/ATR <=
//	st_max_undercut_atr, volume/climax volume <= st_volume_max, volume/mean
//	volume <= st_volume_ratio.
func secondaryTest(pos, undercutATR, volVsClimax, volRatio float64, p *Params) verdict {
	var v verdict
	v.need(mPositionInRange, pos, opLE, p.STZone)
	v.need(mUndercutATR, undercutATR, opLE, p.STMaxUndercutATR)
	v.need(mVolumeVsClimax, volVsClimax, opLE, p.STVolMax)
	v.need(mVolumeRatio, volRatio, opLE, p.STVolRatio)
	return v
}

// spring: Spring/shakeout (UTAD mirrored). Price breaks support and a close
// comes back above it quickly:
//
//	(support - low)/ATR >= spring_min_atr, (support - low)/height <=
//	spring_max_depth, bars from the low to the close back inside <=
//	spring_recover_bars.
//
// Volume is reported and names the variant (see the package notes).
func spring(depthATR, depthFrac float64, recover int, volRatio, volZ float64, age int, p *Params) verdict {
	var v verdict
	v.need(mPenetrationATR, depthATR, opGE, p.SpringMinATR)
	v.need(mPenetrationOfHeight, depthFrac, opLE, p.SpringMaxDepth)
	v.need(mBarsToRecover, float64(recover), opLE, float64(p.SpringRecoverBars))
	v.info(mVolumeRatio, volRatio)
	v.info(mVolumeZ, volZ)
	v.info(mBarsSinceClimax, float64(age))
	return v
}

// testOfSpring: Test. The first swing low after a Spring that holds above
// the spring's low, in the lower part of the range, on less volume than
// the spring:
//
//	(low - spring low)/ATR >= 0, (low - support)/height <= st_zone,
//	volume/spring volume <= 1, bars after the spring <= test_max_bars.
func testOfSpring(aboveATR, pos, volVsSpring float64, bars int, p *Params) verdict {
	var v verdict
	v.need(mAboveSpringATR, aboveATR, opGE, 0)
	v.need(mPositionInRange, pos, opLE, p.STZone)
	v.need(mVolumeVsSpring, volVsSpring, opLE, 1)
	v.need(mBarsAfterSpring, float64(bars), opLE, float64(p.TestMaxBars))
	return v
}

// breakout: SOS (SOW mirrored). A close above resistance with effort in the
// window of the last sos_window bars:
//
//	(close - resistance)/ATR > 0, max volume ratio >= sos_volume_ratio,
//	max spread/ATR >= sos_spread_atr.
func breakout(beyondATR, volRatio, spread, closePos float64, age int, p *Params) verdict {
	var v verdict
	v.need(mCloseBeyondATR, beyondATR, opGE, 0)
	v.need(mWindowVolumeRatio, volRatio, opGE, p.SOSVolRatio)
	v.need(mWindowSpreadATR, spread, opGE, p.SOSSpreadATR)
	v.info(mCloseOffExtreme, closePos)
	v.info(mBarsSinceClimax, float64(age))
	return v
}

// lastPoint: LPS (LPSY mirrored). The first pullback low after the SOS that
// holds in the upper half of the range on light volume:
//
//	(low - support)/height >= 0.5, volume ratio <= lps_volume_ratio, bars
//	after the SOS <= lps_max_bars.
func lastPoint(pos, volRatio float64, bars int, p *Params) verdict {
	var v verdict
	v.need(mPositionInRange, pos, opGE, 0.5)
	v.need(mVolumeRatio, volRatio, opLE, p.LPSVolRatio)
	v.need(mBarsAfterSOS, float64(bars), opLE, float64(p.LPSMaxBars))
	return v
}

// backUp: BU. A later pullback low, after the LPS, that comes back to the
// broken resistance and holds:
//
//	|low - resistance|/ATR <= bu_band_atr, volume ratio <= lps_volume_ratio.
func backUp(distATR, volRatio float64, p *Params) verdict {
	var v verdict
	v.need(mDistanceToResistanceATR, distATR, opLE, p.BUBandATR)
	v.need(mVolumeRatio, volRatio, opLE, p.LPSVolRatio)
	return v
}

// preliminary: PS (PSY mirrored). Before the climax, a swing low (lowest
// of the two bars either side) on increased volume that the climax then
// undercuts:
//
//	volume ratio >= ps_volume_ratio, low > climax low.
func preliminary(volRatio, spread, aboveATR float64, p *Params) verdict {
	var v verdict
	v.need(mVolumeRatio, volRatio, opGE, p.PSVolRatio)
	v.need(mAboveClimaxATR, aboveATR, opGE, 0)
	v.info(mSpreadATR, spread)
	return v
}
