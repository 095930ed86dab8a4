package candle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

// interestingFloats are values where formatting or parsing is easy to get
// wrong.
var interestingFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 0.2, 0.30000000000000004, 1.0 / 3, 2.0 / 3, 123456789.123456789,
	1e-6, 9.999999999999999e-7, 1e-7, 1e20, 1e21, 1e21 - 65536, 1e15, 1e15 - 1, 999999999999999.9, 4503599627370497,
	9007199254740993, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 2.2250738585072014e-308,
	5e-324, 1.7976931348623157e308, 43123.45, 0.00012345, 1e100, 12345678.5, -12.75,
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(f float64) {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatalf("json.Marshal(%v): %v", f, err)
		}
		if got := AppendFloat(nil, f); !bytes.Equal(got, want) {
			t.Fatalf("AppendFloat(%v) = %s, encoding/json gives %s", f, got, want)
		}
	}
	for _, f := range interestingFloats {
		check(f)
	}
	for range 200_000 {
		var f float64
		switch r.IntN(4) {
		case 0: // any bit pattern
			f = math.Float64frombits(r.Uint64())
		case 1: // prices with a few decimals
			f = math.Round(r.Float64()*1e6) / 100
		case 2: // integers
			f = float64(r.Int64N(1<<54) - 1<<53)
		default: // small magnitudes
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		}
		if f-f != 0 {
			continue
		}
		check(f)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(AppendFloat(nil, f)); got != "null" {
			t.Errorf("AppendFloat(%v) = %s, want null", f, got)
		}
	}
}

// TestValuesRoundTrip encodes values and decodes them with encoding/json:
// every value comes back bit for bit, NaN as null.
func TestValuesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	values := append([]float64{math.NaN(), math.NaN()}, interestingFloats...)
	for range 10_000 {
		values = append(values, math.Float64frombits(r.Uint64()), r.NormFloat64()*100)
	}
	values = append(values, math.NaN())
	tests := []struct {
		name string
		body []byte
	}{
		{"AppendFloats", AppendFloats(nil, values)},
		{"AppendValues", AppendValues([]byte("ignored"), []Output{{"value", values}})[len("ignored"):]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []*float64
			if tc.name == "AppendValues" {
				var m map[string][]*float64
				if err := json.Unmarshal(tc.body, &m); err != nil {
					t.Fatalf("unmarshal: %v", err)
				}
				got = m["value"]
			} else if err := json.Unmarshal(tc.body, &got); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if len(got) != len(values) {
				t.Fatalf("got %d values, want %d", len(got), len(values))
			}
			for i, want := range values {
				switch {
				case want-want != 0:
					if got[i] != nil {
						t.Errorf("[%d] = %v, want null for %v", i, *got[i], want)
					}
				case got[i] == nil:
					t.Errorf("[%d] = null, want %v", i, want)
				case math.Float64bits(*got[i]) != math.Float64bits(want):
					t.Errorf("[%d] = %v, want %v bit for bit", i, *got[i], want)
				}
			}
		})
	}
}

// TestAppendFloatsMatchesEach holds the array writer, which inlines the
// common case, to the one-value writer at every precision: the same bytes
// as the values written one by one, comma separated, whatever the spare
// capacity of the buffer.
func TestAppendFloatsMatchesEach(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	values := append([]float64{math.NaN(), math.Inf(-1), 0, math.Copysign(0, -1)}, interestingFloats...)
	for range 2_000 {
		values = append(values, math.Float64frombits(r.Uint64()), r.NormFloat64()*100, -r.Float64(),
			r.Float64()*1e7, float64(r.IntN(1e6)), r.Float64()*1e-5)
	}
	for p := 0; p <= MaxPrecision; p++ {
		want := []byte("x[")
		for i, f := range values {
			if i > 0 {
				want = append(want, ',')
			}
			want = AppendFloatPrecision(want, f, p)
		}
		want = append(want, ']')
		for _, spare := range []int{0, 7, 1 << 20} {
			dst := append(make([]byte, 0, 1+spare), 'x')
			if got := AppendFloatsPrecision(dst, values, p); !bytes.Equal(got, want) {
				t.Errorf("precision %d, spare %d: arrays differ", p, spare)
			}
		}
	}
	if got := string(AppendFloatsPrecision(nil, nil, 0)); got != "[]" {
		t.Errorf("empty array = %s, want []", got)
	}
}

