package indicator

import "math"

// taEpsilon is TA-Lib 0.6's TA_EPSILON: TA_IS_ZERO(v) is -eps < v < eps and
// TA_IS_ZERO_OR_NEG(v) is v < eps. It is an absolute threshold, so it matters
// only for values around 1e-14.
const taEpsilon = 1e-14

func isZero(v float64) bool { return -taEpsilon < v && v < taEpsilon }

// fillNaN marks warm-up positions.
func fillNaN(s []float64) {
	nan := math.NaN()
	for i := range s {
		s[i] = nan
	}
}

// window tracks the maximum or minimum of the last w values of a series with
// a monotonic deque of indices, in O(1) amortised per value whatever the
// data (TA-Lib rescans the window when its extreme leaves it, which is
// O(w) per value on a monotonic series). Extremes are exact, so the values
// are TA-Lib's.
type window struct {
	idx        []int32 // ring, capacity a power of two >= w
	mask       int
	head, tail int // deque is idx[head..tail) modulo capacity
	w          int
}

// newWindow returns a window of width w, using stack when w is small enough
// to fit buf.
func newWindow(w int, buf []int32) window {
	c := 1
	for c < w+1 {
		c <<= 1
	}
	if c > len(buf) {
		buf = make([]int32, c)
	}
	return window{idx: buf[:c], mask: c - 1, w: w}
}

// pushMax adds x[i] and returns the maximum of x[i-w+1..i].
func (d *window) pushMax(x []float64, i int) float64 {
	v := x[i]
	for d.tail != d.head && x[d.idx[(d.tail-1)&d.mask]] <= v {
		d.tail--
	}
	d.idx[d.tail&d.mask] = int32(i)
	d.tail++
	if int(d.idx[d.head&d.mask]) <= i-d.w {
		d.head++
	}
	return x[d.idx[d.head&d.mask]]
}

// pushMin adds x[i] and returns the minimum of x[i-w+1..i].
func (d *window) pushMin(x []float64, i int) float64 {
	v := x[i]
	for d.tail != d.head && x[d.idx[(d.tail-1)&d.mask]] >= v {
		d.tail--
	}
	d.idx[d.tail&d.mask] = int32(i)
	d.tail++
	if int(d.idx[d.head&d.mask]) <= i-d.w {
		d.head++
	}
	return x[d.idx[d.head&d.mask]]
}

// smaExact is TA-Lib's INT_SMA over x[from:] written to out[from+p-1:]:
// a running total that adds the newest value, keeps the sum, then removes
// the oldest, each output being the kept sum divided by p, operation for
// operation. x and out must be different slices.
func smaExact(x, out []float64, from, p int) {
	n := len(x)
	fp := float64(p)
	total := 0.0
	for i := from; i < from+p-1; i++ {
		total += x[i]
	}
	trail := from
	for i := from + p - 1; i < n; i++ {
		total += x[i]
		t := total
		total -= x[trail]
		trail++
		out[i] = t / fp
	}
}

// ksum is a compensated (Neumaier) running sum, for the non-TA-Lib windowed
// sums where values enter and leave and plain running sums would keep the
// rounding residue of large values that have left the window.
type ksum struct{ s, c float64 }

func (k *ksum) add(x float64) {
	t := k.s + x
	if math.Abs(k.s) >= math.Abs(x) {
		k.c += (k.s - t) + x
	} else {
		k.c += (x - t) + k.s
	}
	k.s = t
}

func (k *ksum) value() float64 { return k.s + k.c }
