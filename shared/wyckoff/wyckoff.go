// Package wyckoff finds Wyckoff trading ranges in a candle series: their
// support and resistance (and the creek and the ice), the events of
// accumulation (PS, SC, AR, ST, Spring, Test, SOS, LPS, BU) and of
// distribution (PSY, BC, AR, ST, UT, UTAD, SOW, LPSY), each range's phase
// (A to E) and bias, and a point-and-figure horizontal count with its price
// targets.
//
// The package does no I/O and is deterministic. Analyze reads the bars once,
// oldest first, with a state machine that decides about bar i using bars
// 0..i only. An event is reported with the bar it happened on (Bar) and the
// first bar at which the rules could know it (ConfirmedAt): the analysis of
// the first t+1 bars reports exactly the events of the analysis of all the
// bars whose ConfirmedAt is at most t, with the same values. Nothing
// repaints.
//
// Every rule is a small function of measured values (volume against its
// mean, spread against ATR, where the bar closed, how far price went and how
// fast it came back) and of named parameters (Params, defaults in
// DefaultParams). An event carries every measured value next to its
// threshold, so a reader can check the decision, a score in [0, 1], a
// sentence built from the values, and the other readings the rules allow.
//
// Distribution is found by the same rules as accumulation, applied to the
// mirrored series (prices negated, high and low swapped): a buying climax
// is a selling climax upside down, an UTAD a spring, a SOW a SOS. The rules
// below are written in accumulation terms.
package wyckoff

import (
	"errors"
	"math"
	"strconv"
)

// Version is the engine version reported with every analysis. It changes
// whenever a rule or a default changes what Analyze returns.
const Version = "wyckoff-1.0.1"

// Input holds the candles, oldest first, all series of the same length.
type Input struct {
	Open, High, Low, Close, Volume []float64
	// Time is optional: the bars' times (Unix seconds), copied to the
	// events and ranges; nil leaves their times 0.
	Time []int64
}

// Event types.
const (
	PS     = "PS"
	SC     = "SC"
	AR     = "AR"
	ST     = "ST"
	Spring = "Spring"
	Test   = "Test"
	SOS    = "SOS"
	LPS    = "LPS"
	BU     = "BU"
	PSY    = "PSY"
	BC     = "BC"
	UT     = "UT"
	UTAD   = "UTAD"
	SOW    = "SOW"
	LPSY   = "LPSY"
)

// Range kinds and biases.
const (
	Accumulation = "accumulation"
	Distribution = "distribution"
	Bullish      = "bullish"
	Bearish      = "bearish"
	Neutral      = "neutral"
)

