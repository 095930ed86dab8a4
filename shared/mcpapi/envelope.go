package mcpapi

import (
	"encoding/json"
	"strconv"
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
	// argStart and argEnd delimit params.arguments when it is an object;
	// argStart is -1 otherwise.
	argStart, argEnd int
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
	i, ok = members(b, i, 0, func(key string, start, end int) bool {
		if key != "method" && key != "params" {
			return true
		}
		if seen[key] {
			return false
		}
		seen[key] = true
		if key == "method" {
			env.method, ok = stringAt(b[start:end])
			return ok
		}
		if b[start] != '{' {
			return true
		}
		_, ok := members(b, start, 1, func(key string, s, e int) bool {
			if key != "name" && key != "arguments" {
				return true
			}
			if seen["params."+key] {
				return false
			}
			seen["params."+key] = true
			if key == "name" {
				if b[s] == '"' {
					env.tool, _ = stringAt(b[s:e])
				}
				return true
			}
			if b[s] == '{' {
				env.argStart, env.argEnd = s, e
			}
			return true
		})
		return ok
	})
	if !ok || skipWS(b, i) != len(b) {
		return envelope{argStart: -1}, false
	}
	return env, true
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
		ve, ok := skipValue(b, vs, depth+1)
		if !ok || !f(key, vs, ve) {
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
