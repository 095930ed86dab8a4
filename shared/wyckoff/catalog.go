package wyckoff

// Rule documents one rule: the events it names, its formula over the
// parameters, and why it was chosen where the published detectors differ.
type Rule struct {
	Name    string   `json:"name"`
	Events  []string `json:"events"`
	Formula string   `json:"formula"`
	Params  []string `json:"params"`
	Why     string   `json:"why,omitempty"`
}

// Rules returns the engine's rules, in the order a range meets them. The
// formulas are in accumulation terms; distribution applies them to the
// mirrored series (prices negated, high and low swapped).
//
// The table is built on each call, not held in a package-level variable,
// so that binaries that import the package without calling Rules do not
// carry it.
func Rules() []Rule {
	return []Rule{
		{Name: "climax", Events: []string{SC, BC},
			Formula: "volume / mean(volume, volume_period bars before) >= climax_volume_ratio AND volume >= the highest volume of the trend_bars bars before AND (high - low) / ATR(atr_period, previous bar) >= climax_spread_atr AND (highest high of trend_bars bars - low) / ATR >= trend_min_atr",
			Params:  []string{"climax_volume_ratio", "volume_period", "trend_bars", "climax_spread_atr", "atr_period", "trend_min_atr"},
			Why:     "Volume as a ratio to its recent mean, as Wyckoff and VSA read it (ultra-high is about twice), not a z-score, which is undefined or explosive when volume barely varies (reported as evidence). The mean excludes the climax bar. Where the bar closed is reported, not required: the low is often made on the climax bar and the turn seen the next."},
		{Name: "automatic_rally", Events: []string{AR},
			Formula: "(highest high after the climax - climax low) / ATR at the climax >= ar_min_atr, reached within ar_max_bars bars; its top is confirmed when a close falls swing_atr ATR below it",
			Params:  []string{"ar_min_atr", "ar_max_bars", "swing_atr"},
			Why:     "The AR's high is the range's resistance, so it must be known, not guessed: it is confirmed by the reaction that follows it."},
		{Name: "secondary_test", Events: []string{ST},
			Formula: "a swing low (confirmed by a close swing_atr ATR above it) with (low - support) / (resistance - support) <= st_zone AND (support - low) / ATR <= st_max_undercut_atr AND its volume / climax volume <= st_volume_max AND its volume / mean volume <= st_volume_ratio; the first one, within st_max_bars bars of the AR, completes phase A",
			Params:  []string{"st_zone", "st_max_undercut_atr", "st_volume_max", "st_volume_ratio", "st_max_bars", "swing_atr"},
			Why:     "The ST revisits the climax area on significantly diminished volume: diminished against the climax and below average. No event of a range is reported before its phase A is complete, so a lone volume spike never is."},
		{Name: "spring", Events: []string{Spring, UTAD, ST, UT},
			Formula: "low < support, (support - lowest low) / ATR >= spring_min_atr AND (support - lowest low) / (resistance - support) <= spring_max_depth AND a close back above support within spring_recover_bars bars of the lowest low; a Spring (UTAD) when the lowest low is cause_bars or more bars after the climax, an ST (UT) of phase B before",
			Params:  []string{"spring_min_atr", "spring_max_depth", "spring_recover_bars", "cause_bars"},
			Why:     "Volume is not a condition: Wyckoff defines the spring by price (support broken and quickly recovered); volume grades it (light: supply exhausted; heavy: a shakeout that needs a test). Detectors that demand light volume (< 0.7x) miss shakeouts, those that demand a high z-score (>= 0.8) miss the classic light spring. The other reading (ST/UT or Spring/UTAD) is listed with its score."},
		{Name: "test", Events: []string{Test},
			Formula: "the first swing low after a Spring, within test_max_bars bars, with low >= spring low AND (low - support) / (resistance - support) <= st_zone AND its volume <= the spring's volume",
			Params:  []string{"test_max_bars", "st_zone"}},
		{Name: "breakout", Events: []string{SOS, SOW},
			Formula: "close > resistance AND max volume ratio of the last sos_window bars >= sos_volume_ratio AND max (high - low) / ATR of those bars >= sos_spread_atr, after a Spring or cause_bars bars after the climax",
			Params:  []string{"sos_window", "sos_volume_ratio", "sos_spread_atr", "cause_bars"},
			Why:     "A sign of strength is a close beyond the range with effort (widening spread, increasing volume), not a poke of an intrabar high."},
		{Name: "last_point", Events: []string{LPS, LPSY},
			Formula: "the first swing low after the SOS, within lps_max_bars bars, with (low - support) / (resistance - support) >= 0.5 AND volume ratio <= lps_volume_ratio",
			Params:  []string{"lps_max_bars", "lps_volume_ratio"}},
		{Name: "back_up", Events: []string{BU},
			Formula: "a swing low after the LPS with |low - resistance| / ATR <= bu_band_atr AND volume ratio <= lps_volume_ratio",
			Params:  []string{"bu_band_atr", "lps_volume_ratio"}},
		{Name: "preliminary_support", Events: []string{PS, PSY},
			Formula: "in the ps_window bars before the climax (3 or more bars before it), the swing low (lowest of two bars either side) with the highest volume ratio >= ps_volume_ratio and a low above the climax low",
			Params:  []string{"ps_window", "ps_volume_ratio"}},
		{Name: "phases", Events: []string{},
			Formula: "A: from PS (or the climax) to the phase-A ST; B: from that ST; C: from the Spring (UTAD); D: from the SOS (SOW); E: when a close lies phase_e_height range heights beyond the range after the SOS (SOW). A range fails when a close stays beyond support (resistance) longer than spring_recover_bars bars or deeper than spring_max_depth. Bias: neutral in A and B, bullish (bearish) from C on, the opposite when the range fails",
			Params:  []string{"phase_e_height", "spring_recover_bars", "spring_max_depth"}},
		{Name: "horizontal_count", Events: []string{},
			Formula: "point-and-figure columns (high/low method, box = box_size, or box_percent % of the close, or box_atr x ATR at the LPS; reversal boxes) from the climax bar to the LPS (LPSY) bar; cause = columns x box x reversal; aggressive target = LPS box + cause (LPSY box - cause), conservative = lowest box + cause (highest box - cause)",
			Params:  []string{"box_size", "box_percent", "box_atr", "reversal"}},
	}
}
