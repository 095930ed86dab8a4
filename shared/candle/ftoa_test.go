package candle

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// edgeFloats: subnormals, powers of ten and of two, the extremes,
// integers, negative zero and numbers next to the layout boundaries.
func edgeFloats() []float64 {
	fs := append([]float64{}, interestingFloats...)
	fs = append(fs, math.SmallestNonzeroFloat64, 2*math.SmallestNonzeroFloat64, math.Float64frombits(0x000fffffffffffff),
		math.Float64frombits(0x0010000000000000), math.MaxFloat64, math.Copysign(0, -1), 0, 1<<53-1, 1<<53, 1<<53+2,
		1e21, math.Nextafter(1e21, 0), 1e-6, math.Nextafter(1e-6, 0), math.Nextafter(1e-6, 1), 5e-324, 1e23, 8.41e21,
		9007199254740991, 0.1, 0.3, 2.5, 1.5, 100, 1234567, 1e15, 1e16, 1e17)
	for e := -325; e <= 309; e++ {
		p := math.Pow(10, float64(e))
		fs = append(fs, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)))
	}
	for e := -1074; e <= 1023; e++ {
		p := math.Ldexp(1, e)
		fs = append(fs, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), 3*p)
	}
	for i := range int64(2000) {
		fs = append(fs, float64(i), float64(i)/8, float64(i*1000003))
	}
	var out []float64
	for _, f := range fs {
		if f-f == 0 {
			out = append(out, f, -f)
		}
	}
	return out
}

// sampleFloats is a large random sample: every bit pattern class, values
// like prices and indicator outputs, integers and tiny magnitudes.
func sampleFloats(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]float64, 0, n)
	for len(out) < n {
		var f float64
		switch r.IntN(6) {
		case 0, 1:
			f = math.Float64frombits(r.Uint64())
		case 2:
			f = math.Round(r.Float64()*1e8) / math.Pow(10, float64(r.IntN(9)))
		case 3:
			f = r.Float64() * 100
		case 4:
			f = float64(r.Int64N(1<<60) - 1<<59)
		default:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30))
		}
		if f-f == 0 {
			out = append(out, f)
		}
	}
	return out
}

// TestShortestRoundTrips is the exactness proof of the default encoding:
// for every value of the sample and the edge cases, the text is a JSON
// number, ParseFloat gives back the same float64 bit for bit, the digits
// are strconv's shortest digits (FormatFloat(v, 'e', -1)), and the bytes
// are encoding/json's.
func TestShortestRoundTrips(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 200_000
	}
	values := append(edgeFloats(), sampleFloats(n, 7)...)
	var buf []byte
	for _, f := range values {
		buf = appendNumber(buf[:0], f, 0)
		got, err := strconv.ParseFloat(string(buf), 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(f) {
			t.Fatalf("%v (%#x) encodes as %s, which parses to %v (err %v)", f, math.Float64bits(f), buf, got, err)
		}
		if g, w := mantissaDigits(string(buf)), mantissaDigits(strconv.FormatFloat(f, 'e', -1, 64)); g != w {
			t.Fatalf("%v encodes as %s: digits %s, strconv's shortest digits are %s", f, buf, g, w)
		}
		want, _ := json.Marshal(f)
		if !bytes.Equal(buf, want) {
			t.Fatalf("%v encodes as %s, encoding/json as %s", f, buf, want)
		}
	}
}

// TestPrecision holds every precision 1..17 to strconv's correctly rounded
// digits (FormatFloat(v, 'e', p-1)), without trailing zeros, in a valid
// JSON number that parses to what strconv's text parses to.
func TestPrecision(t *testing.T) {
	values := append(edgeFloats(), sampleFloats(40_000, 11)...)
	// Ties: p+1 digits ending in 5, exact in binary or not.
	for _, s := range []string{"0.125", "2.5", "1.5", "0.35", "1234.5", "43123.45", "0.000125", "1.0000000000000005",
		"9.5", "99.5", "999999.5", "0.95", "1e21", "9.9999999999e20", "9.99999999e-7", "123456789012345.5"} {
		f, _ := strconv.ParseFloat(s, 64)
		values = append(values, f, -f)
	}
	var buf []byte
	for p := 1; p <= MaxPrecision; p++ {
		for _, f := range values {
			buf = appendNumber(buf[:0], f, p)
			ref := strconv.FormatFloat(f, 'e', p-1, 64)
			if g, w := mantissaDigits(string(buf)), mantissaDigits(ref); g != w {
				t.Fatalf("precision %d: %v encodes as %s, strconv gives %s", p, f, buf, ref)
			}
			if !json.Valid(buf) {
				t.Fatalf("precision %d: %v encodes as %s, not a JSON number", p, f, buf)
			}
			got, err := strconv.ParseFloat(string(buf), 64)
			// Rounding the largest floats up can pass MaxFloat64 (2e+308 at
			// precision 1): then both texts overflow alike.
			want, werr := strconv.ParseFloat(ref, 64)
			if (err != nil) != (werr != nil) || math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("precision %d: %v encodes as %s (%v), strconv's %s is %v", p, f, buf, got, ref, want)
			}
		}
	}
}

