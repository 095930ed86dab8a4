package indicator

// obv is TA-Lib's OBV: it starts at volume[0] and adds (subtracts) the
// volume of every bar that closes above (below) the previous close.
func obv(close, volume, out []float64) {
	n := len(close)
	volume, out = volume[:n], out[:n]
	acc := volume[0]
	prev := close[0]
	for i, c := range close {
		if c > prev {
			acc += volume[i]
		} else if c < prev {
			acc -= volume[i]
		}
		out[i] = acc
		prev = c
	}
}

// clv returns TA-Lib's close location value times volume,
// ((c-l)-(h-c))/(h-l)*v, or 0 when h-l is not positive.
func clv(h, l, c, v float64) float64 {
	r := h - l
	if r > 0 {
		return float64(((c - l) - (h - c)) / r * v)
	}
	return 0
}

// ad is TA-Lib's AD (Chaikin accumulation/distribution line).
func ad(high, low, close, volume, out []float64) {
	n := len(close)
	high, low, volume, out = high[:n], low[:n], volume[:n], out[:n]
	acc := 0.0
	for i, c := range close {
		acc += clv(high[i], low[i], c, volume[i])
		out[i] = acc
	}
}

// adosc is TA-Lib's ADOSC: the difference of two EMAs of the AD line, both
// seeded with the first AD value (not with an SMA) and updated as
// k*ad + (1-k)*ema from the second bar on; the first output is at index
// max(fast, slow)-1.
func adosc(high, low, close, volume, out []float64, fast, slow int) {
	n := len(close)
	out = out[:n]
	lb := max(fast, slow) - 1
	fillNaN(out[:lb])
	fk := 2.0 / (float64(fast) + 1.0)
	sk := 2.0 / (float64(slow) + 1.0)
	fk1, sk1 := 1.0-fk, 1.0-sk
	acc := clv(high[0], low[0], close[0], volume[0])
	fe, se := acc, acc
	for i := 1; i < n; i++ {
		acc += clv(high[i], low[i], close[i], volume[i])
		fe = float64(fk*acc) + float64(fk1*fe)
		se = float64(sk*acc) + float64(sk1*se)
		if i >= lb {
			out[i] = fe - se
		}
	}
}

// cmf is Chaikin Money Flow over the last p bars: sum(MFV)/sum(volume) with
// MFV = ((c-l)-(h-c))/(h-l)*v (0 when h == l, as in TA-Lib's AD), 0 when the
// window's volume is 0. Window sums are compensated running sums; a window
// without volume is detected by counting, so its value is exactly 0.
func cmf(high, low, close, volume, out []float64, p int) {
	n := len(close)
	high, low, volume, out = high[:n], low[:n], volume[:n], out[:n]
	var mfv, vol ksum
	nonZero := 0
	for i := 0; i < n; i++ {
		v := volume[i]
		mfv.add(clv(high[i], low[i], close[i], v))
		vol.add(v)
		if v != 0 {
			nonZero++
		}
		if j := i - p; j >= 0 {
			w := volume[j]
			mfv.add(-clv(high[j], low[j], close[j], w))
			vol.add(-w)
			if w != 0 {
				nonZero--
			}
		}
		if i < p-1 {
			continue
		}
		r := 0.0
		if nonZero == 0 {
			mfv, vol = ksum{}, ksum{}
		} else if s := vol.value(); s != 0 {
			r = mfv.value() / s
		}
		out[i] = r
	}
	fillNaN(out[:p-1])
}

// vwap is the volume-weighted average of the typical price (h+l+c)/3,
// cumulative from the first candle. While the cumulative volume is 0 the
// value is the candle's typical price.
func vwap(high, low, close, volume, out []float64) {
	n := len(close)
	high, low, volume, out = high[:n], low[:n], volume[:n], out[:n]
	pv, cv := 0.0, 0.0
	for i, c := range close {
		tp := (high[i] + low[i] + c) / 3
		v := volume[i]
		pv += tp * v
		cv += v
		r := tp
		if cv != 0 {
			r = pv / cv
		}
		out[i] = r
	}
}
