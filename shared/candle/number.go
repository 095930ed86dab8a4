package candle

import (
	"math"
	"strconv"
	"unsafe"
)

// numErr says why a number could not be read.
type numErr uint8

const (
	numOK        numErr = iota
	numNotNumber        // another JSON type (or nothing) where a number belongs
	numSyntax           // starts like a number but breaks the JSON grammar
	numRange            // too large for float64: it would be ±Inf
	numFraction         // an integer was required
	numIntRange         // an integer outside int64 (or an inexact float integer)
)

func (e numErr) reason() string {
	switch e {
	case numSyntax:
		return "invalid number"
	case numRange:
		return "number out of range: must be finite"
	case numFraction:
		return "must be an integer (Unix seconds)"
	case numIntRange:
		return "integer out of range"
	}
	return "must be a number"
}

var pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

var upow10 = [...]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
}

// parseFloat parses the JSON number (RFC 8259 grammar) that starts at b[i]
// and returns its value and the index just past it. The value is the
// correctly rounded float64, bit for bit what strconv.ParseFloat and
// encoding/json give: up to 19 digits with a small exponent take the exact
// fast path (one IEEE multiplication or division of two exactly
// representable values, which rounds correctly); every other number goes to
// strconv.ParseFloat. The number ends at the first byte that cannot
// continue it; the caller checks what follows.
func parseFloat(b []byte, i int) (float64, int, numErr) {
	start := i
	n := len(b)
	neg := false
	if i < n && b[i] == '-' {
		neg = true
		i++
	}
	if i >= n || b[i]-'0' > 9 {
		if neg {
			return 0, i, numSyntax
		}
		return 0, i, numNotNumber
	}
	// Digits accumulate blindly; more than 19 of them (which could wrap)
	// send the number to the slow path.
	var mant uint64
	ds := i
	if b[i] == '0' {
		i++
		if i < n && b[i]-'0' <= 9 {
			return 0, i, numSyntax // leading zero
		}
	} else {
		for ; i < n; i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
	}
	nd := i - ds
	exp := 0
	if i < n && b[i] == '.' {
		i++
		fs := i
		for ; i < n; i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		if i == fs {
			return 0, i, numSyntax
		}
		nd += i - fs
		exp = fs - i
	}
	if i < n && b[i]|0x20 == 'e' {
		i++
		eneg := false
		if i < n && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		es := i
		e := 0
		for ; i < n; i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if e < 1_000_000 {
				e = e*10 + int(d)
			}
		}
		if i == es {
			return 0, i, numSyntax
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if nd > 19 {
		return slowFloat(b, start, i)
	}
	var f float64
	switch {
	case mant == 0:
		f = 0
	case mant > 1<<53:
		return slowFloat(b, start, i)
	case exp == 0:
		f = float64(mant)
	case exp < 0 && exp >= -22:
		f = float64(mant) / pow10[-exp]
	case exp > 0 && exp <= 22:
		f = float64(mant) * pow10[exp]
	case exp > 22 && exp <= 22+16 && mant <= (1<<53)/upow10[exp-22]:
		// Move the excess powers into the mantissa while it stays exact.
		f = float64(mant*upow10[exp-22]) * 1e22
	default:
		return slowFloat(b, start, i)
	}
	if neg {
		f = -f
	}
	return f, i, numOK
}

// slowFloat parses b[start:end], already checked against the JSON grammar,
// with strconv.ParseFloat.
func slowFloat(b []byte, start, end int) (float64, int, numErr) {
	// The string aliases b only for the duration of the call.
	f, err := strconv.ParseFloat(unsafe.String(&b[start], end-start), 64)
	if math.IsInf(f, 0) {
		return 0, end, numRange
	}
	if err != nil {
		// ErrRange on underflow to zero or a denormal: encoding/json accepts
		// those values, and so do we.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, end, numSyntax
		}
	}
	return f, end, numOK
}

// parseInt parses the JSON number at b[i] as an int64. An integer literal is
// read exactly; a number with a fraction or exponent is accepted only when
// its value is integral and at most 2^53 in magnitude (1.7e9, 1700000000.0).
func parseInt(b []byte, i int) (int64, int, numErr) {
	start := i
	n := len(b)
	neg := false
	if i < n && b[i] == '-' {
		neg = true
		i++
	}
	if i >= n {
		if neg {
			return 0, i, numSyntax
		}
		return 0, i, numNotNumber
	}
	var u uint64
	over := false
	c := b[i]
	switch {
	case c == '0':
		i++
	case c-'1' <= 8:
		nd := 0
		for ; i < n; i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if nd < 19 {
				u = u*10 + uint64(d)
				nd++
			} else {
				over = true
			}
		}
	default:
		if neg {
			return 0, i, numSyntax
		}
		return 0, i, numNotNumber
	}
	if i < n && (b[i] == '.' || b[i]|0x20 == 'e' || b[i]-'0' <= 9) {
		f, end, ne := parseFloat(b, start)
		if ne != numOK {
			return 0, end, ne
		}
		if f != math.Trunc(f) {
			return 0, end, numFraction
		}
		if math.Abs(f) > 1<<53 {
			return 0, end, numIntRange
		}
		return int64(f), end, numOK
	}
	if over || !neg && u > math.MaxInt64 || neg && u > 1<<63 {
		return 0, i, numIntRange
	}
	if neg {
		return -int64(u), i, numOK
	}
	return int64(u), i, numOK
}
