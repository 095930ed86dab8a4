package openapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/openapi"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

var update = flag.Bool("update", false, "rewrite openapi.json and openapi.json.gz, the served rendering, from openapi.yaml")

const goldenPath = "openapi.json"

// source is openapi.yaml, the document as written.
func source(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The document, decoded just far enough for the tests.
type document struct {
	OpenAPI    string                                `json:"openapi"`
	Info       struct{ Title, Version string }       `json:"info"`
	Security   []map[string][]string                 `json:"security"`
	Tags       []struct{ Name string }               `json:"tags"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			In     string `json:"in"`
			Name   string `json:"name"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
		Headers    map[string]header     `json:"headers"`
		Parameters map[string]parameter  `json:"parameters"`
		Responses  map[string]response   `json:"responses"`
		Schemas    map[string]schemaNode `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID string                 `json:"operationId"`
	Tags        []string               `json:"tags"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Security    *[]map[string][]string `json:"security"`
	Permission  string                 `json:"x-permission"`
	Metered     *bool                  `json:"x-metered"`
	// JSONRPC marks the MCP route, whose 400 is a JSON-RPC error.
	JSONRPC     bool        `json:"x-jsonrpc"`
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]response `json:"responses"`
}

type parameter struct {
	Ref    string     `json:"$ref"`
	Name   string     `json:"name"`
	In     string     `json:"in"`
	Schema schemaNode `json:"schema"`
}

type header struct {
	Ref      string `json:"$ref"`
	Required bool   `json:"required"`
}

type response struct {
	Ref         string               `json:"$ref"`
	Description string               `json:"description"`
	Headers     map[string]header    `json:"headers"`
	Content     map[string]mediaType `json:"content"`
}

type mediaType struct {
	Schema   schemaNode            `json:"schema"`
	Example  json.RawMessage       `json:"example"`
	Examples map[string]exampleRef `json:"examples"`
}

type exampleRef struct {
	Value json.RawMessage `json:"value"`
}

