package wyckoff

import (
	"math"
	"sync"
)

// view is one bar as a side sees it: the accumulation side sees prices as
// they are, the distribution side sees them negated with high and low
// swapped, so that every rule is written once, in accumulation terms.
//
// Ratios are methods, computed only where a rule reads them: dividing for
// every bar would cost more than the rest of the engine.
type view struct {
	i          int
	o, h, l, c float64
	v, atr     float64
	mean, sq   float64 // mean volume and mean squared volume of the bars before
}

// volRatio is volume / mean volume (1 when the mean is 0).
func (b *view) volRatio() float64 { return ratio(b.v, b.mean) }

// volZ is (volume - mean) / standard deviation (0 when volume is flat).
func (b *view) volZ() float64 {
	if q := b.sq - b.mean*b.mean; q > 0 {
		return (b.v - b.mean) / math.Sqrt(q)
	}
	return 0
}

// spread is (high - low) / ATR.
func (b *view) spread() float64 { return (b.h - b.l) / b.atr }

// closePos is (close - low) / (high - low) in the side's own terms: for
// the mirrored side it is how far below the high the bar closed.
func (b *view) closePos() float64 {
	if b.h > b.l {
		return (b.c - b.l) / (b.h - b.l)
	}
	return 0.5
}

func ratio(v, mean float64) float64 {
	if mean > 0 {
		return v / mean
	}
	return 1
}

// Side states.
const (
	stateIdle   = iota
	stateClimax // climax candidate, waiting for the rally to reach ar_min_atr
	stateRally  // rally under way, waiting for its top to be confirmed
	stateST     // AR confirmed, waiting for the secondary test
	stateRange  // phase A complete: phases B, C, D
)

// swing is an extreme of price: its bar, volume and mean volume.
type swing struct {
	ext  float64
	bar  int
	vol  float64
	mean float64
}

func (w *swing) volRatio() float64 { return ratio(w.vol, w.mean) }

// zigzag confirms swing points: a low when a close is swing_atr ATR above
// the lowest low since the last swing high, and the reverse.
type zigzag struct {
	up    bool  // tracking a high (after a confirmed low)
	swing       // the extreme since the last swing point
	pivot swing // the last swing point confirmed
}

func (z *zigzag) reset(b *view, up bool) {
	z.up = up
	z.bar, z.vol, z.mean = b.i, b.v, b.mean
	z.ext = b.l
	if up {
		z.ext = b.h
	}
}

// next returns +1 when a swing high is confirmed at this bar, -1 for a
// swing low, 0 otherwise; the swing point is then in z.pivot (kept there
// rather than returned: next runs on most bars of a range, and returning
// a struct each time costs more than the rest of it).
func (z *zigzag) next(b *view, swing float64) int {
	if z.up {
		if b.h > z.ext {
			z.ext, z.bar, z.vol, z.mean = b.h, b.i, b.v, b.mean
		}
		if b.c <= z.ext-swing*b.atr {
			z.pivot = z.swing
			z.reset(b, false)
			return 1
		}
		return 0
	}
	if b.l < z.ext {
		z.ext, z.bar, z.vol, z.mean = b.l, b.i, b.v, b.mean
	}
	if b.c >= z.ext+swing*b.atr {
		z.pivot = z.swing
		z.reset(b, true)
		return -1
	}
	return 0
}

type pending struct {
	typ    string
	bar    int
	v      verdict
	vr     float64
	before int
	px     float64 // in the side's own terms
}

type side struct {
	e     *engine
	p     *Params
	dist  bool
	sign  float64
	state int

	// phase A
	sc          view
	scV         verdict
	scMove      float64
	scMovePct   float64
	scMoveBars  int
	support     float64
	ps          pending
	hasPS       bool
	arHigh      float64
	arBar       int
	arReach     int
	resistance  float64
	height      float64
	arConfirmed int
	arV         verdict
	arATR       float64 // the AR's rally in ATR, percent and retrace of the
	arPct       float64 // move into the climax, kept for its sentence, built
	arRetrace   float64 // only when the range is confirmed
	zz          zigzag

	// range
	rng                  int
	penActive            bool
	penLow               float64
	penBar               int
	penV                 view
	springDone           bool
	springBar            int
	springLow, springVol float64
	testDone             bool
	sosDone              bool
	sosBar               int
	lpsDone, buDone      bool
	lastST               int
	creekSum, iceSum     float64
	creekN, iceN         int
}

