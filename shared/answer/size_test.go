package answer_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/answer"
)

// InvokeSize is the size of what aws-lambda-go really sends: the proxy
// response encoded as it encodes it.
func TestInvokeSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(alphabet []string, n int) []byte {
		var b bytes.Buffer
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.Bytes()
	}
	every := []string{"a", "1", ".", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "<", ">", "&", "é", "€",
		"\u2028", "\u2029", "𝄞", " ", "\x7f"}
	h := http.Header{"Content-Type": {"application/json"}, "X-Session-Id": {"ses_01a2362b6390fcb39a60e9"},
		"X-Request-Id": {"6f1c2a9e-0b7d-4c3a-8e5f-1b2c3d4e5f60"}, "RateLimit-Limit": {"60"}}
	tests := []struct {
		name   string
		status int
		h      http.Header
		body   []byte
	}{
		{"empty", 200, nil, nil},
		{"values", 200, h, []byte(`{"indicator":"sma","values":{"value":[null,1.5,-2.25e-7]},"meta":{"tokens":12}}`)},
		{"quotes and escapes", 413, h, []byte(`{"detail":"a \"quoted\" \\ path\nwith <html> & tabs\t"}`)},
		{"every kind of character", 200, h, random(every, 5000)},
		{"not UTF-8: base64", 200, h, []byte{'{', 0xff, 0xfe, '}'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			resp := events.APIGatewayProxyResponse{StatusCode: tc.status, MultiValueHeaders: tc.h, Body: string(tc.body)}
			if tc.name == "not UTF-8: base64" {
				resp.Body, resp.IsBase64Encoded = "e//+fQ==", true
			}
			if err := enc.Encode(resp); err != nil {
				t.Fatal(err)
			}
			if got := answer.InvokeSize(tc.status, tc.h, tc.body); got != want.Len() {
				t.Errorf("InvokeSize = %d, the encoded response is %d bytes", got, want.Len())
			}
		})
	}
}
