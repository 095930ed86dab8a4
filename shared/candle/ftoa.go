package candle

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
)

// Float formatting: the shortest decimal that parses back to the same
// float64 (Schubfach, R. Giulietti, "The Schubfach way to render doubles",
// 2020), or a chosen number of significant digits, laid out as JSON numbers
// the way encoding/json lays them out. strconv gives the same digits (its
// Dragonbox is proved against it in the tests), but it writes them through
// a generic decimal buffer in one of its own layouts; computing the digits
// as one integer and writing them straight into the JSON layout costs about
// half as much, and encoding is most of a batch's time.

// Range of the powers of ten in pow10Table: Schubfach needs 10^-k for
// k = floor(log10(2^q)) over every float64 binary exponent q.
const (
	pow10Min = -292
	pow10Max = 324
)

// MaxPrecision is the largest number of significant digits a caller can
// ask for: 17 digits always identify a float64.
const MaxPrecision = 17

// floorLog2Pow10 returns floor(e*log2(10)) for |e| <= 1233.
func floorLog2Pow10(e int) int { return (e * 1741647) >> 19 }

// shortest returns the shortest decimal d*10^k that rounds to the finite,
// positive float64 with the given IEEE fraction and biased exponent, the
// one closest to it when several are as short (ties to even digits). d may
// end in zeros.
func shortest(fraction uint64, biased int) (d uint64, k int) {
	var c uint64
	var q int
	if biased != 0 {
		c = 1<<52 | fraction
		q = biased - 1075
		// Integers below 2^53: their own digits.
		if -52 <= q && q <= 0 && c&(1<<-q-1) == 0 {
			return c >> -q, 0
		}
	} else {
		c = fraction
		q = -1074
	}
	even := c&1 == 0
	// The rounding interval is [v-ulp/2, v+ulp/2], but only a quarter ulp
	// below for powers of two (the float below is closer).
	lowerCloser := fraction == 0 && biased > 1
	cbl := 4*c - 2
	if lowerCloser {
		cbl++
		k = (q*1262611 - 524031) >> 22 // floor(log10(3/4 * 2^q))
	} else {
		k = (q * 1262611) >> 22 // floor(log10(2^q))
	}
	cb := 4 * c
	cbr := 4*c + 2
	h := q + floorLog2Pow10(-k) + 1 // 1..4
	g := &pow10Table()[-k-pow10Min]
	vbl := roundToOdd(g, cbl<<h)
	vb := roundToOdd(g, cb<<h)
	vbr := roundToOdd(g, cbr<<h)
	lower, upper := vbl, vbr
	if !even {
		lower++
		upper--
	}
	s := vb / 4
	if s >= 10 {
		// One digit fewer, when exactly one of its two candidates fits.
		sp := s / 10
		upIn := lower <= 40*sp
		wpIn := 40*sp+40 <= upper
		if upIn != wpIn {
			if wpIn {
				sp++
			}
			return sp, k + 1
		}
	}
	uIn := lower <= 4*s
	wIn := 4*s+4 <= upper
	if uIn != wIn {
		if wIn {
			s++
		}
		return s, k
	}
	mid := 4*s + 2
	if vb > mid || vb == mid && s&1 != 0 {
		s++
	}
	return s, k
}

// roundToOdd returns the top 64 bits of the 192-bit product g*cp, with
// the lowest bit set when any bit below them is (rounding to odd keeps
// the comparisons in shortest exact).
func roundToOdd(g *[2]uint64, cp uint64) uint64 {
	xHi, _ := bits.Mul64(cp, g[1])
	yHi, yLo := bits.Mul64(cp, g[0])
	yLo, carry := bits.Add64(yLo, xHi, 0)
	yHi += carry
	if yLo > 1 {
		yHi |= 1
	}
	return yHi
}

// pow10u holds 10^0..10^19.
var pow10u = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19}

// digitCount returns the number of decimal digits of d (1 for 0).
func digitCount(d uint64) int {
	// floor(log10(d)) is within one of Len64(d)*1233>>12.
	n := (bits.Len64(d) * 1233) >> 12
	if d >= pow10u[n] {
		n++
	}
	return max(n, 1)
}

