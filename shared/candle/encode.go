package candle

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Responses are built by appending to a caller's []byte, so one buffer can
// be reused across requests and the caller can measure the body (for token
// accounting) before it adds "meta".
//
// A single indicator response:
//
//	b := candle.AppendResponse(buf[:0], res, meta)
//
// or, when meta depends on the size of the rest:
//
//	b := candle.AppendResult(buf[:0], res)
//	meta := renderMeta(len(b) + ...)
//	b = candle.AppendMember(b, "meta", meta)
//
// A batch response:
//
//	b := candle.AppendBatchStart(buf[:0])
//	for i, r := range results {
//		if i > 0 {
//			b = append(b, ',')
//		}
//		if r.err != nil {
//			b = candle.AppendItemError(b, r.Indicator, r.ID, problemJSON)
//		} else {
//			b = candle.AppendResult(b, r.Result)
//		}
//	}
//	b = candle.AppendBatchEnd(b, n, meta)

// Param is one named parameter value in a response.
type Param struct {
	Name  string
	Value float64
}

// Output is one named output series ("value", "macd", "upper", ...).
type Output struct {
	Name   string
	Values []float64 // NaN (and ±Inf) encode as null
}

// Result is one indicator's outcome over the request's candles.
type Result struct {
	Indicator string
	ID        string   // echoed as "id" when not empty (batch items)
	Params    []Param  // rendered in this order (see SortedParams)
	Outputs   []Output // the members of "values", in this order
	// Precision rounds the values to this many significant digits
	// (1..MaxPrecision, see AppendFloatPrecision); 0 writes the shortest
	// digits that round-trip. Params are always exact.
	Precision int
}

// AppendResult appends the result object
// {"indicator":...,["id":...,]"params":{...},"count":N,"values":{...}}
// where N is the length of the first output (0 with no outputs).
func AppendResult(dst []byte, r Result) []byte {
	dst = append(dst, `{"indicator":`...)
	dst = AppendString(dst, r.Indicator)
	if r.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = AppendString(dst, r.ID)
	}
	dst = append(dst, `,"params":`...)
	dst = AppendParams(dst, r.Params)
	n := 0
	if len(r.Outputs) > 0 {
		n = len(r.Outputs[0].Values)
	}
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, `,"values":`...)
	dst = AppendValuesPrecision(dst, r.Outputs, r.Precision)
	return append(dst, '}')
}

// ValueSize estimates the bytes a value takes in an array written at
// precision (AppendFloatsPrecision), comma included: the length indicator
// values usually take, a little over their mean (precision+4, or 22 for
// the shortest digits), so that a buffer sized from it usually holds an
// answer without growing. It is an estimate, not a bound: integers near
// 1e21 or many tiny values take more.
func ValueSize(precision int) int {
	if precision > 0 {
		return precision + 4
	}
	return 22
}

// AppendResponse appends the single-indicator response: the result object
// of AppendResult with a last member "meta" holding the raw JSON meta (which
// must be a valid JSON value; nil leaves "meta" out).
func AppendResponse(dst []byte, r Result, meta []byte) []byte {
	dst = AppendResult(dst, r)
	if meta != nil {
		dst = AppendMember(dst, "meta", meta)
	}
	return dst
}

// AppendMember adds the member "key":raw to the JSON object that obj ends
// with: it replaces the closing '}' of obj. raw must be valid JSON. If obj
// does not end with '}', it returns obj unchanged.
func AppendMember(obj []byte, key string, raw []byte) []byte {
	n := len(obj)
	if n == 0 || obj[n-1] != '}' {
		return obj
	}
	obj = obj[:n-1]
	if n >= 2 && obj[n-2] != '{' {
		obj = append(obj, ',')
	}
	obj = AppendString(obj, key)
	obj = append(obj, ':')
	obj = append(obj, raw...)
	return append(obj, '}')
}

// AppendItemError appends the batch result of an item that failed:
// {"indicator":...,["id":...,]"error":problem}, where problem is the raw
// JSON problem object (type, title, status, detail, code).
func AppendItemError(dst []byte, indicator, id string, problem []byte) []byte {
	dst = append(dst, `{"indicator":`...)
	dst = AppendString(dst, indicator)
	if id != "" {
		dst = append(dst, `,"id":`...)
		dst = AppendString(dst, id)
	}
	dst = append(dst, `,"error":`...)
	dst = append(dst, problem...)
	return append(dst, '}')
}

// AppendBatchStart appends the opening of a batch response, {"results":[ .
// Append the results separated by ',' and close with AppendBatchEnd.
func AppendBatchStart(dst []byte) []byte {
	return append(dst, `{"results":[`...)
}