type schemaNode struct {
	Ref        string                `json:"$ref"`
	Type       string                `json:"type"`
	Enum       []any                 `json:"enum"`
	Minimum    *float64              `json:"minimum"`
	Maximum    *float64              `json:"maximum"`
	MinLength  *int                  `json:"minLength"`
	MaxLength  *int                  `json:"maxLength"`
	Default    any                   `json:"default"`
	Required   []string              `json:"required"`
	Properties map[string]schemaNode `json:"properties"`
	AllOf      []schemaNode          `json:"allOf"`
	OneOf      []schemaNode          `json:"oneOf"`
	Items      *schemaNode           `json:"items"`
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// load decodes the served JSON document and its operations by "METHOD path".
func load(t *testing.T) (*document, map[string]operation) {
	t.Helper()
	raw, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode the JSON document: %v", err)
	}
	ops := map[string]operation{}
	for path, item := range doc.Paths {
		for key, rawOp := range item {
			if !slices.Contains(methods, key) {
				continue
			}
			var op operation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("decode %s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	return &doc, ops
}

// resolve follows a components/responses reference.
func (d *document) resolve(t *testing.T, r response) response {
	t.Helper()
	if r.Ref == "" {
		return r
	}
	name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
	if !ok {
		t.Fatalf("response $ref %q is not under #/components/responses/", r.Ref)
	}
	got, ok := d.Components.Responses[name]
	if !ok {
		t.Fatalf("response $ref %q does not resolve", r.Ref)
	}
	return got
}

func (d *document) param(t *testing.T, p parameter) parameter {
	t.Helper()
	if p.Ref == "" {
		return p
	}
	name, _ := strings.CutPrefix(p.Ref, "#/components/parameters/")
	got, ok := d.Components.Parameters[name]
	if !ok {
		t.Fatalf("parameter $ref %q does not resolve", p.Ref)
	}
	return got
}

func TestDocumentDecodes(t *testing.T) {
	var fromYAML map[string]any
	if err := yaml.Unmarshal(source(t), &fromYAML); err != nil {
		t.Fatalf("openapi.yaml does not decode: %v", err)
	}
	first, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if !json.Valid(first) {
		t.Fatal("JSON() is not valid JSON")
	}
	second, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON (again): %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Error("JSON() is not deterministic")
	}
	doc, ops := load(t)
	for _, c := range []struct{ name, got, want string }{
		{"openapi", doc.OpenAPI, "3.0.3"},
		{"info.title", doc.Info.Title, "WAIckoff API"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if doc.Info.Version == "" {
		t.Error("info.version is empty")
	}
	var tags []string
	for _, tag := range doc.Tags {
		tags = append(tags, tag.Name)
	}
	if want := []string{"public", "accounts", "keys", "sessions", "quota", "usage", "indicators", "dashboard", "operator", "analysis", "mcp"}; !slices.Equal(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	if len(ops) == 0 {
		t.Error("the document has no operations")
	}
}

func TestHandler(t *testing.T) {
	doc, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	if err := openapi.Handler(doc)(rec, req); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.Equal(rec.Body.Bytes(), doc) {
		t.Error("the handler did not serve the document as JSON() renders it")
	}
}

// TestRoutesMatchTemplate checks that the document describes exactly the
// template's Api routes, and that the public ones, and only those, opt
// out of security.
func TestRoutesMatchTemplate(t *testing.T) {
	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatalf("load template: %v", err)
	}
	routes := tpl.Routes()
	if len(routes) == 0 {
		t.Fatal("the template has no Api routes")
	}
	_, ops := load(t)

	want := map[string]bool{}
	for _, r := range routes {
		want[r.Pattern()] = r.Public
	}
	for _, p := range sortedKeys(want) {
		if _, ok := ops[p]; !ok {
			t.Errorf("template route %s is missing from the document", p)
		}
	}
	for _, p := range sortedKeys(ops) {
		if _, ok := want[p]; !ok {
			t.Errorf("document operation %s is not a template route", p)
		}
	}
	for _, p := range sortedKeys(want) {
		op, ok := ops[p]
		if !ok {
			continue
		}
		public := want[p]
		optsOut := op.Security != nil && len(*op.Security) == 0
		if public != optsOut {
			t.Errorf("%s: template public = %v, but the document has security: [] = %v", p, public, optsOut)
		}
		if !public && op.Security != nil {
			t.Errorf("%s: a keyed operation must inherit the global security, not override it", p)
		}
	}
}

// TestOperations holds each route to the contract's endpoint table.
func TestOperations(t *testing.T) {
	doc, ops := load(t)
	tests := []struct {
		route      string
		tag        string
		permission caller.Permission // "" for public routes
		metered    bool
		status     string // the success status
		list       bool
		extra      []string // other statuses the contract names
	}{
		{route: "GET /api/v1/health", tag: "public", status: "200"},
		{route: "GET /api/v1/pricing", tag: "public", status: "200"},
		{route: "GET /api/v1/openapi.json", tag: "public", status: "200"},
		{route: "GET /api/v1/docs", tag: "public", status: "200"},
		{route: "GET /api/v1/docs/{file}", tag: "public", status: "200", extra: []string{"404"}},
		{route: "POST /api/v1/accounts", tag: "accounts", permission: caller.Master, status: "201"},
		{route: "POST /api/v1/keys", tag: "keys", permission: caller.Admin, status: "201"},
		{route: "GET /api/v1/keys", tag: "keys", permission: caller.Read, status: "200", list: true},
		{route: "GET /api/v1/keys/{key_id}", tag: "keys", permission: caller.Read, status: "200", extra: []string{"404"}},
		{route: "DELETE /api/v1/keys/{key_id}", tag: "keys", permission: caller.Admin, status: "204", extra: []string{"404"}},
		{route: "POST /api/v1/keys/{key_id}/rotate", tag: "keys", permission: caller.Admin, status: "201", extra: []string{"404"}},
		{route: "GET /api/v1/keys/{key_id}/usage", tag: "keys", permission: caller.Read, status: "200", extra: []string{"404"}},
		{route: "POST /api/v1/sessions", tag: "sessions", permission: caller.Write, status: "201", extra: []string{"402", "409"}},
		{route: "GET /api/v1/sessions/current", tag: "sessions", permission: caller.Read, status: "200", extra: []string{"404"}},
		{route: "GET /api/v1/sessions", tag: "sessions", permission: caller.Read, status: "200", list: true},
		{route: "GET /api/v1/sessions/{session_id}", tag: "sessions", permission: caller.Read, status: "200", extra: []string{"404"}},
		{route: "POST /api/v1/sessions/{session_id}/terminate", tag: "sessions", permission: caller.Write, status: "200", extra: []string{"404", "409"}},
		{route: "GET /api/v1/sessions/quota", tag: "quota", permission: caller.Read, status: "200"},
		{route: "POST /api/v1/sessions/quota/add", tag: "quota", permission: caller.Admin, status: "201", extra: []string{"402"}},
		{route: "GET /api/v1/usage", tag: "usage", permission: caller.Read, status: "200"},
		{route: "GET /api/v1/indicators", tag: "indicators", permission: caller.Read, status: "200"},
		{route: "POST /api/v1/indicators/{name}", tag: "indicators", permission: caller.Read, metered: true, status: "200", extra: []string{"402"}},
		{route: "POST /api/v1/indicators/batch", tag: "indicators", permission: caller.Read, metered: true, status: "200", extra: []string{"402"}},
		{route: "POST /api/v1/indicators/quote/{name}", tag: "indicators", permission: caller.Read, status: "200"},
		{route: "GET /dashboard", tag: "dashboard", status: "200"},
		{route: "GET /dashboard/{file}", tag: "dashboard", status: "200", extra: []string{"404"}},
		{route: "GET /api/v1/operator/metrics", tag: "operator", permission: caller.Master, status: "200", extra: []string{"404"}},
		{route: "POST /api/v1/analysis/wyckoff", tag: "analysis", permission: caller.Read, metered: true, status: "200", extra: []string{"402"}},
		{route: "POST /api/v1/analysis/quote/wyckoff", tag: "analysis", permission: caller.Read, status: "200"},
		{route: "POST /api/v1/mcp", tag: "mcp", permission: caller.Read, status: "200", extra: []string{"202"}},
		{route: "GET /api/v1/mcp", tag: "mcp", permission: caller.Read, status: "405"},
		{route: "DELETE /api/v1/mcp", tag: "mcp", permission: caller.Read, status: "405"},
	}
	if len(tests) != len(ops) {
		t.Errorf("the table has %d routes, the document %d operations", len(tests), len(ops))
	}
	ids := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.route, func(t *testing.T) {
			op, ok := ops[tc.route]
			if !ok {
				t.Fatalf("no operation %s", tc.route)
			}
			if op.OperationID == "" {
				t.Error("no operationId")
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s is also used by %s", op.OperationID, other)
			}
			ids[op.OperationID] = tc.route
			if !slices.Equal(op.Tags, []string{tc.tag}) {
				t.Errorf("tags = %v, want [%s]", op.Tags, tc.tag)
			}
			if op.Summary == "" || op.Description == "" {
				t.Error("summary and description are required")
			}
			if op.Metered == nil || *op.Metered != tc.metered {
				t.Errorf("x-metered = %v, want %v", op.Metered, tc.metered)
			}
			if got := caller.Permission(op.Permission); got != tc.permission {
				t.Errorf("x-permission = %q, want %q", got, tc.permission)
			}
			if tc.permission != "" && !strings.Contains(op.Description, "`"+string(tc.permission)+"`") &&
				!strings.Contains(op.Description, "Master key only") {
				t.Errorf("the description does not name the permission needed (%s)", tc.permission)
			}
			keyed := tc.permission != ""
			if metered := strings.Contains(op.Description, "metered") || strings.Contains(op.Description, "Metered"); keyed && !metered {
				t.Error("the description does not say whether the operation is metered")
			}

			// Any request, whatever its route, may carry a body over the limit.
			want := []string{tc.status, "413", "500", "503"}
			want = append(want, tc.extra...)
			if keyed {
				want = append(want, "401", "429")
				if tc.tag != "operator" { // operator routes answer 404 to every key but the master key
					want = append(want, "403")
				}
			}
			if tc.metered || op.RequestBody != nil || tc.list {
				want = append(want, "400")
			}
			if tc.metered || op.RequestBody != nil {
				want = append(want, "415")
			}
			for _, code := range want {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("response %s is not listed", code)
				}
			}

			for code, r := range op.Responses {
				r := doc.resolve(t, r)
				if _, ok := r.Headers["X-Request-Id"]; !ok {
					t.Errorf("response %s has no X-Request-Id header", code)
				}
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("response key %q is not a status", code)
					continue
				}
				if status == 400 && op.JSONRPC {
					// MCP's transport: a message it cannot accept is
					// answered with a JSON-RPC error.
					if mt, ok := r.Content["application/json"]; !ok || len(r.Content) != 1 || mt.Schema.Ref != "#/components/schemas/JsonRpcResponse" {
						t.Errorf("response %s of a JSON-RPC route: content must be a JsonRpcResponse", code)
					}
				} else if status >= 400 {
					mt, ok := r.Content["application/problem+json"]
					if !ok || len(r.Content) != 1 {
						t.Errorf("response %s: content must be application/problem+json only", code)
					} else if mt.Schema.Ref != "#/components/schemas/Problem" {
						t.Errorf("response %s: schema is %q, want the Problem schema", code, mt.Schema.Ref)
					}
				}
				// The master key, the only caller of operator routes, has no
				// rate limit and so no RateLimit headers.
				// Every answer the function gives a keyed caller counts
				// against its limit (401s and server faults aside).
				if keyed && tc.permission != caller.Master && status != 401 && status < 500 {
					for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
						if _, ok := r.Headers[h]; !ok {
							t.Errorf("response %s has no %s header", code, h)
						}
					}
				}
				if status < 300 && tc.metered {
					for _, h := range []string{"X-Session-Id", "X-Session-Tokens-Used", "X-Session-Tokens-Remaining"} {
						if _, ok := r.Headers[h]; !ok {
							t.Errorf("response %s has no %s header", code, h)
						}
					}
				}
			}
			if r, ok := op.Responses["429"]; ok {
				if _, ok := doc.resolve(t, r).Headers["Retry-After"]; !ok {
					t.Error("429 has no Retry-After header")
				}
			}
			for status, code := range map[string]problem.Code{"402": problem.InsufficientTokens, "413": problem.ResponseTooLarge} {
				if r, ok := op.Responses[status]; ok && tc.metered {
					if codes := exampleCodes(t, doc.resolve(t, r)); !slices.Contains(codes, string(code)) {
						t.Errorf("%s examples give codes %v, want %s among them", status, codes, code)
					}
				}
			}
			if r, ok := op.Responses["403"]; ok && tc.metered {
				codes := exampleCodes(t, doc.resolve(t, r))
				if !slices.Contains(codes, string(problem.SessionRequired)) {
					t.Errorf("403 examples give codes %v, want session_required among them", codes)
				}
			}

			var params []string
			for _, p := range op.Parameters {
				params = append(params, doc.param(t, p).Name)
			}
			if tc.list {
				for _, name := range []string{"limit", "next_token"} {
					if !slices.Contains(params, name) {
						t.Errorf("list operation has no %s parameter", name)
					}
				}
			}
			if keyed && tc.route[:strings.Index(tc.route, " ")] != "POST" && tc.tag != "indicators" && tc.tag != "operator" && tc.tag != "mcp" &&
				!slices.Contains(params, "account_id") {
				t.Error("no operator-only account_id query parameter")
			}
		})
	}
}