// fixedFloat returns a, a positive normal float64 with the given biased
// exponent, rounded to prec <= 15 significant digits as d*10^k, d of prec
// digits, as strconv rounds it (half to even). It rounds in floating
// point: a times the power of ten 10^s that gives it prec digits before
// the point is one rounded operation (scale10), x, within eps of the exact
// product, so x's rounding to an integer is the product's unless x is
// within eps of a half. ok is false then (a tie, or too close to tell) and when 10^s
// is not exact (|s| > 22: a below about 10^(prec-23) or above about
// 10^(prec+21)): the caller asks strconv then. AppendFloatsPrecision has
// the same steps inline.
func fixedFloat(a float64, biased, prec int) (d uint64, k int, ok bool) {
	s := prec - 1 - ((biased-1023)*78913)>>18 // a*10^s has prec or prec+1 digits
	if s < -21 || s > 22 {
		return 0, 0, false
	}
	top := pow10[prec]
	x := scale10(a, s)
	if x >= top {
		// prec+1 digits (x rounds monotonically; top is exact).
		s--
		x = scale10(a, s)
	}
	// x, at most top now, is within half an ulp of top of the exact
	// a*10^s: within eps. Adding 2^52 rounds x (< 2^50) to an integer in
	// the FPU, half to even, with no branch (the rounding of indicator
	// values is a coin toss, which a branch would mispredict half the
	// time); h, what that rounding took off, is exact. x's rounding is
	// a*10^s's unless x is within eps of a half.
	eps := top * 0x1p-53
	t := float64(x + 0x1p52)
	d = math.Float64bits(t) - math.Float64bits(0x1p52)
	if h := x - float64(t-0x1p52); 0.5-math.Abs(h) <= eps {
		return 0, 0, false
	}
	if d == pow10u[prec] {
		d /= 10
		s--
	}
	return d, -s, true
}

// scale10 returns a*10^s rounded to a float64 (one rounding: a product,
// or a quotient when s < 0), for |s| <= 22, where 10^|s| is exact. The
// conversion keeps the compiler from fusing the product into a later
// operation, which would skip its rounding.
func scale10(a float64, s int) float64 {
	if s >= 0 {
		return float64(a * pow10[s])
	}
	return float64(a / pow10[-s])
}

// appendNumber appends f, finite, as a JSON number with prec significant
// digits, or the shortest round-trip digits when prec is 0.
func appendNumber(dst []byte, f float64, prec int) []byte {
	b := math.Float64bits(f)
	neg := b>>63 != 0
	fraction := b & (1<<52 - 1)
	biased := int(b>>52) & 0x7ff
	if fraction == 0 && biased == 0 {
		if neg {
			return append(dst, '-', '0')
		}
		return append(dst, '0')
	}
	d, k, n := digits(f, fraction, biased, prec)
	abs := math.Abs(f)
	return layout(dst, neg, d, n, k, abs < 1e-6 || abs >= 1e21)
}

// digits returns f, finite and nonzero, with the given IEEE fraction and
// biased exponent, as d*10^k: d the prec significant digits of f (the
// shortest round-trip digits when prec is 0) without trailing zeros, n of
// them.
func digits(f float64, fraction uint64, biased, prec int) (d uint64, k, n int) {
	switch {
	case prec == 0:
		d, k = shortest(fraction, biased)
	case prec <= 15 && biased != 0:
		var ok bool
		if d, k, ok = fixedFloat(math.Abs(f), biased, prec); !ok {
			d, k = fixedDigits(f, prec)
		}
	default:
		// 16 or 17 digits, and subnormals: rare, left to strconv.
		d, k = fixedDigits(f, prec)
	}
	// Trailing zeros off, so that n counts significant digits.
	for d%10 == 0 {
		d /= 10
		k++
	}
	return d, k, digitCount(d)
}

// fixedDigits returns f, finite and nonzero, rounded to prec significant
// digits (prec <= 17) as d*10^k, by strconv.
func fixedDigits(f float64, prec int) (d uint64, k int) {
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], math.Abs(f), 'e', prec-1, 64)
	i := 0
	for ; e[i] != 'e'; i++ {
		if c := e[i]; c != '.' {
			d = d*10 + uint64(c-'0')
			k--
		}
	}
	x, _ := strconv.Atoi(string(e[i+1:]))
	return d, k + 1 + x
}

// maxNumber is the room layout needs past the end of dst: the longest
// number (25 bytes: -0.00000 and 17 digits) and 16 bytes that the 8-byte
// stores of the digits may write beyond it.
const maxNumber = 48

