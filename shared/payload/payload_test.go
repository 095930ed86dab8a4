package payload_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/payload"
)

// BodySize is what a body adds to a proxy event as encoding/json writes
// it: the event with the body minus the event with an empty body.
func TestBodySizeIsWhatTheEventCarries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	every := []string{"a", "1", ".", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "<", ">", "&", "é", "€",
		"\u2028", "\u2029", "𝄞", " ", "\x7f"}
	var random bytes.Buffer
	for range 5000 {
		random.WriteString(every[rng.IntN(len(every))])
	}
	tests := []struct {
		name string
		body []byte
		want int // when known by hand
	}{
		{"empty", nil, 0},
		{"plain", []byte("time,open\n1,2\n"), 16},
		{"quotes count twice", []byte(`""""`), 8},
		{"newlines count twice", []byte("\n\n\n"), 6},
		{"control characters count six times", []byte("\x01\x02"), 12},
		{"every kind of character", random.Bytes(), -1},
		{"not UTF-8: base64", []byte{'{', 0xff, 0xfe, '}'}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/api/v1/indicators/sma"}
			empty := payload.JSONSize(ev)
			if utf8OK := !bytes.ContainsAny(tc.body, "\xff"); utf8OK {
				ev.Body = string(tc.body)
			} else {
				ev.Body, ev.IsBase64Encoded = "e//+fQ==", true
				empty = payload.JSONSize(events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/api/v1/indicators/sma", IsBase64Encoded: true})
			}
			got := payload.BodySize(tc.body)
			if carried := payload.JSONSize(ev) - empty; got != carried {
				t.Fatalf("BodySize = %d, the event carries %d bytes of it", got, carried)
			}
			if tc.want >= 0 && got != tc.want {
				t.Fatalf("BodySize = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestJSONSize(t *testing.T) {
	v := map[string]string{"q": `<"&">`}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	if got := payload.JSONSize(v); got != want.Len() {
		t.Fatalf("JSONSize = %d, want %d", got, want.Len())
	}
	if got := payload.JSONSize(func() {}); got <= payload.MaxInvoke {
		t.Fatalf("an unencodable value counts %d", got)
	}
	if payload.MaxInvoke != 6291456 || payload.MaxBody != 5242880 {
		t.Fatalf("MaxInvoke %d, MaxBody %d", payload.MaxInvoke, payload.MaxBody)
	}
}