func TestAppendResponse(t *testing.T) {
	res := Result{
		Indicator: "macd",
		Params:    []Param{{"fast_period", 12}, {"slow_period", 26}, {"signal_period", 9}, {"std_dev", 2.5}, {"big", 1e20}},
		Outputs: []Output{
			{"macd", []float64{math.NaN(), 1.5, -0.25}},
			{"signal", []float64{math.NaN(), math.NaN(), 0.1}},
			{"hist", []float64{math.NaN(), math.NaN(), -0.35}},
		},
	}
	meta := []byte(`{"session_id":"s1","tokens":3}`)
	body := AppendResponse(nil, res, meta)
	want := `{"indicator":"macd","params":{"fast_period":12,"slow_period":26,"signal_period":9,"std_dev":2.5,"big":100000000000000000000},` +
		`"count":3,"values":{"macd":[null,1.5,-0.25],"signal":[null,null,0.1],"hist":[null,null,-0.35]},"meta":{"session_id":"s1","tokens":3}}`
	if string(body) != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
	// Appending meta later gives the same bytes.
	if later := AppendMember(AppendResult(nil, res), "meta", meta); !bytes.Equal(later, body) {
		t.Errorf("AppendResult+AppendMember = %s", later)
	}
	if got := AppendResponse(nil, res, nil); !bytes.Equal(got, AppendResult(nil, res)) {
		t.Errorf("nil meta should be left out: %s", got)
	}
	if got := string(AppendMember([]byte(`{}`), "a", []byte("1"))); got != `{"a":1}` {
		t.Errorf("AppendMember on {} = %s", got)
	}
	if got := string(AppendMember([]byte(`[1]`), "a", []byte("1"))); got != `[1]` {
		t.Errorf("AppendMember on an array = %s", got)
	}
}

func TestAppendBatch(t *testing.T) {
	b := AppendBatchStart(nil)
	b = AppendResult(b, Result{Indicator: "rsi", ID: "a\"1", Params: SortedParams(map[string]float64{"period": 14}),
		Outputs: []Output{{"value", []float64{math.NaN(), 50}}}})
	b = append(b, ',')
	b = AppendItemError(b, "sma", "", []byte(`{"type":"t","title":"Invalid Request","status":400,"detail":"d","code":"invalid_request"}`))
	b = AppendBatchEnd(b, 2, nil)
	b = AppendMember(b, "meta", []byte(`{"tokens":1}`))
	var got struct {
		Results []struct {
			Indicator string
			ID        string
			Params    map[string]any
			Count     int
			Values    map[string][]*float64
			Error     map[string]any
		}
		Count int
		Meta  map[string]int
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	r0, r1 := got.Results[0], got.Results[1]
	if len(got.Results) != 2 || got.Count != 2 || got.Meta["tokens"] != 1 ||
		r0.Indicator != "rsi" || r0.ID != "a\"1" || r0.Count != 2 || r0.Values["value"][0] != nil || *r0.Values["value"][1] != 50 ||
		r1.Indicator != "sma" || r1.Error["code"] != "invalid_request" || r1.Values != nil {
		t.Errorf("unexpected batch %s", b)
	}
}

func TestAppendString(t *testing.T) {
	tests := []string{"", "rsi", "a\"b\\c", "\n\r\t\x00\x1f", "é😀", "\u2028\u2029", "<&>", "bad\xffutf8", "\xed\xa0\x80"}
	for _, s := range tests {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			b := AppendString(nil, s)
			if !json.Valid(b) {
				t.Fatalf("invalid JSON %s", b)
			}
			var back string
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(s) // encoding/json also turns bad UTF-8 into U+FFFD
			var wantBack string
			_ = json.Unmarshal(want, &wantBack)
			if back != wantBack {
				t.Errorf("round trip %q, want %q", back, wantBack)
			}
		})
	}
}

func TestSortedParams(t *testing.T) {
	got := SortedParams(map[string]float64{"slow": 26, "fast": 12, "signal": 9})
	want := []Param{{"fast", 12}, {"signal", 9}, {"slow", 26}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SortedParams = %v", got)
	}
}

