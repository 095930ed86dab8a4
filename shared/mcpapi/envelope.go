package mcpapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/waickoff/waickoff/shared/problem"
)

// envelope is what the HTTP layer reads of a JSON-RPC message before the
// SDK does: the method, the tool a tools/call names and where its
// arguments lie. Reading it is one pass that checks the JSON and decodes
// nothing but a few short strings, so the SDK can be handed the message
// with its (possibly megabytes of) arguments lifted out: the SDK decodes a
// message several times over into generic maps, which for 10k candles
// costs more than the whole indicator request does.
type envelope struct {
	// batch is true when the body is a JSON array (JSON-RPC batching,
	// which protocol 2025-11-25 no longer has).
	batch  bool
	method string
	// tool is params.name of a tools/call ("" when absent).
	tool string
	// argStart and argEnd delimit params.arguments when it is an object
	// (read into args); argStart is -1 otherwise.
	argStart, argEnd int
	args             Args
}

// maxDepth bounds the nesting the scanner follows (the SDK's own decoder
// allows 1000).
const maxDepth = 1000

// readEnvelope reads b. ok is false when b is not one well-formed JSON
// object, or names method, params, name or arguments twice: the message
// then goes to the SDK as it came and the SDK answers it as it would.
func readEnvelope(b []byte) (env envelope, ok bool) {
	env.argStart = -1
	i := skipWS(b, 0)
	if i < len(b) && b[i] == '[' {
		env.batch = true
		return env, true
	}
	seen := map[string]bool{}
	once := func(key string) bool {
		if seen[key] {
			return false
		}
		seen[key] = true
		return true
	}
	i, ok = walk(b, i, 0, func(key string, _, vs int) (int, bool) {
		switch key {
		case "method":
			ve, ok := skipValue(b, vs, 1)
			if !ok || !once(key) {
				return ve, false
			}
			env.method, ok = stringAt(b[vs:ve])
			return ve, ok
		case "params":
			if !once(key) {
				return vs, false
			}
			if b[vs] != '{' {
				return skipValue(b, vs, 1)
			}
			return walk(b, vs, 1, func(key string, _, ps int) (int, bool) {
				switch key {
				case "name":
					pe, ok := skipValue(b, ps, 2)
					if !ok || !once("params.name") {
						return pe, false
					}
					if b[ps] == '"' {
						env.tool, _ = stringAt(b[ps:pe])
					}
					return pe, true
				case "arguments":
					if !once("params.arguments") {
						return ps, false
					}
					if b[ps] != '{' {
						return skipValue(b, ps, 2)
					}
					args, pe, ok := splitArgs(b, ps, 2)
					env.args, env.argStart, env.argEnd = args, ps, pe
					return pe, ok
				}
				return skipValue(b, ps, 2)
			})
		}
		return skipValue(b, vs, 1)
	})
	if !ok || skipWS(b, i) != len(b) {
		return envelope{argStart: -1}, false
	}
	return env, true
}

// member is one member of a JSON object: its key, where the key starts
// and the span of its value, in the object.
type member struct {
	key            string
	at, start, end int
}

// Args are a tool call's arguments: a JSON object, read once into its
// members.
type Args struct {
	Raw     []byte
	members []member
}

// splitArgs reads the object at b[i] (nested depth deep) into Args and
// returns the index after it. The members' values are delimited, not
// checked (skipLight): the tools decode them strictly, and a call whose
// arguments are not JSON is a parse error then (Server.handler).
func splitArgs(b []byte, i, depth int) (Args, int, bool) {
	start := skipWS(b, i)
	var ms []member
	end, ok := walk(b, start, depth, func(key string, ks, vs int) (int, bool) {
		ve, ok := skipLight(b, vs, depth+1)
		ms = append(ms, member{key, ks - start, vs - start, ve - start})
		return ve, ok
	})
	if !ok {
		return Args{}, end, false
	}
	return Args{Raw: b[start:end], members: ms}, end, true
}

// delim marks the bytes that end a number or literal.
var delim = [256]bool{',': true, '}': true, ']': true, ' ': true, '\t': true, '\n': true, '\r': true, ':': true}

