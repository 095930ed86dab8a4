package mcpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/caller"
)

// render's invoke size, computed from its scans when the text and data
// are plain, is what metering measures of the response it wrote, and the
// response is the JSON it should be.
func TestRenderInvokeSize(t *testing.T) {
	const nonce = "n0"
	resp := []byte(`{"jsonrpc":"2.0","id":1,"result":{"_meta":{"` + metaKey + `":"n0-meta"},"content":[{"type":"text","text":"n0-text"}],"structuredContent":"n0-data"}}`)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r\"1"}}
	c := caller.Caller{AccountID: "acc", SessionID: "ses", SessionTokenLimit: 1 << 30, SessionExpiresAt: 1}
	for _, tc := range []struct{ name, data string }{
		{"plain", `{"values":{"real":[null,1.5,2]},"indicator":"rsi"}`},
		{"no quotes", `[1,2,3,4,5,6,7,8,9,10,11,12]`},
		{"quotes and backslashes", `{"text":"a \"quoted\" \\ word","b":"\\\\"}`},
		{"escaped control", `{"t":"tab\tnew\nline"}`},
		{"raw DEL", "{\"t\":\"\x7f\"}"},
		{"non-ASCII", `{"t":"é ü ☃"}`},
		{"line separator", "{\"t\":\"a\u2028b\"}"},
		{"empty", `{}`},
	} {
		for _, charged := range []bool{false, true} {
			p, err := split(resp, nonce, true)
			if err != nil {
				t.Fatal(err)
			}
			// A success's text is its data, the same bytes; the size must
			// hold for distinct ones too.
			text, data := []byte(tc.data), []byte(tc.data)
			if charged {
				data = text
			}
			res := p.render(text, data, c, charged, 100, h)
			out := res.body()
			if want := answer.InvokeSize(http.StatusOK, h, out); res.invoke != want || res.size != len(out) {
				t.Errorf("%s (charged %v): invoke size %d, metering measures %d; size %d, written %d", tc.name, charged, res.invoke, want, res.size, len(out))
			}
			var msg struct {
				Result struct {
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
					Structured json.RawMessage `json:"structuredContent"`
				} `json:"result"`
			}
			if err := json.Unmarshal(out, &msg); err != nil || msg.Result.Content[0].Text != tc.data || string(msg.Result.Structured) != tc.data {
				t.Errorf("%s: response %s: %v", tc.name, out, err)
			}
		}
	}
}

// plainASCII finds a control or non-ASCII byte wherever it lies in its
// eight-byte word, and passes the printable bounds.
func TestPlainASCII(t *testing.T) {
	for n := range 20 {
		base := strings.Repeat("a", n)
		if !plainASCII([]byte(base + " ~\x7f")) {
			t.Errorf("%d: printable bytes refused", n)
		}
		for _, bad := range []byte{0x00, 0x1f, 0x80, 0xff} {
			if plainASCII([]byte(base + string([]byte{bad}) + "bbbbbbbbb")) {
				t.Errorf("byte %#x at %d taken as plain", bad, n)
			}
		}
	}
}
