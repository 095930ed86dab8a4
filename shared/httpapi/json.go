package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waickoff/waickoff/shared/problem"
)

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// ReadBody reads the whole body; a body over the server's limit is a 413.
func ReadBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n < 64<<20 {
		// One allocation of the announced size (io.ReadAll would double
		// its way there, copying megabytes).
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r.Body)
	b := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit, mbe.Limit+1)
		}
		return nil, problem.Invalid("body", "could not read the request body")
	}
	return b, nil
}

// DecodeJSON decodes a JSON object body into dst, refusing unknown fields,
// trailing data and wrong types with an invalid_request naming the field.
// An empty body decodes as {} when allowEmpty is set.
func DecodeJSON(r *http.Request, dst any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem.New(problem.UnsupportedMediaType, "send application/json")
		}
	}
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(bytes.TrimSpace(trimmed)) == 0 {
		if allowEmpty {
			return nil
		}
		return problem.Invalid("body", "a JSON object is required")
	}
	// encoding/json decodes null into a struct as nothing at all, and
	// every body this API takes is an object.
	if trimmed[0] != '{' {
		return problem.Invalid("body", "the body must be a JSON object")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(body) {
		return problem.Invalid("body", "the body must be UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	// Anything but JSON whitespace after the value is trailing data
	// (dec.More alone misses a stray ']' or '}').
	if len(bytes.Trim(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return problem.Invalid("body", "unexpected data after the JSON object")
	}
	return nil
}

func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return problem.Invalid(field, "%s must be of type %s", field, jsonType(te.Type.Kind().String()))
	case errors.As(err, &se):
		return problem.Invalid("body", "malformed JSON at byte %d", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		field := name
		if field == "" { // {"": ...}: the problem still names where it is
			field = "body"
		}
		return problem.Invalid(field, "unknown field %q", name)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Invalid("body", "truncated JSON")
	default:
		return problem.Invalid("body", "malformed JSON")
	}
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "int32", "uint", "uint64", "uint32":
		// 1.5 or "10" sent for an integer field: "number" would read as
		// if 1.5 were wrong for not being a number.
		return "integer"
	case "float64", "float32":
		return "number"
	case "struct", "map":
		return "object"
	case "slice":
		return "array"
	case "bool":
		return "boolean"
	}
	return kind
}

// Page is a list request's paging.
type Page struct {
	Limit int
	// Token is the decoded next_token ("" on the first page).
	Token []byte
}

// Paging limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ParsePage reads ?limit= and ?next_token=.
func ParsePage(r *http.Request) (Page, error) {
	p := Page{Limit: DefaultLimit}
	q := r.URL.Query()
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxLimit {
			return p, problem.Invalid("limit", "limit must be an integer from 1 to %d", MaxLimit)
		}
		p.Limit = n
	}
	if raw := q.Get("next_token"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || len(b) == 0 {
			return p, problem.Invalid("next_token", "next_token is not one this API gave out")
		}
		p.Token = b
	}
	return p, nil
}

// EncodeToken renders an opaque next_token.
func EncodeToken(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TimeLayout is how every time in a response is written: RFC 3339 in
// UTC with milliseconds, the precision the store keeps.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time renders t in TimeLayout; the zero time is "".
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Millisecond).Format(TimeLayout)
}
