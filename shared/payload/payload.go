// Package payload measures Lambda invoke payloads as Lambda counts them:
// the JSON of the event or of the response, where a body travels as a
// JSON string (quotes, backslashes and control characters escaped) or,
// when it is not valid UTF-8, as base64.
package payload

import (
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// MaxInvoke is Lambda's synchronous invoke payload limit (6 MB, 6,291,456
// bytes). It bounds the request (for API Gateway, the whole proxy event
// JSON) and the response (the JSON-encoded proxy response) alike: Lambda
// refuses a larger event before any function runs.
const MaxInvoke = 6 << 20

// EnvelopeReserve is the part of MaxInvoke the API keeps for the event
// around the body. API Gateway caps the request line and headers at 10,240
// bytes; the event carries them at most four times (headers,
// multiValueHeaders, path and query in several places), escaped at most
// six times each, plus the request and authorizer context: under 256 KiB.
const EnvelopeReserve = 1 << 20

// MaxBody is the largest body, counted by BodySize, whose event always
// fits MaxInvoke: the most MAX_BODY_BYTES may be.
const MaxBody = MaxInvoke - EnvelopeReserve

// BodySize returns the bytes body takes inside an invoke payload, its
// quotes excluded: its base64 length when it is not valid UTF-8 (API
// Gateway and the adapter both send such a body base64-encoded), else its
// length as a JSON string ('"', '\' and \b \f \n \r \t count 2, other
// control characters and U+2028/U+2029 count 6). It never copies body.
func BodySize(body []byte) int {
	if !utf8.Valid(body) {
		return base64.StdEncoding.EncodedLen(len(body))
	}
	n := 0
	for i := 0; i < len(body); {
		c := body[i]
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
		r, size := utf8.DecodeRune(body[i:])
		if r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

// JSONSize returns the bytes of v as aws-lambda-go and the local gateway
// encode a payload (encoding/json without HTML escaping, then a newline).
// A value that cannot be encoded counts as MaxInvoke+1: Lambda could not
// carry it either.
func JSONSize(v any) int {
	var n counter
	enc := json.NewEncoder(&n)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return MaxInvoke + 1
	}
	return int(n)
}

type counter int

func (c *counter) Write(p []byte) (int, error) {
	*c += counter(len(p))
	return len(p), nil
}
