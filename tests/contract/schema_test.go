package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/waickoff/waickoff/shared/openapi"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// TestResponsesMatchSchemas sends every request of samples (samples_test.go)
// and then, for every route of template.yaml, a request whose body is over
// the size limit and, on keyed routes, one without a key; it holds every
// answer to the document: the status is one the operation lists, the
// headers and the body match what that status declares, and an object
// has no member its schema does not name, unless the schema is a map
// (declares additionalProperties). It fails when a template route got no
// success answer or no error answer.
func TestResponsesMatchSchemas(t *testing.T) {
	v := newValidator(t)
	w := &world{vars: map[string]string{"master": api.MasterKey}}
	for i, s := range samples {
		name := fmt.Sprintf("%02d %s %s %d", i, s.method, s.path, s.want)
		v.send(t, name, w, s)
	}

	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatalf("load template: %v", err)
	}
	routes := tpl.Routes()
	if len(routes) == 0 {
		t.Fatal("the template has no routes")
	}
	oversized := strings.Repeat("x", maxBodyBytes+1)
	for _, r := range routes {
		pattern := r.Pattern()
		method, path, _ := strings.Cut(pattern, " ")
		concrete := pathParam.ReplaceAllStringFunc(path, func(p string) string {
			if v, ok := pathValues[p]; ok {
				return v
			}
			return "x"
		})
		// The account's ADMIN key where it may call the route; the master
		// key on operator routes and on those that need a session (metered
		// ones and the quote; it needs none).
		key := "admin"
		if r.Public {
			key = ""
		} else if op := v.operation(method, path); op.Extensions["x-permission"] == "MASTER" || op.Extensions["x-metered"] == true ||
			op.Extensions["x-session-required"] == true {
			key = "master"
		}
		v.send(t, "oversized "+pattern, w, sample{method: method, path: concrete, key: key,
			contentType: "application/json", body: oversized, want: http.StatusRequestEntityTooLarge})
		if !r.Public {
			v.send(t, "no key "+pattern, w, sample{method: method, path: concrete, want: http.StatusUnauthorized})
		}
	}

	for _, r := range routes {
		statuses := v.seen[r.Pattern()]
		var ok, failed bool
		for _, s := range statuses {
			ok = ok || s < 300
			failed = failed || s >= 400
		}
		switch {
		case !ok && neverSucceeds[r.Pattern()]:
		case !ok:
			t.Errorf("%s: no success answer was recorded (got %v): add a request to samples in tests/contract/samples_test.go", r.Pattern(), statuses)
		case !failed:
			t.Errorf("%s: no error answer was recorded (got %v)", r.Pattern(), statuses)
		}
	}
}

// neverSucceeds are the routes whose every answer is an error by design:
// MCP's GET and DELETE, 405 from a server with no SSE stream and no
// session.
var neverSucceeds = map[string]bool{"GET /api/v1/mcp": true, "DELETE /api/v1/mcp": true}

// ownHeaders are the response headers the API sets itself.
var ownHeaders = []string{"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	"X-Session-Id", "X-Session-Tokens-Used", "X-Session-Tokens-Remaining"}

// maxBodyBytes is the test API's MAX_BODY_BYTES (main_test.go).
const maxBodyBytes = 64 << 10

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// pathValues fill a route's path parameters for the generic requests:
// well-formed values that name nothing.
var pathValues = map[string]string{
	"{key_id}":     "key_01a21c70bc403c9e41a0",
	"{session_id}": "ses_01a21c7291009e7d21aa6b",
	"{name}":       "sma",
}

// world is what the samples learned: keys, ids, by name.
type world struct{ vars map[string]string }

var varRef = regexp.MustCompile(`\$\{([a-z_0-9]+)\}`)

// expand replaces each ${name} in s with the world's value of name.
func (w *world) expand(t *testing.T, s string) string {
	t.Helper()
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		v, ok := w.vars[name]
		if !ok {
			t.Fatalf("%s is not known yet: an earlier sample must save it", ref)
		}
		return v
	})
}

