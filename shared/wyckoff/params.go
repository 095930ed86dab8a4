package wyckoff

import (
	"math"
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
	Type        string  `json:"type"` // "int" or "number"
	Default     float64 `json:"default"`
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	Description string  `json:"description"`
	get         func(*Params) float64
	set         func(*Params, float64)
}

func ip(name string, def, lo, hi float64, desc string, f func(*Params) *int) ParamSpec {
	return ParamSpec{Name: name, Type: "int", Default: def, Min: lo, Max: hi, Description: desc,
		get: func(p *Params) float64 { return float64(*f(p)) },
		set: func(p *Params, v float64) { *f(p) = int(v) }}
}

func np(name string, def, lo, hi float64, desc string, f func(*Params) *float64) ParamSpec {
	return ParamSpec{Name: name, Type: "number", Default: def, Min: lo, Max: hi, Description: desc,
		get: func(p *Params) float64 { return *f(p) },
		set: func(p *Params, v float64) { *f(p) = v }}
}

var specs = []ParamSpec{
	ip("atr_period", 14, 2, 200, "Wilder ATR period (TA-Lib seeding); every spread and distance is in ATR through the bar before the one measured.", func(p *Params) *int { return &p.ATRPeriod }),
	ip("volume_period", 20, 5, 500, "Bars before the measured one over which volume's mean and standard deviation are taken.", func(p *Params) *int { return &p.VolPeriod }),
	ip("trend_bars", 20, 5, 500, "Bars looked back for the move a climax ends (highest high before a SC, lowest low before a BC).", func(p *Params) *int { return &p.TrendBars }),
	np("trend_min_atr", 5, 0, 100, "SC/BC: the move into the climax, extreme of trend_bars to the climax bar's extreme, at least this many ATR.", func(p *Params) *float64 { return &p.TrendMinATR }),
	np("climax_volume_ratio", 2, 1, 50, "SC/BC: volume / mean volume at least this (VSA's ultra-high volume).", func(p *Params) *float64 { return &p.ClimaxVolRatio }),
	np("climax_spread_atr", 1.5, 0, 20, "SC/BC: (high - low) / ATR at least this (VSA's wide spread).", func(p *Params) *float64 { return &p.ClimaxSpreadATR }),
	np("ar_min_atr", 4, 0.1, 50, "AR: the rally (reaction) from the climax extreme reaches at least this many ATR.", func(p *Params) *float64 { return &p.ARMinATR }),
	ip("ar_max_bars", 15, 2, 200, "AR: bars after the climax within which the rally must reach ar_min_atr.", func(p *Params) *int { return &p.ARMaxBars }),
	np("swing_atr", 1, 0.1, 20, "Swing points: a low (high) is confirmed when a close is this many ATR above (below) it.", func(p *Params) *float64 { return &p.SwingATR }),
	np("st_zone", 0.25, 0.05, 1, "ST: its low lies within this fraction of the range height above support (below resistance for distribution).", func(p *Params) *float64 { return &p.STZone }),
	np("st_max_undercut_atr", 0.5, 0, 10, "ST: it may pass the climax extreme by at most this many ATR.", func(p *Params) *float64 { return &p.STMaxUndercutATR }),
	np("st_volume_max", 0.7, 0.05, 5, "ST: volume at the ST extreme / climax volume at most this (supply diminished).", func(p *Params) *float64 { return &p.STVolMax }),
	np("st_volume_ratio", 1, 0.05, 50, "ST: volume at the ST extreme / mean volume at most this (below average).", func(p *Params) *float64 { return &p.STVolRatio }),
	ip("st_max_bars", 40, 2, 500, "ST: bars after the AR within which the phase-A ST must come, or the range is dropped.", func(p *Params) *int { return &p.STMaxBars }),
	ip("cause_bars", 20, 1, 1000, "Bars from the climax after which a penetration is a phase-C Spring/UTAD (before: ST/UT) and a breakout without one may be a SOS/SOW.", func(p *Params) *int { return &p.CauseBars }),
	np("spring_min_atr", 0.2, 0, 10, "Spring/UTAD: penetration beyond the range at least this many ATR.", func(p *Params) *float64 { return &p.SpringMinATR }),
	np("spring_max_depth", 0.5, 0.01, 5, "Spring/UTAD: penetration at most this fraction of the range height (beyond it the range has broken).", func(p *Params) *float64 { return &p.SpringMaxDepth }),
	ip("spring_recover_bars", 3, 0, 50, "Spring/UTAD: a close back inside the range within this many bars after the extreme bar.", func(p *Params) *int { return &p.SpringRecoverBars }),
	ip("test_max_bars", 15, 2, 500, "Test: bars after the Spring within which the test must come.", func(p *Params) *int { return &p.TestMaxBars }),
	np("sos_volume_ratio", 1.5, 0, 50, "SOS/SOW: highest volume ratio in the breakout window at least this.", func(p *Params) *float64 { return &p.SOSVolRatio }),
	np("sos_spread_atr", 1, 0, 20, "SOS/SOW: widest spread in the breakout window at least this many ATR.", func(p *Params) *float64 { return &p.SOSSpreadATR }),
	ip("sos_window", 3, 1, 50, "SOS/SOW: bars of the breakout window, ending at the first close beyond the range.", func(p *Params) *int { return &p.SOSWindow }),
	np("lps_volume_ratio", 1, 0, 50, "LPS/LPSY: volume ratio at the swing extreme at most this (supply/demand dried up).", func(p *Params) *float64 { return &p.LPSVolRatio }),
	ip("lps_max_bars", 20, 2, 500, "LPS/LPSY: bars after the SOS/SOW within which it must come.", func(p *Params) *int { return &p.LPSMaxBars }),
	np("bu_band_atr", 1, 0, 20, "BU: the pullback low lies within this many ATR of the broken resistance.", func(p *Params) *float64 { return &p.BUBandATR }),
	ip("ps_window", 30, 3, 500, "PS/PSY: bars before the climax searched.", func(p *Params) *int { return &p.PSWindow }),
	np("ps_volume_ratio", 1.5, 1, 50, "PS/PSY: volume ratio at least this on a swing extreme that held for three bars.", func(p *Params) *float64 { return &p.PSVolRatio }),
	np("phase_e_height", 1, 0.1, 50, "Phase E starts when a close lies this many range heights beyond the range after the SOS/SOW.", func(p *Params) *float64 { return &p.PhaseEHeight }),
	np("box_atr", 1, 0.01, 100, "Point and figure: box as a multiple of the ATR at the count's last bar (when box_size and box_percent are 0).", func(p *Params) *float64 { return &p.BoxATR }),
	np("box_percent", 0, 0, 50, "Point and figure: box as a percent of the close at the count's last bar (0: unused).", func(p *Params) *float64 { return &p.BoxPercent }),
	np("box_size", 0, 0, 1e18, "Point and figure: a fixed box in price units (0: unused; wins over box_percent).", func(p *Params) *float64 { return &p.BoxSize }),
	ip("reversal", 3, 1, 20, "Point and figure: boxes a reversal needs (also the count's multiplier).", func(p *Params) *int { return &p.Reversal }),
}

// ParamSpecs returns the documentation of every parameter, in a fixed order.
func ParamSpecs() []ParamSpec { return append([]ParamSpec(nil), specs...) }

// DefaultParams returns every parameter at its default.
func DefaultParams() Params {
	var p Params
	for _, s := range specs {
		s.set(&p, s.Default)
	}
	return p
}

// Map returns the parameters by API name.
func (p Params) Map() map[string]float64 {
	m := make(map[string]float64, len(specs))
	for _, s := range specs {
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
	for _, s := range specs {
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
	if s.Type == "int" && v != math.Trunc(v) {
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
	for _, s := range specs {
		if err := s.check(s.get(&p)); err != nil {
			return err
		}
	}
	if p.BoxSize > 0 && p.BoxPercent > 0 {
		return &ParamError{Param: "box_percent", Reason: "give box_size or box_percent, not both"}
	}
	return nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
