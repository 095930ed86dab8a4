package answer

import (
	"bytes"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/payload"
)

// MaxResponseBytes is Lambda's synchronous invocation response limit
// (6 MB). It bounds the invoke response, which for an API Gateway proxy
// integration is the JSON-encoded proxy response: status, headers and the
// body as a JSON string (quotes and control characters escaped), not the
// body alone.
const MaxResponseBytes = payload.MaxInvoke

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
	return env.Len() + payload.BodySize(body)
}
