// Package candle decodes and validates the candles and parameters of
// indicator requests (JSON rows, JSON columns or CSV) and encodes indicator
// responses, with hand-written scanners and no reflection.
//
// # Accepted bodies
//
//   - application/json, rows:
//     {"candles":[{"t":1700000000,"o":1,"h":2,"l":0.5,"c":1.5,"v":1000},...],"params":{"period":14}}
//   - application/json, columns:
//     {"time":[...],"open":[...],"high":[...],"low":[...],"close":[...],"volume":[...],"params":{...}}
//   - application/json, batch: either candle form plus
//     "indicators":[{"name":"rsi","params":{"period":14},"id":"a"},...]
//   - text/csv: a header line "time,open,high,low,close,volume" then one
//     candle a line; parameters come from the URL query string.
//
// Request settings (see Settings), such as "precision", are top-level
// integer fields of a JSON body and query parameters with a CSV body.
//
// A charset parameter, when given, must be utf-8 (or us-ascii). Anything
// else is ErrUnsupportedMediaType.
//
// # Rules
//
// All six fields are required in every candle: time, open, high, low,
// close and volume (send 0 for a volume you do not have). Times are Unix
// seconds written as integers (an integral value such as 1.7e9 is accepted;
// 1700000000.5 is not) and must strictly increase. Every price and volume is
// a finite JSON number (1e999 is rejected), high >= low, open and close lie
// in [low, high], volume >= 0. There is at least one candle and at most
// Limits.MaxCandles. Numbers are parsed exactly as encoding/json and
// strconv.ParseFloat parse them. Strings, null or booleans where a number
// belongs are rejected: nothing is coerced.
//
// Duplicate keys anywhere in a JSON body are an error (never last-wins), and
// so are unknown keys. Parameters are JSON numbers (or, for CSV, query values
// written as JSON numbers); which names and values an indicator accepts is
// the indicator layer's business, not this package's.
//
// # Error field names
//
// Every validation error is a *FieldError whose Field is the path of the
// offending value in the form the client sent it:
//
//	body                          the body as a whole (not an object, trailing data)
//	candles                       the candle list as a whole (missing, empty, too many)
//	candles[12].h                 a field of a row (Index 12)
//	high[12], high                an element of a column (Index 12), a whole column
//	params.period                 a parameter (JSON params object or CSV query string)
//	params["odd key"]             a parameter whose name is not a plain identifier
//	query.period                  a query parameter sent with a JSON body
//	indicators, indicators[3].name, indicators[3].params.period
//	header                        the CSV header line (Line 1)
//	csv                           a whole CSV line (wrong field count, blank line)
//	close[5]                      a CSV cell: named like a column (CSV is columnar)
//
// Index is the zero-based position of the candle (row, column element or
// CSV data line) or batch item the error is about, and -1 when the error is
// not about one element. Line is the one-based CSV line number (the header
// is line 1), and 0 for JSON bodies. A value that breaks a rule between
// fields is reported on the field that is out of place: high below low on
// high, open or close outside [low, high] on open or close, a time that does
// not increase on time. Broken JSON is a *FieldError too: Field names the
// innermost value being read (candles[12], indicators[3], body) and Reason
// gives the byte offset.
//
// CSV details: lines end in "\n" or "\r\n"; a UTF-8 byte order mark before
// the header is skipped; spaces and tabs around a field are ignored; blank
// lines may end the body but not interrupt the data; fields are not quoted.
//
// Decode and the Append functions are safe for concurrent use.
package candle

