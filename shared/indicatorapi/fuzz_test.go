package indicatorapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/waickoff/waickoff/shared/indicatorapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// FuzzRequest: the indicator endpoints' request decoding (the path's
// name, the content type, the query string and the body, for one
// indicator or a batch) never panics; a refusal is invalid_request naming
// a field or unsupported_media_type, never internal; a result is one JSON
// object whose output arrays are as long as the input.
func FuzzRequest(f *testing.F) {
	rows := `{"candles":[{"t":1,"o":1,"h":2,"l":0.5,"c":1.5,"v":10},{"t":2,"o":1.5,"h":2.5,"l":1,"c":2,"v":11},{"t":3,"o":2,"h":3,"l":1.5,"c":2.5,"v":12}]`
	csv := "time,open,high,low,close,volume\n1,1,2,0.5,1.5,10\n2,1.5,2.5,1,2,11\n3,2,3,1.5,2.5,12\n"
	for _, s := range []struct {
		name, ct, query, body string
		batch                 bool
	}{
		{"sma", "application/json", "", rows + `,"params":{"period":2}}`, false},
		{"obv", "application/json; charset=utf-8", "", rows + `}`, false},
		{"rsi", "text/csv", "period=2", csv, false},
		{"macd", "text/csv", "fast_period=1&slow_period=2&signal_period=1", csv, false},
		{"", "application/json", "", rows + `,"indicators":[{"name":"sma","params":{"period":2}},{"name":"nope"}]}`, true},
		{"", "text/csv", "indicators=" + url.QueryEscape(`[{"name":"sma"},{"name":"ema"},{"name":"rsi"}]`), csv, true},
		{"", "text/csv", `indicators=[{"name":"sma","params":{"period":2}}]`, csv, true},
		{"", "text/csv", `indicators=[],"time":[1,2]`, csv, true},
		{"", "text/csv", "indicators=" + string(bytes.Repeat([]byte("sma,"), 60)), csv, true},
		{"bbands", "application/json", "period=2", rows + `,"params":{"period":2,"std_dev":1e308}}`, false},
		{"sar", "application/json", "", `{"time":[1,2],"open":[1,1],"high":[1,1],"low":[1,1],"close":[1,1],"volume":[0,0]}`, false},
		{"nope", "application/json", "", rows + `}`, false},
		{"sma", "application/xml", "", `<candles/>`, false},
		{"sma", "", "", rows + `}`, false},
		{"sma", "text/csv; header=absent", "", "1,1,1,1,1,1\n", false},
		{"sma", "application/json", "", rows + `,"params":{"period":-1}}`, false},
		{"sma", "application/json", "", rows + `,"params":{"period":2}}]`, false},
	} {
		f.Add(s.name, s.ct, s.query, []byte(s.body), s.batch)
	}
	f.Fuzz(func(t *testing.T, name, ct, rawQuery string, body []byte, batch bool) {
		r := &http.Request{Method: "POST", URL: &url.URL{Path: "/api/v1/indicators/x", RawQuery: rawQuery},
			Header: http.Header{}, Body: http.NoBody}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		var res indicatorapi.Result
		var err error
		if batch {
			res, err = indicatorapi.Batch(r, body)
		} else {
			res, err = indicatorapi.Compute(name, r, body)
		}
		if err != nil {
			pe := problem.As(err)
			switch {
			case pe == nil:
				t.Fatalf("unclassified error %v", err)
			case pe.Code == problem.InvalidRequest && pe.Field == "":
				t.Fatalf("invalid_request names no field: %v", err)
			case pe.Code != problem.InvalidRequest && pe.Code != problem.UnsupportedMediaType:
				t.Fatalf("unexpected problem %s: %v", pe.Code, err)
			}
			return
		}
		var out map[string]any
		if err := json.Unmarshal(res.Body, &out); err != nil {
			t.Fatalf("result is not a JSON object: %v: %q", err, res.Body)
		}
		if res.Meta != nil {
			if b, err := json.Marshal(res.Meta); err != nil || b[0] != '{' {
				t.Fatalf("meta %v: %v", res.Meta, err)
			}
		}
		if batch {
			return
		}
		n, ok := out["count"].(float64)
		values, vok := out["values"].(map[string]any)
		if !ok || !vok || n < 1 || len(values) == 0 {
			t.Fatalf("result %q", res.Body)
		}
		for k, v := range values {
			if arr, ok := v.([]any); !ok || len(arr) != int(n) {
				t.Fatalf("output %s has %d values for %v candles", k, len(arr), n)
			}
		}
	})
}
