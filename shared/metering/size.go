package metering

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxResponseBytes is Lambda's synchronous invocation response limit
// (6 MB). It bounds the invoke response, which for an API Gateway proxy
// integration is the JSON-encoded proxy response: status, headers and the
// body as a JSON string (quotes and control characters escaped), not the
// body alone.
const MaxResponseBytes = 6 << 20

// InvokeSize returns the bytes of the Lambda invoke response carrying a
// proxy response of status, headers h and body, as the function sends it:
// the adapter puts the headers in multiValueHeaders and base64-encodes a
// body that is not valid UTF-8; aws-lambda-go encodes the response with
// encoding/json without HTML escaping, plus a newline. It costs one pass
// over body and never copies it.
func InvokeSize(status int, h http.Header, body []byte) int {
	b64 := !utf8.Valid(body)
	var env bytes.Buffer
	enc := json.NewEncoder(&env)
	enc.SetEscapeHTML(false)
	// The envelope alone, with an empty body (""): it cannot fail.
	_ = enc.Encode(events.APIGatewayProxyResponse{StatusCode: status, MultiValueHeaders: h, IsBase64Encoded: b64})
	if b64 {
		return env.Len() + base64.StdEncoding.EncodedLen(len(body))
	}
	return env.Len() + escapedLen(body)
}

// escapedLen is the length of s, valid UTF-8, inside a JSON string as
// encoding/json writes it without HTML escaping, quotes excluded.
func escapedLen(s []byte) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6 // \u00XX
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}