// Measure is one measured value next to the threshold it was held to. Op is
// ">=" or "<=" for a condition the rule requires (Pass says whether it
// held), "" for a value reported for information only.
type Measure struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Op        string  `json:"op,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
	Pass      bool    `json:"pass"`
}

// Reading is another event type the rules also allow for the same bars.
type Reading struct {
	Type  string  `json:"type"`
	Score float64 `json:"score"`
	Why   string  `json:"why"`
}

// Event is one Wyckoff event with its evidence.
type Event struct {
	Type          string    `json:"type"`
	Range         int       `json:"range"` // index in Result.Ranges
	Bar           int       `json:"bar"`
	ConfirmedAt   int       `json:"confirmed_at"`
	Price         float64   `json:"price"`
	Phase         string    `json:"phase"`
	Rule          string    `json:"rule"`
	Score         float64   `json:"score"`
	Evidence      []Measure `json:"evidence"`
	Text          string    `json:"text"`
	Alternatives  []Reading `json:"alternatives"`
	Time          int64     `json:"time"`           // Input.Time of Bar
	ConfirmedTime int64     `json:"confirmed_time"` // Input.Time of ConfirmedAt
}

// PhaseSpan is the start of a phase of a range.
type PhaseSpan struct {
	Phase       string `json:"phase"`
	Start       int    `json:"start"`
	ConfirmedAt int    `json:"confirmed_at"`
}

// Range is one trading range as known at the last bar analysed.
type Range struct {
	Kind        string      `json:"kind"`
	Start       int         `json:"start"` // the climax bar (SC or BC)
	ConfirmedAt int         `json:"confirmed_at"`
	End         int         `json:"end"`    // last bar of the range, -1 while open
	Status      string      `json:"status"` // "open", "completed" (phase E), "failed"
	Support     float64     `json:"support"`
	Resistance  float64     `json:"resistance"`
	Creek       float64     `json:"creek"` // mean of the rally highs inside the range
	Ice         float64     `json:"ice"`   // mean of the reaction lows inside the range
	Phase       string      `json:"phase"`
	Phases      []PhaseSpan `json:"phases"`
	Bias        string      `json:"bias"`
	Count       *Count      `json:"count,omitempty"`
	StartTime   int64       `json:"start_time"`         // Input.Time of Start
	EndTime     *int64      `json:"end_time,omitempty"` // Input.Time of End; absent while open

	lpsSet   bool // the LPS (LPSY) the count runs along
	lps      int
	lpsPrice float64
	lpsATR   float64
}

// Result is the analysis of a candle series.
type Result struct {
	Bars   int     `json:"bars"`
	Events []Event `json:"events"`
	Ranges []Range `json:"ranges"`
	// StableUntil is the first bar at which the result can still change:
	// more candles can add events, phases or counts only at bars >=
	// StableUntil (a pending climax or swing point). Bars before it are
	// final.
	StableUntil int `json:"stable_until"`
}

// Sentinel errors wrapped by *InputError.
var (
	ErrLengthMismatch = errors.New("series lengths differ")
	ErrNotFinite      = errors.New("value is not a finite number")
	ErrOutOfRange     = errors.New("value magnitude out of range")
	ErrHighBelowLow   = errors.New("high is below low")
	ErrNegativeVolume = errors.New("volume is negative")
)

// Limits on input magnitudes (the indicator engine's): within them no
// ratio or percent overflows.
const (
	MaxAbsValue = 1e18
	MinAbsValue = 1e-18
)

// InputError reports candles Analyze cannot use.
type InputError struct {
	Series string // "open", "high", "low", "close", "volume"
	Index  int    // the offending candle, -1 when not about one candle
	Err    error  // one of the Err* sentinels
}

func (e *InputError) Error() string {
	if e.Index < 0 {
		return e.Series + ": " + e.Err.Error()
	}
	return e.Series + "[" + strconv.Itoa(e.Index) + "]: " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

func inRange(x float64) bool {
	a := math.Abs(x)
	return (a <= MaxAbsValue && a >= MinAbsValue) || x == 0
}

// badCandle names what is wrong with candle i, which failed the fast check.
func badCandle(i int, o, h, l, c, v float64) *InputError {
	for _, s := range [...]struct {
		name string
		x    float64
	}{{"open", o}, {"high", h}, {"low", l}, {"close", c}, {"volume", v}} {
		if math.IsNaN(s.x) || math.IsInf(s.x, 0) {
			return &InputError{Series: s.name, Index: i, Err: ErrNotFinite}
		}
		if !inRange(s.x) {
			return &InputError{Series: s.name, Index: i, Err: ErrOutOfRange}
		}
	}
	if h < l {
		return &InputError{Series: "high", Index: i, Err: ErrHighBelowLow}
	}
	return &InputError{Series: "volume", Index: i, Err: ErrNegativeVolume}
}

// Analyze runs the engine over the candles with parameters p (checked with
// p.Validate). It returns an *InputError for candles it cannot use (series
// of different lengths, a value not finite or of a magnitude outside
// [MinAbsValue, MaxAbsValue] other than 0, high below low, negative
// volume), and a *ParamError for bad parameters, box_size among them when
// it is too small for the candles' prices (MaxBoxes). Fewer candles than
// the warm-up give an empty result.
func Analyze(in Input, p Params) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	n := len(in.Close)
	if len(in.Open) != n || len(in.High) != n || len(in.Low) != n || len(in.Volume) != n || (in.Time != nil && len(in.Time) != n) {
		return Result{}, &InputError{Series: "close", Index: -1, Err: ErrLengthMismatch}
	}
	e := newEngine(p, in)
	if i := e.run(); i >= 0 {
		return Result{}, badCandle(i, in.Open[i], in.High[i], in.Low[i], in.Close[i], in.Volume[i])
	}
	if p.BoxSize > 0 {
		top := 0.0 // the largest absolute price a chart's box must count to
		for i := range n {
			top = max(top, math.Abs(in.High[i]), math.Abs(in.Low[i]), math.Abs(in.Close[i]))
		}
		if top/p.BoxSize > MaxBoxes {
			return Result{}, &ParamError{Param: "box_size", Reason: "must be at least " + fmtNum(top/MaxBoxes) +
				" with these candles: at most " + fmtNum(MaxBoxes) + " boxes from zero to their largest price, " + fmtNum(top)}
		}
	}
	return e.result(in, n), nil
}
