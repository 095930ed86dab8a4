// Package problem holds the API's error kinds and renders them as RFC 9457
// application/problem+json bodies.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Code is the machine-readable error code of the contract.
type Code string

// The contract's codes.
const (
	InvalidRequest       Code = "invalid_request"
	Unauthorized         Code = "unauthorized"
	Forbidden            Code = "forbidden"
	SessionRequired      Code = "session_required"
	QuotaExhausted       Code = "quota_exhausted"
	InsufficientTokens   Code = "insufficient_tokens"
	RateLimited          Code = "rate_limited"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	Conflict             Code = "conflict"
	KeyLimitReached      Code = "key_limit_reached"
	PayloadTooLarge      Code = "payload_too_large"
	ResponseTooLarge     Code = "response_too_large"
	UnsupportedMediaType Code = "unsupported_media_type"
	PaymentsDisabled     Code = "payments_disabled"
	ServiceUnavailable   Code = "service_unavailable"
	Internal             Code = "internal"
)

var kinds = map[Code]struct {
	status int
	title  string
}{
	InvalidRequest:       {http.StatusBadRequest, "Invalid Request"},
	Unauthorized:         {http.StatusUnauthorized, "Unauthorized"},
	Forbidden:            {http.StatusForbidden, "Forbidden"},
	SessionRequired:      {http.StatusForbidden, "Session Required"},
	QuotaExhausted:       {http.StatusPaymentRequired, "Quota Exhausted"},
	InsufficientTokens:   {http.StatusPaymentRequired, "Insufficient Tokens"},
	RateLimited:          {http.StatusTooManyRequests, "Too Many Requests"},
	NotFound:             {http.StatusNotFound, "Not Found"},
	MethodNotAllowed:     {http.StatusMethodNotAllowed, "Method Not Allowed"},
	Conflict:             {http.StatusConflict, "Conflict"},
	KeyLimitReached:      {http.StatusConflict, "Key Limit Reached"},
	PayloadTooLarge:      {http.StatusRequestEntityTooLarge, "Payload Too Large"},
	ResponseTooLarge:     {http.StatusRequestEntityTooLarge, "Response Too Large"},
	UnsupportedMediaType: {http.StatusUnsupportedMediaType, "Unsupported Media Type"},
	PaymentsDisabled:     {http.StatusPaymentRequired, "Payments Disabled"},
	ServiceUnavailable:   {http.StatusServiceUnavailable, "Service Unavailable"},
	Internal:             {http.StatusInternalServerError, "Internal Server Error"},
}

// TypeBase prefixes every problem type URI.
const TypeBase = "https://waickoff.dev/problems/"

// Error is an error the client may see. Detail is shown as is, so it must
// never hold key material, table names or internal causes; Cause is kept
// for logs only.
type Error struct {
	Code   Code
	Detail string
	// Field names the offending request field, when there is one.
	Field string
	// Extra members are added to the problem body (for example
	// active_session_id on a 409).
	Extra map[string]any
	// Header is added to the response (for example Retry-After).
	Header http.Header
	Cause  error
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Detail
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int { return Status(e.Code) }

// Status maps a code to its HTTP status; unknown codes are 500.
func Status(c Code) int {
	if k, ok := kinds[c]; ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// Title is the short human title of a code.
func Title(c Code) string {
	if k, ok := kinds[c]; ok {
		return k.title
	}
	return kinds[Internal].title
}

// New returns a client-visible error of the given code.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid_request error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: InvalidRequest, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a store failure as service_unavailable; cause is logged,
// never shown.
func Unavailable(cause error) *Error {
	return &Error{Code: ServiceUnavailable, Detail: "the service is temporarily unavailable; retry shortly",
		Header: http.Header{"Retry-After": {"1"}}, Cause: cause}
}

// As returns err's *Error, or nil when err carries none.
func As(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// CodeOf returns the code err carries, or Internal.
func CodeOf(err error) Code {
	if pe := As(err); pe != nil {
		return pe.Code
	}
	return Internal
}

// Body is the JSON problem document.
type Body struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      Code   `json:"code"`
	Field     string `json:"field,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Document builds the body of err; anything that is not an *Error becomes
// "internal error" with no detail of its cause.
func Document(err error, requestID string) map[string]any {
	pe := As(err)
	if pe == nil {
		pe = &Error{Code: Internal, Detail: "internal error"}
	}
	doc := map[string]any{
		"type":   TypeBase + string(pe.Code),
		"title":  Title(pe.Code),
		"status": Status(pe.Code),
		"detail": clip(pe.Detail, maxDetail),
		"code":   pe.Code,
	}
	if pe.Field != "" {
		doc["field"] = clip(pe.Field, maxField)
	}
	if requestID != "" {
		doc["request_id"] = requestID
	}
	for k, v := range pe.Extra {
		if _, taken := doc[k]; !taken {
			doc[k] = v
		}
	}
	return doc
}

// Details and field names may quote what a client sent (an unknown field,
// an unknown indicator); they are clipped so that a problem never echoes
// a large input back.
const (
	maxDetail = 512
	maxField  = 128
)

// clip shortens s to at most max bytes, cut at a rune boundary and marked
// with "...".
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Marshal renders err as a problem+json body.
func Marshal(err error, requestID string) []byte {
	b, mErr := json.Marshal(Document(err, requestID))
	if mErr != nil {
		return []byte(`{"type":"` + TypeBase + `internal","title":"Internal Server Error","status":500,"detail":"internal error","code":"internal"}`)
	}
	return b
}

// Write sends err to w as problem+json with its status and headers.
func Write(w http.ResponseWriter, err error, requestID string) {
	status := http.StatusInternalServerError
	if pe := As(err); pe != nil {
		status = pe.Status()
		for k, vs := range pe.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(Marshal(err, requestID))
}