// nearTies returns about n values at or next to a rounding boundary of
// some precision 1..15 over the plain layout's range: the float64 nearest
// to a decimal ending in 5 one digit past the precision and its two
// neighbours, exact ties (integers and binary fractions plus a half), each
// with its negative.
func nearTies(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]float64, 0, n+8)
	for len(out) < n {
		digits := strconv.FormatUint(100_000_000_000_000+r.Uint64N(900_000_000_000_000), 10)[:1+r.IntN(15)]
		f, err := strconv.ParseFloat(digits+"5e"+strconv.Itoa(r.IntN(28)-23), 64)
		if err != nil {
			panic(err)
		}
		tie := float64(r.Int64N(1<<40)) + 0.5
		if r.IntN(2) == 0 {
			tie = math.Ldexp(tie, -r.IntN(30))
		}
		for _, v := range []float64{f, math.Nextafter(f, 0), math.Nextafter(f, math.Inf(1)), tie} {
			out = append(out, v, -v)
		}
	}
	return out
}

// TestFixedArrays is the exactness proof of the fixed precisions (1..15),
// which round in floating point (fixedFloat, and the same steps inline in
// the array writer): over the edge cases, a large random sample and values
// at and next to rounding boundaries, every number has strconv's correctly
// rounded digits (FormatFloat(v, 'e', p-1)) and the array is byte for byte
// the values written one by one.
func TestFixedArrays(t *testing.T) {
	n := 150_000
	if testing.Short() {
		n = 30_000
	}
	values := append(edgeFloats(), sampleFloats(n, 13)...)
	values = append(values, nearTies(n, 17)...)
	r := rand.New(rand.NewPCG(19, 20))
	for range n / 4 {
		// Indicator outputs: oscillators, prices, small signed
		// differences, integral sums.
		values = append(values, r.Float64()*100, 100+r.NormFloat64()*5, r.NormFloat64()/30, math.Round(r.NormFloat64()*1e7))
	}
	var one []byte
	for p := 1; p <= 15; p++ {
		got := AppendFloatsPrecision(nil, values, p)
		want := []byte{'['}
		for i, f := range values {
			if i > 0 {
				want = append(want, ',')
			}
			one = AppendFloatPrecision(one[:0], f, p)
			if f-f == 0 {
				if g, w := mantissaDigits(string(one)), mantissaDigits(strconv.FormatFloat(f, 'e', p-1, 64)); g != w {
					t.Fatalf("precision %d: %v encodes as %s, strconv's digits are %s", p, f, one, w)
				}
			}
			want = append(want, one...)
		}
		want = append(want, ']')
		if !bytes.Equal(got, want) {
			for i, g := range bytes.Split(got[1:len(got)-1], []byte{','}) {
				if w := AppendFloatPrecision(nil, values[i], p); !bytes.Equal(g, w) {
					t.Fatalf("precision %d: %v (%#x) encodes as %s in an array, %s alone", p, values[i], math.Float64bits(values[i]), g, w)
				}
			}
			t.Fatalf("precision %d: arrays differ", p)
		}
	}
}

// mantissaDigits returns the significant digits of a decimal number text
// and the power of ten of its first digit, as "digits@exp": the sign, the
// layout, leading and trailing zeros do not count.
func mantissaDigits(s string) string {
	s = strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, _ = strconv.Atoi(s[i+1:])
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	exp += len(intPart) - 1
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
		exp--
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "0"
	}
	return digits + "@" + strconv.Itoa(exp)
}

// FuzzAppendFloatPrecision holds every float64 and precision to strconv:
// the shortest digits by default, the correctly rounded ones otherwise,
// in a valid JSON number.
func FuzzAppendFloatPrecision(f *testing.F) {
	for _, v := range []float64{0.1, 43123.45, 1e21, 5e-324, 9.5, 1.0000000000000005} {
		f.Add(math.Float64bits(v), uint8(0))
		f.Add(math.Float64bits(v), uint8(3))
	}
	f.Fuzz(func(t *testing.T, bits uint64, p uint8) {
		v := math.Float64frombits(bits)
		prec := int(p) % (MaxPrecision + 1)
		got := AppendFloatPrecision(nil, v, prec)
		if v-v != 0 {
			if string(got) != "null" {
				t.Fatalf("%v: %s", v, got)
			}
			return
		}
		ref := strconv.FormatFloat(v, 'e', prec-1, 64)
		if !json.Valid(got) || mantissaDigits(string(got)) != mantissaDigits(ref) {
			t.Fatalf("%v at precision %d: %s, strconv gives %s", v, prec, got, ref)
		}
		if prec == 0 {
			if want, _ := json.Marshal(v); !bytes.Equal(got, want) {
				t.Fatalf("%v: %s, encoding/json gives %s", v, got, want)
			}
		}
	})
}