// AppendBatchEnd closes a batch response: ],"count":count[,"meta":meta]}.
// nil meta leaves "meta" out (add it later with AppendMember).
func AppendBatchEnd(dst []byte, count int, meta []byte) []byte {
	dst = append(dst, `],"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	if meta != nil {
		dst = append(dst, `,"meta":`...)
		dst = append(dst, meta...)
	}
	return append(dst, '}')
}

// AppendValues appends the "values" object: {"name":[...],...}.
func AppendValues(dst []byte, outputs []Output) []byte {
	return AppendValuesPrecision(dst, outputs, 0)
}

// AppendValuesPrecision appends the "values" object with every value
// rounded to precision significant digits (0: shortest round-trip).
func AppendValuesPrecision(dst []byte, outputs []Output, precision int) []byte {
	dst = append(dst, '{')
	for i, o := range outputs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, o.Name)
		dst = append(dst, ':')
		dst = AppendFloatsPrecision(dst, o.Values, precision)
	}
	return append(dst, '}')
}

// AppendParams appends {"name":value,...}; integral values print as
// integers (14, not 14.0 or 1.4e+01).
func AppendParams(dst []byte, params []Param) []byte {
	dst = append(dst, '{')
	for i, p := range params {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, p.Name)
		dst = append(dst, ':')
		dst = AppendFloat(dst, p.Value)
	}
	return append(dst, '}')
}

// SortedParams returns m as Params sorted by name, for a stable order.
func SortedParams(m map[string]float64) []Param {
	ps := make([]Param, 0, len(m))
	for k, v := range m {
		ps = append(ps, Param{k, v})
	}
	slices.SortFunc(ps, func(a, b Param) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return ps
}

// AppendFloats appends the JSON array of v, with null for NaN and ±Inf,
// each value with the shortest round-trip digits.
func AppendFloats(dst []byte, v []float64) []byte {
	return AppendFloatsPrecision(dst, v, 0)
}

// AppendFloatsPrecision appends the JSON array of v as AppendFloatPrecision
// writes each value.
func AppendFloatsPrecision(dst []byte, v []float64, precision int) []byte {
	dst = grow(dst, 2+len(v)*(precision+8))
	dst = append(dst, '[')
	// Fixed precision (1..15) rounds in floating point, as fixedFloat does:
	// x is within eps of the exact abs*10^s once below top.
	top := pow10[min(max(precision, 0), 15)]
	limit := uint64(top)
	eps := top * 0x1p-53
	for _, f := range v {
		// The common cases inline, saving the calls and checks of
		// AppendFloatPrecision, appendNumber, digits and layout: numbers
		// written as dd.ddd with at most 7 digits before the point, or as
		// 0.000ddd.
		abs := math.Abs(f)
		if abs >= 1e-6 && abs < 1e21 && precision <= 15 && cap(dst)-len(dst) > maxNumber {
			b := math.Float64bits(f)
			// f is d*10^k, d of m digits, trailing zeros included; m is 0
			// when a fixed precision cannot be decided here.
			var d uint64
			var k, m int
			if precision == 0 {
				d, k = shortest(b&(1<<52-1), int(b>>52)&0x7ff)
				m = digitCount(d)
			} else {
				// fixedFloat, inline (the call and what it spills cost
				// as much as its arithmetic). 1e-6 <= abs < 1e21 keeps
				// |s| <= 21.
				s := precision - 1 - ((int(b>>52)&0x7ff-1023)*78913)>>18
				x := scale10(abs, s)
				if x >= top {
					s--
					x = scale10(abs, s)
				}
				// x rounded to an integer by the FPU, and h, what that
				// rounding took off (see fixedFloat).
				t := float64(x + 0x1p52)
				d = math.Float64bits(t) - math.Float64bits(0x1p52)
				if h := x - float64(t-0x1p52); 0.5-math.Abs(h) > eps {
					if d == limit {
						d /= 10
						s--
					}
					k, m = -s, precision
				}
			}
			if m > 0 && m <= 16 {
				// The 16 digits of d, its m digits last: w0 the first 8
				// (the low byte first), w1 the last 8.
				hi := d / 1e8
				w0, w1 := uint64(zeros8), eightDigits(d-hi*1e8)
				if m > 10 {
					w0 = eightDigits(hi)
				} else {
					// hi < 100: its two digits, cheaper than eight.
					t := hi * 103 >> 10 // hi / 10
					w0 |= t<<48 | (hi-t*10)<<56
				}
				// Trailing zero digits, counted in the last word (and
				// the first when the last is all zeros; d != 0 so w0 then
				// has a digit).
				z := bits.LeadingZeros64(w1^zeros8) >> 3
				if z == 8 {
					z += bits.LeadingZeros64(w0^zeros8) >> 3
				}
				n := m - z  // significant digits
				dp := m + k // digits before the point
				// The m digits as one string: first (the first 8 of them,
				// or all when fewer) and the last m-8 in the top of w1.
				first := w1 >> uint(64-8*m) // 0 when m > 8
				if m > 8 {
					first = w0>>uint(128-8*m) | w1<<uint(8*m-64)
				}
				// The number, ln bytes, is its first 8 bytes, pre, then
				// the rest of the digits, which start at pos: dd.ddd (pos
				// 1, the point in pre), 0.000ddd (at most 5 zeros: pos
				// 2-dp <= 7) or an integer of at most m digits (its first
				// dp digits; the rest are zeros).
				var pre uint64
				pos, ln := 0, 0
				switch {
				case dp > 0 && dp < 8 && dp < n:
					pos, pre, ln = 1, insertPoint(first, dp), n+1
				case dp <= 0:
					pos = 2 - dp
					sh := uint(8 * pos)
					pre, ln = zeros8&(1<<sh-1)&^0xff00|'.'<<8|first<<sh, pos+n
				case dp >= n && dp <= m:
					pre, ln = first, dp
				}
				if ln > 0 {
					start := len(dst)
					out := (*[maxNumber]byte)(dst[start : start+maxNumber])
					i := int(b >> 63)
					out[0] = '-' // written over when f > 0
					// The digits in full, then pre over their start. The
					// masks change nothing (i+pos <= 8, m-8 <= 8, i+ln <=
					// 24) but show the compiler the bounds, so that it
					// checks none: code is dear in the functions that link
					// this (tests/lambdasize).
					digits := out[(i+pos)&15:]
					binary.LittleEndian.PutUint64(digits, first)
					if m > 8 {
						binary.LittleEndian.PutUint64(digits[(m-8)&15:], w1)
					}
					binary.LittleEndian.PutUint64(out[i:], pre)
					i = (i + ln) & 31
					out[i] = ','
					dst = dst[:start+i+1]
					continue
				}
			}
			if precision == 0 {
				// 8 digits or more before the point, and 17 digits:
				// layout, from the significant digits.
				for d%10 == 0 {
					d /= 10
					k++
				}
				dst = layout(dst, b>>63 != 0, d, digitCount(d), k, false)
				dst = append(dst, ',')
				continue
			}
		}
		// The rest, and fixed precisions that cannot be decided here.
		dst = AppendFloatPrecision(dst, f, precision)
		dst = append(dst, ',')
	}
	if len(v) == 0 {
		return append(dst, ']')
	}
	dst[len(dst)-1] = ']' // the last ','
	return dst
}

// AppendFloat appends f as a JSON number, or null when f is NaN or ±Inf. The
// text is the shortest that parses back to exactly f (strconv's shortest
// round-trip digits), laid out as encoding/json does: plain decimals for
// 1e-6 <= |f| < 1e21 (so 1234567.5 rather than 1.2345675e+06), exponent
// form outside, integral values without a fraction. The bytes are identical
// to encoding/json's for every float64.
func AppendFloat(dst []byte, f float64) []byte {
	return AppendFloatPrecision(dst, f, 0)
}

// AppendFloatPrecision appends f as AppendFloat does, but rounded to
// precision significant digits (1..MaxPrecision; 0 means the shortest
// round-trip digits): the digits of strconv.FormatFloat(f, 'e',
// precision-1, 64), correctly rounded from f's exact value, without
// trailing zeros, in AppendFloat's layout (which |f| chooses). Rounding
// the largest floats up can pass MaxFloat64 (2e+308 at precision 1).
func AppendFloatPrecision(dst []byte, f float64, precision int) []byte {
	if f-f != 0 {
		return append(dst, "null"...)
	}
	if f > -1e15 && f < 1e15 && (precision == 0 || precision >= 15 || precision > 0 && math.Abs(f) < pow10[precision]) {
		// An integer of at most 15 digits, and of at most precision
		// digits: its own digits are exact. (The int64 round trip is one
		// instruction each way; math.Trunc is a call on amd64 v1.)
		if i := int64(f); float64(i) == f && (i != 0 || !math.Signbit(f)) {
			return strconv.AppendInt(dst, i, 10)
		}
	}
	return appendNumber(dst, f, precision)
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// '<', '>' and '&' are left as they are (responses are not HTML).
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xf])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// grow makes room for n more bytes, at least doubling the capacity when it
// must reallocate: a response is built from many appends (one per output
// series), and growing each time by just what one needs would copy the
// whole body over and over.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	return slices.Grow(dst, max(n, cap(dst)))
}
