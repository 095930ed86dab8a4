package wyckoff

import (
	"math"
	"reflect"
	"strconv"
)

// Params are the thresholds of the rules. DefaultParams gives the
// published defaults; ParamSpecs documents each one with its bounds.
type Params struct {
	ATRPeriod         int     // Wilder ATR period
	VolPeriod         int     // volume mean and spread over the bars before the one measured
	TrendBars         int     // bars looked back for the move a climax ends
	TrendMinATR       float64 // prior move into a climax, in ATR
	ClimaxVolRatio    float64 // climax volume / mean volume
	ClimaxSpreadATR   float64 // climax spread (high-low) / ATR
	ARMinATR          float64 // automatic rally from the climax extreme, in ATR
	ARMaxBars         int     // bars from the climax within which the AR must reach ARMinATR
	SwingATR          float64 // close-to-extreme reversal, in ATR, that confirms a swing point
	STZone            float64 // an ST holds within this fraction of the range height of the climax extreme
	STMaxUndercutATR  float64 // an ST may pass the climax extreme by at most this many ATR
	STVolMax          float64 // ST volume / climax volume
	STVolRatio        float64 // ST volume / mean volume
	STMaxBars         int     // bars after the AR within which the phase-A ST must come
	CauseBars         int     // bars from the climax before a penetration is a phase-C Spring/UTAD and a breakout may be a SOS/SOW without one
	SpringMinATR      float64 // minimum penetration of support by a Spring, in ATR
	SpringMaxDepth    float64 // maximum penetration, as a fraction of the range height
	SpringRecoverBars int     // bars after the extreme within which a close back inside must come
	TestMaxBars       int     // bars after a Spring within which its Test must come
	SOSVolRatio       float64 // highest volume ratio of the breakout window
	SOSSpreadATR      float64 // widest spread of the breakout window, in ATR
	SOSWindow         int     // bars of the breakout window (ending at the breakout bar)
	LPSVolRatio       float64 // volume ratio at an LPS low
	LPSMaxBars        int     // bars after the SOS within which the LPS must come
	BUBandATR         float64 // a BU low lies within this many ATR of the broken resistance
	PSWindow          int     // bars before the climax searched for PS/PSY
	PSVolRatio        float64 // PS volume ratio
	PhaseEHeight      float64 // range heights beyond the range that start phase E
	BoxATR            float64 // point-and-figure box as a multiple of ATR (used when BoxSize and BoxPercent are 0)
	BoxPercent        float64 // point-and-figure box as a percent of the last close (0: unused)
	BoxSize           float64 // fixed point-and-figure box (0: unused)
	Reversal          int     // point-and-figure reversal in boxes
}

// ParamSpec documents one parameter: its API name, default, bounds and the
// rule that reads it.
type ParamSpec struct {
	Name        string  `json:"name"`
	Type        string  `json:"type"` // "integer" or "number"
	Default     float64 `json:"default"`
	Min         float64 `json:"minimum"`
	Max         float64 `json:"maximum"`
	Description string  `json:"description"`
	field       int     // index of the Params field it sets
}

func ip(name string, def, lo, hi float64) ParamSpec {
	return ParamSpec{Name: name, Type: "integer", Default: def, Min: lo, Max: hi}
}

func np(name string, def, lo, hi float64) ParamSpec {
	return ParamSpec{Name: name, Type: "number", Default: def, Min: lo, Max: hi}
}

func (s ParamSpec) get(p *Params) float64 {
	f := reflect.ValueOf(p).Elem().Field(s.field)
	if s.Type == "integer" {
		return float64(f.Int())
	}
	return f.Float()
}

func (s ParamSpec) set(p *Params, v float64) {
	f := reflect.ValueOf(p).Elem().Field(s.field)
	if s.Type == "integer" {
		f.SetInt(int64(v))
		return
	}
	f.SetFloat(v)
}