import (
	"errors"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Defaults for the zero Limits fields.
const (
	DefaultMaxCandles = 50_000
	DefaultMaxItems   = 50
)

// maxParams bounds the parameters of one params object; no indicator has
// more than a handful.
const maxParams = 64

// Set holds candles as columns: element i of every slice is candle i. A Set
// returned by Decode is valid: every slice has the same length, at least 1,
// and Validate returns nil. The slices may share one allocation with spare
// capacity; append to them only after copying.
type Set struct {
	Time                           []int64 // Unix seconds, strictly increasing
	Open, High, Low, Close, Volume []float64
}

// Len returns the number of candles (the length of Time).
func (s Set) Len() int { return len(s.Time) }

// Request is a decoded and validated indicator request.
type Request struct {
	Candles Set
	// Params holds the top-level parameters: the JSON "params" object or,
	// for CSV, the query string. It is nil when there are none. In a batch
	// body the top-level params are returned as sent; the caller decides
	// whether to use them as shared defaults or to reject them.
	Params map[string]float64
	// Items holds the "indicators" of a batch body in order; it is nil when
	// the body has no "indicators" key (a non-batch request) and never empty
	// otherwise.
	Items []Item
	// Precision is the number of significant digits the response's values
	// are rounded to (1..MaxPrecision): the body's "precision" or, for CSV,
	// the query's. 0 when not given: the shortest digits that round-trip.
	Precision int
	// MaxTokens is the client's ceiling on the answer's cost: the body's
	// "max_tokens" or, for CSV, the query's. 0 when not given.
	MaxTokens int
	// Last is the number of trailing values of each output series the
	// answer keeps: the body's "last" or, for CSV, the query's; in a batch
	// the default of every item without its own. 0 when not given: all.
	Last int
}

// Item is one entry of a batch body's "indicators" array.
type Item struct {
	Name   string
	ID     string             // optional client-chosen id, to echo; "" when absent
	Params map[string]float64 // nil when absent or empty
	// Last is the item's own "last" (see Request.Last); 0 when absent.
	Last int
	// Err is a *FieldError when this item is malformed (not an object, no
	// name, params not an object, a param that is not a finite number, an
	// unknown or duplicate key). The rest of the request is still valid, so
	// the caller can report Err for this item and compute the others. Name
	// and ID hold whatever was read before or after the fault.
	Err error
}

// Limits bounds what Decode accepts. Zero fields take the defaults.
type Limits struct {
	MaxCandles int // default DefaultMaxCandles
	MaxItems   int // default DefaultMaxItems; batch items
	// IgnoreQuery lists query keys that the HTTP layer uses itself: Decode
	// neither reads them as CSV parameters nor rejects them on JSON bodies.
	IgnoreQuery []string
	// NoQueryParams refuses every query key of a CSV body but the settings
	// and IgnoreQuery (field query.<key>): a batch takes its indicators'
	// parameters in its items, so a key it would not read is an error, not
	// a parameter silently dropped.
	NoQueryParams bool
}

func (l Limits) withDefaults() Limits {
	if l.MaxCandles <= 0 {
		l.MaxCandles = DefaultMaxCandles
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	return l
}

func (l Limits) ignored(key string) bool {
	for _, k := range l.IgnoreQuery {
		if k == key {
			return true
		}
	}
	return false
}

// ErrUnsupportedMediaType is wrapped by the error Decode returns for a
// content type other than application/json or text/csv (or a charset other
// than UTF-8). Match it with errors.Is; it maps to 415.
var ErrUnsupportedMediaType = errors.New("unsupported media type")

// FieldError is a request the client must fix: it names the offending value
// (see the package documentation for the naming convention). It maps to 400
// invalid_request; Error is safe to show to the client.
type FieldError struct {
	Field  string // path of the value, as the client sent it
	Index  int    // zero-based candle or batch item index; -1 when not an element
	Reason string // what is wrong, in words
	Line   int    // one-based CSV line number; 0 for JSON
}

// Error returns "field: reason", prefixed with "csv line N: " for CSV.
func (e *FieldError) Error() string {
	if e.Line > 0 {
		return "csv line " + strconv.Itoa(e.Line) + ": " + e.Field + ": " + e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Decode decodes and validates an indicator request body. contentType is the
// request's Content-Type header; query is the URL query, read for parameters
// of a CSV body (every key not in limits.IgnoreQuery is a parameter) and
// rejected with a JSON body (whose parameters belong in "params").
//
// On failure Decode returns an error wrapping ErrUnsupportedMediaType, or a
// *FieldError for anything wrong with the body or query. Decode never
// panics and keeps no reference to body.
func Decode(contentType string, body []byte, query url.Values, limits Limits) (Request, error) {
	limits = limits.withDefaults()
	csv, err := mediaType(contentType)
	if err != nil {
		return Request{}, err
	}
	var fe *FieldError
	var req Request
	if csv {
		req, fe = decodeCSV(body, query, limits)
	} else {
		if fe = rejectQuery(query, limits); fe == nil {
			req, fe = decodeJSON(body, limits)
		}
	}
	if fe != nil {
		return Request{}, fe
	}
	return req, nil
}

// mediaType reports whether contentType is CSV (true) or JSON (false), or
// returns an error wrapping ErrUnsupportedMediaType.
func mediaType(contentType string) (csv bool, err error) {
	switch contentType {
	case "application/json":
		return false, nil
	case "text/csv":
		return true, nil
	}
	mt, params, perr := mime.ParseMediaType(contentType)
	if perr == nil {
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
			return false, &mediaError{contentType}
		}
		switch mt { // ParseMediaType lowercases the type
		case "application/json":
			return false, nil
		case "text/csv":
			return true, nil
		}
	}
	return false, &mediaError{contentType}
}

type mediaError struct{ got string }

func (e *mediaError) Error() string {
	got := e.got
	if len(got) > 100 {
		got = got[:100] + "..."
	}
	if got == "" {
		return "unsupported media type: no Content-Type; send application/json or text/csv"
	}
	return "unsupported media type " + strconv.Quote(got) + "; send application/json or text/csv (charset utf-8)"
}

func (e *mediaError) Unwrap() error { return ErrUnsupportedMediaType }

// rejectQuery refuses parameters in the query string of a JSON request: they
// would otherwise be silently ignored.
func rejectQuery(query url.Values, limits Limits) *FieldError {
	for _, k := range sortedKeys(query) {
		if limits.ignored(k) {
			continue
		}
		reason := `query parameters are not read with a JSON body; put parameters in "params"`
		if settingIndex(k) >= 0 {
			reason = `query parameters are not read with a JSON body; put "` + k + `" in the body`
		}
		return &FieldError{Field: keyPath("query", k), Index: -1, Reason: reason}
	}
	return nil
}

// queryParams reads the parameters of a CSV request from the query string.
func queryParams(query url.Values, limits Limits) (map[string]float64, *FieldError) {
	if limits.NoQueryParams {
		for _, k := range sortedKeys(query) {
			if !limits.ignored(k) {
				return nil, &FieldError{Field: keyPath("query", k), Index: -1, Reason: `unknown query parameter; a batch item takes its own "params"`}
			}
		}
		return nil, nil
	}
	if len(query) > maxParams+len(limits.IgnoreQuery) {
		return nil, &FieldError{Field: "params", Index: -1, Reason: "at most " + strconv.Itoa(maxParams) + " parameters"}
	}
	var m map[string]float64
	for _, k := range sortedKeys(query) {
		if limits.ignored(k) {
			continue
		}
		field := keyPath("params", k)
		if !utf8.ValidString(k) {
			return nil, &FieldError{Field: "params", Index: -1, Reason: "a parameter name is not valid UTF-8"}
		}
		vs := query[k]
		if len(vs) != 1 {
			return nil, &FieldError{Field: field, Index: -1, Reason: "given more than once in the query string"}
		}
		if len(m) >= maxParams {
			return nil, &FieldError{Field: "params", Index: -1, Reason: "at most " + strconv.Itoa(maxParams) + " parameters"}
		}
		v := []byte(vs[0])
		f, end, ne := parseFloat(v, 0)
		if ne == numOK && end != len(v) {
			ne = numNotNumber
		}
		if ne != numOK {
			reason := "must be a number, got " + quoteSnippet(v)
			if ne == numRange {
				reason = numRange.reason()
			}
			return nil, &FieldError{Field: field, Index: -1, Reason: reason}
		}
		if m == nil {
			m = make(map[string]float64, len(query))
		}
		m[k] = f
	}
	return m, nil
}

func sortedKeys(q url.Values) []string {
	if len(q) == 0 {
		return nil
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// keyPath renders prefix.key, or prefix["key"] when key is not a plain
// identifier, so that odd keys stay readable and unambiguous.
func keyPath(prefix, key string) string {
	if isIdent(key) {
		if prefix == "" {
			return key
		}
		return prefix + "." + key
	}
	return prefix + "[" + quoteSnippet([]byte(key)) + "]"
}

func isIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// quoteSnippet quotes b for an error message, shortened to 40 bytes.
func quoteSnippet(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}