// exampleCodes returns the problem codes of a response's examples.
func exampleCodes(t *testing.T, r response) []string {
	t.Helper()
	mt := r.Content["application/problem+json"]
	var raws []json.RawMessage
	if len(mt.Example) > 0 {
		raws = append(raws, mt.Example)
	}
	for _, ex := range mt.Examples {
		raws = append(raws, ex.Value)
	}
	var codes []string
	for _, raw := range raws {
		var b problem.Body
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("problem example does not decode: %v", err)
		}
		codes = append(codes, string(b.Code))
	}
	return codes
}

// TestProblems checks the Problem schema against the contract and every
// error example against the problem package.
func TestProblems(t *testing.T) {
	doc, ops := load(t)
	contract := []problem.Code{
		problem.InvalidRequest, problem.Unauthorized, problem.Forbidden, problem.SessionRequired,
		problem.QuotaExhausted, problem.InsufficientTokens, problem.RateLimited, problem.NotFound, problem.Conflict,
		problem.ResponseTooLarge,
		problem.PayloadTooLarge, problem.UnsupportedMediaType, problem.PaymentsDisabled,
		problem.ServiceUnavailable, problem.Internal,
		// Beyond the contract's list: GET and DELETE on the MCP route;
		// a key past the account's caps.
		problem.MethodNotAllowed, problem.KeyLimitReached,
	}
	var enum []string
	for _, v := range doc.Components.Schemas["ProblemCode"].Enum {
		enum = append(enum, v.(string))
	}
	var want []string
	for _, c := range contract {
		want = append(want, string(c))
	}
	sort.Strings(enum)
	sort.Strings(want)
	if !slices.Equal(enum, want) {
		t.Errorf("ProblemCode enum = %v, want the contract's codes %v", enum, want)
	}
	p := doc.Components.Schemas["Problem"]
	for _, f := range []string{"type", "title", "status", "detail", "code"} {
		if !slices.Contains(p.Required, f) {
			t.Errorf("Problem does not require %s", f)
		}
	}
	for _, f := range []string{"field", "request_id", "active_session_id"} {
		if _, ok := p.Properties[f]; !ok {
			t.Errorf("Problem has no %s", f)
		}
	}

	check := func(t *testing.T, at string, status int, r response) {
		mt, ok := r.Content["application/problem+json"]
		if !ok {
			return
		}
		raws := map[string]json.RawMessage{"example": mt.Example}
		for name, ex := range mt.Examples {
			raws["examples/"+name] = ex.Value
		}
		if len(mt.Example) == 0 {
			delete(raws, "example")
		}
		if len(raws) == 0 {
			t.Errorf("%s: no example", at)
		}
		for name, raw := range raws {
			var b problem.Body
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Errorf("%s %s: %v", at, name, err)
				continue
			}
			code := b.Code
			if !slices.Contains(contract, code) {
				t.Errorf("%s %s: code %q is not a contract code", at, name, code)
				continue
			}
			if got := problem.Status(code); got != status || b.Status != status {
				t.Errorf("%s %s: code %s has status %d, body says %d, response is %d", at, name, code, got, b.Status, status)
			}
			if b.Type != problem.TypeBase+string(code) {
				t.Errorf("%s %s: type = %q, want %q", at, name, b.Type, problem.TypeBase+string(code))
			}
			if b.Title != problem.Title(code) {
				t.Errorf("%s %s: title = %q, want %q", at, name, b.Title, problem.Title(code))
			}
		}
	}
	for name, r := range doc.Components.Responses {
		status := 0
		for _, op := range ops {
			for code, or := range op.Responses {
				if or.Ref == "#/components/responses/"+name {
					s, _ := strconv.Atoi(code)
					if status != 0 && status != s {
						t.Errorf("response %s is used as both %d and %d", name, status, s)
					}
					status = s
				}
			}
		}
		if status == 0 {
			continue // reported by TestComponentsUsed
		}
		check(t, "components/responses/"+name, status, r)
	}
	for _, route := range sortedKeys(ops) {
		for code, r := range ops[route].Responses {
			if r.Ref != "" {
				continue
			}
			s, _ := strconv.Atoi(code)
			check(t, route+" "+code, s, r)
		}
	}
}

