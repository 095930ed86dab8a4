package indicator

import "sort"

// MaxPeriod is TA-Lib's limit on a period. No period here reaches it: init
// lowers each integer parameter's maximum to the largest value a request
// can use (see usableMax).
const MaxPeriod = 100000

// MaxCandles is the most candles one request carries (candle's
// DefaultMaxCandles; indicatorapi's tests hold the two equal).
const MaxCandles = 50_000

const (
	catOverlap    = "overlap"
	catMomentum   = "momentum"
	catVolatility = "volatility"
	catVolume     = "volume"
	catTrend      = "trend"
)

var (
	inClose = []string{SeriesClose}
	inHL    = []string{SeriesHigh, SeriesLow}
	inHLC   = []string{SeriesHigh, SeriesLow, SeriesClose}
	inCV    = []string{SeriesClose, SeriesVolume}
	inHLCV  = []string{SeriesHigh, SeriesLow, SeriesClose, SeriesVolume}
	outVal  = []string{"value"}
	outBand = []string{"upper", "middle", "lower"}
)

const talibNote = " Agrees with TA-Lib to a relative difference of at most 1e-9 on every value both produce."

func intParam(name string, def, lo float64, desc string) Param {
	return Param{Name: name, Type: TypeInt, Default: def, Min: lo, Max: MaxPeriod, Description: desc}
}

func numParam(name string, def, lo, hi float64, desc string) Param {
	return Param{Name: name, Type: TypeNumber, Default: def, Min: lo, Max: hi, Description: desc}
}

func periodParam(def, lo float64) Param {
	return intParam("period", def, lo, "Number of bars in the window (TA-Lib's time period).")
}

// same returns a lookback function giving every output the same warm-up.
func same(f func(a args) int) func(a args) lookbacks {
	return func(a args) lookbacks {
		lb := f(a)
		return lookbacks{lb, lb, lb}
	}
}

func fastBelowSlow(a args) *ParamError {
	if a[0] >= a[1] {
		return &ParamError{Param: "fast_period", Reason: "must be less than slow_period"}
	}
	return nil
}

