package answer

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The fixed point holds for every size, including where
// tokens_remaining loses a digit as tokens grow (padding).
func TestRenderFixedPoint(t *testing.T) {
	padded := 0
	for _, f := range []figures{
		{},
		{session: "ses_019abde395000a1b2c3d4e", admitted: 0, limit: 100000},
		{session: "ses_019abde395000a1b2c3d4e", admitted: 99950, limit: 100000},
		{session: "ses_019abde395000a1b2c3d4e", admitted: 9, limit: 1010, extra: []byte(`,"engine_version":"1"`)},
		{session: "ses_019abde395000a1b2c3d4e", admitted: 960, limit: 1000},
	} {
		for req := int64(0); req < 400; req += 3 {
			for pad := 0; pad < 120; pad++ {
				body, _ := json.Marshal(map[string]string{"v": string(bytes.Repeat([]byte{'x'}, pad))})
				head, err := opening(body)
				if err != nil {
					t.Fatal(err)
				}
				out, tokens := render(head, req, f)
				if got := Tokens(req, int64(len(out))); got != tokens {
					t.Fatalf("req %d pad %d: stated %d tokens, costs %d", req, pad, tokens, got)
				}
				var doc struct {
					V    string `json:"v"`
					Meta struct {
						Tokens int64 `json:"tokens"`
					} `json:"meta"`
				}
				if err := json.Unmarshal(out, &doc); err != nil || doc.Meta.Tokens != tokens || len(doc.V) != pad {
					t.Fatalf("req %d pad %d: %s (%v)", req, pad, out, err)
				}
				if bytes.Contains(out, []byte(" }")) {
					padded++
				}
			}
		}
	}
	if padded == 0 {
		t.Error("no case needed padding; the test does not reach the oscillation")
	}
}

func TestOpening(t *testing.T) {
	for body, want := range map[string]string{
		`{}`:          `{"meta":`,
		` {"a":1} `:   `{"a":1,"meta":`,
		"{\"a\":1\n}": `{"a":1,"meta":`,
	} {
		got, err := opening([]byte(body))
		if err != nil || string(got) != want {
			t.Errorf("%q: %q %v", body, got, err)
		}
	}
	for _, bad := range []string{``, `[]`, `{`, `"x"`, `}{`} {
		if _, err := opening([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
