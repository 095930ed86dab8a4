package candle

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzLimits = Limits{MaxCandles: 300, MaxItems: 8}

// checkRequest asserts the invariants of every successful Decode.
func checkRequest(t *testing.T, req Request) {
	t.Helper()
	s := req.Candles
	n := s.Len()
	if n < 1 || n > fuzzLimits.MaxCandles {
		t.Fatalf("%d candles", n)
	}
	for k, l := range []int{len(s.Open), len(s.High), len(s.Low), len(s.Close), len(s.Volume)} {
		if l != n {
			t.Fatalf("%s has %d values, time has %d", colNames[k+1], l, n)
		}
	}
	for i := range n {
		o, h, l, c, v := s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i]
		for _, x := range []float64{o, h, l, c, v} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("candle %d has a non-finite value", i)
			}
		}
		if i > 0 && s.Time[i] <= s.Time[i-1] {
			t.Fatalf("time %d does not increase", i)
		}
		if !(h >= l && o >= l && o <= h && c >= l && c <= h && v >= 0) {
			t.Fatalf("candle %d breaks a rule: o %v h %v l %v c %v v %v", i, o, h, l, c, v)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate after Decode: %v", err)
	}
	if !strings.HasPrefix(s.Checksum(), "sha256:") {
		t.Fatal("bad checksum")
	}
	for name, v := range req.Params {
		if v-v != 0 || !utf8.ValidString(name) {
			t.Fatalf("bad param %q = %v", name, v)
		}
	}
	if req.Items != nil && (len(req.Items) == 0 || len(req.Items) > fuzzLimits.MaxItems) {
		t.Fatalf("%d items", len(req.Items))
	}
	for i, it := range req.Items {
		if it.Err != nil {
			var fe *FieldError
			if !errors.As(it.Err, &fe) || fe.Index != i || !strings.HasPrefix(fe.Field, "indicators["+strconv.Itoa(i)+"]") {
				t.Fatalf("item %d: bad error %#v", i, it.Err)
			}
			continue
		}
		if it.Name == "" || !utf8.ValidString(it.Name) || !utf8.ValidString(it.ID) {
			t.Fatalf("item %d: bad name %q or id %q", i, it.Name, it.ID)
		}
		for name, v := range it.Params {
			if v-v != 0 || !utf8.ValidString(name) {
				t.Fatalf("item %d: bad param %q = %v", i, name, v)
			}
		}
	}
}

func checkFieldError(t *testing.T, err error) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v is not a *FieldError", err, err)
	}
	if fe.Field == "" || fe.Reason == "" || fe.Index < -1 || fe.Line < 0 || !utf8.ValidString(fe.Error()) {
		t.Fatalf("malformed FieldError %#v", fe)
	}
}

// sameNumber reports whether the JSON number text s means exactly f.
func sameNumber(s json.Number, f float64) bool {
	want, err := strconv.ParseFloat(string(s), 64)
	return (err == nil || math.Abs(want) <= math.MaxFloat64) && math.Float64bits(want) == math.Float64bits(f)
}

func sameTime(s json.Number, t int64) bool {
	if i, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		return i == t
	}
	f, _ := strconv.ParseFloat(string(s), 64)
	return f == float64(t)
}

