package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// fuzzBody has the shapes of the API's JSON request bodies: optional
// strings and integers (keys, accounts, sessions, quota), and nested
// values.
type fuzzBody struct {
	Name           *string  `json:"name"`
	Permission     *string  `json:"permission"`
	RateLimit      *int64   `json:"rate_limit_per_minute"`
	ExpiresAt      *string  `json:"expires_at"`
	AccountID      *string  `json:"account_id"`
	Sessions       *int64   `json:"sessions"`
	IdempotencyKey *string  `json:"idempotency_key"`
	Price          *float64 `json:"price"`
	Flag           *bool    `json:"flag"`
	Nested         *struct {
		A []float64       `json:"a"`
		M map[string]any  `json:"m"`
		S map[string]bool `json:"s"`
	} `json:"nested"`
}

// FuzzDecodeJSON: DecodeJSON never panics and answers only the contract's
// problems (invalid_request naming a field, unsupported_media_type for a
// type that is not JSON, payload_too_large past the body limit); what it
// accepts is a body within the limit holding one JSON object (or null, or
// nothing when allowed) that encoding/json, refusing unknown fields,
// decodes to the same value.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []struct {
		body, ct string
		empty    bool
	}{
		{`{"name":"a","permission":"READ","rate_limit_per_minute":60}`, "application/json", false},
		{`{"sessions":10,"idempotency_key":"order-1"}`, "application/json; charset=utf-8", false},
		{`{"account_id":"acc_0123456789abcdef"}`, "application/problem+json", true},
		{``, "", true},
		{`   `, "application/json", false},
		{`null`, "application/json", true},
		{`[]`, "application/json", false},
		{`{"name":1}`, "application/json", false},
		{`{"sessions":1.5}`, "application/json", false},
		{`{"sessions":"10"}`, "application/json", false},
		{`{"sessions":99999999999999999999}`, "application/json", false},
		{`{"nested":{"a":[1,2,"x"]}}`, "application/json", false},
		{`{"nested":{"m":{"a":[[[[{}]]]]}}}`, "application/json", false},
		{`{"nope":1}`, "application/json", false},
		{`{"name":"a"} {}`, "application/json", false},
		{`{"name":"a"}]`, "application/json", false},
		{`{"name":`, "application/json", false},
		{"\xef\xbb\xbf{}", "application/json", false},
		{`{"name":"\ud800\u0000"}`, "application/json", false},
		{"{\"name\":\"\xff\xfe\"}", "application/json", false},
		{`{"NAME":"case"}`, "application/json", false},
		{`{"name":"a","name":"b"}`, "application/json", false},
		{`{}`, "text/plain", false},
		{`{}`, "application/", false},
		{`{}`, ";", false},
		{`{}`, "APPLICATION/JSON", false},
		{strings.Repeat("[", 20000), "application/json", false},
		{`{"name":"` + strings.Repeat("x", 300) + `"}`, "application/json", false},
	} {
		f.Add([]byte(s.body), s.ct, s.empty, uint16(256))
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string, allowEmpty bool, limit uint16) {
		max := int64(limit%1024) + 1
		r := &http.Request{Method: "POST", URL: &url.URL{Path: "/x"}, Header: http.Header{},
			Body: http.MaxBytesReader(nil, nopCloser{bytes.NewReader(body)}, max)}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		var got fuzzBody
		err := httpapi.DecodeJSON(r, &got, allowEmpty)
		isJSON := ct == ""
		if mt, _, perr := mime.ParseMediaType(ct); perr == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			isJSON = true
		}
		if err != nil {
			pe := problem.As(err)
			if pe == nil {
				t.Fatalf("unclassified error %v", err)
			}
			switch pe.Code {
			case problem.InvalidRequest:
				if pe.Field == "" {
					t.Fatalf("invalid_request names no field: %v", err)
				}
				if !isJSON {
					t.Fatalf("content type %q judged as JSON: %v", ct, err)
				}
			case problem.UnsupportedMediaType:
				if isJSON {
					t.Fatalf("JSON content type %q refused", ct)
				}
			case problem.PayloadTooLarge:
				if int64(len(body)) <= max {
					t.Fatalf("%d bytes refused as over %d", len(body), max)
				}
			default:
				t.Fatalf("unexpected problem %s: %v", pe.Code, err)
			}
			if strings.Contains(pe.Detail, "Go") || strings.Contains(pe.Detail, "httpapi_test") {
				t.Fatalf("detail shows internals: %q", pe.Detail)
			}
			return
		}
		if !isJSON {
			t.Fatalf("content type %q accepted", ct)
		}
		if int64(len(body)) > max {
			t.Fatalf("%d bytes accepted over the limit of %d", len(body), max)
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			if !allowEmpty || !reflect.DeepEqual(got, fuzzBody{}) {
				t.Fatalf("empty body accepted (allowEmpty %v) as %+v", allowEmpty, got)
			}
			return
		}
		if trimmed[0] != '{' && string(trimmed) != "null" {
			t.Fatalf("accepted a body that is not a JSON object: %q", body)
		}
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("accepted invalid JSON or UTF-8 %q", body)
		}
		var want fuzzBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %+v, encoding/json %+v", got, want)
		}
	})
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// FuzzParsePage: ParsePage never panics; it accepts a limit from 1 to
// MaxLimit (20 by default) and a next_token that decodes to some bytes,
// and refuses anything else with invalid_request naming limit or
// next_token.
func FuzzParsePage(f *testing.F) {
	for _, q := range []string{"", "limit=5", "limit=100", "limit=101", "limit=0", "limit=-1", "limit=1e2", "limit=%20",
		"limit=5&limit=7", "next_token=" + base64.RawURLEncoding.EncodeToString([]byte("SESSION#ses_1")),
		"next_token=%FF", "next_token=====", "next_token=a", "next_token=ab", "limit=9223372036854775808", "limit=+5",
		"next_token=" + strings.Repeat("A", 5000), ";;&&==", "limit=5;next_token=x"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/x", RawQuery: rawQuery}, Header: http.Header{}}
		p, err := httpapi.ParsePage(r)
		if err != nil {
			pe := problem.As(err)
			if pe == nil || pe.Code != problem.InvalidRequest || (pe.Field != "limit" && pe.Field != "next_token") {
				t.Fatalf("error %v", err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > httpapi.MaxLimit {
			t.Fatalf("limit %d accepted", p.Limit)
		}
		q := r.URL.Query()
		if q.Get("limit") == "" && p.Limit != httpapi.DefaultLimit {
			t.Fatalf("default limit %d", p.Limit)
		}
		if q.Get("next_token") == "" {
			if p.Token != nil {
				t.Fatalf("a token from nowhere: %q", p.Token)
			}
			return
		}
		if len(p.Token) == 0 {
			t.Fatal("an empty token accepted")
		}
		back, err := base64.RawURLEncoding.DecodeString(httpapi.EncodeToken(p.Token))
		if err != nil || !bytes.Equal(back, p.Token) {
			t.Fatalf("token %q does not survive EncodeToken", p.Token)
		}
	})
}
