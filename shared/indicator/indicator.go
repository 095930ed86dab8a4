// Package indicator computes technical-analysis indicators over candle
// series in pure Go, matching TA-Lib 0.6 where TA-Lib has the indicator.
//
// The package does no I/O and knows nothing of JSON or HTTP. A caller looks
// an indicator up by name, resolves the caller's raw parameters against the
// indicator's Spec (defaults, bounds, integer checks, cross-parameter rules)
// and computes it into caller-provided output slices:
//
//	spec, ok := indicator.Lookup("rsi")
//	params, err := spec.Resolve(map[string]float64{"period": 14})
//	out, err := spec.Run(indicator.Input{Close: closes}, params)
//
// Every output slice is as long as the input. Positions before an output's
// first value (its warm-up, see Spec.OutputLookbacks) hold math.NaN(); every
// other position holds a finite number as long as the inputs pass
// Input.Validate.
//
// # Numerics
//
// Indicators that TA-Lib has agree with TA-Lib 0.6 (its default
// compatibility, unstable periods 0) to a relative difference of at most
// 1e-9 on every value, warm-up lengths included; Spec.Conventions says which
// function and where an output starts. Wherever rounding can be magnified
// (running sums, variances, stochastic ranges, TA-Lib's 1e-14 zero tests)
// the package repeats TA-Lib's operations in TA-Lib's order, and keeps each
// product rounded on its own even where the compiler would fuse it into a
// multiply-add (arm64), so what TA-Lib's rounding leaves behind (a running
// sum's residue, a variance's cancellation) is reproduced exactly on every
// platform. Only the contracting recurrences (EMA, Wilder smoothing) are
// rearranged for speed, which moves their results by a few ulps that do not
// accumulate.
package indicator

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Input holds candle series, all of the same length, oldest first. An
// indicator reads only the series named in its Spec.Inputs; the others may be
// nil.
type Input struct {
	Open, High, Low, Close, Volume []float64
}

// Input series names used in Spec.Inputs.
const (
	SeriesOpen   = "open"
	SeriesHigh   = "high"
	SeriesLow    = "low"
	SeriesClose  = "close"
	SeriesVolume = "volume"
)

// Parameter types used in Param.Type.
const (
	TypeInt    = "int"
	TypeNumber = "number"
)

// Param describes one parameter of an indicator.
type Param struct {
	Name        string
	Type        string // TypeInt or TypeNumber
	Default     float64
	Min, Max    float64 // inclusive bounds
	Description string
}

// Params holds resolved parameter values by name. Integer parameters are
// stored as whole float64 numbers.
type Params map[string]float64

// Spec describes one indicator of the catalog and computes it.
type Spec struct {
	Name        string   // lower-case catalog name, e.g. "macd"
	Title       string   // human name, e.g. "Moving Average Convergence/Divergence"
	Category    string   // "overlap", "momentum", "volatility", "volume" or "trend"
	Description string   // what the indicator measures
	TALib       string   // the TA-Lib function matched, "" when TA-Lib has none
	Inputs      []string // series read, in Input field order: "open", "high", "low", "close", "volume"
	Params      []Param  // parameters in canonical order
	Outputs     []string // output names, in the order Compute and Run use
	// Conventions says how the indicator is computed: the TA-Lib function
	// it matches (or the definition used when TA-Lib has none), its warm-up
	// and where, if anywhere, its first value differs from TA-Lib's. Only
	// Catalog fills it (Lookup leaves it empty: the compute functions do
	// not link the text).
	Conventions string
	// Work bounds candles x a period for the indicators whose cost grows
	// with both (zero when there is no such bound).
	Work Work

	// lookbacks returns the warm-up of each output, in Outputs order, for
	// resolved parameter values given in Params order.
	lookbacks func(a args) lookbacks
	// cross checks rules between parameters; nil when there are none.
	cross func(a args) *ParamError
	// compute writes every output, warm-up NaNs included. The inputs and
	// outputs have been checked: same length n > max lookback.
	compute func(in Input, a args, out [][]float64)
}

// Work is a bound on candles x Param: a request over n candles may use
// Param up to Max/n.
type Work struct {
	Param string
	Max   float64
}

// WorkPerValue is the work of one output value, in steps of CCI's window
// sums (the unit of Spec.WorkOver): computing a value and writing it in
// an answer costs at most about 64 such steps on every indicator
// (measured: 100 to 130 ns a value, a step 1.9 to 2.2 ns, on one core of
// the development machine; README "Work budget").
const WorkPerValue = 64