// validator holds the served document, with objects closed, and what was
// seen of each operation.
type validator struct {
	doc    *openapi3.T
	router routers.Router
	seen   map[string][]int // "METHOD /path" -> statuses answered
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	// Errors name the value and the rule, not the whole schema.
	openapi3.SchemaErrorDetailsDisabled = true
	// Text answers a route may document besides JSON and CSV: their schema
	// (a string) is checked against the body as text.
	for _, ct := range []string{"text/html", "text/markdown", "text/event-stream", "text/css", "text/javascript"} {
		if openapi3filter.RegisteredBodyDecoder(ct) == nil {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
	}
	raw, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the served document: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the served document is not valid OpenAPI: %v", err)
	}
	closeObjects(doc)
	// The examples, too, must have no member their schema does not name.
	if err := doc.Validate(loader.Context); err != nil {
		t.Errorf("with objects closed, the document does not validate: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: api.URL}}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	return &validator{doc: doc, router: router, seen: map[string][]int{}}
}

// operation is the document's operation of a template route; an empty
// one when the document lacks it (shared/openapi's tests report that).
func (v *validator) operation(method, path string) *openapi3.Operation {
	if item := v.doc.Paths.Find(path); item != nil {
		if op := item.GetOperation(method); op != nil {
			return op
		}
	}
	return &openapi3.Operation{}
}

// send sends s, checks it got the status it wants, validates the answer
// against the document and records it.
func (v *validator) send(t *testing.T, name string, w *world, s sample) {
	t.Helper()
	path := w.expand(t, s.path)
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(w.expand(t, s.body))
	}
	req, err := http.NewRequest(s.method, api.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if s.contentType != "" {
		req.Header.Set("Content-Type", s.contentType)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	if s.key != "" {
		key, ok := w.vars[s.key]
		if !ok {
			t.Fatalf("%s: key %q is not known yet", name, s.key)
		}
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: read the answer: %v", name, err)
	}
	if resp.StatusCode != s.want {
		t.Errorf("%s: status %d, want %d: %.300s", name, resp.StatusCode, s.want, raw)
	}

	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s: the document has no operation for %s %s: %v", name, s.method, path, err)
		return
	}
	pattern := route.Method + " " + route.Path
	v.seen[pattern] = append(v.seen[pattern], resp.StatusCode)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(raw)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s: the %d answer does not match %s in the document:\n%v\nbody: %.600s", name, resp.StatusCode, pattern, err, raw)
	}
	// The API's own headers are closed too: each one the answer carries
	// is declared for its status.
	declared := map[string]bool{}
	if r := route.Operation.Responses.Status(resp.StatusCode); r != nil && r.Value != nil {
		for h := range r.Value.Headers {
			declared[strings.ToLower(h)] = true
		}
	}
	for _, h := range ownHeaders {
		if resp.Header.Get(h) != "" && !declared[strings.ToLower(h)] {
			t.Errorf("%s: the %d answer of %s carries %s, which the document does not declare for it", name, resp.StatusCode, pattern, h)
		}
	}

	if len(s.save) == 0 {
		return
	}
	var got any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: the answer is not JSON, nothing to save: %v", name, err)
	}
	for as, at := range s.save {
		val, ok := lookup(got, at)
		if !ok {
			t.Fatalf("%s: the answer has no %s to save as %s: %.300s", name, at, as, raw)
		}
		w.vars[as] = val
	}
}

// lookup returns the string or number at a dotted path of a decoded JSON
// value (array elements by index: "items.0.key_id").
func lookup(v any, path string) (string, bool) {
	for _, part := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n) {
				return "", false
			}
			v = n[i]
		default:
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// closeObjects makes every object schema of the document's answers refuse
// members it does not name, unless it declares additionalProperties (a
// map, or explicitly open). allOf is merged into its parent first, so
// that an object built from parts is closed over the union of their
// members (closing each part alone would refuse the others' members).
func closeObjects(doc *openapi3.T) {
	done := map[*openapi3.Schema]bool{}
	for _, name := range sortedKeys(doc.Components.Schemas) {
		closeSchema(doc.Components.Schemas[name], done)
	}
	for _, r := range doc.Components.Responses {
		closeResponse(r, done)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				closeResponse(r, done)
			}
		}
	}
}

func closeResponse(r *openapi3.ResponseRef, done map[*openapi3.Schema]bool) {
	if r == nil || r.Value == nil {
		return
	}
	for _, mt := range r.Value.Content {
		closeSchema(mt.Schema, done)
	}
	for _, h := range r.Value.Headers {
		if h.Value != nil {
			closeSchema(h.Value.Schema, done)
		}
	}
}

func closeSchema(ref *openapi3.SchemaRef, done map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || done[ref.Value] {
		return
	}
	s := ref.Value
	done[s] = true
	for _, name := range sortedKeys(s.Properties) {
		closeSchema(s.Properties[name], done)
	}
	closeSchema(s.Items, done)
	closeSchema(s.AdditionalProperties.Schema, done)
	closeSchema(s.Not, done)
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, m := range group {
			closeSchema(m, done)
		}
	}
	if len(s.AllOf) > 0 {
		merged := openapi3.Schemas{}
		for name, p := range s.Properties {
			merged[name] = p
		}
		required := slices.Clone(s.Required)
		for _, m := range s.AllOf {
			for name, p := range m.Value.Properties {
				merged[name] = p
			}
			required = append(required, m.Value.Required...)
		}
		s.Properties, s.Required, s.AllOf = merged, required, nil
		if s.Type == nil {
			s.Type = &openapi3.Types{openapi3.TypeObject}
		}
	}
	object := s.Type.Is(openapi3.TypeObject) || (s.Type == nil && len(s.Properties) > 0)
	if object && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties.Has = openapi3.Ptr(false)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
