package mcpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// Tool is one tool the server offers.
type Tool struct {
	Name        string
	Title       string
	Description string
	// Input and Output are the JSON Schemas of the arguments and of the
	// structured result (objects).
	Input, Output json.RawMessage
	// Metered tools need an active session and are charged; the others
	// are free.
	Metered bool
	// Run answers a call from its arguments (a JSON object) and the HTTP
	// request that carried it (its context holds the caller): it returns
	// the structured result or a problem error.
	Run func(r *http.Request, args Args) (Output, error)
}

// Output is a tool's structured result.
type Output struct {
	// Data is the result, a JSON object.
	Data []byte
	// MaxTokens is the call's max_tokens (0: none): a metered result
	// that costs more is refused, uncharged, as the HTTP routes refuse it.
	MaxTokens int64
}

func (t *Tool) definition() (*mcp.Tool, error) {
	if t.Name == "" || t.Run == nil {
		return nil, fmt.Errorf("mcpapi: tool %q has no name or no Run", t.Name)
	}
	for _, s := range []json.RawMessage{t.Input, t.Output} {
		var m map[string]any
		if err := json.Unmarshal(s, &m); err != nil || m["type"] != "object" {
			return nil, fmt.Errorf("mcpapi: tool %s: a schema is not a JSON object schema", t.Name)
		}
	}
	return &mcp.Tool{Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: t.Input,
		OutputSchema: t.Output, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true,
			OpenWorldHint: new(bool)}}, nil
}

// HandlerRun runs an HTTP API handler as a tool: the arguments, an object
// of strings, become the query string of a GET to path, and the handler's
// JSON answer is the result (its error, the tool's error). The handler
// sees the caller of the MCP request, so it answers exactly as the HTTP
// endpoint does.
func HandlerRun(path string, h httpapi.HandlerFunc) func(r *http.Request, args Args) (Output, error) {
	return func(r *http.Request, args Args) (Output, error) {
		var m map[string]any
		if err := json.Unmarshal(args.Raw, &m); err != nil {
			return Output{}, problem.Invalid("arguments", "arguments must be a JSON object")
		}
		q := url.Values{}
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return Output{}, problem.Invalid(k, "%s must be a string", k)
			}
			q.Set(k, s)
		}
		req := r.Clone(r.Context())
		req.Method, req.Body, req.ContentLength = http.MethodGet, http.NoBody, 0
		req.URL = &url.URL{Path: path, RawQuery: q.Encode()}
		req.RequestURI = req.URL.RequestURI()
		rec := newRecorder()
		if err := h(rec, req); err != nil {
			return Output{}, err
		}
		if rec.status != http.StatusOK {
			return Output{}, fmt.Errorf("handler of %s answered %d", path, rec.status)
		}
		return Output{Data: bytes.TrimSpace(rec.body.Bytes())}, nil
	}
}

// Request is a tool call as the HTTP API would have received it.
type Request struct {
	// ContentType is application/json or text/csv.
	ContentType string
	Body        []byte
	Query       url.Values
}

// HTTP returns r rewritten as the HTTP request of an indicator endpoint
// at path (same context, so same caller and request id).
func (q Request) HTTP(r *http.Request, path string) *http.Request {
	req := r.Clone(r.Context())
	req.Method = http.MethodPost
	req.URL = &url.URL{Path: path, RawQuery: q.Query.Encode()}
	req.RequestURI = req.URL.RequestURI()
	req.Header = http.Header{"Content-Type": {q.ContentType}}
	req.Body, req.ContentLength = http.NoBody, int64(len(q.Body))
	return req
}

// CandleArgs turns the arguments of a computing tool into the HTTP
// request the indicator endpoints take, so that candles come in the same
// three forms with the same limits and errors:
//
//   - rows or columns: the arguments are the HTTP JSON body, less the
//     members named in pick, which are returned by name (raw JSON);
//   - "csv": the CSV text is the body; the members named in query
//     ("params", "indicators") become the query string: a params object
//     one parameter a query value, anything else its JSON text.
//
// It returns an invalid_request problem for a member of pick or csv given
// twice, a csv that is not a string, or csv sent with candles.
func CandleArgs(args Args, pick []string, query []string) (Request, map[string][]byte, error) {
	picked := map[string][]byte{}
	for _, key := range append([]string{"csv"}, pick...) {
		v, twice := args.value(key)
		if twice {
			return Request{}, nil, problem.Invalid(key, "%s is given twice", key)
		}
		if v != nil {
			picked[key] = append([]byte(nil), v...) // without blanks Raw
		}
	}
	csv := picked["csv"]
	delete(picked, "csv")
	if csv == nil {
		return Request{ContentType: "application/json", Body: args.without(pick)}, picked, nil
	}
	var text string
	if err := json.Unmarshal(csv, &text); err != nil {
		return Request{}, nil, problem.Invalid("csv", "csv must be a string: a header line time,open,high,low,close,volume then one candle a line")
	}
	q := url.Values{}
	for _, m := range args.members {
		v := args.Raw[m.start:m.end]
		switch {
		case m.key == "csv" || contains(pick, m.key):
		case m.key == "params" && contains(query, m.key) && v[0] == '{':
			if _, ok := members(v, 0, 1, func(name string, s, e int) bool {
				q.Set(name, string(v[s:e]))
				return true
			}); !ok {
				return Request{}, nil, problem.Invalid("params", "params must be an object of numbers")
			}
		case contains(query, m.key):
			q.Set(m.key, string(v))
		default:
			return Request{}, nil, problem.Invalid("csv", "send candles one way: csv, candles (rows) or time/open/high/low/close/volume (columns)")
		}
	}
	return Request{ContentType: "text/csv", Body: []byte(text), Query: q}, picked, nil
}

// without returns the arguments object less the members named in drop.
// It blanks them in place with spaces (JSON whitespace), with one comma
// next to each, rather than copy megabytes of candles: an Args
// is used once.
func (a Args) without(drop []string) []byte {
	b := a.Raw
	for _, m := range a.members {
		if !contains(drop, m.key) {
			continue
		}
		from, to := m.at, m.end
		if j := skipWS(b, to); j < len(b) && b[j] == ',' {
			to = j + 1
		} else {
			j := from - 1
			for j > 0 && isWS(b[j]) {
				j--
			}
			if b[j] == ',' {
				from = j
			}
		}
		for i := from; i < to; i++ {
			b[i] = ' '
		}
	}
	return b
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Rename maps the field of a problem from the HTTP API's name to the
// tool's (the path parameter "name" is the argument "indicator"; the CSV
// query string is the arguments).
func Rename(err error, fields map[string]string) error {
	pe := problem.As(err)
	if pe == nil {
		return err
	}
	f := strings.TrimPrefix(pe.Field, "query.")
	if to, ok := fields[f]; ok {
		f = to
	}
	if f != pe.Field {
		cp := *pe
		cp.Field = f
		return &cp
	}
	return err
}