func TestSecurity(t *testing.T) {
	doc, _ := load(t)
	schemes := doc.Components.SecuritySchemes
	if s := schemes["ApiKeyHeader"]; s.Type != "apiKey" || s.In != "header" || s.Name != "X-API-Key" {
		t.Errorf("ApiKeyHeader = %+v, want apiKey in header X-API-Key", s)
	}
	if s := schemes["BearerAuth"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("BearerAuth = %+v, want http bearer", s)
	}
	var alternatives []string
	for _, req := range doc.Security {
		if len(req) != 1 {
			t.Errorf("security requirement %v must name one scheme (either key form works alone)", req)
		}
		for name := range req {
			alternatives = append(alternatives, name)
		}
	}
	sort.Strings(alternatives)
	if !slices.Equal(alternatives, []string{"ApiKeyHeader", "BearerAuth"}) {
		t.Errorf("global security alternatives = %v, want ApiKeyHeader or BearerAuth", alternatives)
	}
}

// TestComponents checks the components the contract relies on exist with
// their bounds, and that none is dead.
func TestComponents(t *testing.T) {
	doc, _ := load(t)
	c := doc.Components
	for _, name := range []string{
		"Problem", "Account", "AccountCreated", "Key", "KeyCreated", "KeyList", "KeyUsage",
		"Session", "SessionList", "Quota", "QuotaAddRequest", "Purchase", "Pricing", "Health",
		"UsageReport", "Meta", "CandlesRows", "CandlesColumns", "IndicatorResult", "BatchRequest",
		"BatchResult", "Catalog",
	} {
		if _, ok := c.Schemas[name]; !ok {
			t.Errorf("schema %s is missing", name)
		}
	}
	for _, name := range []string{
		"X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
		"X-Session-Id", "X-Session-Tokens-Used", "X-Session-Tokens-Remaining", "Retry-After",
	} {
		if _, ok := c.Headers[name]; !ok {
			t.Errorf("header %s is missing", name)
		}
	}
	if !c.Headers["X-Request-Id"].Required {
		t.Error("X-Request-Id must be required")
	}

	bounds := []struct {
		name     string
		node     schemaNode
		min, max float64
		def      any
	}{
		{"parameters/LimitParam", c.Parameters["LimitParam"].Schema, 1, 100, float64(20)},
		{"QuotaAddRequest.sessions", c.Schemas["QuotaAddRequest"].Properties["sessions"], 1, 100000, nil},
	}
	for _, b := range bounds {
		n := b.node
		if n.Minimum == nil || n.Maximum == nil || *n.Minimum != b.min || *n.Maximum != b.max {
			t.Errorf("%s: bounds are not [%v, %v]", b.name, b.min, b.max)
		}
		if b.def != nil && n.Default != b.def {
			t.Errorf("%s: default = %v, want %v", b.name, n.Default, b.def)
		}
	}
	idem := c.Schemas["QuotaAddRequest"].Properties["idempotency_key"]
	if idem.MinLength == nil || idem.MaxLength == nil || *idem.MinLength != 1 || *idem.MaxLength != 128 {
		t.Error("QuotaAddRequest.idempotency_key: length is not 1 to 128")
	}
	if !slices.Equal(c.Schemas["QuotaAddRequest"].Required, []string{"sessions"}) {
		t.Errorf("QuotaAddRequest requires %v, want [sessions]", c.Schemas["QuotaAddRequest"].Required)
	}
	status := c.Parameters["SessionStatusParam"]
	if status.Name != "status" || status.In != "query" || !slices.Equal(status.Schema.Enum, []any{"active", "ended"}) {
		t.Errorf("SessionStatus = %+v, want query status in (active, ended)", status)
	}
	session := c.Schemas["Session"].Required
	for _, f := range []string{"session_id", "account_id", "status", "started_at", "expires_at",
		"token_limit", "tokens_used", "tokens_remaining", "requests"} {
		if !slices.Contains(session, f) {
			t.Errorf("Session does not require %s", f)
		}
	}
	purchase := c.Schemas["Purchase"].Required
	for _, f := range []string{"purchase_id", "account_id", "sessions", "unit_price_cents",
		"total_price_cents", "discount_pct", "currency", "payment_status", "created_at"} {
		if !slices.Contains(purchase, f) {
			t.Errorf("Purchase does not require %s", f)
		}
	}
	meta := c.Schemas["Meta"].Required
	for _, f := range []string{"session_id", "tokens", "tokens_used", "tokens_remaining", "engine_version", "input_checksum"} {
		if !slices.Contains(meta, f) {
			t.Errorf("Meta does not require %s", f)
		}
	}

	// Every component is referenced somewhere: none is dead.
	raw, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	collectRefs(tree, refs)
	defined := map[string]bool{}
	for kind, names := range map[string][]string{
		"schemas":    sortedKeys(c.Schemas),
		"responses":  sortedKeys(c.Responses),
		"parameters": sortedKeys(c.Parameters),
		"headers":    sortedKeys(c.Headers),
	} {
		for _, n := range names {
			ref := "#/components/" + kind + "/" + n
			defined[ref] = true
			if !refs[ref] {
				t.Errorf("%s is never referenced", ref)
			}
		}
	}
	for _, ref := range sortedKeys(refs) {
		if !defined[ref] {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
}

func collectRefs(v any, refs map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				refs[s] = true
			}
			collectRefs(e, refs)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, refs)
		}
	}
}

