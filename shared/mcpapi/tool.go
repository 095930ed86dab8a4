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
	// the structured result, a JSON object, or a problem error.
	Run func(r *http.Request, args []byte) ([]byte, error)
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
func HandlerRun(path string, h httpapi.HandlerFunc) func(r *http.Request, args []byte) ([]byte, error) {
	return func(r *http.Request, args []byte) ([]byte, error) {
		var m map[string]any
		if err := json.Unmarshal(args, &m); err != nil {
			return nil, problem.Invalid("arguments", "arguments must be a JSON object")
		}
		q := url.Values{}
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, problem.Invalid(k, "%s must be a string", k)
			}
			q.Set(k, s)
		}
		req := r.Clone(r.Context())
		req.Method, req.Body, req.ContentLength = http.MethodGet, http.NoBody, 0
		req.URL = &url.URL{Path: path, RawQuery: q.Encode()}
		req.RequestURI = req.URL.RequestURI()
		rec := newRecorder()
		if err := h(rec, req); err != nil {
			return nil, err
		}
		if rec.status != http.StatusOK {
			return nil, fmt.Errorf("handler of %s answered %d", path, rec.status)
		}
		return bytes.TrimSpace(rec.body.Bytes()), nil
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
// It returns an invalid_request problem for arguments that are not an
// object, a csv that is not a string, or csv sent with candles.
func CandleArgs(args []byte, pick []string, query []string) (Request, map[string][]byte, error) {
	picked := map[string][]byte{}
	var csv []byte
	dup := ""
	_, ok := members(args, 0, 0, func(key string, s, e int) bool {
		switch {
		case contains(pick, key):
			if picked[key] != nil {
				dup = key
			}
			picked[key] = args[s:e]
		case key == "csv":
			if csv != nil {
				dup = key
			}
			csv = args[s:e]
		}
		return true
	})
	if !ok {
		return Request{}, nil, problem.Invalid("arguments", "arguments must be one JSON object")
	}
	if dup != "" {
		return Request{}, nil, problem.Invalid(dup, "%s is given twice", dup)
	}
	if csv == nil {
		return Request{ContentType: "application/json", Body: joinMembers(args, pick)}, picked, nil
	}
	var text string
	if err := json.Unmarshal(csv, &text); err != nil {
		return Request{}, nil, problem.Invalid("csv", "csv must be a string: a header line time,open,high,low,close,volume then one candle a line")
	}
	q := url.Values{}
	_, ok = members(args, 0, 0, func(key string, s, e int) bool {
		switch {
		case key == "csv" || contains(pick, key):
		case contains(query, key) && key == "params" && args[s] == '{':
			_, ok := members(args, s, 1, func(name string, ps, pe int) bool {
				q.Set(name, string(args[ps:pe]))
				return true
			})
			return ok
		case contains(query, key):
			q.Set(key, string(args[s:e]))
		default:
			ok = false
			return false
		}
		return true
	})
	if !ok {
		return Request{}, nil, problem.Invalid("csv", "send candles one way: csv, candles (rows) or time/open/high/low/close/volume (columns)")
	}
	return Request{ContentType: "text/csv", Body: []byte(text), Query: q}, picked, nil
}

// joinMembers returns the object args without the members named in drop.
func joinMembers(args []byte, drop []string) []byte {
	out := make([]byte, 0, len(args))
	out = append(out, '{')
	first := true
	members(args, 0, 0, func(key string, s, e int) bool {
		if contains(drop, key) {
			return true
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		k, _ := json.Marshal(key)
		out = append(append(append(out, k...), ':'), args[s:e]...)
		return true
	})
	return append(out, '}')
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
