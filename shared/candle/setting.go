package candle

import (
	"math"
	"net/url"
	"strconv"
)

// A setting is an integer that tunes a request rather than an indicator: a
// top-level field of a JSON body ("precision": 6) or, with a CSV body, a
// query parameter (?precision=6). Decode reads every setting of the table
// below, checks it is an integer within its bounds, and stores it in the
// Request. To add one, add a row, its settingDoc and a Request field.
type setting struct {
	name     string
	min, max int
	set      func(*Request, int)
}

var settings = [...]setting{
	{"precision", 1, MaxPrecision, func(r *Request, v int) { r.Precision = v }},
	{"max_tokens", 1, MaxTokens, func(r *Request, v int) { r.MaxTokens = v }},
	{"last", 1, DefaultMaxCandles, func(r *Request, v int) { r.Last = v }},
}

// lastSetting is the row of "last", which a batch item may set too.
var lastSetting = settingIndex("last")

// settingDoc describes a setting for the catalog. It is a function, not a
// column of the table, so that only the functions that publish the
// catalog link the text (every indicator function decodes with the table).
func settingDoc(name string) string {
	switch name {
	case "precision":
		return "Significant digits of every value in the answer, correctly rounded " +
			"(as strconv.FormatFloat(v, 'e', precision-1) or printf %.{precision-1}e); fewer digits make a smaller " +
			"answer, so fewer tokens. Absent: the shortest digits that parse back to exactly the computed " +
			"float64 (17 significant digits at most)."
	case "max_tokens":
		return "The most tokens the client agrees to pay for this answer: one that would " +
			"cost more is refused with 402 insufficient_tokens (naming tokens_required and max_tokens) before " +
			"any charge. Absent: up to what the session has left."
	case "last":
		return "Return only the last N values of every output series (computed over all the " +
			"candles, so the values are those of the full answer): a smaller answer, so fewer tokens. N over the " +
			"number of candles returns every value. In a batch, for every item; an item's own \"last\" overrides it. " +
			"Absent: every value."
	}
	return ""
}

// MaxTokens bounds the max_tokens setting (above any session's limit).
const MaxTokens = 1 << 40

// Setting describes one request setting for the catalog.
type Setting struct {
	Name        string
	Min, Max    int
	Description string
}

// Settings lists the request settings Decode reads: each a top-level
// integer field of a JSON body, or a query parameter with a CSV body.
func Settings() []Setting {
	out := make([]Setting, len(settings))
	for i, s := range settings {
		out[i] = Setting{Name: s.name, Min: s.min, Max: s.max, Description: settingDoc(s.name)}
	}
	return out
}

// settingIndex returns the row of the setting named key, or -1.
func settingIndex(key string) int {
	for i := range settings {
		if settings[i].name == key {
			return i
		}
	}
	return -1
}

// settingNames lists the settings for an error message: ", precision".
func settingNames() string {
	var s string
	for i := range settings {
		s += ", " + settings[i].name
	}
	return s
}

// check returns v as an int, or the reason it is not acceptable.
func (s *setting) check(v float64) (int, string) {
	if v != math.Trunc(v) || v < float64(s.min) || v > float64(s.max) {
		return 0, "must be an integer from " + strconv.Itoa(s.min) + " to " + strconv.Itoa(s.max) +
			", got " + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return int(v), ""
}

// readSetting reads the value of setting k at b[i] in a JSON body.
func readSetting(b []byte, i, k int, req *Request) (int, *FieldError) {
	s := &settings[k]
	v, j, ne := parseFloat(b, i)
	if ne != numOK {
		return j, numberErr(s.name, -1, b, i, ne)
	}
	n, reason := s.check(v)
	if reason != "" {
		return j, &FieldError{Field: s.name, Index: -1, Reason: reason}
	}
	s.set(req, n)
	return j, nil
}

// querySettings reads the settings of a CSV request from the query string
// (field query.<name>) and returns the query without them: what is left
// are the indicator's parameters.
func querySettings(query url.Values, req *Request) (url.Values, *FieldError) {
	var rest url.Values
	for k := range settings {
		s := &settings[k]
		vs, ok := query[s.name]
		if !ok {
			continue
		}
		field := "query." + s.name
		if len(vs) != 1 {
			return nil, &FieldError{Field: field, Index: -1, Reason: "given more than once in the query string"}
		}
		v, end, ne := parseFloat([]byte(vs[0]), 0)
		if ne != numOK || end != len(vs[0]) {
			return nil, &FieldError{Field: field, Index: -1, Reason: "must be an integer, got " + quoteSnippet([]byte(vs[0]))}
		}
		n, reason := s.check(v)
		if reason != "" {
			return nil, &FieldError{Field: field, Index: -1, Reason: reason}
		}
		s.set(req, n)
		if rest == nil {
			rest = make(url.Values, len(query))
			for key, v := range query {
				rest[key] = v
			}
		}
		delete(rest, s.name)
	}
	if rest == nil {
		return query, nil
	}
	return rest, nil
}