// WorkPerCandle is the work of one candle of s apart from its Work
// parameter: WorkPerValue for each output.
func (s Spec) WorkPerCandle() int64 { return WorkPerValue * int64(len(s.Outputs)) }

// WorkOver returns the work of s over n candles with resolved parameters
// p (n at least MinCandles): n x WorkPerCandle, plus, for an indicator
// whose cost grows with its Work parameter, that parameter for each value
// after the warm-up (cci sums its window twice, mean and mean deviation,
// for every value: one step a bar of the window). Indicators are otherwise
// O(candles) whatever their parameters (rolling extremes use a monotonic
// deque).
func (s Spec) WorkOver(n int, p Params) int64 {
	w := int64(n) * s.WorkPerCandle()
	if s.Work.Param != "" {
		w += int64(max(0, n-s.Lookback(p))) * int64(p[s.Work.Param])
	}
	return w
}

// args holds resolved parameter values in Spec.Params order.
type args [4]float64

// lookbacks holds the warm-up of each output (at most three).
type lookbacks [3]int

func (a args) int(i int) int { return int(a[i]) }

// ParamError reports a parameter that was refused. Param is the parameter's
// name as given by the caller.
type ParamError struct {
	Param  string
	Reason string
}

func (e *ParamError) Error() string {
	return "indicator parameter " + strconv.Quote(e.Param) + ": " + e.Reason
}

// Sentinel errors wrapped by *InputError.
var (
	// ErrTooFewCandles: fewer candles than the indicator needs to produce
	// one value (InputError.Need says how many it needs).
	ErrTooFewCandles = errors.New("too few candles")
	// ErrMissingSeries: a series the indicator reads is nil or empty while
	// others are not.
	ErrMissingSeries = errors.New("missing series")
	// ErrLengthMismatch: the series read are not all of the same length.
	ErrLengthMismatch = errors.New("series lengths differ")
	// ErrNotFinite: a value is NaN or infinite.
	ErrNotFinite = errors.New("value is not a finite number")
	// ErrOutOfRange: a non-zero value's magnitude is outside
	// [MinAbsValue, MaxAbsValue].
	ErrOutOfRange = errors.New("value magnitude out of range")
	// ErrHighBelowLow: a candle's high is below its low.
	ErrHighBelowLow = errors.New("high is below low")
	// ErrNegativeVolume: a candle's volume is negative.
	ErrNegativeVolume = errors.New("volume is negative")
)

// ErrOutputShape is returned by Compute when the output slices do not match
// the Spec (a programming error of the caller, not bad input).
var ErrOutputShape = errors.New("indicator: output slices do not match the spec")

// Limits on input magnitudes enforced by Input.Validate. Within them no
// indicator overflows or divides its way to an infinity.
const (
	MaxAbsValue = 1e18
	MinAbsValue = 1e-18
)

// InputError reports candles that cannot be used.
type InputError struct {
	Series string // "open", "high", "low", "close", "volume"; "" for the candle set as a whole
	Index  int    // offending candle, or -1 when not about one candle
	Need   int    // with ErrTooFewCandles: the number of candles needed
	Have   int    // with ErrTooFewCandles: the number of candles given
	Err    error  // one of the Err* sentinels of this package
}

func (e *InputError) Error() string {
	switch {
	case errors.Is(e.Err, ErrTooFewCandles):
		return fmt.Sprintf("%v: need at least %d, have %d", e.Err, e.Need, e.Have)
	case e.Index >= 0:
		return fmt.Sprintf("%s[%d]: %v", e.Series, e.Index, e.Err)
	case e.Series != "":
		return e.Series + ": " + e.Err.Error()
	default:
		return e.Err.Error()
	}
}

func (e *InputError) Unwrap() error { return e.Err }

// Catalog returns every indicator, sorted by name. The result is a fresh copy
// the caller may keep or modify.
func Catalog() []Spec {
	conv := conventions()
	out := make([]Spec, len(catalog))
	for i, s := range catalog {
		out[i] = s.clone()
		out[i].Conventions = conv[s.Name]
	}
	return out
}

// Lookup returns the indicator with the given lower-case name, or false when
// there is none.
func Lookup(name string) (Spec, bool) {
	if i, ok := find(name); ok {
		return catalog[i].clone(), true
	}
	return Spec{}, false
}

// Known reports whether an indicator has the given lower-case name.
func Known(name string) bool {
	_, ok := find(name)
	return ok
}

