package indicator

import "math"

// rsi writes TA-Lib's RSI into out: the first value (index p) uses the
// averages of the first p gains and losses; later ones use Wilder's
// smoothing avg = (avg*(p-1) + x)/p, evaluated as avg*((p-1)/p) + x/p two
// bars at a time (avg2 = avg0*a^2 + (a*u1 + u2)/p), so the loop-carried
// path is one multiply-add per two outputs. Gains and losses are split
// without branches: (|d|+d)/2 and (|d|-d)/2 are exact. When gain+loss is
// TA-Lib-zero (|.| < 1e-14) the value is 0, as in TA-Lib.
func rsi(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	fillNaN(out[:p])
	gain, loss := rsiSeed(x, p)
	out[p] = rsiValue(gain, loss)
	fp := float64(p)
	a := (fp - 1) / fp
	a2 := a * a
	hb := 0.5 / fp
	hab := a * hb
	cur := x[p+1 : n]
	m := len(cur)
	prev := x[p : n-1]
	o := out[p+1 : n]
	prev, o = prev[:m], o[:m]
	j := 0
	for ; j+1 < m; j += 2 {
		d1 := cur[j] - prev[j]
		d2 := cur[j+1] - prev[j+1]
		ad1, ad2 := math.Abs(d1), math.Abs(d2)
		u1, v1 := ad1+d1, ad1-d1 // twice the gain and the loss
		u2, v2 := ad2+d2, ad2-d2
		g1 := gain*a + u1*hb
		l1 := loss*a + v1*hb
		gain = gain*a2 + (u1*hab + u2*hb)
		loss = loss*a2 + (v1*hab + v2*hb)
		o[j] = rsiValue(g1, l1)
		o[j+1] = rsiValue(gain, loss)
	}
	if j < m {
		d := cur[j] - prev[j]
		ad := math.Abs(d)
		gain = gain*a + (ad+d)*hb
		loss = loss*a + (ad-d)*hb
		o[j] = rsiValue(gain, loss)
	}
}

// rsiSeed returns TA-Lib's initial average gain and loss over x[0..p].
func rsiSeed(x []float64, p int) (gain, loss float64) {
	prev := x[0]
	for _, v := range x[1 : p+1] {
		d := v - prev
		prev = v
		if d < 0 {
			loss -= d
		} else {
			gain += d
		}
	}
	fp := float64(p)
	return gain / fp, loss / fp
}

func rsiValue(gain, loss float64) float64 {
	s := gain + loss
	if isZero(s) {
		return 0
	}
	return 100 * (gain / s)
}

// rsiExact is TA-Lib's RSI operation for operation (multiply by p-1, add,
// divide by p). stochrsi uses it: its stochastic step divides by the range
// of RSI values over a window, which would magnify any rounding difference.
func rsiExact(x, out []float64, p int) {
	n := len(x)
	gain, loss := rsiSeed(x, p)
	out[p] = rsiValue(gain, loss)
	fp := float64(p)
	fp1 := float64(p - 1)
	for i := p + 1; i < n; i++ {
		d := x[i] - x[i-1]
		// The conversions keep each product rounded on its own, as in
		// TA-Lib, where the compiler would otherwise fuse it with the
		// following addition (arm64).
		loss = float64(loss * fp1)
		gain = float64(gain * fp1)
		if d < 0 {
			loss -= d
		} else {
			gain += d
		}
		loss /= fp
		gain /= fp
		out[i] = rsiValue(gain, loss)
	}
}

// roc is TA-Lib's ROC: ((x/x[i-p]) - 1) * 100, 0 when x[i-p] is 0.
func roc(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	fillNaN(out[:p])
	for i := p; i < n; i++ {
		prev := x[i-p]
		v := 0.0
		if prev != 0 {
			v = ((x[i] / prev) - 1.0) * 100.0
		}
		out[i] = v
	}
}

// mom is TA-Lib's MOM: x - x[i-p].
func mom(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	fillNaN(out[:p])
	lead := x[p:n]
	trail := x[:len(lead)]
	o := out[p:n]
	o = o[:len(lead)]
	for j, v := range lead {
		o[j] = v - trail[j]
	}
}