// paramSpecs returns the table, the k-th entry setting the k-th field of
// Params (TestParamSpecsMatchFields). It is built on each call: a
// package-level table would be linked into every binary that imports the
// package (the indicator functions import it for the catalog only), and
// per-field accessors would double its code.
func paramSpecs() []ParamSpec {
	s := []ParamSpec{
		ip("atr_period", 14, 2, 200),
		ip("volume_period", 20, 5, 500),
		ip("trend_bars", 20, 5, 500),
		np("trend_min_atr", 5, 0, 100),
		np("climax_volume_ratio", 2, 1, 50),
		np("climax_spread_atr", 1.5, 0, 20),
		np("ar_min_atr", 4, 0.1, 50),
		ip("ar_max_bars", 15, 2, 200),
		np("swing_atr", 1, 0.1, 20),
		np("st_zone", 0.25, 0.05, 1),
		np("st_max_undercut_atr", 0.5, 0, 10),
		np("st_volume_max", 0.7, 0.05, 5),
		np("st_volume_ratio", 1, 0.05, 50),
		ip("st_max_bars", 40, 2, 500),
		ip("cause_bars", 20, 1, 1000),
		np("spring_min_atr", 0.2, 0, 10),
		np("spring_max_depth", 0.5, 0.01, 5),
		ip("spring_recover_bars", 3, 0, 50),
		ip("test_max_bars", 15, 2, 500),
		np("sos_volume_ratio", 1.5, 0, 50),
		np("sos_spread_atr", 1, 0, 20),
		ip("sos_window", 3, 1, 50),
		np("lps_volume_ratio", 1, 0, 50),
		ip("lps_max_bars", 20, 2, 500),
		np("bu_band_atr", 1, 0, 20),
		ip("ps_window", 30, 3, 500),
		np("ps_volume_ratio", 1.5, 1, 50),
		np("phase_e_height", 1, 0.1, 50),
		np("box_atr", 1, 0.01, 100),
		np("box_percent", 0, 0, 50),
		np("box_size", 0, 0, 1e18),
		ip("reversal", 3, 1, 20),
	}
	for k := range s {
		s[k].field = k
	}
	return s
}

// ParamSpecs returns the documentation of every parameter, in a fixed order.
func ParamSpecs() []ParamSpec {
	s := paramSpecs()
	for k, d := range paramDocs() {
		s[k].Description = d
	}
	return s
}

// paramDocs holds the descriptions, in paramSpecs order, apart from the
// table the engine reads: only the catalog needs them.
func paramDocs() []string {
	return []string{
		"Wilder ATR period (TA-Lib seeding); every spread and distance is in ATR through the bar before the one measured.",
		"Bars before the measured one over which volume's mean and standard deviation are taken.",
		"Bars looked back for the move a climax ends (highest high before a SC, lowest low before a BC).",
		"SC/BC: the move into the climax, extreme of trend_bars to the climax bar's extreme, at least this many ATR.",
		"SC/BC: volume / mean volume at least this (VSA's ultra-high volume).",
		"SC/BC: (high - low) / ATR at least this (VSA's wide spread).",
		"AR: the rally (reaction) from the climax extreme reaches at least this many ATR.",
		"AR: bars after the climax within which the rally must reach ar_min_atr.",
		"Swing points: a low (high) is confirmed when a close is this many ATR above (below) it.",
		"ST: its low lies within this fraction of the range height above support (below resistance for distribution).",
		"ST: it may pass the climax extreme by at most this many ATR.",
		"ST: volume at the ST extreme / climax volume at most this (supply diminished).",
		"ST: volume at the ST extreme / mean volume at most this (below average).",
		"ST: bars after the AR within which the phase-A ST must come, or the range is dropped.",
		"Bars from the climax after which a penetration is a phase-C Spring/UTAD (before: ST/UT) and a breakout without one may be a SOS/SOW.",
		"Spring/UTAD: penetration beyond the range at least this many ATR.",
		"Spring/UTAD: penetration at most this fraction of the range height (beyond it the range has broken).",
		"Spring/UTAD: a close back inside the range within this many bars after the extreme bar.",
		"Test: bars after the Spring within which the test must come.",
		"SOS/SOW: highest volume ratio in the breakout window at least this.",
		"SOS/SOW: widest spread in the breakout window at least this many ATR.",
		"SOS/SOW: bars of the breakout window, ending at the first close beyond the range.",
		"LPS/LPSY: volume ratio at the swing extreme at most this (supply/demand dried up).",
		"LPS/LPSY: bars after the SOS/SOW within which it must come.",
		"BU: the pullback low lies within this many ATR of the broken resistance.",
		"PS/PSY: bars before the climax searched.",
		"PS/PSY: volume ratio at least this on a swing extreme that held for three bars.",
		"Phase E starts when a close lies this many range heights beyond the range after the SOS/SOW.",
		"Point and figure: box as a multiple of the ATR at the count's last bar (when box_size and box_percent are 0); no count if the box gives over 1e6 boxes from zero to a price of the count.",
		"Point and figure: box as a percent of the close at the count's last bar (0: unused; else at least 0.0001); no count if the box gives over 1e6 boxes from zero to a price of the count.",
		"Point and figure: a fixed box in price units (0: unused; wins over box_percent), at least the candles' largest absolute price / 1e6: boxes sit at multiples of the box, at most 1e6 of them from zero.",
		"Point and figure: boxes a reversal needs (also the count's multiplier).",
	}
}