// TestGolden compares openapi.json and the served document (embedded as
// openapi.json.gz) with openapi.yaml rendered as JSON; run `go test
// ./shared/openapi -update` after changing openapi.yaml.
func TestGolden(t *testing.T) {
	var doc any
	if err := yaml.Unmarshal(source(t), &doc); err != nil {
		t.Fatalf("decode openapi.yaml: %v", err)
	}
	rendered, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, rendered, "", "  "); err != nil {
		t.Fatalf("indent: %v", err)
	}
	got.WriteByte('\n')
	served, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	rec := httptest.NewRecorder()
	if err := openapi.Handler(served)(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if !*update && !bytes.Equal(rec.Body.Bytes(), rendered) {
		t.Errorf("the served document (openapi.json.gz) is not openapi.yaml rendered as compact JSON (run go test ./shared/openapi -update)")
	}
	if *update {
		if err := os.WriteFile(goldenPath, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		if _, err := zw.Write(rendered); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath+".gz", gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenPath)
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read golden file (create it with -update): %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("served document differs from %s at line %d:\n got: %s\nwant: %s\n(run go test ./shared/openapi -update if the change is intended)", goldenPath, i+1, g, w)
			}
		}
	}
}

// TestSpecValidator validates the served document with
// openapi-spec-validator, which the Makefile installs: its absence is a
// failure, not a skip.
func TestSpecValidator(t *testing.T) {
	bin, err := exec.LookPath("openapi-spec-validator")
	if err != nil {
		t.Fatalf("openapi-spec-validator is not on PATH (the Makefile installs it): %v", err)
	}
	doc, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, file).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("openapi-spec-validator exited with %d:\n%s", exit.ExitCode(), out)
	case err != nil:
		t.Fatalf("run openapi-spec-validator: %v\n%s", err, out)
	}
	t.Logf("openapi-spec-validator: %s", bytes.TrimSpace(out))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