// macd is TA-Lib's MACD in one pass. The slow EMA is seeded with the SMA of
// x[0..slow-1], the fast one with the SMA of x[slow-fast..slow-1] (both at
// index slow-1), the signal EMA with the SMA of the first signal MACD values;
// the first output is at index slow+signal-2. Every EMA step is TA-Lib's
// ((x-prev)*k) + prev, operation for operation (so flat candles give a
// MACD of exactly 0); the explicit float64 conversions stop the compiler
// from fusing the product into an FMA where it would (arm64), which would
// change the rounding. The three EMAs still share one pass: the fast and
// slow ones are independent chains, and the signal's chain runs beside
// them a bar behind.
func macd(x, line, signal, hist []float64, fast, slow, sig int) {
	n := len(x)
	line, signal, hist = line[:n], signal[:n], hist[:n]
	lb := slow - 1 + sig - 1
	fillNaN(line[:lb])
	fillNaN(signal[:lb])
	fillNaN(hist[:lb])

	kf := 2.0 / (float64(fast) + 1.0)
	ks := 2.0 / (float64(slow) + 1.0)
	kg := 2.0 / (float64(sig) + 1.0)

	sumSlow, sumFast := 0.0, 0.0
	i := 0
	for ; i < slow-fast; i++ {
		sumSlow += x[i]
	}
	for ; i < slow; i++ {
		sumFast += x[i]
		sumSlow += x[i]
	}
	ef := sumFast / float64(fast)
	es := sumSlow / float64(slow)
	m := ef - es
	sumSig := m
	for ; i < slow+sig-1; i++ {
		v := x[i]
		ef = float64((v-ef)*kf) + ef
		es = float64((v-es)*ks) + es
		m = ef - es
		sumSig += m
	}
	eg := sumSig / float64(sig)
	line[lb], signal[lb], hist[lb] = m, eg, m-eg

	lead := x[i:n]
	lo := line[i:n]
	so := signal[i:n]
	ho := hist[i:n]
	cnt := len(lead)
	lo, so, ho = lo[:cnt], so[:cnt], ho[:cnt]
	for j, v := range lead {
		ef = float64((v-ef)*kf) + ef
		es = float64((v-es)*ks) + es
		mv := ef - es
		eg = float64((mv-eg)*kg) + eg
		lo[j], so[j], ho[j] = mv, eg, mv-eg
	}
	if sig == 1 {
		// k = 1: TA-Lib's step (m-prev)*1 + prev is m up to rounding; its
		// own MACD reads before its buffer here, so the signal line is
		// defined as the MACD line itself, and hist as 0.
		copy(signal[lb:], line[lb:])
		clear(hist[lb:])
	}
}

// stochK writes TA-Lib's fast %K of close against the highest high and
// lowest low of the last kp bars into out[from+kp-1:], reading the series
// from index from: diff = (highest-lowest)/100, %K = (close-lowest)/diff,
// or 0 when diff is 0.
func stochK(high, low, close, out []float64, from, kp int, buf *[2][130]int32) {
	n := len(close)
	hw := newWindow(kp, buf[0][:])
	lw := newWindow(kp, buf[1][:])
	for i := from; i < n; i++ {
		hi := hw.pushMax(high, i)
		lo := lw.pushMin(low, i)
		if i < from+kp-1 {
			continue
		}
		diff := (hi - lo) / 100.0
		v := 0.0
		if diff != 0 {
			v = (close[i] - lo) / diff
		}
		out[i] = v
	}
}

// stoch is TA-Lib's STOCH with SMA smoothing: %K over kp bars, slow %K =
// SMA(ks) of it, slow %D = SMA(dp) of slow %K. Both outputs start at
// (kp-1)+(ks-1)+(dp-1). The d slice holds fast %K while slow %K is built.
func stoch(high, low, close, k, d []float64, kp, ks, dp int) {
	n := len(close)
	k, d = k[:n], d[:n]
	var buf [2][130]int32
	stochK(high, low, close, d, 0, kp, &buf)
	smaExact(d, k, kp-1, ks)
	smaExact(k, d, kp-1+ks-1, dp)
	lb := kp - 1 + ks - 1 + dp - 1
	fillNaN(k[:lb])
	fillNaN(d[:lb])
}

// stochRSI is TA-Lib's STOCHRSI with an SMA %D: TA-Lib's RSI(p), then
// STOCHF over the RSI values (fast %K over kp, %D = SMA(dp) of it). Both
// outputs start at p+(kp-1)+(dp-1). The d slice holds the RSI while %K is
// built.
func stochRSI(x, k, d []float64, p, kp, dp int) {
	n := len(x)
	k, d = k[:n], d[:n]
	rsiExact(x, d, p)
	var buf [2][130]int32
	stochK(d, d, d, k, p, kp, &buf)
	smaExact(k, d, p+kp-1, dp)
	lb := p + kp - 1 + dp - 1
	fillNaN(k[:lb])
	fillNaN(d[:lb])
}