// structural marks the bytes skipLight stops at inside an array or
// object.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipLight returns the index after the JSON value at b[i], matching
// brackets and strings only: a scalar runs to the next delimiter and is
// not checked. ok is false when the brackets do not match or the value
// is cut short.
func skipLight(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
	default:
		for i < len(b) && !delim[b[i]] {
			i++
		}
		return i, true
	}
	stack := make([]byte, 0, 8)
	for n := len(b); i < n; i++ {
		// Four bytes a step over the numbers between, then one.
		for i+4 <= n && !(structural[b[i]] || structural[b[i+1]] || structural[b[i+2]] || structural[b[i+3]]) {
			i += 4
		}
		for i < n && !structural[b[i]] {
			i++
		}
		if i >= n {
			break
		}
		switch c := b[i]; c {
		case '"':
			if i+2 < n && b[i+2] == '"' && b[i+1] != '\\' && b[i+1] != '"' {
				i += 2 // a one-byte string: the keys of candle rows
				continue
			}
			for i++; i < n && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= n {
				return i, false
			}
		case '{', '[':
			if depth+len(stack) > maxDepth {
				return i, false
			}
			stack = append(stack, c+2) // '{'+2 is '}', '['+2 is ']'
		default: // '}' or ']'
			if stack[len(stack)-1] != c {
				return i, false
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1, true
			}
		}
	}
	return i, false
}

// ParseArgs reads raw, a JSON object, into Args. It returns an
// invalid_request problem when raw is not one object.
func ParseArgs(raw []byte) (Args, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	a, end, ok := splitArgs(raw, 0, 0)
	if !ok || skipWS(raw, end) != len(raw) {
		return Args{}, problem.Invalid("arguments", "arguments must be one JSON object")
	}
	return a, nil
}

// value returns the raw value of member key (nil when absent) and
// whether the key is given more than once.
func (a Args) value(key string) (v []byte, twice bool) {
	for _, m := range a.members {
		if m.key == key {
			if v != nil {
				return v, true
			}
			v = a.Raw[m.start:m.end]
		}
	}
	return v, false
}

// stringAt decodes the JSON string b (quotes included).
func stringAt(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", false
	}
	raw := b[1 : len(b)-1]
	plain := true
	for _, c := range raw {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(raw), true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// members walks the object at b[i], calling f with each key and the span
// of its value, and returns the index after the object. f returning false
// stops the walk (ok false).
func members(b []byte, i, depth int, f func(key string, start, end int) bool) (int, bool) {
	return walk(b, i, depth, func(key string, _, vs int) (int, bool) {
		ve, ok := skipValue(b, vs, depth+1)
		if !ok {
			return ve, false
		}
		return ve, f(key, vs, ve)
	})
}

// walk walks the object at b[i]: visit reads the value of key (which
// starts at ks) starting at vs and returns the index after it. It returns
// the index after the object; visit returning false stops the walk (ok
// false).
func walk(b []byte, i, depth int, visit func(key string, ks, vs int) (int, bool)) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		ks := i
		ke, ok := skipString(b, i)
		if !ok {
			return ke, false
		}
		key, ok := stringAt(b[ks:ke])
		if !ok {
			return ke, false
		}
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		vs := skipWS(b, i+1)
		if vs >= len(b) {
			return vs, false
		}
		ve, ok := visit(key, ks, vs)
		if !ok {
			return ve, false
		}
		i = skipWS(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		return i, false
	}
}

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// skipValue checks the JSON value at b[i] and returns the index after it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth || i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i, ok = skipString(b, i); !ok {
					return i, false
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, false
				}
				i = skipWS(b, i+1)
			}
			if i, ok = skipValue(b, i, depth+1); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == closer {
				return i + 1, true
			}
			return i, false
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	}
	return i, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// skipString checks the JSON string at b[i]: escapes well formed, no
// control characters. (UTF-8 validity is left to whoever decodes it.)
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return i, false
				}
				if _, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 16); err != nil {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

// skipNumber checks the JSON number at b[i] (RFC 8259 grammar).
func skipNumber(b []byte, i int) (int, bool) {
	digits := func(i int) (int, int) {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i, i - s
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else {
		var n int
		if i, n = digits(i); n == 0 {
			return i, false
		}
	}
	if i < len(b) && b[i] == '.' {
		var n int
		if i, n = digits(i + 1); n == 0 {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		var n int
		if i, n = digits(i); n == 0 {
			return i, false
		}
	}
	return i, true
}