// find is the index of the named indicator in the sorted catalog.
func find(name string) (int, bool) {
	i := sort.Search(len(catalog), func(i int) bool { return catalog[i].Name >= name })
	return i, i < len(catalog) && catalog[i].Name == name
}

func (s Spec) clone() Spec {
	s.Inputs = append([]string(nil), s.Inputs...)
	s.Params = append([]Param(nil), s.Params...)
	s.Outputs = append([]string(nil), s.Outputs...)
	return s
}

// Defaults returns every parameter at its default value.
func (s Spec) Defaults() Params {
	p := make(Params, len(s.Params))
	for _, d := range s.Params {
		p[d.Name] = d.Default
	}
	return p
}

// Resolve checks raw parameter values and fills in defaults for the missing
// ones. On failure it returns a *ParamError naming the first offending
// parameter (unknown names first, in sorted order, then the Spec.Params
// order): an unknown name, a non-finite value, a non-integer for an int
// parameter, a value out of bounds, or a broken cross-parameter rule (macd
// and adosc need fast_period < slow_period).
func (s Spec) Resolve(raw map[string]float64) (Params, error) {
	if len(raw) > 0 {
		var unknown []string
		for name := range raw {
			if s.param(name) < 0 {
				unknown = append(unknown, name)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, &ParamError{Param: unknown[0], Reason: "unknown parameter for " + s.Name}
		}
	}
	p := make(Params, len(s.Params))
	for _, d := range s.Params {
		v, ok := raw[d.Name]
		if !ok {
			v = d.Default
		}
		p[d.Name] = v
	}
	if _, err := s.args(p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s Spec) param(name string) int {
	for i, d := range s.Params {
		if d.Name == name {
			return i
		}
	}
	return -1
}

// args checks resolved parameters and returns them in Spec.Params order.
func (s Spec) args(p Params) (args, *ParamError) {
	var a args
	for name := range p {
		if s.param(name) < 0 {
			return a, &ParamError{Param: name, Reason: "unknown parameter for " + s.Name}
		}
	}
	for i, d := range s.Params {
		v, ok := p[d.Name]
		if !ok {
			return a, &ParamError{Param: d.Name, Reason: "missing (resolve the parameters first)"}
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return a, &ParamError{Param: d.Name, Reason: "must be a finite number"}
		}
		if d.Type == TypeInt && v != math.Trunc(v) {
			return a, &ParamError{Param: d.Name, Reason: "must be an integer"}
		}
		if v < d.Min || v > d.Max {
			return a, &ParamError{Param: d.Name, Reason: "must be between " + fmtNum(d.Min) + " and " + fmtNum(d.Max)}
		}
		a[i] = v
	}
	if s.cross != nil {
		if err := s.cross(a); err != nil {
			return a, err
		}
	}
	return a, nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Lookback returns the number of leading warm-up (NaN) positions of the
// output that starts last, for resolved parameters. At least Lookback+1
// candles are needed to get one value in every output. It returns -1 when
// the parameters do not resolve.
func (s Spec) Lookback(p Params) int {
	lb := s.OutputLookbacks(p)
	if lb == nil {
		return -1
	}
	m := 0
	for _, v := range lb {
		m = max(m, v)
	}
	return m
}

// OutputLookbacks returns the warm-up length of each output, in Outputs
// order, for resolved parameters. Most indicators give every output the same
// warm-up; adx and keltner do not (see their Conventions). It returns nil
// when the parameters do not resolve.
func (s Spec) OutputLookbacks(p Params) []int {
	if s.lookbacks == nil {
		return nil
	}
	a, err := s.args(p)
	if err != nil {
		return nil
	}
	lb := s.lookbacks(a)
	return append([]int(nil), lb[:len(s.Outputs)]...)
}

// MinCandles returns the number of candles needed to produce one value in
// every output (Lookback+1), or -1 when the parameters do not resolve.
func (s Spec) MinCandles(p Params) int {
	lb := s.Lookback(p)
	if lb < 0 {
		return -1
	}
	return lb + 1
}

// Compute computes the indicator over in with resolved parameters p into out,
// which must hold one slice per output (Outputs order), each as long as the
// input series; every element is overwritten, warm-up positions with NaN.
// It does not allocate, except that the rolling-extreme indicators (stoch,
// stochrsi, willr, donchian) allocate two index rings (at most 16 bytes per
// bar of window) when their window exceeds 127 bars. Values are not checked (see
// Input.Validate): with values that fail Validate the outputs may hold
// non-finite numbers.
//
// On failure it writes nothing and returns a *ParamError for bad parameters,
// an *InputError for missing or unequal series (ErrMissingSeries,
// ErrLengthMismatch) or too few candles (ErrTooFewCandles), or an error
// wrapping ErrOutputShape when out does not match.
func (s Spec) Compute(in Input, p Params, out [][]float64) error {
	if s.compute == nil {
		return errors.New("indicator: spec does not come from the catalog")
	}
	a, perr := s.args(p)
	if perr != nil {
		return perr
	}
	n, err := s.length(&in)
	if err != nil {
		return err
	}
	need := 0
	lb := s.lookbacks(a)
	for _, v := range lb[:len(s.Outputs)] {
		need = max(need, v+1)
	}
	if n < need {
		return &InputError{Index: -1, Need: need, Have: n, Err: ErrTooFewCandles}
	}
	if len(out) != len(s.Outputs) {
		return fmt.Errorf("%w: %s has %d outputs, got %d slices", ErrOutputShape, s.Name, len(s.Outputs), len(out))
	}
	for i, o := range out {
		if len(o) != n {
			return fmt.Errorf("%w: output %s has length %d, want %d", ErrOutputShape, s.Outputs[i], len(o), n)
		}
	}
	s.compute(in, a, out)
	return nil
}

// Run is Compute with freshly allocated outputs, returned in Outputs order.
// It fails as Compute does.
func (s Spec) Run(in Input, p Params) ([][]float64, error) {
	if s.compute == nil {
		return nil, errors.New("indicator: spec does not come from the catalog")
	}
	if _, err := s.args(p); err != nil {
		return nil, err
	}
	n, err := s.length(&in)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(s.Outputs))
	buf := make([]float64, n*len(out))
	for i := range out {
		out[i] = buf[i*n : (i+1)*n : (i+1)*n]
	}
	if err := s.Compute(in, p, out); err != nil {
		return nil, err
	}
	return out, nil
}

// length checks that every series the spec reads is present and that they
// are all of one length, and returns it.
func (s Spec) length(in *Input) (int, error) {
	n := -1
	for _, name := range s.Inputs {
		x := in.series(name)
		if n < 0 {
			n = len(x)
			continue
		}
		if len(x) != n {
			if len(x) == 0 || n == 0 {
				missing := name
				if len(x) != 0 {
					missing = s.Inputs[0]
				}
				return 0, &InputError{Series: missing, Index: -1, Err: ErrMissingSeries}
			}
			return 0, &InputError{Series: name, Index: -1, Err: ErrLengthMismatch}
		}
	}
	return max(n, 0), nil
}

func (in *Input) series(name string) []float64 {
	switch name {
	case SeriesOpen:
		return in.Open
	case SeriesHigh:
		return in.High
	case SeriesLow:
		return in.Low
	case SeriesClose:
		return in.Close
	case SeriesVolume:
		return in.Volume
	}
	return nil
}

// Validate checks the candles for use by any indicator: the non-nil series
// must all have the same length; every value must be finite and either zero
// or of magnitude within [MinAbsValue, MaxAbsValue]; high must not be below
// low where both are given; volume must not be negative. It returns nil or
// an *InputError naming the series and candle index of the first problem
// found (series in Input field order, then candles in order).
func (in Input) Validate() error {
	names := [...]string{SeriesOpen, SeriesHigh, SeriesLow, SeriesClose, SeriesVolume}
	n := -1
	for _, name := range names {
		x := in.series(name)
		if x == nil {
			continue
		}
		if n < 0 {
			n = len(x)
		} else if len(x) != n {
			return &InputError{Series: name, Index: -1, Err: ErrLengthMismatch}
		}
		for i, v := range x {
			a := math.Abs(v)
			switch {
			case a <= MaxAbsValue && a >= MinAbsValue:
			case v == 0:
			case math.IsNaN(v) || math.IsInf(v, 0):
				return &InputError{Series: name, Index: i, Err: ErrNotFinite}
			default:
				return &InputError{Series: name, Index: i, Err: ErrOutOfRange}
			}
		}
	}
	if in.High != nil && in.Low != nil {
		for i, h := range in.High {
			if h < in.Low[i] {
				return &InputError{Series: SeriesHigh, Index: i, Err: ErrHighBelowLow}
			}
		}
	}
	for i, v := range in.Volume {
		if v < 0 {
			return &InputError{Series: SeriesVolume, Index: i, Err: ErrNegativeVolume}
		}
	}
	return nil
}