// checkAgainstEncodingJSON decodes data, which Decode accepted, with
// encoding/json and compares every number.
func checkAgainstEncodingJSON(t *testing.T, data []byte, req Request) {
	t.Helper()
	if !json.Valid(data) {
		t.Fatalf("Decode accepted invalid JSON %q", data)
	}
	var doc struct {
		Candles   []map[string]json.Number
		Time      []json.Number
		Open      []json.Number
		High      []json.Number
		Low       []json.Number
		Close     []json.Number
		Volume    []json.Number
		Params    map[string]json.Number
		Precision *json.Number
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		// encoding/json can fail only on what it types differently (e.g. a
		// batch item with a non-number param, which Decode keeps as Item.Err,
		// lives in a field doc does not have; that cannot fail). Report.
		t.Fatalf("encoding/json rejects what Decode accepted: %v", err)
	}
	s := req.Candles
	for i := range s.Len() {
		var t0 json.Number
		var vals [5]json.Number
		if doc.Candles != nil {
			r := doc.Candles[i]
			t0, vals = r["t"], [5]json.Number{r["o"], r["h"], r["l"], r["c"], r["v"]}
		} else {
			t0, vals = doc.Time[i], [5]json.Number{doc.Open[i], doc.High[i], doc.Low[i], doc.Close[i], doc.Volume[i]}
		}
		if !sameTime(t0, s.Time[i]) {
			t.Fatalf("candle %d: time %s decoded as %d", i, t0, s.Time[i])
		}
		for k, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
			if !sameNumber(vals[k], col[i]) {
				t.Fatalf("candle %d: %s %s decoded as %v", i, colNames[k+1], vals[k], col[i])
			}
		}
	}
	for name, v := range req.Params {
		if !sameNumber(doc.Params[name], v) {
			t.Fatalf("param %q %s decoded as %v", name, doc.Params[name], v)
		}
	}
	if doc.Precision == nil && req.Precision != 0 || doc.Precision != nil && !sameNumber(*doc.Precision, float64(req.Precision)) {
		t.Fatalf("precision %v decoded as %d", doc.Precision, req.Precision)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		rows3, rows3Pretty, cols3, cols3Reordered,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"indicators":[{"name":"rsi","params":{"period":14},"id":"a"},{"name":"x","params":{"p":"1"}},5,{"params":[[]]}]}`,
		`{"time":[1,2],"open":[1,1],"high":[1,1],"low":[1,1],"close":[1,1],"volume":[0,0],"indicators":[{"name":"macd"}],"params":{"a":1e-7}}`,
		`{"candles":[{"t":1,"o":1,"h":0,"l":1,"c":1,"v":1}]}`,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"precision":6}`,
		`{"candles":[{"t":1,"o":1,"h":1e999,"l":1,"c":1,"v":1}]}`,
		`{"candles":[{"t":1.5,"o":1,"h":1,"l":1,"c":1,"v":1}]}`,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1},{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}]}`,
		`{"candles":[{"\u0074":17e8,"o":0.1,"h":0.30000000000000004,"l":-0,"c":0.2,"v":0}]}`,
		`{"time":[1],"open":[1],"high":[1],"low":[1],"close":[1],"volume":[1,2]}`,
		`{"candles":[],"time":[]}`,
		`{"candles":[[[[[[[[[[[[[[]]]]]]]]]]]]]]}`,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"indicators":[{"name":"a","params":{"p":[[[[[[[[{}]]]]]]]]}}]}`,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"params":{"p":1,"p":2}}`,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"x":1}`,
		`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}]} x`,
		`{"candles":[{"t":9223372036854775807,"o":123456789012345678901234567890,"h":123456789012345678901234567890,"l":1e-400,"c":1,"v":4.9e-324}]}`,
		"", "[]", "{}", "null", `{"candles":"x"}`, "\xef\xbb\xbf{}", `{"a":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := Decode(ctJSON, data, nil, fuzzLimits)
		if err != nil {
			checkFieldError(t, err)
			return
		}
		checkRequest(t, req)
		checkAgainstEncodingJSON(t, data, req)
	})
}

func FuzzDecodeCSV(f *testing.F) {
	for _, seed := range []struct{ body, query string }{
		{csv3, "period=14"},
		{csv3CRLF, "period=14&k=1e-3"},
		{csv3NoNewline, ""},
		{"time,open,high,low,close,volume\n1,1,1,1,1,1\n\n\n", ""},
		{"time,open,high,low,close,volume\n1,1,1,1,1,1\n\n2,1,1,1,1,1\n", ""},
		{"time,open,high,low,close,volume\n1,2,1,1,1,1\n", ""},
		{"time,open,high,low,close,volume\n1,1,1,1,1\n", ""},
		{"time,open,high,low,close,volume\n1.5,1,1,1,1,1\n", ""},
		{"time,open,high,low,close,volume\n1,NaN,1,1,1,1\n", ""},
		{"time,open,high,low,close,volume\n1,1e999,1,1,1,1\n", ""},
		{"time,open,high,low,close,volume\n1,1,1,1,1,1\n", "period=abc"},
		{"time,open,high,low,close,volume\n1,1,1,1,1,1\n", "period=1&period=2"},
		{"t,o,h,l,c,v\n1,1,1,1,1,1\n", ""},
		{"", ""},
		{"\r\n", ""},
	} {
		f.Add([]byte(seed.body), seed.query)
	}
	f.Fuzz(func(t *testing.T, data []byte, rawQuery string) {
		query, qerr := url.ParseQuery(rawQuery)
		if qerr != nil {
			query = nil
		}
		req, err := Decode(ctCSV, data, query, fuzzLimits)
		if err != nil {
			checkFieldError(t, err)
			return
		}
		checkRequest(t, req)
		if req.Items != nil {
			t.Fatal("CSV gave batch items")
		}
		// Oracle: split the body the plain way and parse with strconv.
		body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		lines := strings.Split(string(body), "\n")[1:]
		s := req.Candles
		row := 0
		for _, line := range lines {
			line = strings.TrimSuffix(line, "\r")
			if strings.Trim(line, " \t") == "" {
				continue
			}
			cells := strings.Split(line, ",")
			if len(cells) != 6 || row >= s.Len() {
				t.Fatalf("line %q accepted as candle %d", line, row)
			}
			if !sameTime(json.Number(strings.Trim(cells[0], " \t")), s.Time[row]) {
				t.Fatalf("time %q decoded as %d", cells[0], s.Time[row])
			}
			for k, col := range [][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
				cell := strings.Trim(cells[k+1], " \t")
				if !json.Valid([]byte(cell)) || !sameNumber(json.Number(cell), col[row]) {
					t.Fatalf("%s %q decoded as %v", colNames[k+1], cell, col[row])
				}
			}
			row++
		}
		if row != s.Len() {
			t.Fatalf("%d data lines, %d candles", row, s.Len())
		}
		for k, v := range req.Params {
			if vs := query[k]; len(vs) != 1 || !sameNumber(json.Number(vs[0]), v) {
				t.Fatalf("param %s=%v from %v", k, v, vs)
			}
		}
	})
}