// layout appends the digits d (n of them, d != 0) times 10^k: in exponent
// form d.ddde±x (as encoding/json writes |f| < 1e-6 or >= 1e21), otherwise
// as a plain decimal.
func layout(dst []byte, neg bool, d uint64, n, k int, exp bool) []byte {
	if cap(dst)-len(dst) < maxNumber {
		dst = grow(dst, maxNumber)
	}
	start := len(dst)
	out := dst[start : start+maxNumber]
	i := 0
	if neg {
		out[0] = '-'
		i = 1
	}
	if exp {
		// d.ddd then e±x, x the exponent of the first digit.
		writeDigits(out[i+1:], d, n)
		out[i] = out[i+1]
		if n > 1 {
			out[i+1] = '.'
			i += n + 1
		} else {
			i++
		}
		x := k + n - 1
		out[i] = 'e'
		if x < 0 {
			out[i+1] = '-'
			x = -x
		} else {
			out[i+1] = '+'
		}
		i += 2
		if x >= 100 {
			out[i] = byte('0' + x/100)
			x %= 100
			i++
			out[i] = byte('0' + x/10)
			out[i+1] = byte('0' + x%10)
			i += 2
		} else if x >= 10 || out[i-1] == '+' {
			// encoding/json keeps two exponent digits for positive
			// exponents (1e+21) and cuts e-07 to e-7.
			out[i] = byte('0' + x/10)
			out[i+1] = byte('0' + x%10)
			i += 2
		} else {
			out[i] = byte('0' + x)
			i++
		}
		return dst[:start+i]
	}
	dp := n + k // digits before the decimal point
	switch {
	case dp <= 0:
		// 0.000ddd, with at most 5 zeros (|f| >= 1e-6 here).
		binary.LittleEndian.PutUint64(out[i:], zeros8)
		out[i+1] = '.'
		i += 2 - dp
		writeDigits(out[i:], d, n)
		i += n
	case dp >= n:
		// ddd000, at most 21 digits (|f| < 1e21 here).
		writeDigits(out[i:], d, n)
		binary.LittleEndian.PutUint64(out[i+n:], zeros8)
		binary.LittleEndian.PutUint64(out[i+n+8:], zeros8)
		binary.LittleEndian.PutUint64(out[i+n+16:], zeros8)
		i += dp
	case dp < 8:
		// dd.ddd with the point in the first 8 bytes.
		w := writeDigits(out[i+1:], d, n)
		binary.LittleEndian.PutUint64(out[i:], insertPoint(w, dp))
		i += n + 1
	default:
		// dd.ddd: the digits, then the fraction (at most 16 digits) one
		// place right to make room for the point.
		writeDigits(out[i:], d, n)
		f := out[i+dp:]
		a, b := binary.LittleEndian.Uint64(f), binary.LittleEndian.Uint64(f[8:])
		binary.LittleEndian.PutUint64(f[1:], a)
		binary.LittleEndian.PutUint64(f[9:], b)
		f[0] = '.'
		i += n + 1
	}
	return dst[:start+i]
}

// insertPoint returns w, the first 8 digits of a number as writeDigits
// returns them, with a decimal point after the first dp (0 < dp < 8), the
// digits after it one place right: the number's first 8 bytes when the
// digits were written one place right of them. Built in a register, as
// reading the digits back would wait for their stores.
func insertPoint(w uint64, dp int) uint64 {
	low := uint64(1)<<(8*dp) - 1
	return w&low | '.'<<(8*dp) | (w<<8)&^(low<<8|0xff)
}

// zeros8 is eight '0' bytes.
const zeros8 = 0x3030303030303030

// writeDigits writes the n decimal digits of d (n = digitCount(d)) at the
// start of out, and may write up to 8 more bytes after them: out must have
// room for n+8. It returns the first 8 bytes it wrote, as a little-endian
// word (bytes past the n digits are unspecified).
func writeDigits(out []byte, d uint64, n int) uint64 {
	switch {
	case n <= 8:
		w := eightDigits(d) >> (8 * (8 - n))
		binary.LittleEndian.PutUint64(out, w)
		return w
	case n <= 16:
		hi := d / 1e8
		w0 := eightDigits(hi) >> (8 * (16 - n))
		w1 := eightDigits(d - hi*1e8)
		binary.LittleEndian.PutUint64(out, w0)
		binary.LittleEndian.PutUint64(out[n-8:], w1)
		return w0 | w1<<(8*(n-8))
	default:
		hi := d / 1e16
		mid := d - hi*1e16
		midHi := mid / 1e8
		w0 := eightDigits(hi) >> (8 * (24 - n))
		w1 := eightDigits(midHi)
		binary.LittleEndian.PutUint64(out, w0)
		binary.LittleEndian.PutUint64(out[n-16:], w1)
		binary.LittleEndian.PutUint64(out[n-8:], eightDigits(mid-midHi*1e8))
		return w0 | w1<<(8*(n-16))
	}
}

// eightDigits returns the eight decimal digits of x < 10^8, leading
// zeros included, as ASCII bytes in memory order (the first digit in the
// lowest byte), computed in lanes of one 64-bit word.
func eightDigits(x uint64) uint64 {
	hi := x / 10000
	v := hi | (x-hi*10000)<<32 // two 4-digit lanes
	q := (v * 10486 >> 20) & 0x0000007f0000007f
	v = q | (v-q*100)<<16 // four 2-digit lanes
	t := (v * 103 >> 10) & 0x000f000f000f000f
	v = t | (v-t*10)<<8 // eight digits
	return v + zeros8
}