// DefaultParams returns every parameter at its default.
func DefaultParams() Params {
	var p Params
	for _, s := range paramSpecs() {
		s.set(&p, s.Default)
	}
	return p
}

// Map returns the parameters by API name.
func (p Params) Map() map[string]float64 {
	specs := paramSpecs()
	m := make(map[string]float64, len(specs))
	for _, s := range paramSpecs() {
		m[s.Name] = s.get(&p)
	}
	return m
}

// ParamError reports a refused parameter by its API name.
type ParamError struct {
	Param  string
	Reason string
}

func (e *ParamError) Error() string {
	return "wyckoff parameter " + strconv.Quote(e.Param) + ": " + e.Reason
}

// Resolve returns the defaults overridden by raw (API names). It returns a
// *ParamError for an unknown name or a value out of bounds or not whole
// where an integer is wanted.
func Resolve(raw map[string]float64) (Params, error) {
	p := DefaultParams()
	for name, v := range raw {
		s, ok := lookup(name)
		if !ok {
			return Params{}, &ParamError{Param: name, Reason: "unknown parameter"}
		}
		if err := s.check(v); err != nil {
			return Params{}, err
		}
		s.set(&p, v)
	}
	return p, p.Validate()
}

func lookup(name string) (ParamSpec, bool) {
	for _, s := range paramSpecs() {
		if s.Name == name {
			return s, true
		}
	}
	return ParamSpec{}, false
}

func (s ParamSpec) check(v float64) *ParamError {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return &ParamError{Param: s.Name, Reason: "must be a finite number"}
	}
	if s.Type == "integer" && v != math.Trunc(v) {
		return &ParamError{Param: s.Name, Reason: "must be an integer"}
	}
	if v < s.Min || v > s.Max {
		return &ParamError{Param: s.Name, Reason: "must be between " + fmtNum(s.Min) + " and " + fmtNum(s.Max)}
	}
	return nil
}

// Validate checks every parameter against its bounds; it returns the first
// *ParamError found.
func (p Params) Validate() error {
	for _, s := range paramSpecs() {
		if err := s.check(s.get(&p)); err != nil {
			return err
		}
	}
	if p.BoxSize > 0 && p.BoxPercent > 0 {
		return &ParamError{Param: "box_percent", Reason: "give box_size or box_percent, not both"}
	}
	if p.BoxPercent > 0 && p.BoxPercent < 100/MaxBoxes {
		return &ParamError{Param: "box_percent", Reason: "must be 0 (unused) or at least " + fmtNum(100/MaxBoxes) +
			" (at most " + fmtNum(MaxBoxes) + " boxes from zero to the close)"}
	}
	return nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
