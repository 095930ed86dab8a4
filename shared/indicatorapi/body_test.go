package indicatorapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestBodyOwned holds Compute and Batch to what their callers rely on: the
// body is the caller's own (a later answer does not change an earlier one,
// and the caller may append to it, as the MCP route appends its meta).
func TestBodyOwned(t *testing.T) {
	r, _ := http.NewRequest("POST", "/api/v1/indicators/sma", strings.NewReader(""))
	r.Header.Set("Content-Type", "application/json")
	candles := func(close string) string {
		return `{"time":[1,2,3],"open":[2,2,2],"high":[9,9,9],"low":[1,1,1],"close":[` + close +
			`],"volume":[1,1,1],"precision":10,`
	}
	for _, tc := range []struct {
		name string
		run  func(close string) (Result, error)
	}{
		{"compute", func(close string) (Result, error) {
			return Compute("sma", r, []byte(candles(close)+`"params":{"period":2}}`))
		}},
		{"batch", func(close string) (Result, error) {
			return Batch(r, []byte(candles(close)+`"indicators":[{"name":"sma","params":{"period":2}}]}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, err := tc.run("1,2,3")
			if err != nil {
				t.Fatal(err)
			}
			want := string(first.Body)
			second, err := tc.run("7,8,9")
			if err != nil {
				t.Fatal(err)
			}
			_ = append(second.Body, "appended by the caller"...)
			if string(first.Body) != want {
				t.Errorf("first body = %s after a second answer, want %s", first.Body, want)
			}
			if string(second.Body) == want {
				t.Errorf("second body = first body %s", want)
			}
		})
	}
}