// willr is TA-Lib's WILLR: diff = (highest-lowest)/-100, value =
// (highest-close)/diff, or 0 when diff is 0.
func willr(high, low, close, out []float64, p int) {
	n := len(close)
	out = out[:n]
	var buf [2][130]int32
	hw := newWindow(p, buf[0][:])
	lw := newWindow(p, buf[1][:])
	for i := 0; i < n; i++ {
		hi := hw.pushMax(high, i)
		lo := lw.pushMin(low, i)
		if i < p-1 {
			continue
		}
		diff := (hi - lo) / (-100.0)
		v := 0.0
		if diff != 0 {
			v = (hi - close[i]) / diff
		}
		out[i] = v
	}
	fillNaN(out[:p-1])
}

// cci is TA-Lib's CCI, including its summation order: TA-Lib keeps the
// typical prices in a circular buffer where price k sits at slot k mod p and
// sums the slots in slot order, so the window is summed from the price at
// the slot-0 position onwards, then wraps. The typical prices are first
// written into out and the CCI is then computed from the last bar backwards,
// so each window is still intact when it is read and no buffer is needed.
func cci(high, low, close, out []float64, p int) {
	n := len(close)
	out = out[:n]
	high, low = high[:n], low[:n]
	for i := range out {
		out[i] = (high[i] + low[i] + close[i]) / 3
	}
	fp := float64(p)
	for i := n - 1; i >= p-1; i-- {
		s := i - p + 1
		m := i - i%p // the bar in slot 0
		w1 := out[m : i+1]
		w2 := out[s:m]
		avg := 0.0
		for _, v := range w1 {
			avg += v
		}
		for _, v := range w2 {
			avg += v
		}
		avg /= fp
		dev := 0.0
		for _, v := range w1 {
			dev += math.Abs(v - avg)
		}
		for _, v := range w2 {
			dev += math.Abs(v - avg)
		}
		last := out[i] - avg
		v := 0.0
		if last != 0 && dev != 0 {
			v = last / (0.015 * (dev / fp))
		}
		out[i] = v
	}
	fillNaN(out[:p-1])
}

// adx computes TA-Lib's ADX, PLUS_DI and MINUS_DI in one pass with scalar
// state. Directional movements and true ranges are summed over bars 1..p-1,
// then smoothed with Wilder's x - x/p + today (as x*(1-1/p) + today). The
// DIs are output from bar p (TA-Lib's PLUS_DI/MINUS_DI begin), 0 when the
// smoothed true range is TA-Lib-zero. DX is accumulated over bars p..2p-1
// (skipped where TA-Lib skips it) and the first ADX, their sum/p, is output
// at bar 2p-1 (TA-Lib's ADX begin); later ADX values use Wilder's smoothing.
func adx(high, low, close, outADX, outPlus, outMinus []float64, p int) {
	n := len(close)
	high, low, close = high[:n], low[:n], close[:n]
	outADX, outPlus, outMinus = outADX[:n], outPlus[:n], outMinus[:n]
	fillNaN(outADX[:2*p-1])
	fillNaN(outPlus[:p])
	fillNaN(outMinus[:p])

	fp := float64(p)
	a := 1 - 1/fp
	b := 1 / fp
	var pDM, mDM, tr float64
	for i := 1; i < p; i++ {
		plus, minus := dm1(high[i]-high[i-1], low[i-1]-low[i])
		pDM += plus
		mDM += minus
		tr += trueRange(high[i], low[i], close[i-1])
	}
	sumDX := 0.0
	for i := p; i < 2*p; i++ {
		plus, minus := dm1(high[i]-high[i-1], low[i-1]-low[i])
		pDM = pDM*a + plus
		mDM = mDM*a + minus
		tr = tr*a + trueRange(high[i], low[i], close[i-1])
		pdi, mdi := 0.0, 0.0
		if !isZero(tr) {
			r := 100 / tr
			pdi, mdi = pDM*r, mDM*r
			if s := pdi + mdi; !isZero(s) {
				sumDX += 100 * (math.Abs(mdi-pdi) / s)
			}
		}
		outPlus[i], outMinus[i] = pdi, mdi
	}
	adxv := sumDX / fp
	outADX[2*p-1] = adxv

	h1, h0 := high[2*p:n], high[2*p-1:n-1]
	l1, l0 := low[2*p:n], low[2*p-1:n-1]
	c0 := close[2*p-1 : n-1]
	oa, op, om := outADX[2*p:n], outPlus[2*p:n], outMinus[2*p:n]
	m := len(h1)
	h0, l1, l0, c0, oa, op, om = h0[:m], l1[:m], l0[:m], c0[:m], oa[:m], op[:m], om[:m]
	hb := 100 * b
	for j := range h1 {
		h, l := h1[j], l1[j]
		up, down := h-h0[j], l0[j]-l
		// dm1, inlined: +DM = up when up > 0 and up > down, -DM = down when
		// down > 0 and down > up, selected with masks (no branches).
		var c1, c2, c3, c4 uint64
		if up > down {
			c1 = 1
		}
		if up > 0 {
			c2 = 1
		}
		if down > up {
			c3 = 1
		}
		if down > 0 {
			c4 = 1
		}
		plus := math.Float64frombits(math.Float64bits(up) & -(c1 & c2))
		minus := math.Float64frombits(math.Float64bits(down) & -(c3 & c4))
		pDM = pDM*a + plus
		mDM = mDM*a + minus
		tr = tr*a + trueRange(h, l, c0[j])
		pdi, mdi := 0.0, 0.0
		if !isZero(tr) {
			r := 100 / tr
			pdi, mdi = pDM*r, mDM*r
			if !isZero(pdi + mdi) {
				// DX = 100*|-DI - +DI|/(-DI + +DI); the true range cancels,
				// so the division does not wait for 100/tr.
				adxv = adxv*a + math.Abs(mDM-pDM)/(mDM+pDM)*hb
			}
		}
		op[j], om[j], oa[j] = pdi, mdi, adxv
	}
}

