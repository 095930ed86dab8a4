package candle

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

const (
	ctJSON = "application/json"
	ctCSV  = "text/csv"
)

// three candles written in every accepted form.
var (
	want3 = Set{
		Time:   []int64{1700000000, 1700000060, 1700000120},
		Open:   []float64{1, 1.5, 0.1},
		High:   []float64{2, 1.75, 0.30000000000000004},
		Low:    []float64{0.5, 1.25, 0.1},
		Close:  []float64{1.5, 1.5, 0.2},
		Volume: []float64{1000, 0, 12.5e-7},
	}
	rows3 = `{"candles":[{"t":1700000000,"o":1,"h":2,"l":0.5,"c":1.5,"v":1000},` +
		`{"t":1700000060,"o":1.5,"h":1.75,"l":1.25,"c":1.5,"v":0},` +
		`{"t":1700000120,"o":0.1,"h":0.30000000000000004,"l":0.1,"c":0.2,"v":12.5e-7}],"params":{"period":14}}`
	rows3Pretty = "\t{ \"params\" : { \"period\" : 1.4e1 } ,\r\n \"candles\" : [\n" +
		"  { \"v\":1000, \"c\":1.5 , \"l\":0.5, \"h\":2, \"o\":1, \"t\":1700000000 },\n" +
		"  {\"t\":1.70000006e9,\"o\":15e-1,\"h\":1.750,\"l\":1.25,\"c\":1.5,\"v\":0.0e5},\n" +
		"  {\"\\u0074\":1700000120.0,\"o\":0.1,\"h\":0.30000000000000004,\"l\":0.1,\"c\":0.2,\"v\":1.25E-6}\n ] }\n"
	cols3 = `{"time":[1700000000,1700000060,1700000120],"open":[1,1.5,0.1],"high":[2,1.75,0.30000000000000004],` +
		`"low":[0.5,1.25,0.1],"close":[1.5,1.5,0.2],"volume":[1000,0,0.00000125],"params":{"period":14}}`
	cols3Reordered = `{"params":{"period":14},"volume":[1000,0,0.00000125],"close":[1.5,1.5,0.2],"low":[0.5,1.25,0.1],` +
		`"high":[2,1.75,0.30000000000000004],"open":[1,1.5,0.1],"time":[1700000000,1700000060,1700000120]}`
	csv3 = "time,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,1000\n1700000060,1.5,1.75,1.25,1.5,0\n" +
		"1700000120,0.1,0.30000000000000004,0.1,0.2,12.5e-7\n"
	csv3CRLF = "\xef\xbb\xbftime, open,high ,low,close,volume\r\n1700000000, 1,2,0.5,1.5,1000\r\n" +
		"1700000060,1.5,1.75,1.25,1.5,0\t\r\n1700000120,0.1,0.30000000000000004,0.1,0.2,1.25e-6\r\n\r\n\n  \n"
	csv3NoNewline = strings.TrimSuffix(csv3, "\n")
)

func period14() url.Values { return url.Values{"period": {"14"}} }

func TestDecodeFormatsAgree(t *testing.T) {
	tests := []struct {
		name, ct, body string
		query          url.Values
	}{
		{"rows", ctJSON, rows3, nil},
		{"rows pretty, reordered, escaped key, exponents", "application/json; charset=UTF-8", rows3Pretty, nil},
		{"columns", ctJSON, cols3, nil},
		{"columns reordered", "Application/JSON", cols3Reordered, url.Values{}},
		{"csv", ctCSV, csv3, period14()},
		{"csv CRLF, BOM, spaces, blank tail", "text/csv; charset=utf-8; header=present", csv3CRLF, period14()},
		{"csv without final newline", ctCSV, csv3NoNewline, period14()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(tc.ct, []byte(tc.body), tc.query, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			assertSetBits(t, req.Candles, want3)
			if !reflect.DeepEqual(req.Params, map[string]float64{"period": 14}) {
				t.Errorf("Params = %v, want period 14", req.Params)
			}
			if req.Items != nil {
				t.Errorf("Items = %v, want nil", req.Items)
			}
			if got, want := req.Candles.Checksum(), want3.Checksum(); got != want {
				t.Errorf("Checksum = %s, want %s", got, want)
			}
		})
	}
}