func TestChecksum(t *testing.T) {
	s := genSet(1000, 7)
	var buf bytes.Buffer
	for _, col := range []any{s.Time, s.Open, s.High, s.Low, s.Close, s.Volume} {
		if err := binary.Write(&buf, binary.LittleEndian, col); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	want := "sha256:" + hex.EncodeToString(sum[:])
	if got := s.Checksum(); got != want {
		t.Fatalf("Checksum = %s, want %s", got, want)
	}
	var bufBE [8]byte // the portable path gives the same answer
	h := sha256.New()
	for _, x := range s.Time {
		binary.LittleEndian.PutUint64(bufBE[:], uint64(x))
		h.Write(bufBE[:])
	}
	for _, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
		for _, x := range col {
			binary.LittleEndian.PutUint64(bufBE[:], math.Float64bits(x))
			h.Write(bufBE[:])
		}
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("portable checksum %s != %s", got, want)
	}
	s.Close[999] = math.Nextafter(s.Close[999], 0)
	if s.Checksum() == want {
		t.Error("changing one bit kept the checksum")
	}
	if got := (Set{}).Checksum(); got != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty checksum %s", got)
	}
}

func TestParseFloatMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		if n > 1 && b[0] == '0' {
			b[0] = '1'
		}
		return string(b)
	}
	cases := []string{"0", "-0", "0.0", "-0.0e-5", "1", "0.1", "0.30000000000000004", "1e22", "1e23", "9007199254740993",
		"9007199254740992", "123456789012345678901234567890", "1.7976931348623157e308", "1.7976931348623159e308", "4.9e-324",
		"2e-324", "1e-400", "0.000000000000000000000000000001", "12345678901234567e20", "1e38", "9e37", "9007199254740991e15",
		"9007199254740993e15", "1E+2", "1e-0", "100000000000000000000000e-5", "0.1e-22", "43123.45", "-43123.45"}
	for range 300_000 {
		s := digits(1 + r.IntN(20))
		if r.IntN(2) == 0 {
			s += "." + digits(1+r.IntN(20))
		}
		if r.IntN(3) == 0 {
			s += "e" + strconv.Itoa(r.IntN(80)-40)
		}
		if r.IntN(2) == 0 {
			s = "-" + s
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		want, werr := strconv.ParseFloat(s, 64)
		got, end, ne := parseFloat([]byte(s), 0)
		if math.IsInf(want, 0) {
			if ne != numRange {
				t.Fatalf("parseFloat(%s) = %v, %v; want numRange", s, got, ne)
			}
			continue
		}
		_ = werr // underflow reports ErrRange with a correct value
		if ne != numOK || end != len(s) || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%s) = %v (end %d, %v); strconv gives %v", s, got, end, ne, want)
		}
		var viaJSON float64
		if len(cases) < 100 || r.IntN(50) == 0 {
			if err := json.Unmarshal([]byte(s), &viaJSON); err != nil || math.Float64bits(viaJSON) != math.Float64bits(got) {
				t.Fatalf("encoding/json gives %v (%v) for %s, we give %v", viaJSON, err, s, got)
			}
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  numErr
	}{
		{"0", 0, numOK}, {"-0", 0, numOK}, {"1700000000", 1700000000, numOK}, {"-1", -1, numOK},
		{"9223372036854775807", math.MaxInt64, numOK}, {"-9223372036854775808", math.MinInt64, numOK},
		{"9223372036854775808", 0, numIntRange}, {"-9223372036854775809", 0, numIntRange},
		{"12345678901234567890123", 0, numIntRange}, {"1.7e9", 1700000000, numOK}, {"1700000000.000", 1700000000, numOK},
		{"1.5", 0, numFraction}, {"1e-1", 0, numFraction}, {"1e300", 0, numIntRange}, {"1e999", 0, numRange},
		{"01", 0, numSyntax}, {"-", 0, numSyntax}, {"-a", 0, numSyntax}, {"a", 0, numNotNumber}, {"", 0, numNotNumber},
		{"1.", 0, numSyntax}, {"1e", 0, numSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, _, err := parseInt([]byte(tc.in), 0)
			if err != tc.err || err == numOK && got != tc.want {
				t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}