// dm1 returns the one-bar +DM and -DM from the high and low deltas, as
// TA-Lib: +DM = up when up > 0 and up > down, -DM = down when down > 0 and
// down > up, 0 otherwise.
func dm1(up, down float64) (plus, minus float64) {
	if up > down && up > 0 {
		return up, 0
	}
	if down > up && down > 0 {
		return 0, down
	}
	return 0, 0
}

// trueRange is TA-Lib's true range, the greatest of high-low,
// |prevClose-high| and |prevClose-low|, computed as
// max(high, prevClose) - min(low, prevClose). For high >= low the two are
// the same number: both are the single rounded difference of the same two
// inputs (rounding is monotonic, so TA-Lib's largest candidate is the
// rounded largest difference).
func trueRange(h, l, pc float64) float64 {
	return max(h, pc) - min(l, pc)
}

// mfi is TA-Lib 0.6's MFI, operation for operation: typical price
// (h+l+c)/3, money flow tp*volume counted positive when tp rose, negative
// when it fell, not at all when unchanged; running sums over the last p
// bars; value 100*pos/(pos+neg), or 0 when pos+neg < 1.0 (TA-Lib 0.6's
// threshold). The money flow leaving the window is recomputed from the
// inputs (bit-identical to the value that entered) instead of being kept in
// a ring buffer.
func mfi(high, low, close, volume, out []float64, p int) {
	n := len(close)
	out = out[:n]
	fillNaN(out[:p])
	tp := func(i int) float64 { return (high[i] + low[i] + close[i]) / 3.0 }
	flow := func(cur, prev, v float64) (pos, neg float64) {
		d := cur - prev
		mf := float64(cur * v) // rounded before it is summed, as in TA-Lib
		if d < 0 {
			return 0, mf
		} else if d > 0 {
			return mf, 0
		}
		return 0, 0
	}
	prevTP := tp(0)
	posSum, negSum := 0.0, 0.0
	for i := 1; i <= p; i++ {
		cur := tp(i)
		pos, neg := flow(cur, prevTP, volume[i])
		prevTP = cur
		posSum += pos
		negSum += neg
	}
	out[p] = mfiValue(posSum, negSum)
	// The bar leaving the window at bar i is i-p; its flow needs tp(i-p-1).
	oldPrev := tp(0)
	for i := p + 1; i < n; i++ {
		oldCur := tp(i - p)
		oPos, oNeg := flow(oldCur, oldPrev, volume[i-p])
		oldPrev = oldCur
		posSum -= oPos
		negSum -= oNeg
		cur := tp(i)
		pos, neg := flow(cur, prevTP, volume[i])
		prevTP = cur
		posSum += pos
		negSum += neg
		out[i] = mfiValue(posSum, negSum)
	}
}

func mfiValue(pos, neg float64) float64 {
	s := pos + neg
	if s < 1.0 {
		return 0
	}
	return 100.0 * (pos / s)
}