// assertSetBits compares two Sets bit for bit (so -0 and 0 differ).
func assertSetBits(t *testing.T, got, want Set) {
	t.Helper()
	if !reflect.DeepEqual(got.Time, want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	for k, pair := range [][2][]float64{{got.Open, want.Open}, {got.High, want.High}, {got.Low, want.Low}, {got.Close, want.Close}, {got.Volume, want.Volume}} {
		g, w := pair[0], pair[1]
		if len(g) != len(w) {
			t.Errorf("%s has %d values, want %d", colNames[k+1], len(g), len(w))
			continue
		}
		for i := range g {
			if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
				t.Errorf("%s[%d] = %v (%#x), want %v (%#x)", colNames[k+1], i, g[i], math.Float64bits(g[i]), w[i], math.Float64bits(w[i]))
			}
		}
	}
}

func TestDecodeParams(t *testing.T) {
	csvBody := []byte(csv3)
	tests := []struct {
		name   string
		ct     string
		body   string
		query  url.Values
		limits Limits
		want   map[string]float64
	}{
		{"json several", ctJSON, `{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"params":{"fast_period":12,"std_dev":2.5,"x":-1e-3}}`,
			nil, Limits{}, map[string]float64{"fast_period": 12, "std_dev": 2.5, "x": -0.001}},
		{"json empty params", ctJSON, `{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"params":{}}`, nil, Limits{}, nil},
		{"json no params", ctJSON, `{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}]}`, nil, Limits{}, nil},
		{"json with an ignored query key", ctJSON, `{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}]}`,
			url.Values{"pretty": {"1"}}, Limits{IgnoreQuery: []string{"pretty"}}, nil},
		{"csv query", ctCSV, string(csvBody), url.Values{"k_period": {"5"}, "acceleration": {"0.02"}, "pretty": {"x"}},
			Limits{IgnoreQuery: []string{"pretty"}}, map[string]float64{"k_period": 5, "acceleration": 0.02}},
		{"csv no query", ctCSV, string(csvBody), nil, Limits{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(tc.ct, []byte(tc.body), tc.query, tc.limits)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(req.Params, tc.want) {
				t.Errorf("Params = %#v, want %#v", req.Params, tc.want)
			}
		})
	}
}