// catalog is sorted by name in init.
var catalog = []Spec{
	{
		Name: "sma", Title: "Simple Moving Average", Category: catOverlap, TALib: "SMA",
		Description: "Arithmetic mean of the close over the last period bars.",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(20, 2)},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute:   func(in Input, a args, out [][]float64) { sma(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "ema", Title: "Exponential Moving Average", Category: catOverlap, TALib: "EMA",
		Description: "Exponentially weighted mean of the close, k = 2/(period+1).",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(20, 2)},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute:   func(in Input, a args, out [][]float64) { ema(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "wma", Title: "Weighted Moving Average", Category: catOverlap, TALib: "WMA",
		Description: "Linearly weighted mean of the close over the last period bars (newest weight period, oldest 1).",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(20, 2)},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute:   func(in Input, a args, out [][]float64) { wma(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "dema", Title: "Double Exponential Moving Average", Category: catOverlap, TALib: "DEMA",
		Description: "2*EMA(close) - EMA(EMA(close)), a lower-lag moving average.",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(20, 2)},
		lookbacks: same(func(a args) int { return 2 * (a.int(0) - 1) }),
		compute:   func(in Input, a args, out [][]float64) { dema(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "tema", Title: "Triple Exponential Moving Average", Category: catOverlap, TALib: "TEMA",
		Description: "3*EMA1 - 3*EMA2 + EMA3 of the close, where each EMA smooths the previous one.",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(20, 2)},
		lookbacks: same(func(a args) int { return 3 * (a.int(0) - 1) }),
		compute:   func(in Input, a args, out [][]float64) { tema(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "rsi", Title: "Relative Strength Index", Category: catMomentum, TALib: "RSI",
		Description: "Wilder's RSI of the close, 0 to 100.",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(14, 2)},
		lookbacks: same(func(a args) int { return a.int(0) }),
		compute:   func(in Input, a args, out [][]float64) { rsi(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "roc", Title: "Rate of Change", Category: catMomentum, TALib: "ROC",
		Description: "Percentage change of the close over period bars: (close/close[period ago] - 1)*100.",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(10, 1)},
		lookbacks: same(func(a args) int { return a.int(0) }),
		compute:   func(in Input, a args, out [][]float64) { roc(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "mom", Title: "Momentum", Category: catMomentum, TALib: "MOM",
		Description: "Change of the close over period bars: close - close[period ago].",
		Inputs:      inClose, Outputs: outVal,
		Params:    []Param{periodParam(10, 1)},
		lookbacks: same(func(a args) int { return a.int(0) }),
		compute:   func(in Input, a args, out [][]float64) { mom(in.Close, out[0], a.int(0)) },
	},
	{
		Name: "macd", Title: "Moving Average Convergence/Divergence", Category: catMomentum, TALib: "MACD",
		Description: "EMA(fast) - EMA(slow) of the close, its EMA signal line and their difference.",
		Inputs:      inClose, Outputs: []string{"macd", "signal", "hist"},
		Params: []Param{
			intParam("fast_period", 12, 2, "Period of the fast EMA; must be below slow_period (so its maximum is one below slow_period's)."),
			intParam("slow_period", 26, 2, "Period of the slow EMA; must be above fast_period."),
			intParam("signal_period", 9, 1, "Period of the signal EMA of the MACD line. With 1 the signal line is the MACD line itself and hist is 0."),
		},
		lookbacks: same(func(a args) int { return a.int(1) - 1 + a.int(2) - 1 }),
		cross:     fastBelowSlow,
		compute: func(in Input, a args, out [][]float64) {
			macd(in.Close, out[0], out[1], out[2], a.int(0), a.int(1), a.int(2))
		},
	},
	{
		Name: "bbands", Title: "Bollinger Bands", Category: catVolatility, TALib: "BBANDS",
		Description: "SMA of the close with bands std_dev population standard deviations above and below.",
		Inputs:      inClose, Outputs: outBand,
		Params: []Param{
			periodParam(20, 2),
			numParam("std_dev", 2, 0.01, 100, "Number of standard deviations for both bands (TA-Lib's nbdevup = nbdevdn)."),
		},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			bbands(in.Close, out[0], out[1], out[2], a.int(0), a[1])
		},
	},
	{
		Name: "stochrsi", Title: "Stochastic RSI", Category: catMomentum, TALib: "STOCHRSI",
		Description: "Fast stochastic of the RSI: where the RSI sits within its range over k_period bars, and its SMA.",
		Inputs:      inClose, Outputs: []string{"k", "d"},
		Params: []Param{
			intParam("period", 14, 2, "RSI period (TA-Lib's time period)."),
			intParam("k_period", 14, 1, "Window of the stochastic over the RSI (TA-Lib's fastk_period)."),
			intParam("d_period", 3, 1, "SMA period of %D (TA-Lib's fastd_period, fastd_matype SMA)."),
		},
		lookbacks: same(func(a args) int { return a.int(0) + a.int(1) - 1 + a.int(2) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			stochRSI(in.Close, out[0], out[1], a.int(0), a.int(1), a.int(2))
		},
	},
	{
		Name: "atr", Title: "Average True Range", Category: catVolatility, TALib: "ATR",
		Description: "Wilder-smoothed average of the true range.",
		Inputs:      inHLC, Outputs: outVal,
		Params:    []Param{periodParam(14, 1)},
		lookbacks: same(func(a args) int { return a.int(0) }),
		compute: func(in Input, a args, out [][]float64) {
			atr(in.High, in.Low, in.Close, out[0], a.int(0))
		},
	},
	{
		Name: "natr", Title: "Normalized Average True Range", Category: catVolatility, TALib: "NATR",
		Description: "ATR as a percentage of the close.",
		Inputs:      inHLC, Outputs: outVal,
		Params:    []Param{periodParam(14, 2)},
		lookbacks: same(func(a args) int { return a.int(0) }),
		compute: func(in Input, a args, out [][]float64) {
			natr(in.High, in.Low, in.Close, out[0], a.int(0))
		},
	},
	{
		Name: "cci", Title: "Commodity Channel Index", Category: catMomentum, TALib: "CCI",
		Description: "Deviation of the typical price from its mean, in units of 0.015 mean absolute deviations.",
		Inputs:      inHLC, Outputs: outVal,
		Params:    []Param{periodParam(14, 2)},
		Work:      Work{Param: "period", Max: 200_000_000},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			cci(in.High, in.Low, in.Close, out[0], a.int(0))
		},
	},
	{
		Name: "willr", Title: "Williams' %R", Category: catMomentum, TALib: "WILLR",
		Description: "Where the close sits within the high-low range of the last period bars, -100 to 0.",
		Inputs:      inHLC, Outputs: outVal,
		Params:    []Param{periodParam(14, 2)},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			willr(in.High, in.Low, in.Close, out[0], a.int(0))
		},
	},
	{
		Name: "adx", Title: "Average Directional Movement Index", Category: catTrend, TALib: "ADX, PLUS_DI, MINUS_DI",
		Description: "Wilder's ADX with the +DI and -DI it is built from.",
		Inputs:      inHLC, Outputs: []string{"adx", "plus_di", "minus_di"},
		Params:    []Param{periodParam(14, 2)},
		lookbacks: func(a args) lookbacks { p := a.int(0); return lookbacks{2*p - 1, p, p} },
		compute: func(in Input, a args, out [][]float64) {
			adx(in.High, in.Low, in.Close, out[0], out[1], out[2], a.int(0))
		},
	},
	{
		Name: "stoch", Title: "Stochastic Oscillator", Category: catMomentum, TALib: "STOCH",
		Description: "Slow stochastic: where the close sits within the high-low range of k_period bars, smoothed, and its SMA.",
		Inputs:      inHLC, Outputs: []string{"k", "d"},
		Params: []Param{
			intParam("k_period", 14, 1, "Window of the raw %K (TA-Lib's fastk_period)."),
			intParam("k_smooth", 3, 1, "SMA period smoothing %K (TA-Lib's slowk_period, slowk_matype SMA)."),
			intParam("d_period", 3, 1, "SMA period of %D (TA-Lib's slowd_period, slowd_matype SMA)."),
		},
		lookbacks: same(func(a args) int { return a.int(0) - 1 + a.int(1) - 1 + a.int(2) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			stoch(in.High, in.Low, in.Close, out[0], out[1], a.int(0), a.int(1), a.int(2))
		},
	},
	{
		Name: "sar", Title: "Parabolic SAR", Category: catTrend, TALib: "SAR",
		Description: "Wilder's parabolic stop and reverse.",
		Inputs:      inHL, Outputs: outVal,
		Params: []Param{
			numParam("acceleration", 0.02, 0.0001, 1, "Acceleration factor step (and start)."),
			numParam("maximum", 0.2, 0.0001, 1, "Maximum acceleration factor."),
		},
		lookbacks: same(func(args) int { return 1 }),
		compute: func(in Input, a args, out [][]float64) {
			sar(in.High, in.Low, out[0], a[0], a[1])
		},
	},
	{
		Name: "mfi", Title: "Money Flow Index", Category: catVolume, TALib: "MFI",
		Description: "Volume-weighted RSI of the typical price, 0 to 100.",
		Inputs:      inHLCV, Outputs: outVal,
		Params:    []Param{periodParam(14, 2)},
		lookbacks: same(func(a args) int { return a.int(0) }),
		compute: func(in Input, a args, out [][]float64) {
			mfi(in.High, in.Low, in.Close, in.Volume, out[0], a.int(0))
		},
	},
	{
		Name: "obv", Title: "On Balance Volume", Category: catVolume, TALib: "OBV",
		Description: "Running total of volume, added on up closes and subtracted on down closes.",
		Inputs:      inCV, Outputs: outVal,
		lookbacks: same(func(args) int { return 0 }),
		compute: func(in Input, a args, out [][]float64) {
			obv(in.Close, in.Volume, out[0])
		},
	},
	{
		Name: "ad", Title: "Chaikin A/D Line", Category: catVolume, TALib: "AD",
		Description: "Running total of volume weighted by where the close sits within the bar's range.",
		Inputs:      inHLCV, Outputs: outVal,
		lookbacks: same(func(args) int { return 0 }),
		compute: func(in Input, a args, out [][]float64) {
			ad(in.High, in.Low, in.Close, in.Volume, out[0])
		},
	},
	{
		Name: "adosc", Title: "Chaikin A/D Oscillator", Category: catVolume, TALib: "ADOSC",
		Description: "EMA(fast) - EMA(slow) of the Chaikin A/D line.",
		Inputs:      inHLCV, Outputs: outVal,
		Params: []Param{
			intParam("fast_period", 3, 2, "Period of the fast EMA; must be less than slow_period."),
			intParam("slow_period", 10, 2, "Period of the slow EMA."),
		},
		lookbacks: same(func(a args) int { return max(a.int(0), a.int(1)) - 1 }),
		cross:     fastBelowSlow,
		compute: func(in Input, a args, out [][]float64) {
			adosc(in.High, in.Low, in.Close, in.Volume, out[0], a.int(0), a.int(1))
		},
	},
	{
		Name: "cmf", Title: "Chaikin Money Flow", Category: catVolume,
		Description: "Money flow volume over the last period bars divided by their volume, -1 to 1.",
		Inputs:      inHLCV, Outputs: outVal,
		Params:    []Param{periodParam(20, 1)},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			cmf(in.High, in.Low, in.Close, in.Volume, out[0], a.int(0))
		},
	},
	{
		Name: "vwap", Title: "Volume-Weighted Average Price", Category: catVolume,
		Description: "Cumulative volume-weighted average of the typical price from the first candle.",
		Inputs:      inHLCV, Outputs: outVal,
		lookbacks: same(func(args) int { return 0 }),
		compute: func(in Input, a args, out [][]float64) {
			vwap(in.High, in.Low, in.Close, in.Volume, out[0])
		},
	},
	{
		Name: "keltner", Title: "Keltner Channels", Category: catVolatility,
		Description: "EMA of the close with bands multiplier ATRs above and below.",
		Inputs:      inHLC, Outputs: outBand,
		Params: []Param{
			periodParam(20, 2),
			numParam("multiplier", 2, 0.01, 100, "Number of ATRs between the middle line and each band."),
		},
		lookbacks: func(a args) lookbacks { p := a.int(0); return lookbacks{p, p - 1, p} },
		compute: func(in Input, a args, out [][]float64) {
			keltner(in.High, in.Low, in.Close, out[0], out[1], out[2], a.int(0), a[1])
		},
	},
	{
		Name: "donchian", Title: "Donchian Channels", Category: catVolatility,
		Description: "Highest high and lowest low over the last period bars, and their midpoint.",
		Inputs:      inHL, Outputs: outBand,
		Params:    []Param{periodParam(20, 1)},
		lookbacks: same(func(a args) int { return a.int(0) - 1 }),
		compute: func(in Input, a args, out [][]float64) {
			donchian(in.High, in.Low, out[0], out[1], out[2], a.int(0))
		},
	},
}

func init() {
	sort.Slice(catalog, func(i, j int) bool { return catalog[i].Name < catalog[j].Name })
	for i := range catalog {
		s := &catalog[i]
		for j := range s.Params {
			if s.Params[j].Type == TypeInt && s.Params[j].Max == MaxPeriod {
				s.Params[j].Max = float64(s.usableMax(j))
			}
		}
	}
}

// usableMax returns the largest value of integer parameter j that some
// request can use: with the other parameters at their minimums (with
// slow_period raised above fast_period where that rule asks),
// the candles its warm-up needs fit in MaxCandles, and within the Work
// limit. A larger value never fits, as every warm-up grows with every
// period.
func (s *Spec) usableMax(j int) int {
	fits := func(v int) bool {
		var a args
		for k, p := range s.Params {
			a[k] = p.Min
			if p.Type == TypeNumber {
				a[k] = p.Default
			}
		}
		a[j] = float64(v)
		if s.cross != nil && s.cross(a) != nil {
			// The one cross rule is fast_period (first) below slow_period
			// (second): raise slow_period just above fast_period.
			a[1] = a[0] + 1
			if s.cross(a) != nil {
				return false
			}
		}
		lb := s.lookbacks(a)
		n := 0
		for _, l := range lb[:len(s.Outputs)] {
			n = max(n, l+1)
		}
		if n > MaxCandles {
			return false
		}
		if w := s.Work; w.Param != "" && float64(n)*a[s.param(w.Param)] > w.Max {
			return false
		}
		return true
	}
	lo, hi := int(s.Params[j].Min), MaxPeriod // fits(lo); find the last v that fits
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// conventions returns each indicator's Spec.Conventions by name. It is
// built on each call, apart from the catalog table, so that only the
// binaries that publish the catalog (Catalog) link its text: the
// functions that compute (Lookup) do not.
func conventions() map[string]string {
	return map[string]string{
		"sma": "TA-Lib SMA: TA-Lib's running sum, operation for operation (so its rounding residue, which matters after a collapse of the price by several orders of magnitude, is TA-Lib's), times 1/period. Warm-up period-1 bars; the first value is at index period-1." + talibNote,
		"ema": "TA-Lib EMA (default compatibility): k = 2/(period+1), seeded at index period-1 with the SMA of the first period closes, then ema = ema + k*(close-ema). Warm-up period-1 bars." + talibNote +
			" The recursion is evaluated as ema*(1-k) + k*close, four bars per step; the rounding differs from TA-Lib's by a few ulps and does not accumulate (the recursion is contracting).",
		"wma":  "TA-Lib WMA, operation for operation (running weighted sum divided by period*(period+1)/2). Warm-up period-1 bars." + talibNote,
		"dema": "TA-Lib DEMA: TA-Lib's EMA chain, the second EMA seeded with the SMA of the first period values of the first. Warm-up 2*(period-1) bars." + talibNote,
		"tema": "TA-Lib TEMA: TA-Lib's EMA chain, each EMA seeded with the SMA of the first period values of the previous one; value EMA3 + (3*EMA1 - 3*EMA2). Warm-up 3*(period-1) bars." + talibNote,
		"rsi": "TA-Lib RSI with its default unstable period 0: the first value (index period) uses the plain averages of the first period gains and losses, later ones Wilder's smoothing avg = (avg*(period-1) + x)/period; value 100*gain/(gain+loss), and 0 when gain+loss is below TA-Lib's 1e-14 (a flat series gives 0, as TA-Lib). Warm-up period bars." + talibNote +
			" Wilder's smoothing is evaluated as avg*((period-1)/period) + x/period, two bars per step; the rounding differs from TA-Lib's by a few ulps and does not accumulate.",
		"roc": "TA-Lib ROC: ((close/close[i-period]) - 1)*100, and 0 when close[i-period] is 0. Warm-up period bars." + talibNote,
		"mom": "TA-Lib MOM: close - close[i-period]. Warm-up period bars." + talibNote,
		"macd": "TA-Lib MACD: both EMAs start at bar slow_period-1, the slow one seeded with the SMA of the first slow_period closes, the fast one with the SMA of the fast_period closes ending at that bar; the signal EMA is seeded with the SMA of the first signal_period MACD values; hist = macd - signal. Every EMA step is TA-Lib's ((x-prev)*k) + prev, operation for operation, so flat candles give exactly 0 where TA-Lib does. All three outputs start at index slow_period+signal_period-2 (warm-up slow_period+signal_period-2 bars), as in TA-Lib. TA-Lib swaps fast and slow when fast > slow; here fast_period must be less than slow_period." + talibNote +
			" Exception: with signal_period 1, TA-Lib's own result is not a reference (its C code reads before its buffer there); here the signal line is then exactly the MACD line and hist exactly 0. go-talib's MACD is not TA-Lib's (it seeds the fast EMA at bar fast_period-1 and the signal line over leading zeros, and starts a bar early); this one follows TA-Lib's C source.",
		"bbands":   "TA-Lib BBANDS with the SMA middle band (matype 0) and nbdevup = nbdevdn = std_dev: population deviation sqrt(sum(x^2)/period - sma^2) from running sums, as TA-Lib's INT_stddev_using_precalc_ma, operation for operation; a variance below TA-Lib's 1e-14 gives a deviation of 0. Warm-up period-1 bars for all three outputs." + talibNote,
		"stochrsi": "TA-Lib STOCHRSI with fastk_period = k_period, fastd_period = d_period, fastd_matype = SMA: TA-Lib's RSI, then STOCHF over it (k = (rsi-lowest)/((highest-lowest)/100), 0 when the range is 0; d = SMA of k). Both outputs start at index period+k_period+d_period-2, as in TA-Lib." + talibNote,
		"atr": "TA-Lib ATR: true range from bar 1 (max of high-low, |prev close-high|, |prev close-low|); the first ATR (index period) is the SMA of the true ranges of bars 1..period, later ones (atr*(period-1) + tr)/period. Warm-up period bars." + talibNote +
			" Wilder's smoothing is evaluated as atr*((period-1)/period) + tr/period, two bars per step (a few ulps of rounding difference, not accumulated).",
		"natr":  "TA-Lib NATR: ATR/close*100, and 0 when the close is below TA-Lib's 1e-14. Warm-up period bars. The minimum period is 2: TA-Lib accepts 1 but then returns the raw, unnormalized true range." + talibNote,
		"cci":   "TA-Lib CCI: typical price (high+low+close)/3, (tp - mean)/(0.015*mean absolute deviation) over period bars, 0 when either is 0; sums taken in TA-Lib's circular-buffer order. Like TA-Lib it costs O(candles*period): the mean deviation is recomputed for every window, so a request is limited to candles*period <= 200,000,000 (period <= 4,000 at 50,000 candles; the largest period, 14,142, works with at most 14,142 candles). Warm-up period-1 bars." + talibNote,
		"willr": "TA-Lib WILLR: (highest-close)/((highest-lowest)/-100), 0 when the range is 0. Warm-up period-1 bars." + talibNote,
		"adx": "TA-Lib ADX, PLUS_DI and MINUS_DI (unstable period 0): directional movement and true range summed over bars 1..period-1, then Wilder-smoothed (x - x/period + today); DI = 100*DM/TR (0 when TR is below 1e-14); DX = 100*|+DI - -DI|/(+DI + -DI); the first ADX is the mean of the DX of bars period..2*period-1. Each output starts where its TA-Lib function does: adx at index 2*period-1, plus_di and minus_di at index period; Lookback is 2*period-1." + talibNote +
			" The smoothing is evaluated as x*(1-1/period) + today, and DX from the directional movements (the true range cancels); a few ulps of rounding difference, not accumulated.",
		"stoch":    "TA-Lib STOCH with fastk_period = k_period, slowk_period = k_smooth, slowd_period = d_period and SMA for both: fast %K = (close-lowest)/((highest-lowest)/100), 0 when the range is 0; k = SMA of fast %K, d = SMA of k, both with TA-Lib's running sums. Both outputs start at index k_period+k_smooth+d_period-3, as in TA-Lib." + talibNote,
		"sar":      "TA-Lib SAR: the first bar is consumed; the initial direction is short when TA-Lib's one-bar MINUS_DM between bars 0 and 1 is positive, long otherwise (a tie is long); the first SAR (index 1) is bar 0's low when long, its high when short; an acceleration above maximum is lowered to maximum, as TA-Lib does. Warm-up 1 bar." + talibNote,
		"mfi":      "TA-Lib 0.6 MFI: typical price (high+low+close)/3; money flow tp*volume is positive when tp rose, negative when it fell, ignored when unchanged; value 100*pos/(pos+neg) over the last period bars. Like TA-Lib 0.6, a window whose total money flow is below 1.0 gives 0 (so series whose price*volume is tiny read 0). Warm-up period bars. Follows TA-Lib's C source: go-talib's MFI drops the first value when that first window's money flow is below 1.0 and is then one bar off." + talibNote,
		"obv":      "TA-Lib OBV: starts at the first bar's volume (not 0), then adds the volume of each bar that closes above the previous close and subtracts it when below. No warm-up." + talibNote,
		"ad":       "TA-Lib AD: running sum of ((close-low)-(high-close))/(high-low)*volume, a bar with high == low adding nothing. No warm-up." + talibNote,
		"adosc":    "TA-Lib ADOSC: both EMAs of the AD line are seeded with the first AD value (not an SMA) and updated k*ad + (1-k)*ema from the second bar, k = 2/(period+1); the first value is at index slow_period-1. TA-Lib accepts fast >= slow; here fast_period must be less than slow_period." + talibNote,
		"cmf":      "Not in TA-Lib. Chaikin's definition: sum(MFV)/sum(volume) over the last period bars (the current one included), MFV = ((close-low)-(high-close))/(high-low)*volume and 0 when high == low (as TA-Lib's AD); the value is 0 when the window's volume is 0. Window sums are compensated running sums. Warm-up period-1 bars.",
		"vwap":     "Not in TA-Lib. sum(typical price*volume)/sum(volume) from the first candle to the current one, typical price (high+low+close)/3; it never resets (no sessions). While the cumulative volume is 0 (leading zero-volume candles) the value is the candle's typical price, so there is no warm-up and no null.",
		"keltner":  "Not in TA-Lib; built from TA-Lib parts. middle = TA-Lib EMA(close, period) (seeded with the SMA), upper/lower = middle ± multiplier*ATR(period), TA-Lib's Wilder ATR. middle starts at index period-1 (EMA's begin), upper and lower at index period (ATR's begin); Lookback is period.",
		"donchian": "Not in TA-Lib (upper is TA-Lib's MAX of the high, lower its MIN of the low). upper = highest high, lower = lowest low over the last period bars including the current one, middle = (upper+lower)/2. Warm-up period-1 bars.",
	}
}
