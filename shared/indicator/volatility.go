package indicator

import "math"

// bbands is TA-Lib's BBANDS with an SMA middle band, operation for
// operation: TA-Lib's running-sum SMA, and INT_stddev_using_precalc_ma's
// population deviation sqrt(sum(x^2)/p - sma^2) from a running sum of
// squares, 0 when the variance is below TA_EPSILON (1e-14). Exactness
// matters here: on a flat series the variance is pure rounding residue, and
// only the same operations give TA-Lib's same residue.
func bbands(x, upper, middle, lower []float64, p int, dev float64) {
	n := len(x)
	upper, middle, lower = upper[:n], middle[:n], lower[:n]
	fillNaN(upper[:p-1])
	fillNaN(middle[:p-1])
	fillNaN(lower[:p-1])
	fp := float64(p)
	total, total2 := 0.0, 0.0
	for _, v := range x[:p-1] {
		total += v
		total2 += float64(v * v)
	}
	lead := x[p-1 : n]
	trail := x[:len(lead)]
	up := upper[p-1 : n]
	mid := middle[p-1 : n]
	lo := lower[p-1 : n]
	up, mid, lo = up[:len(lead)], mid[:len(lead)], lo[:len(lead)]
	for j, v := range lead {
		w := trail[j]
		total += v
		m := total / fp
		total -= w
		total2 += float64(v * v)
		mv2 := total2 / fp
		total2 -= float64(w * w)
		mv2 -= float64(m * m)
		sd := 0.0
		if !(mv2 < taEpsilon) {
			sd = math.Sqrt(mv2)
		}
		t := float64(sd * dev)
		mid[j] = m
		up[j] = m + t
		lo[j] = m - t
	}
}

// atr writes TA-Lib's ATR into out: the first value (index p) is the mean
// of the true ranges of bars 1..p, later ones use Wilder's smoothing
// (atr*(p-1) + tr)/p, evaluated as atr*((p-1)/p) + tr/p two bars at a time
// (atr2 = atr0*a^2 + (a*tr1 + tr2)/p), one multiply-add on the loop-carried
// path per two outputs.
func atr(high, low, close, out []float64, p int) {
	n := len(close)
	high, low, close, out = high[:n], low[:n], close[:n], out[:n]
	fillNaN(out[:p])
	fp := float64(p)
	sum := 0.0
	for i := 1; i <= p; i++ {
		sum += trueRange(high[i], low[i], close[i-1])
	}
	prev := sum / fp
	out[p] = prev
	a := (fp - 1) / fp
	a2 := a * a
	b := 1 / fp
	ab := a * b
	h := high[p+1 : n]
	m := len(h)
	l := low[p+1 : n]
	pc := close[p : n-1]
	o := out[p+1 : n]
	l, pc, o = l[:m], pc[:m], o[:m]
	j := 0
	for ; j+1 < m; j += 2 {
		t1 := trueRange(h[j], l[j], pc[j])
		t2 := trueRange(h[j+1], l[j+1], pc[j+1])
		o[j] = prev*a + t1*b
		prev = prev*a2 + (t1*ab + t2*b)
		o[j+1] = prev
	}
	if j < m {
		prev = prev*a + trueRange(h[j], l[j], pc[j])*b
		o[j] = prev
	}
}

// natr is TA-Lib's NATR: ATR/close*100, 0 when close is TA-Lib-zero.
func natr(high, low, close, out []float64, p int) {
	atr(high, low, close, out, p)
	n := len(close)
	for i := p; i < n; i++ {
		c := close[i]
		v := 0.0
		if !isZero(c) {
			v = out[i] / c * 100.0
		}
		out[i] = v
	}
}

// keltner: middle = TA-Lib EMA(close, p) from index p-1; upper/lower =
// middle ± mult*ATR(p) from index p (TA-Lib's ATR begin).
func keltner(high, low, close, upper, middle, lower []float64, p int, mult float64) {
	n := len(close)
	upper, middle, lower = upper[:n], middle[:n], lower[:n]
	ema(close, middle, p)
	atr(high, low, close, upper, p)
	fillNaN(lower[:p])
	for i := p; i < n; i++ {
		t := float64(mult * upper[i])
		m := middle[i]
		upper[i] = m + t
		lower[i] = m - t
	}
}

// donchian: upper = highest high, lower = lowest low over the last p bars,
// middle = their mean.
func donchian(high, low, upper, middle, lower []float64, p int) {
	n := len(high)
	upper, middle, lower = upper[:n], middle[:n], lower[:n]
	var buf [2][130]int32
	hw := newWindow(p, buf[0][:])
	lw := newWindow(p, buf[1][:])
	for i := 0; i < n; i++ {
		hi := hw.pushMax(high, i)
		lo := lw.pushMin(low, i)
		if i < p-1 {
			continue
		}
		upper[i] = hi
		lower[i] = lo
		middle[i] = (hi + lo) / 2
	}
	fillNaN(upper[:p-1])
	fillNaN(middle[:p-1])
	fillNaN(lower[:p-1])
}