func TestDecodeBatch(t *testing.T) {
	body := `{"time":[1,2],"open":[1,1],"high":[1,1],"low":[1,1],"close":[1,1],"volume":[0,0],
	"indicators":[
		{"name":"rsi","params":{"period":14},"id":"first"},
		{"name":"macd"},
		{"name":"sma","params":{"period":"20"}},
		{"name":"ema","params":[1,2,{"a":[[[]]]}]},
		7,
		{"params":{"period":3}},
		{"name":"bbands","params":{"period":20,"std_dev":2},"colour":"red"},
		{"name":"x","params":{"period":1e999}},
		{"name":"obv","params":{"a":1,"a":2}},
		{"name":"cci","name":"atr"},
		{"name":12},
		{"name":"adx","id":"\u00e9\ud83d\ude00"},
		{"name":"sar","params":{}}
	],
	"params":{"shared":1}}`
	req, err := Decode(ctJSON, []byte(body), nil, Limits{})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if req.Candles.Len() != 2 || !reflect.DeepEqual(req.Params, map[string]float64{"shared": 1}) {
		t.Fatalf("candles %d, params %v", req.Candles.Len(), req.Params)
	}
	type want struct {
		name, id string
		params   map[string]float64
		errField string // "" for no error
	}
	wants := []want{
		{"rsi", "first", map[string]float64{"period": 14}, ""},
		{"macd", "", nil, ""},
		{"sma", "", nil, "indicators[2].params.period"},
		{"ema", "", nil, "indicators[3].params"},
		{"", "", nil, "indicators[4]"},
		{"", "", map[string]float64{"period": 3}, "indicators[5].name"},
		{"bbands", "", map[string]float64{"period": 20, "std_dev": 2}, "indicators[6].colour"},
		{"x", "", nil, "indicators[7].params.period"},
		{"obv", "", nil, "indicators[8].params.a"},
		{"cci", "", nil, "indicators[9].name"},
		{"", "", nil, "indicators[10].name"},
		{"adx", "é😀", nil, ""},
		{"sar", "", nil, ""},
	}
	if len(req.Items) != len(wants) {
		t.Fatalf("got %d items, want %d", len(req.Items), len(wants))
	}
	for i, w := range wants {
		it := req.Items[i]
		t.Run(fmt.Sprintf("item %d", i), func(t *testing.T) {
			if it.Name != w.name || it.ID != w.id || !reflect.DeepEqual(it.Params, w.params) {
				t.Errorf("item = %+v, want name %q id %q params %v", it, w.name, w.id, w.params)
			}
			if w.errField == "" {
				if it.Err != nil {
					t.Errorf("Err = %v, want nil", it.Err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(it.Err, &fe) {
				t.Fatalf("Err = %v, want a *FieldError", it.Err)
			}
			if fe.Field != w.errField || fe.Index != i {
				t.Errorf("Err field %q index %d, want %q index %d (%v)", fe.Field, fe.Index, w.errField, i, fe)
			}
		})
	}
}

func TestDecodeNotBatch(t *testing.T) {
	req, err := Decode(ctJSON, []byte(rows3), nil, Limits{})
	if err != nil || req.Items != nil {
		t.Fatalf("Items = %v, err %v; want nil, nil", req.Items, err)
	}
}

func TestDecodeMediaType(t *testing.T) {
	tests := []struct {
		ct  string
		csv bool
		ok  bool
	}{
		{"application/json", false, true},
		{"application/json; charset=utf-8", false, true},
		{"application/json;charset=\"UTF-8\"", false, true},
		{"APPLICATION/JSON", false, true},
		{"text/csv", true, true},
		{"text/csv; charset=utf-8; header=present", true, true},
		{"", false, false},
		{"text/plain", false, false},
		{"application/x-www-form-urlencoded", false, false},
		{"application/json; charset=latin1", false, false},
		{"application/problem+json", false, false},
		{"multipart/form-data; boundary=x", false, false},
		{"application/json;;", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.ct, func(t *testing.T) {
			csv, err := mediaType(tc.ct)
			if tc.ok {
				if err != nil || csv != tc.csv {
					t.Errorf("mediaType = %v, %v; want %v, nil", csv, err, tc.csv)
				}
				return
			}
			if !errors.Is(err, ErrUnsupportedMediaType) {
				t.Errorf("err = %v, want ErrUnsupportedMediaType", err)
			}
			var fe *FieldError
			if errors.As(err, &fe) {
				t.Errorf("a media type error must not be a FieldError")
			}
			if _, err := Decode(tc.ct, []byte(rows3), nil, Limits{}); !errors.Is(err, ErrUnsupportedMediaType) {
				t.Errorf("Decode err = %v, want ErrUnsupportedMediaType", err)
			}
		})
	}
}

// row renders one JSON row; fields maps a key to its raw JSON text.
func row(t, o, h, l, c, v string) string {
	return `{"t":` + t + `,"o":` + o + `,"h":` + h + `,"l":` + l + `,"c":` + c + `,"v":` + v + `}`
}

func rowsBody(rows ...string) string {
	return `{"candles":[` + strings.Join(rows, ",") + `]}`
}

var good = row("1", "1", "2", "0.5", "1.5", "10")

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepObj := `{"candles":[` + good + `],"indicators":[{"name":"a","params":{"p":` + strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70) + `}}]}`
	tests := []struct {
		name   string
		ct     string
		body   string
		query  url.Values
		limits Limits
		field  string
		index  int
		line   int
	}{
		// The body as a whole.
		{"empty body", ctJSON, "", nil, Limits{}, "body", -1, 0},
		{"whitespace body", ctJSON, " \n", nil, Limits{}, "body", -1, 0},
		{"array body", ctJSON, `[1,2]`, nil, Limits{}, "body", -1, 0},
		{"deep array body", ctJSON, deep, nil, Limits{}, "body", -1, 0},
		{"garbage", ctJSON, `{"candles":[` + good + `]}}`, nil, Limits{}, "body", -1, 0},
		{"trailing data", ctJSON, rowsBody(good) + ` {}`, nil, Limits{}, "body", -1, 0},
		{"unterminated", ctJSON, `{"candles":[` + good, nil, Limits{}, "candles", -1, 0},
		{"unknown top-level field", ctJSON, `{"candles":[` + good + `],"period":14}`, nil, Limits{}, "period", -1, 0},
		{"odd unknown field", ctJSON, `{"candles":[` + good + `],"a b":1}`, nil, Limits{}, `["a b"]`, -1, 0},
		{"duplicate top-level field", ctJSON, `{"candles":[` + good + `],"candles":[` + good + `]}`, nil, Limits{}, "candles", -1, 0},
		{"duplicate params", ctJSON, `{"candles":[` + good + `],"params":{},"params":{}}`, nil, Limits{}, "params", -1, 0},
		{"rows and columns", ctJSON, `{"candles":[` + good + `],"time":[1]}`, nil, Limits{}, "time", -1, 0},
		{"columns and rows", ctJSON, `{"time":[1],"candles":[` + good + `]}`, nil, Limits{}, "candles", -1, 0},
		{"no candles", ctJSON, `{"params":{"period":3}}`, nil, Limits{}, "candles", -1, 0},
		{"query with json", ctJSON, rowsBody(good), url.Values{"period": {"3"}}, Limits{}, "query.period", -1, 0},

		// Counts.
		{"zero rows", ctJSON, `{"candles":[]}`, nil, Limits{}, "candles", -1, 0},
		{"zero columns", ctJSON, `{"time":[],"open":[],"high":[],"low":[],"close":[],"volume":[]}`, nil, Limits{}, "candles", -1, 0},
		{"too many rows", ctJSON, rowsBody(good, row("2", "1", "1", "1", "1", "1"), row("3", "1", "1", "1", "1", "1")), nil, Limits{MaxCandles: 2}, "candles", -1, 0},
		{"too many columns", ctJSON, `{"time":[1,2,3]}`, nil, Limits{MaxCandles: 2}, "candles", -1, 0},
		{"too many csv", ctCSV, csv3, nil, Limits{MaxCandles: 2}, "candles", -1, 0},

		// Types and syntax inside candles.
		{"candles not an array", ctJSON, `{"candles":{"t":1}}`, nil, Limits{}, "candles", -1, 0},
		{"row not an object", ctJSON, rowsBody(good, `[1,2,3,4,5,6]`), nil, Limits{}, "candles[1]", 1, 0},
		{"deep candles", ctJSON, `{"candles":` + deep + `}`, nil, Limits{}, "candles[0]", 0, 0},
		{"string number", ctJSON, rowsBody(good, row("2", `"1"`, "1", "1", "1", "1")), nil, Limits{}, "candles[1].o", 1, 0},
		{"null number", ctJSON, rowsBody(good, row("2", "1", "null", "1", "1", "1")), nil, Limits{}, "candles[1].h", 1, 0},
		{"bool number", ctJSON, rowsBody(good, row("2", "1", "1", "true", "1", "1")), nil, Limits{}, "candles[1].l", 1, 0},
		{"bad number", ctJSON, rowsBody(good, row("2", "1", "1", "1", "01", "1")), nil, Limits{}, "candles[1].c", 1, 0},
		{"bad number dot", ctJSON, rowsBody(good, row("2", "1.", "1", "1", "1", "1")), nil, Limits{}, "candles[1].o", 1, 0},
		{"bad number plus", ctJSON, rowsBody(good, row("2", "+1", "1", "1", "1", "1")), nil, Limits{}, "candles[1].o", 1, 0},
		{"NaN literal", ctJSON, rowsBody(good, row("2", "NaN", "1", "1", "1", "1")), nil, Limits{}, "candles[1].o", 1, 0},
		{"Infinity literal", ctJSON, rowsBody(good, row("2", "1", "Infinity", "1", "1", "1")), nil, Limits{}, "candles[1].h", 1, 0},
		{"overflow", ctJSON, rowsBody(good, row("2", "1", "1e999", "1", "1", "1")), nil, Limits{}, "candles[1].h", 1, 0},
		{"negative overflow", ctJSON, rowsBody(good, row("2", "1", "1", "-1e309", "1", "1")), nil, Limits{}, "candles[1].l", 1, 0},
		{"fractional time", ctJSON, rowsBody(good, row("2.5", "1", "1", "1", "1", "1")), nil, Limits{}, "candles[1].t", 1, 0},
		{"huge time", ctJSON, rowsBody(good, row("99999999999999999999", "1", "1", "1", "1", "1")), nil, Limits{}, "candles[1].t", 1, 0},
		{"string time", ctJSON, rowsBody(good, row(`"2023-11-14T22:13:20Z"`, "1", "1", "1", "1", "1")), nil, Limits{}, "candles[1].t", 1, 0},
		{"missing volume", ctJSON, rowsBody(good, `{"t":2,"o":1,"h":1,"l":1,"c":1}`), nil, Limits{}, "candles[1].v", 1, 0},
		{"missing time", ctJSON, rowsBody(`{"o":1,"h":1,"l":1,"c":1,"v":1}`), nil, Limits{}, "candles[0].t", 0, 0},
		{"empty row", ctJSON, rowsBody(good, `{}`), nil, Limits{}, "candles[1].t", 1, 0},
		{"unknown row field", ctJSON, rowsBody(good, `{"t":2,"o":1,"h":1,"l":1,"c":1,"v":1,"x":1}`), nil, Limits{}, "candles[1].x", 1, 0},
		{"long row field", ctJSON, rowsBody(good, `{"time":2}`), nil, Limits{}, "candles[1].time", 1, 0},
		{"duplicate row field", ctJSON, rowsBody(good, `{"t":2,"o":1,"h":1,"l":1,"c":1,"v":1,"h":3}`), nil, Limits{}, "candles[1].h", 1, 0},
		{"missing colon", ctJSON, rowsBody(good, `{"t" 2}`), nil, Limits{}, "candles[1].t", 1, 0},
		{"raw control char", ctJSON, rowsBody(good, "{\"\x01\":2}"), nil, Limits{}, "candles[1]", 1, 0},

		// Columns.
		{"column not an array", ctJSON, `{"time":[1],"open":1}`, nil, Limits{}, "open", -1, 0},
		{"missing column", ctJSON, `{"time":[1],"open":[1],"high":[1],"low":[1],"close":[1]}`, nil, Limits{}, "volume", -1, 0},
		{"short column", ctJSON, `{"time":[1,2],"open":[1,1],"high":[1],"low":[1,1],"close":[1,1],"volume":[1,1]}`, nil, Limits{}, "high", -1, 0},
		{"long column", ctJSON, `{"time":[1,2],"open":[1,1],"high":[1,1],"low":[1,1],"close":[1,1],"volume":[1,1,1]}`, nil, Limits{}, "volume", -1, 0},
		{"column string", ctJSON, `{"time":[1,2],"open":[1,"1"]}`, nil, Limits{}, "open[1]", 1, 0},
		{"column fractional time", ctJSON, `{"time":[1,2.25]}`, nil, Limits{}, "time[1]", 1, 0},
		{"column overflow", ctJSON, `{"time":[1],"close":[1e400]}`, nil, Limits{}, "close[0]", 0, 0},

		// Validation rules, per layout.
		{"time equal", ctJSON, rowsBody(good, row("1", "1", "2", "0.5", "1.5", "10")), nil, Limits{}, "candles[1].t", 1, 0},
		{"time decreasing", ctJSON, `{"time":[5,6,4],"open":[1,1,1],"high":[1,1,1],"low":[1,1,1],"close":[1,1,1],"volume":[1,1,1]}`, nil, Limits{}, "time[2]", 2, 0},
		{"high below low", ctJSON, rowsBody(good, row("2", "1", "0.5", "1", "1", "1")), nil, Limits{}, "candles[1].h", 1, 0},
		{"open below low", ctJSON, rowsBody(good, row("2", "0.4", "2", "0.5", "1", "1")), nil, Limits{}, "candles[1].o", 1, 0},
		{"open above high", ctJSON, rowsBody(good, row("2", "2.1", "2", "0.5", "1", "1")), nil, Limits{}, "candles[1].o", 1, 0},
		{"close below low", ctJSON, rowsBody(good, row("2", "1", "2", "0.5", "0.49", "1")), nil, Limits{}, "candles[1].c", 1, 0},
		{"close above high", ctJSON, rowsBody(good, row("2", "1", "2", "0.5", "3", "1")), nil, Limits{}, "candles[1].c", 1, 0},
		{"negative volume", ctJSON, rowsBody(good, row("2", "1", "2", "0.5", "1", "-0.001")), nil, Limits{}, "candles[1].v", 1, 0},
		{"column high below low", ctJSON, `{"time":[1],"open":[1],"high":[1],"low":[2],"close":[1],"volume":[1]}`, nil, Limits{}, "high[0]", 0, 0},
		{"csv high below low", ctCSV, "time,open,high,low,close,volume\n1,1,2,0.5,1.5,1\n2,1,1,2,1,1\n", nil, Limits{}, "high[1]", 1, 3},
		{"csv negative volume", ctCSV, "time,open,high,low,close,volume\r\n1,1,2,0.5,1.5,-1\r\n", nil, Limits{}, "volume[0]", 0, 2},
		{"csv time not increasing", ctCSV, "time,open,high,low,close,volume\n2,1,1,1,1,1\n1,1,1,1,1,1\n", nil, Limits{}, "time[1]", 1, 3},

		// Parameters.
		{"params not object", ctJSON, `{"candles":[` + good + `],"params":[14]}`, nil, Limits{}, "params", -1, 0},
		{"param string", ctJSON, `{"candles":[` + good + `],"params":{"period":"14"}}`, nil, Limits{}, "params.period", -1, 0},
		{"param null", ctJSON, `{"candles":[` + good + `],"params":{"period":null}}`, nil, Limits{}, "params.period", -1, 0},
		{"param overflow", ctJSON, `{"candles":[` + good + `],"params":{"period":1e999}}`, nil, Limits{}, "params.period", -1, 0},
		{"param duplicate", ctJSON, `{"candles":[` + good + `],"params":{"period":1,"period":2}}`, nil, Limits{}, "params.period", -1, 0},
		{"param odd name", ctJSON, `{"candles":[` + good + `],"params":{"a.b":"x"}}`, nil, Limits{}, `params["a.b"]`, -1, 0},
		{"csv param not a number", ctCSV, csv3, url.Values{"period": {"fourteen"}}, Limits{}, "params.period", -1, 0},
		{"csv param inf", ctCSV, csv3, url.Values{"period": {"Inf"}}, Limits{}, "params.period", -1, 0},
		{"csv param twice", ctCSV, csv3, url.Values{"period": {"1", "2"}}, Limits{}, "params.period", -1, 0},
		{"csv param trailing junk", ctCSV, csv3, url.Values{"period": {"14x"}}, Limits{}, "params.period", -1, 0},
		{"csv param empty", ctCSV, csv3, url.Values{"period": {""}}, Limits{}, "params.period", -1, 0},

		// Batch items: errors of the request as a whole.
		{"indicators not array", ctJSON, `{"candles":[` + good + `],"indicators":{}}`, nil, Limits{}, "indicators", -1, 0},
		{"indicators empty", ctJSON, `{"candles":[` + good + `],"indicators":[]}`, nil, Limits{}, "indicators", -1, 0},
		{"too many indicators", ctJSON, `{"candles":[` + good + `],"indicators":[{"name":"a"},{"name":"b"},{"name":"c"}]}`, nil, Limits{MaxItems: 2}, "indicators", -1, 0},
		{"item syntax", ctJSON, `{"candles":[` + good + `],"indicators":[{"name":"a"},{"name" "b"}]}`, nil, Limits{}, "indicators[1]", 1, 0},
		{"item too deep", ctJSON, deepObj, nil, Limits{}, "indicators[0].params.p", 0, 0},
		{"item deep array", ctJSON, `{"candles":[` + good + `],"indicators":[` + deep + `]}`, nil, Limits{}, "indicators[0]", 0, 0},
		{"item bad number", ctJSON, `{"candles":[` + good + `],"indicators":[{"name":"a","params":{"p":1.}}]}`, nil, Limits{}, "indicators[0].params.p", 0, 0},

		// CSV structure.
		{"csv empty", ctCSV, "", nil, Limits{}, "csv", -1, 0},
		{"csv header only", ctCSV, "time,open,high,low,close,volume\n", nil, Limits{}, "candles", -1, 0},
		{"csv wrong header", ctCSV, "t,o,h,l,c,v\n1,1,1,1,1,1\n", nil, Limits{}, "header", -1, 1},
		{"csv header order", ctCSV, "time,high,open,low,close,volume\n1,1,1,1,1,1\n", nil, Limits{}, "header", -1, 1},
		{"csv header extra column", ctCSV, "time,open,high,low,close,volume,x\n1,1,1,1,1,1\n", nil, Limits{}, "header", -1, 1},
		{"csv header missing volume", ctCSV, "time,open,high,low,close\n1,1,1,1,1\n", nil, Limits{}, "header", -1, 1},
		{"csv no header", ctCSV, "1,1,1,1,1,1\n", nil, Limits{}, "header", -1, 1},
		{"csv too few fields", ctCSV, "time,open,high,low,close,volume\n1,1,1,1,1,1\n2,1,1,1,1\n", nil, Limits{}, "csv", 1, 3},
		{"csv too many fields", ctCSV, "time,open,high,low,close,volume\n1,1,1,1,1,1,1\n", nil, Limits{}, "csv", 0, 2},
		{"csv not a number", ctCSV, "time,open,high,low,close,volume\n1,1,1,1,abc,1\n", nil, Limits{}, "close[0]", 0, 2},
		{"csv empty cell", ctCSV, "time,open,high,low,close,volume\n1,1,1,1,1,\n", nil, Limits{}, "volume[0]", 0, 2},
		{"csv quoted", ctCSV, "time,open,high,low,close,volume\n1,\"1\",1,1,1,1\n", nil, Limits{}, "open[0]", 0, 2},
		{"csv NaN", ctCSV, "time,open,high,low,close,volume\n1,NaN,1,1,1,1\n", nil, Limits{}, "open[0]", 0, 2},
		{"csv overflow", ctCSV, "time,open,high,low,close,volume\n1,1,1e999,1,1,1\n", nil, Limits{}, "high[0]", 0, 2},
		{"csv fractional time", ctCSV, "time,open,high,low,close,volume\n1,1,1,1,1,1\n2.5,1,1,1,1,1\n", nil, Limits{}, "time[1]", 1, 3},
		{"csv blank line inside", ctCSV, "time,open,high,low,close,volume\n1,1,1,1,1,1\n\n2,1,1,1,1,1\n", nil, Limits{}, "csv", -1, 3},
		{"csv lone CR", ctCSV, "time,open,high,low,close,volume\r1,1,1,1,1,1\r", nil, Limits{}, "header", -1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(tc.ct, []byte(tc.body), tc.query, tc.limits)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (candles %d), want a *FieldError", err, req.Candles.Len())
			}
			if fe.Field != tc.field || fe.Index != tc.index || fe.Line != tc.line {
				t.Errorf("got Field %q Index %d Line %d, want %q %d %d (%v)", fe.Field, fe.Index, fe.Line, tc.field, tc.index, tc.line, fe)
			}
			if fe.Reason == "" || strings.Contains(fe.Error(), "\x01") {
				t.Errorf("bad message %q", fe.Error())
			}
			if req.Candles.Len() != 0 || req.Items != nil || req.Params != nil {
				t.Errorf("a failed Decode returned data: %+v", req)
			}
		})
	}
}