type engine struct {
	p          Params
	in         Input
	o, h, l, c []float64 // the candles, read back when a rule looks back
	v          []float64
	s          *series
	owner      *side // the side holding a confirmed range, nil when none
	sides      [2]*side
	sc         *scratch // the events so far, and more; returned by result
	ranges     []Range
	slab       []Measure // the unused end of the current slab of evidence
	slabLen    int       // the length of the current slab
}

// evidence returns the measures of v as an event reports them, carved from
// a slab shared with the events before: one allocation for tens of events
// rather than one each. The slice's capacity is its length, so that an
// append to one event's evidence copies it instead of overwriting the
// next event's.
func (e *engine) evidence(v *verdict) []Measure {
	if len(e.slab) < v.k {
		// Slabs grow with the analysis: a few events cost a small one.
		e.slabLen = min(max(4*e.slabLen, 64), 256)
		e.slab = make([]Measure, e.slabLen)
	}
	out := e.slab[:v.k:v.k]
	e.slab = e.slab[v.k:]
	v.report(out)
	return out
}

// scratch holds what an analysis collects before result copies it, exactly,
// into the Result: appended to the Result's slices directly, the events
// grew by doubling (about twice their size allocated, and copied along the
// way), and each sentence was a string of its own. Scratches come from a
// sync.Pool and go back cleared of every pointer but to constant strings.
type scratch struct {
	events []Event  // their Text set by result
	text   sentence // the events' sentences, back to back
	ends   []int    // where each event's sentence ends in text
	cols   []Column // the counts' charts
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

func newEngine(p Params, in Input) *engine {
	n := len(in.Close)
	e := &engine{sc: scratches.Get().(*scratch), p: p, in: in, o: in.Open[:n], h: in.High[:n], l: in.Low[:n], c: in.Close[:n], v: in.Volume[:n]}
	e.s = newSeries(&e.p)
	for k := range e.sides {
		e.sides[k] = &side{e: e, p: &e.p, dist: k == 1, sign: 1 - 2*float64(k)}
	}
	return e
}

// run checks and measures the candles and steps the sides through them,
// oldest first, a block at a time. It returns the index of the first
// candle Analyze cannot use, or -1.
func (e *engine) run() int {
	s := e.s
	volRatio, spreadATR := e.p.ClimaxVolRatio, e.p.ClimaxSpreadATR
	acc, dist := e.sides[0], e.sides[1]
	v, h, l := e.v, e.h, e.l
	n := len(v)
	for from := 0; from < n; from += block {
		to := min(from+block, n)
		if !s.measure(&e.in, from, to) {
			if bad := check(&e.in, from, to); bad >= 0 {
				return bad
			}
		}
		for i := from; i < to; i++ {
			// A bar that is no climax (fails the cheap conditions of the
			// climax rule) changes nothing for a side that is idle; most
			// bars are such bars, skipped here by a loop that reads
			// nothing else.
			gate := false
			if acc.state == stateIdle && dist.state == stateIdle {
				for ; i < to; i++ {
					m := s.at(i)
					if v[i] >= volRatio*m.mean && h[i]-l[i] >= spreadATR*m.atr && s.ready(i) {
						break
					}
				}
				if i == to {
					break
				}
				gate = true
			} else {
				if !s.ready(i) {
					continue
				}
				m := s.at(i)
				gate = v[i] >= volRatio*m.mean && h[i]-l[i] >= spreadATR*m.atr
			}
			// An idle side only on a gate bar, and not while the other side
			// holds a range (it could not start one); the second side sees
			// what the first did (a range confirmed resets it).
			if acc.state != stateIdle || gate && !acc.otherBusy() {
				var b view
				acc.bar(&b, i)
				acc.step(&b)
			}
			if dist.state != stateIdle || gate && !dist.otherBusy() {
				var b view
				dist.bar(&b, i)
				dist.step(&b)
			}
		}
	}
	return -1
}

// bar sets b to bar i as this side sees it. It assigns field by field:
// building a view and copying it costs a store-forwarding stall a field.
func (sd *side) bar(b *view, i int) {
	e := sd.e
	m := e.s.at(i)
	b.i, b.v, b.atr, b.mean, b.sq = i, e.v[i], m.atr, m.mean, m.sq
	if sd.dist {
		b.o, b.h, b.l, b.c = -e.o[i], -e.l[i], -e.h[i], -e.c[i]
	} else {
		b.o, b.h, b.l, b.c = e.o[i], e.h[i], e.l[i], e.c[i]
	}
}

// past returns bar j, one of the last bars the series keeps, as this side
// sees it; ok is false when j is before the first bar.
func (sd *side) past(j int) (b view, ok bool) {
	if j < 0 {
		return view{}, false
	}
	sd.bar(&b, j)
	return b, true
}

// otherBusy reports whether the other side holds a confirmed range.
func (sd *side) otherBusy() bool { return sd.e.owner != nil && sd.e.owner != sd }

func (sd *side) step(b *view) {
	switch sd.state {
	case stateClimax:
		sd.stepClimax(b)
	case stateRally:
		sd.stepRally(b)
	case stateST:
		sd.stepST(b)
	case stateRange:
		sd.stepRange(b)
	}
	if sd.state == stateIdle && !sd.otherBusy() {
		sd.tryClimax(b)
	}
}

func (sd *side) tryClimax(b *view) bool {
	// The cheap conditions first: most bars are no climax, and building a
	// verdict for each would cost more than the rest of the engine.
	p := sd.p
	if b.v < p.ClimaxVolRatio*b.mean || b.h-b.l < p.ClimaxSpreadATR*b.atr {
		return false
	}
	// The extreme the move started from, over the trend_bars bars ending
	// with this one (in the side's terms: the highest high, or for the
	// mirrored side the lowest low negated; the latest of equal ones),
	// read from the candles.
	e, i := sd.e, b.i
	lo := max(i-p.TrendBars+1, 0)
	top, topBar := b.h, i
	if sd.dist {
		lows := e.l[lo:i]
		for k := len(lows) - 1; k >= 0; k-- {
			if x := -lows[k]; x > top {
				top, topBar = x, lo+k
			}
		}
	} else {
		highs := e.h[lo:i]
		for k := len(highs) - 1; k >= 0; k-- {
			if x := highs[k]; x > top {
				top, topBar = x, lo+k
			}
		}
	}
	// Two more conditions the verdict requires, tested as need tests them
	// (a NaN fails) before it is built: they fail for most bars here, all
	// those that end a move the wrong way. The first is the prior move.
	move := (top - b.l) / b.atr
	if !(move >= p.TrendMinATR) {
		return false
	}
	// The second, the volume against the heaviest of the trend_bars bars
	// before this one.
	peak := 0.0
	for _, x := range e.v[max(i-p.TrendBars, 0):i] {
		if x > peak {
			peak = x
		}
	}
	ofPeak := ratio(b.v, peak)
	if !(ofPeak >= 1) {
		return false
	}
	return sd.startClimax(b, top, topBar, move, ofPeak)
}

// startClimax judges the climax candidate b (the move into it from top at
// topBar, move ATR; its volume ofPeak times the trend's peak) and, when
// the verdict holds, starts phase A with it. It reports whether it did.
func (sd *side) startClimax(b *view, top float64, topBar int, move, ofPeak float64) bool {
	movePct := pct(top-b.l, top)
	v := climax(b, move, movePct, b.i-topBar, ofPeak, sd.p)
	if !v.ok {
		return false
	}
	sd.state = stateClimax
	sd.sc, sd.scV, sd.support = *b, v, b.l
	sd.scMove, sd.scMovePct, sd.scMoveBars = move, movePct, b.i-topBar
	sd.arHigh, sd.arBar = math.Inf(-1), -1
	sd.findPS(b)
	return true
}

// findPS searches the ps_window bars before the climax for PS (PSY).
func (sd *side) findPS(b *view) {
	p := sd.p
	sd.hasPS = false
	best := -1.0
	lo := b.i - p.PSWindow + 1
	if lo < 0 {
		lo = 0
	}
	e := sd.e
	for j := lo + 2; j <= b.i-3; j++ {
		// The cheap condition first, on the raw bar.
		if m := e.s.at(j); m.atr <= 0 || e.v[j] < p.PSVolRatio*m.mean {
			continue
		}
		// A low that held two bars either side, compared on the candles
		// (building views of the neighbours cost more than the search).
		if l := sd.low(j); sd.low(j-2) < l || sd.low(j-1) < l || sd.low(j+1) < l || sd.low(j+2) < l {
			continue
		}
		var r view
		sd.bar(&r, j)
		vr := r.volRatio()
		if !(vr > best) {
			continue // not heavier than the best found: its verdict is not needed
		}
		v := preliminary(vr, r.spread(), (r.l-b.l)/b.atr, p)
		if v.ok {
			best = vr
			sd.hasPS = true
			sd.ps = pending{typ: PS, bar: j, v: v, px: r.l, vr: vr, before: b.i - j}
		}
	}
}

// low returns the low of bar j as this side sees it: for the mirrored
// side, the high negated.
func (sd *side) low(j int) float64 {
	if sd.dist {
		return -sd.e.h[j]
	}
	return sd.e.l[j]
}

func (sd *side) reset() {
	sd.state = stateIdle
	if sd.e.owner == sd {
		sd.e.owner = nil
	}
}

func (sd *side) stepClimax(b *view) {
	p := sd.p
	if b.l < sd.support {
		if sd.tryClimax(b) {
			return
		}
		if b.i-sd.sc.i <= 2 {
			sd.support = b.l
		} else {
			sd.reset()
			return
		}
	}
	if b.h > sd.arHigh {
		sd.arHigh, sd.arBar = b.h, b.i
	}
	if (sd.arHigh-sd.support)/sd.sc.atr >= p.ARMinATR {
		sd.state = stateRally
		sd.arReach = b.i - sd.sc.i
		return
	}
	if b.i-sd.sc.i >= p.ARMaxBars {
		sd.reset()
	}
}

func (sd *side) stepRally(b *view) {
	p := sd.p
	if b.l < sd.support {
		sd.reset()
		return
	}
	if b.h > sd.arHigh {
		sd.arHigh, sd.arBar = b.h, b.i
	}
	if b.c <= sd.arHigh-p.SwingATR*b.atr {
		sd.resistance = sd.arHigh
		sd.height = sd.resistance - sd.support
		sd.arConfirmed = b.i
		rally := sd.arHigh - sd.support
		move := sd.scMove * sd.sc.atr
		retrace := 0.0
		if move > 0 {
			retrace = rally / move
		}
		sd.arATR, sd.arPct, sd.arRetrace = rally/sd.sc.atr, pct(rally, sd.support), retrace
		sd.arV = automaticRally(sd.arATR, sd.arReach, sd.arPct, retrace, p)
		sd.state = stateST
		sd.zz.reset(b, false)
	}
}

func (sd *side) stepST(b *view) {
	p := sd.p
	if b.l < sd.support-p.STMaxUndercutATR*b.atr || b.c > sd.resistance+p.SwingATR*b.atr ||
		b.i-sd.arConfirmed > p.STMaxBars {
		sd.reset()
		return
	}
	if sd.zz.next(b, p.SwingATR) != -1 {
		return
	}
	pv := &sd.zz.pivot
	pos := (pv.ext - sd.support) / sd.height
	under := math.Max(0, (sd.support-pv.ext)/b.atr)
	v := secondaryTest(pos, under, ratio(pv.vol, sd.sc.v), pv.volRatio(), p)
	if !v.ok {
		return
	}
	sd.confirmRange(b, pv, v)
}

// confirmRange completes phase A: the range exists from now on and the
// events that made it are emitted, all confirmed at this bar.
func (sd *side) confirmRange(b *view, pv *swing, stV verdict) {
	e := sd.e
	for _, o := range e.sides {
		if o != sd {
			o.reset()
		}
	}
	kind := Accumulation
	if sd.dist {
		kind = Distribution
	}
	start := sd.sc.i
	if sd.hasPS {
		start = sd.ps.bar
	}
	e.ranges = append(e.ranges, Range{Kind: kind, Start: sd.sc.i, ConfirmedAt: b.i, End: -1, Status: "open",
		Phase: "B", Bias: Neutral,
		Phases: []PhaseSpan{{Phase: "A", Start: start, ConfirmedAt: b.i}, {Phase: "B", Start: pv.bar, ConfirmedAt: b.i}}})
	sd.rng = len(e.ranges) - 1
	if sd.hasPS {
		sd.emit(b, sd.ps.typ, "preliminary_support", sd.ps.bar, sd.ps.px, "A", &sd.ps.v,
			psText(sd.e.sc.text, sd.dist, sd.ps.vr, sd.p.VolPeriod, sd.ps.before), nil)
	}
	sd.emit(b, SC, "climax", sd.sc.i, sd.sc.l, "A", &sd.scV, climaxText(sd.e.sc.text, sd.dist, &sd.sc, sd.scMovePct, sd.scMoveBars, sd.p), nil)
	sd.emit(b, AR, "automatic_rally", sd.arBar, sd.arHigh, "A", &sd.arV,
		arText(sd.e.sc.text, sd.dist, sd.arATR, sd.arPct, sd.arBar-sd.sc.i, sd.arRetrace), nil)
	sd.emit(b, ST, "secondary_test", pv.bar, pv.ext, "A", &stV,
		stText(sd.e.sc.text, sd.dist, ratio(pv.vol, sd.sc.v), (pv.ext-sd.support)/sd.height), nil)
	sd.state = stateRange
	e.owner = sd
	sd.penActive, sd.springDone, sd.testDone, sd.sosDone, sd.lpsDone, sd.buDone = false, false, false, false, false, false
	sd.lastST = pv.bar
	sd.creekSum, sd.creekN = sd.resistance, 1
	sd.iceSum, sd.iceN = sd.support, 1
	sd.updateRange()
}

func (sd *side) updateRange() {
	r := &sd.e.ranges[sd.rng]
	sup, res := sd.support*sd.sign, sd.resistance*sd.sign
	creek, ice := sd.creekSum/float64(sd.creekN)*sd.sign, sd.iceSum/float64(sd.iceN)*sd.sign
	if sd.dist {
		sup, res = res, sup
		creek, ice = ice, creek
	}
	r.Support, r.Resistance, r.Creek, r.Ice = sup, res, creek, ice
}

func (sd *side) phase(b *view, ph string, start int) {
	r := &sd.e.ranges[sd.rng]
	r.Phases = append(r.Phases, PhaseSpan{Phase: ph, Start: start, ConfirmedAt: b.i})
	r.Phase = ph
	if ph != "B" {
		r.Bias = Bullish
		if sd.dist {
			r.Bias = Bearish
		}
	}
}

func (sd *side) end(b *view, status string) {
	r := &sd.e.ranges[sd.rng]
	r.Status, r.End = status, b.i
	if status == "failed" {
		r.Bias = Bearish
		if sd.dist {
			r.Bias = Bullish
		}
	}
	sd.reset()
}

func (sd *side) stepRange(b *view) {
	p := sd.p
	age := b.i - sd.sc.i
	// Failure: a close beyond the range that no spring rule can excuse.
	if sd.sosDone {
		if b.c < sd.support {
			sd.end(b, "failed")
			return
		}
		if b.c >= sd.resistance+p.PhaseEHeight*sd.height {
			sd.phase(b, "E", b.i)
			sd.end(b, "completed")
			return
		}
	} else if b.c >= sd.resistance+p.PhaseEHeight*sd.height {
		sd.end(b, "completed")
		return
	}
	// stepPenetration does nothing on a bar that neither follows nor makes a
	// break of support, most bars of a range: tested here, without a call.
	if !sd.sosDone && (sd.penActive || b.l < sd.support) && sd.stepPenetration(b, age) {
		return
	}
	if !sd.sosDone && b.c > sd.resistance && (sd.springDone || age >= p.CauseBars) {
		mv, ms := 0.0, 0.0
		for j := b.i; j > b.i-p.SOSWindow; j-- {
			if w, ok := sd.past(j); ok && w.atr > 0 {
				mv, ms = math.Max(mv, w.volRatio()), math.Max(ms, w.spread())
			}
		}
		v := breakout((b.c-sd.resistance)/b.atr, mv, ms, b.closePos(), age, p)
		if v.ok {
			sd.sosDone, sd.sosBar = true, b.i
			typ := SOS
			if sd.dist {
				typ = SOW
			}
			sd.phase(b, "D", b.i)
			sd.emit(b, typ, "breakout", b.i, b.c, "D", &v, sosText(sd.e.sc.text, sd.dist, &v, p.SOSWindow), nil)
		}
	}
	kind := sd.zz.next(b, p.SwingATR)
	pv := &sd.zz.pivot
	switch kind {
	case 1:
		if !sd.sosDone && pv.ext <= sd.resistance {
			sd.creekSum += pv.ext
			sd.creekN++
			sd.updateRange()
		}
	case -1:
		sd.onSwingLow(b, pv)
	}
}

// stepPenetration follows a break of support: a Spring (or ST) when price
// closes back inside in time, the end of the range when it does not. It
// reports whether the range ended.
func (sd *side) stepPenetration(b *view, age int) bool {
	p := sd.p
	if !sd.penActive {
		if b.l >= sd.support {
			return false
		}
		sd.penActive, sd.penLow, sd.penBar, sd.penV = true, b.l, b.i, *b
	} else if b.l < sd.penLow {
		sd.penLow, sd.penBar, sd.penV = b.l, b.i, *b
	}
	depth := sd.support - sd.penLow
	if b.c > sd.support {
		sd.penActive = false
		if sd.springDone {
			return false
		}
		v := spring(depth/sd.penV.atr, depth/sd.height, b.i-sd.penBar, sd.penV.volRatio(), sd.penV.volZ(), sd.penBar-sd.sc.i, p)
		if !v.ok {
			return false
		}
		springType, stType := Spring, ST
		if sd.dist {
			springType, stType = UTAD, UT
		}
		s := v.score()
		maturity := float64(sd.penBar-sd.sc.i) / float64(p.CauseBars)
		text := springText(sd.e.sc.text, sd.dist, &v, sd.penV.volRatio(), p)
		if sd.penBar-sd.sc.i >= p.CauseBars {
			alt := []Reading{{Type: stType, Score: round4(s * math.Min(1, 1/maturity)),
				Why: "the same penetration read as a phase-B test, had the cause not yet been built"}}
			sd.springDone, sd.springBar, sd.springLow, sd.springVol = true, sd.penBar, sd.penLow, sd.penV.v
			sd.phase(b, "C", sd.penBar)
			sd.emit(b, springType, "spring", sd.penBar, sd.penLow, "C", &v, text, alt)
		} else {
			alt := []Reading{{Type: springType, Score: round4(s * maturity),
				Why: "a phase-C " + springType + ", were the range mature (cause_bars)"}}
			sd.emit(b, stType, "spring", sd.penBar, sd.penLow, "B", &v, text, alt)
			sd.lastST = sd.penBar
		}
		return false
	}
	if depth/sd.height > p.SpringMaxDepth || b.i-sd.penBar > p.SpringRecoverBars {
		sd.end(b, "failed")
		return true
	}
	return false
}

func (sd *side) onSwingLow(b *view, pv *swing) {
	p := sd.p
	pos := (pv.ext - sd.support) / sd.height
	if !sd.sosDone {
		if pv.ext >= sd.support {
			sd.iceSum += pv.ext
			sd.iceN++
			sd.updateRange()
		}
		if sd.springDone {
			if sd.testDone || pv.bar <= sd.springBar {
				return
			}
			bars := pv.bar - sd.springBar
			if bars > p.TestMaxBars {
				sd.testDone = true
				return
			}
			v := testOfSpring((pv.ext-sd.springLow)/b.atr, pos, ratio(pv.vol, sd.springVol), bars, p)
			if v.ok && !sd.dist {
				sd.testDone = true
				sd.emit(b, Test, "test", pv.bar, pv.ext, "C", &v, testText(sd.e.sc.text, ratio(pv.vol, sd.springVol), bars), nil)
			}
			return
		}
		if pv.ext < sd.support || pv.bar <= sd.lastST {
			return
		}
		v := secondaryTest(pos, 0, ratio(pv.vol, sd.sc.v), pv.volRatio(), p)
		if v.ok {
			sd.lastST = pv.bar
			sd.emit(b, ST, "secondary_test", pv.bar, pv.ext, "B", &v, stText(sd.e.sc.text, sd.dist, ratio(pv.vol, sd.sc.v), pos), nil)
		}
		return
	}
	if pv.bar <= sd.sosBar {
		return
	}
	distATR := math.Abs(pv.ext-sd.resistance) / b.atr
	if !sd.lpsDone {
		bars := pv.bar - sd.sosBar
		v := lastPoint(pos, pv.volRatio(), bars, p)
		if v.ok {
			sd.lpsDone = true
			bu := backUp(distATR, pv.volRatio(), p)
			var alts []Reading
			if bu.ok && !sd.dist {
				alts = []Reading{{Type: BU, Score: bu.score(), Why: "the pullback also holds at the broken resistance"}}
			}
			typ := LPS
			if sd.dist {
				typ = LPSY
			}
			sd.emit(b, typ, "last_point", pv.bar, pv.ext, "D", &v, lpsText(sd.e.sc.text, sd.dist, pos, pv.volRatio(), bars), alts)
			r := &sd.e.ranges[sd.rng]
			r.lpsSet, r.lps, r.lpsPrice, r.lpsATR = true, pv.bar, pv.ext*sd.sign, b.atr
		} else if bars > p.LPSMaxBars {
			sd.lpsDone = true
		}
		return
	}
	if !sd.buDone && !sd.dist {
		v := backUp(distATR, pv.volRatio(), p)
		if v.ok {
			sd.buDone = true
			lp := lastPoint(pos, pv.volRatio(), 0, p)
			alts := []Reading{{Type: LPS, Score: lp.score(), Why: "a later last point of support"}}
			sd.emit(b, BU, "back_up", pv.bar, pv.ext, "D", &v, buText(sd.e.sc.text, distATR, pv.volRatio()), alts)
		}
	}
}

// emit records an event confirmed at bar b; text is the events' text with
// its sentence appended.
func (sd *side) emit(b *view, typ, rule string, bar int, px float64, ph string, v *verdict, text sentence, alts []Reading) {
	if alts == nil {
		alts = []Reading{}
	}
	if sd.dist {
		switch typ {
		case PS:
			typ = PSY
		case SC:
			typ = BC
		}
	}
	sc := sd.e.sc
	sc.text, sc.ends = text, append(sc.ends, len(text))
	// The event is set field by field in place (see verdict.report): the
	// buffer is on the heap, and an Event copied whole while the garbage
	// collector marks goes through its bulk write barrier.
	sc.events = append(sc.events, Event{})
	ev := &sc.events[len(sc.events)-1]
	ev.Type, ev.Range, ev.Bar, ev.ConfirmedAt = typ, sd.rng, bar, b.i
	ev.Price, ev.Phase, ev.Rule, ev.Score = round9(px*sd.sign), ph, rule, v.score()
	ev.Evidence, ev.Alternatives = sd.e.evidence(v), alts
}

// stableFrom returns the first bar at which this side may still add
// something.
func (sd *side) stableFrom(n int) int {
	s := n - sd.p.PSWindow
	switch sd.state {
	case stateClimax, stateRally, stateST:
		s = sd.sc.i
		if sd.hasPS {
			s = sd.ps.bar
		}
	case stateRange:
		s = min(s, sd.zz.bar)
		if sd.penActive {
			s = min(s, sd.penBar)
		}
	}
	return max(s, 0)
}

func (e *engine) result(in Input, n int) Result {
	sc := e.sc
	r := Result{Bars: n, Events: make([]Event, len(sc.events)), Ranges: e.ranges, StableUntil: n}
	copy(r.Events, sc.events)
	text, start := string(sc.text), 0
	for k, end := range sc.ends {
		r.Events[k].Text, start = text[start:end], end
	}
	clear(sc.events)
	sc.events, sc.text, sc.ends = sc.events[:0], sc.text[:0], sc.ends[:0]
	if r.Ranges == nil {
		r.Ranges = []Range{}
	}
	for _, sd := range e.sides {
		r.StableUntil = min(r.StableUntil, sd.stableFrom(n))
	}
	e.counts(in, r.Ranges)
	scratches.Put(sc)
	e.sc = nil
	if in.Time != nil {
		for k := range r.Events {
			ev := &r.Events[k]
			ev.Time, ev.ConfirmedTime = in.Time[ev.Bar], in.Time[ev.ConfirmedAt]
		}
		for k := range r.Ranges {
			g := &r.Ranges[k]
			g.StartTime = in.Time[g.Start]
			if g.End >= 0 {
				t := in.Time[g.End]
				g.EndTime = &t
			}
		}
	}
	return r
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
func round9(x float64) float64 { return x }

// pct is a as a percent of |base| (0 when base is 0: a price of 0 has no
// percent moves).
func pct(a, base float64) float64 {
	if base == 0 {
		return 0
	}
	return 100 * a / math.Abs(base)
}