func TestSetValidate(t *testing.T) {
	ok := Set{Time: []int64{1, 2}, Open: []float64{1, 1}, High: []float64{2, 2}, Low: []float64{0, 0}, Close: []float64{1, 1}, Volume: []float64{0, 0}}
	clone := func(f func(*Set)) Set {
		s := Set{Time: append([]int64(nil), ok.Time...)}
		s.Open, s.High, s.Low = append([]float64(nil), ok.Open...), append([]float64(nil), ok.High...), append([]float64(nil), ok.Low...)
		s.Close, s.Volume = append([]float64(nil), ok.Close...), append([]float64(nil), ok.Volume...)
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		set   Set
		field string
		index int
	}{
		{"empty", Set{}, "candles", -1},
		{"short volume", clone(func(s *Set) { s.Volume = s.Volume[:1] }), "volume", -1},
		{"NaN open", clone(func(s *Set) { s.Open[1] = math.NaN() }), "open[1]", 1},
		{"Inf high", clone(func(s *Set) { s.High[0] = math.Inf(1) }), "high[0]", 0},
		{"-Inf low", clone(func(s *Set) { s.Low[1] = math.Inf(-1) }), "low[1]", 1},
		{"NaN close", clone(func(s *Set) { s.Close[0] = math.NaN() }), "close[0]", 0},
		{"NaN volume", clone(func(s *Set) { s.Volume[1] = math.NaN() }), "volume[1]", 1},
		{"time", clone(func(s *Set) { s.Time[1] = 1 }), "time[1]", 1},
		{"high<low", clone(func(s *Set) { s.Low[0] = 3 }), "high[0]", 0},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid set: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fe *FieldError
			if err := tc.set.Validate(); !errors.As(err, &fe) || fe.Field != tc.field || fe.Index != tc.index {
				t.Errorf("Validate = %v, want Field %q Index %d", err, tc.field, tc.index)
			}
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	if got := (&FieldError{Field: "high[3]", Index: 3, Reason: "r"}).Error(); got != "high[3]: r" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&FieldError{Field: "close[5]", Index: 5, Reason: "r", Line: 7}).Error(); got != "csv line 7: close[5]: r" {
		t.Errorf("Error() = %q", got)
	}
}

// TestDecodeKeepsNoReference checks that the Set does not alias the body.
func TestDecodeKeepsNoReference(t *testing.T) {
	body := []byte(`{"candles":[{"t":1,"o":1,"h":1,"l":1,"c":1,"v":1}],"indicators":[{"name":"rsi","id":"x"}]}`)
	req, err := Decode(ctJSON, body, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'z'
	}
	if req.Items[0].Name != "rsi" || req.Items[0].ID != "x" {
		t.Errorf("item changed with the body: %+v", req.Items[0])
	}
}
