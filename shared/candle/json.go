package candle

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON decoder is a hand-written single-pass scanner for the known
// shapes of an indicator request: it writes numbers straight into the Set's
// slices, with no intermediate tree and no reflection. Nesting can only grow
// where a value is skipped (inside a malformed batch item), and skipping is
// bounded by maxDepth, so no input can exhaust the stack.
//
// Why not github.com/valyala/fastjson: measured on the same 10k-candle rows
// body (see BENCH.md), fastjson's tree plus field look-ups cost about 600
// ns/candle against about 150 here; and its number parser
// (fastfloat.Parse) is not correctly rounded for numbers with an exponent
// (it multiplies by math.Pow10 after dividing), so about 1.3% of a sample
// of shortest-form floats such as 1.97114661857385e+25 came out one ulp
// off encoding/json. It also keeps the first of duplicate keys where this
// package must refuse them.

// maxDepth bounds the nesting of a skipped value.
const maxDepth = 64

// Top-level keys, as bits of a seen-set.
const (
	topTime = iota // topTime..topVolume follow the field order fT..fV
	topOpen
	topHigh
	topLow
	topClose
	topVolume
	topCandles
	topParams
	topIndicators

	columnBits = 1<<topTime | 1<<topOpen | 1<<topHigh | 1<<topLow | 1<<topClose | 1<<topVolume
)

// Candle fields, in canonical order.
const (
	fT = iota
	fO
	fH
	fL
	fC
	fV
	allFields = 1<<6 - 1
)

var (
	rowKeys  = [6]string{"t", "o", "h", "l", "c", "v"}
	colNames = [6]string{"time", "open", "high", "low", "close", "volume"}
)

// rowKey maps the one-byte key of a row to its field, -1 otherwise.
var rowKey = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for k, s := range rowKeys {
		t[s[0]] = int8(k)
	}
	return t
}()

func topKey(key []byte) int {
	switch string(key) {
	case "candles":
		return topCandles
	case "time":
		return topTime
	case "open":
		return topOpen
	case "high":
		return topHigh
	case "low":
		return topLow
	case "close":
		return topClose
	case "volume":
		return topVolume
	case "params":
		return topParams
	case "indicators":
		return topIndicators
	}
	return -1
}

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// jsonType names the kind of value starting at b[i], for error messages.
func jsonType(b []byte, i int) string {
	if i >= len(b) {
		return "end of body"
	}
	switch c := b[i]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	if b[i] >= utf8.RuneSelf {
		return "invalid JSON (byte 0x" + strconv.FormatUint(uint64(b[i]), 16) + ")"
	}
	return "invalid JSON " + strconv.QuoteRune(rune(b[i]))
}

func syntaxErr(field string, index int, b []byte, i int, want string) *FieldError {
	var reason string
	if i >= len(b) {
		reason = "invalid JSON: body ends where " + want + " was expected"
	} else {
		reason = "invalid JSON at byte offset " + strconv.Itoa(i) + ": expected " + want + ", found " + strconv.QuoteRune(rune(b[i]))
		if b[i] >= utf8.RuneSelf {
			reason = "invalid JSON at byte offset " + strconv.Itoa(i) + ": expected " + want
		}
	}
	return &FieldError{Field: field, Index: index, Reason: reason}
}

func typeErr(field string, index int, b []byte, i int, want string) *FieldError {
	return &FieldError{Field: field, Index: index, Reason: "must be " + want + ", got " + jsonType(b, i)}
}

// numberErr builds the error for a failed number read at b[i].
func numberErr(field string, index int, b []byte, i int, ne numErr) *FieldError {
	if ne == numNotNumber {
		if i < len(b) && b[i] != '"' && b[i] != '{' && b[i] != '[' && b[i] != 't' && b[i] != 'f' && b[i] != 'n' {
			return syntaxErr(field, index, b, i, "a value")
		}
		return typeErr(field, index, b, i, "a number")
	}
	return &FieldError{Field: field, Index: index, Reason: ne.reason()}
}

// fieldAt returns the error path of field k of candle n in the given layout.
func fieldAt(rows bool, k, n int) string {
	if rows {
		return "candles[" + strconv.Itoa(n) + "]." + rowKeys[k]
	}
	return colNames[k] + "[" + strconv.Itoa(n) + "]"
}

func decodeJSON(b []byte, lim Limits) (Request, *FieldError) {
	var req Request
	i := skipWS(b, 0)
	if i >= len(b) {
		return req, &FieldError{Field: "body", Index: -1, Reason: "empty body; send a JSON object with candles"}
	}
	if b[i] != '{' {
		if b[i] == '[' || b[i] == '"' || b[i] == 't' || b[i] == 'f' || b[i] == 'n' || b[i] == '-' || b[i]-'0' <= 9 {
			return req, typeErr("body", -1, b, i, "a JSON object")
		}
		return req, syntaxErr("body", -1, b, i, "a JSON object")
	}
	i = skipWS(b, i+1)
	var seen uint16
	var seenSettings uint32
	rows := false
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return req, syntaxErr("body", -1, b, i, "a field name")
			}
			key, j, fe := readString(b, i, "body", -1)
			if fe != nil {
				return req, fe
			}
			i = skipWS(b, j)
			if i >= len(b) || b[i] != ':' {
				return req, syntaxErr("body", -1, b, i, "':'")
			}
			i = skipWS(b, i+1)
			k := topKey(key)
			sk := -1
			if k < 0 {
				if sk = settingIndex(string(key)); sk < 0 {
					return req, &FieldError{Field: keyPath("", string(key)), Index: -1,
						Reason: "unknown field; want candles (rows) or time, open, high, low, close, volume (columns), params, indicators" + settingNames()}
				}
			}
			name := string(key)
			if sk >= 0 {
				if seenSettings&(1<<sk) != 0 {
					return req, &FieldError{Field: name, Index: -1, Reason: "duplicate field"}
				}
				seenSettings |= 1 << sk
				i, fe = readSetting(b, i, sk, &req)
			} else {
				if seen&(1<<k) != 0 {
					return req, &FieldError{Field: name, Index: -1, Reason: "duplicate field"}
				}
				seen |= 1 << k
				if k == topCandles && seen&columnBits != 0 || k < topCandles && seen&(1<<topCandles) != 0 {
					return req, &FieldError{Field: name, Index: -1,
						Reason: "candles given both as rows (candles) and as columns (time, open, ...); send one form"}
				}
				switch k {
				case topCandles:
					rows = true
					i, fe = readRows(b, i, &req.Candles, lim)
				case topTime:
					i, fe = readTimeColumn(b, i, &req.Candles, lim)
				case topParams:
					if i >= len(b) || b[i] != '{' {
						return req, typeErr("params", -1, b, i, "an object")
					}
					var itemErr *FieldError
					req.Params, i, itemErr, fe = readParams(b, i, "params", -1)
					if fe == nil {
						fe = itemErr
					}
				case topIndicators:
					req.Items, i, fe = readItems(b, i, lim)
				default:
					i, fe = readColumn(b, i, k, &req.Candles, lim)
				}
			}
			if fe != nil {
				return req, fe
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return req, syntaxErr("body", -1, b, i, "',' or '}'")
		}
	}
	if i = skipWS(b, i); i < len(b) {
		return req, &FieldError{Field: "body", Index: -1,
			Reason: "unexpected data after the JSON object at byte offset " + strconv.Itoa(i)}
	}

	s := &req.Candles
	switch {
	case seen&(1<<topCandles|columnBits) == 0:
		return req, &FieldError{Field: "candles", Index: -1,
			Reason: "required: send candles as rows (candles) or as columns (time, open, high, low, close, volume)"}
	case !rows:
		for k := range 6 {
			if seen&(1<<k) == 0 {
				return req, &FieldError{Field: colNames[k], Index: -1,
					Reason: "missing; columns need time, open, high, low, close and volume"}
			}
		}
		cols := [6]int{len(s.Time), len(s.Open), len(s.High), len(s.Low), len(s.Close), len(s.Volume)}
		for k := 1; k < 6; k++ {
			if cols[k] != cols[0] {
				return req, &FieldError{Field: colNames[k], Index: -1,
					Reason: "has " + strconv.Itoa(cols[k]) + " values but time has " + strconv.Itoa(cols[0])}
			}
		}
	}
	if s.Len() == 0 {
		return req, &FieldError{Field: "candles", Index: -1, Reason: "at least 1 candle is required"}
	}
	if fe := validate(s, rows, 0); fe != nil {
		return req, fe
	}
	return req, nil
}

func tooMany(lim Limits) *FieldError {
	return &FieldError{Field: "candles", Index: -1, Reason: "at most " + strconv.Itoa(lim.MaxCandles) + " candles per request"}
}

// capHint guesses the number of candles from the body size: minBytes is a
// typical size of one candle. It never exceeds the limit.
func capHint(size, minBytes int, lim Limits) int {
	return min(size/minBytes+8, lim.MaxCandles)
}

// makeColumns allocates the time column and, in one block, the five float
// columns, each with capacity hint and length 0.
func makeColumns(hint int) ([]int64, [5][]float64) {
	fs := make([]float64, 5*hint)
	var cols [5][]float64
	for k := range cols {
		cols[k] = fs[k*hint : k*hint : (k+1)*hint]
	}
	return make([]int64, 0, hint), cols
}

// readRows reads the rows array at b[i] into s.
func readRows(b []byte, i int, s *Set, lim Limits) (int, *FieldError) {
	if i >= len(b) || b[i] != '[' {
		return i, typeErr("candles", -1, b, i, "an array of candle objects")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	hint := capHint(len(b)-i, 64, lim)
	ts, cols := makeColumns(hint)
	o, h, l, c, v := cols[0], cols[1], cols[2], cols[3], cols[4]
	n := 0
	for {
		if n >= lim.MaxCandles {
			return i, tooMany(lim)
		}
		if i >= len(b) || b[i] != '{' {
			return i, typeErr("candles["+strconv.Itoa(n)+"]", n, b, i, "an object")
		}
		i++
		if i < len(b) && isWS(b[i]) {
			i = skipWS(b, i)
		}
		var seen uint8
		var t int64
		var row [6]float64
		if i < len(b) && b[i] == '}' {
			i++
		} else {
			for {
				// Key: the common one-letter key without escapes is read inline.
				k := -1
				if i+2 < len(b) && b[i] == '"' && b[i+2] == '"' {
					k = int(rowKey[b[i+1]])
				}
				if k >= 0 {
					i += 3
				} else {
					if i >= len(b) || b[i] != '"' {
						return i, syntaxErr("candles["+strconv.Itoa(n)+"]", n, b, i, "a field name")
					}
					key, j, fe := readString(b, i, "candles["+strconv.Itoa(n)+"]", n)
					if fe != nil {
						return i, fe
					}
					if len(key) == 1 {
						k = int(rowKey[key[0]])
					}
					if k < 0 {
						return i, &FieldError{Field: keyPath("candles["+strconv.Itoa(n)+"]", string(key)), Index: n,
							Reason: "unknown field; want t, o, h, l, c, v"}
					}
					i = j
				}
				if i < len(b) && isWS(b[i]) {
					i = skipWS(b, i)
				}
				if i >= len(b) || b[i] != ':' {
					return i, syntaxErr(fieldAt(true, k, n), n, b, i, "':'")
				}
				i++
				if i < len(b) && isWS(b[i]) {
					i = skipWS(b, i)
				}
				if seen&(1<<k) != 0 {
					return i, &FieldError{Field: fieldAt(true, k, n), Index: n, Reason: "duplicate field"}
				}
				seen |= 1 << k
				var ne numErr
				j := i
				if k == fT {
					t, i, ne = parseInt(b, i)
				} else {
					row[k], i, ne = parseFloat(b, i)
				}
				if ne != numOK {
					return i, numberErr(fieldAt(true, k, n), n, b, j, ne)
				}
				if i < len(b) && isWS(b[i]) {
					i = skipWS(b, i)
				}
				if i < len(b) && b[i] == ',' {
					i++
					if i < len(b) && isWS(b[i]) {
						i = skipWS(b, i)
					}
					continue
				}
				if i < len(b) && b[i] == '}' {
					i++
					break
				}
				return i, syntaxErr("candles["+strconv.Itoa(n)+"]", n, b, i, "',' or '}'")
			}
		}
		if seen != allFields {
			for k := range 6 {
				if seen&(1<<k) == 0 {
					return i, &FieldError{Field: fieldAt(true, k, n), Index: n,
						Reason: "missing; every candle needs t, o, h, l, c and v"}
				}
			}
		}
		ts = append(ts, t)
		o = append(o, row[fO])
		h = append(h, row[fH])
		l = append(l, row[fL])
		c = append(c, row[fC])
		v = append(v, row[fV])
		n++
		if i < len(b) && isWS(b[i]) {
			i = skipWS(b, i)
		}
		if i < len(b) && b[i] == ',' {
			i++
			if i < len(b) && isWS(b[i]) {
				i = skipWS(b, i)
			}
			continue
		}
		if i < len(b) && b[i] == ']' {
			i++
			break
		}
		return i, syntaxErr("candles", -1, b, i, "',' or ']'")
	}
	s.Time, s.Open, s.High, s.Low, s.Close, s.Volume = ts, o, h, l, c, v
	return i, nil
}

// columnHint is the capacity for a column: the length of a column already
// read, or a guess from the body size.
func columnHint(s *Set, size int, lim Limits) int {
	for _, n := range [...]int{len(s.Time), len(s.Open), len(s.High), len(s.Low), len(s.Close), len(s.Volume)} {
		if n > 0 {
			return n
		}
	}
	return capHint(size, 12*6, lim)
}

// readTimeColumn reads the "time" array at b[i] into s.Time.
func readTimeColumn(b []byte, i int, s *Set, lim Limits) (int, *FieldError) {
	return readArray(b, i, fT, "an array of integers", &s.Time, parseInt, columnHint(s, len(b)-i, lim), lim)
}

// readColumn reads the number array at b[i] into field k (fO..fV) of s.
func readColumn(b []byte, i int, k int, s *Set, lim Limits) (int, *FieldError) {
	dst := [...]*[]float64{fO: &s.Open, fH: &s.High, fL: &s.Low, fC: &s.Close, fV: &s.Volume}[k]
	return readArray(b, i, k, "an array of numbers", dst, parseFloat, columnHint(s, len(b)-i, lim), lim)
}

// readArray reads the JSON array of numbers at b[i], the column of field
// k, into *dst with parse (parseInt or parseFloat).
func readArray[T int64 | float64](b []byte, i, k int, want string, dst *[]T,
	parse func([]byte, int) (T, int, numErr), hint int, lim Limits) (int, *FieldError) {
	name := colNames[k]
	if i >= len(b) || b[i] != '[' {
		return i, typeErr(name, -1, b, i, want)
	}
	vs := make([]T, 0, hint)
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		*dst = vs
		return i + 1, nil
	}
	for {
		n := len(vs)
		if n >= lim.MaxCandles {
			return i, tooMany(lim)
		}
		v, j, ne := parse(b, i)
		if ne != numOK {
			return j, numberErr(fieldAt(false, k, n), n, b, i, ne)
		}
		vs = append(vs, v)
		i = j
		if i < len(b) && isWS(b[i]) {
			i = skipWS(b, i)
		}
		if i < len(b) && b[i] == ',' {
			i++
			if i < len(b) && isWS(b[i]) {
				i = skipWS(b, i)
			}
			continue
		}
		if i < len(b) && b[i] == ']' {
			*dst = vs
			return i + 1, nil
		}
		return i, syntaxErr(name, -1, b, i, "',' or ']'")
	}
}

// readParams reads the params object at b[i] (b[i] == '{'). A value that is
// valid JSON but not an acceptable parameter gives itemErr (the first such)
// and reading goes on, so that a batch can keep its other items; broken
// JSON gives fatal. m is nil when the object is empty or itemErr is set.
func readParams(b []byte, i int, prefix string, index int) (m map[string]float64, end int, itemErr, fatal *FieldError) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, i + 1, nil, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, i, nil, syntaxErr(prefix, index, b, i, "a parameter name")
		}
		key, j, fe := readString(b, i, prefix, index)
		if fe != nil {
			return nil, j, nil, fe
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return nil, i, nil, syntaxErr(prefix, index, b, i, "':'")
		}
		i = skipWS(b, i+1)
		field, reason := "", ""
		switch {
		case !utf8.Valid(key):
			field, reason = prefix, "a parameter name is not valid UTF-8"
		case len(m) >= maxParams:
			field, reason = prefix, "at most "+strconv.Itoa(maxParams)+" parameters"
		default:
			if _, dup := m[string(key)]; dup {
				reason = "duplicate parameter"
			}
		}
		consumed := false
		if reason == "" {
			f, j, ne := parseFloat(b, i)
			switch ne {
			case numOK:
				if m == nil {
					m = make(map[string]float64, 4)
				}
				m[string(key)] = f
				i, consumed = j, true
			case numSyntax:
				return nil, j, nil, &FieldError{Field: keyPath(prefix, string(key)), Index: index, Reason: ne.reason()}
			case numRange:
				reason = ne.reason()
				i, consumed = j, true
			default:
				reason = "must be a number, got " + jsonType(b, i)
			}
		}
		if reason != "" {
			if field == "" {
				field = keyPath(prefix, string(key))
			}
			if itemErr == nil {
				itemErr = &FieldError{Field: field, Index: index, Reason: reason}
			}
			if !consumed {
				if i, fe = skipValue(b, i, 1, field, index); fe != nil {
					return nil, i, nil, fe
				}
			}
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			if itemErr != nil {
				m = nil
			}
			return m, i + 1, itemErr, nil
		}
		return nil, i, nil, syntaxErr(prefix, index, b, i, "',' or '}'")
	}
}

// readItems reads the batch "indicators" array at b[i].
func readItems(b []byte, i int, lim Limits) ([]Item, int, *FieldError) {
	if i >= len(b) || b[i] != '[' {
		return nil, i, typeErr("indicators", -1, b, i, "an array")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil, i, &FieldError{Field: "indicators", Index: -1, Reason: "at least 1 indicator is required"}
	}
	items := make([]Item, 0, 4)
	for {
		if len(items) >= lim.MaxItems {
			return nil, i, &FieldError{Field: "indicators", Index: -1,
				Reason: "at most " + strconv.Itoa(lim.MaxItems) + " indicators per request"}
		}
		var it Item
		var fe *FieldError
		i, fe = readItem(b, i, len(items), &it)
		if fe != nil {
			return nil, i, fe
		}
		items = append(items, it)
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return items, i + 1, nil
		}
		return nil, i, syntaxErr("indicators", -1, b, i, "',' or ']'")
	}
}

const (
	maxNameBytes = 64
	maxIDBytes   = 256
)

// readItem reads one batch item at b[i] into it. Only broken JSON is
// returned as an error; everything else wrong with the item goes to it.Err.
func readItem(b []byte, i int, idx int, it *Item) (int, *FieldError) {
	prefix := "indicators[" + strconv.Itoa(idx) + "]"
	fail := func(field, reason string) {
		if it.Err == nil {
			it.Err = &FieldError{Field: field, Index: idx, Reason: reason}
		}
	}
	if i >= len(b) || b[i] != '{' {
		if i < len(b) && (b[i] == '[' || b[i] == '"' || b[i] == 't' || b[i] == 'f' || b[i] == 'n' || b[i] == '-' || b[i]-'0' <= 9) {
			fail(prefix, "must be an object, got "+jsonType(b, i))
			return skipValue(b, i, 1, prefix, idx)
		}
		return i, syntaxErr(prefix, idx, b, i, "an object")
	}
	i = skipWS(b, i+1)
	var seen uint8
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return i, syntaxErr(prefix, idx, b, i, "a field name")
			}
			key, j, fe := readString(b, i, prefix, idx)
			if fe != nil {
				return j, fe
			}
			i = skipWS(b, j)
			if i >= len(b) || b[i] != ':' {
				return i, syntaxErr(prefix, idx, b, i, "':'")
			}
			i = skipWS(b, i+1)
			field := keyPath(prefix, string(key))
			bit := uint8(0)
			switch string(key) {
			case "name":
				bit = 1
			case "params":
				bit = 2
			case "id":
				bit = 4
			case "last":
				bit = 8
			}
			switch {
			case bit == 0:
				fail(field, "unknown field; want name, params, id, last")
				i, fe = skipValue(b, i, 1, field, idx)
			case seen&bit != 0:
				fail(field, "duplicate field")
				i, fe = skipValue(b, i, 1, field, idx)
			case bit == 8:
				var reason string
				it.Last, i, reason, fe = readItemLast(b, i, field, idx)
				if reason != "" {
					fail(field, reason)
				}
			case bit == 2:
				if i < len(b) && b[i] == '{' {
					var itemErr *FieldError
					it.Params, i, itemErr, fe = readParams(b, i, field, idx)
					if itemErr != nil && it.Err == nil {
						it.Err = itemErr
					}
				} else {
					fail(field, "must be an object, got "+jsonType(b, i))
					i, fe = skipValue(b, i, 1, field, idx)
				}
			default: // name, id: strings
				if i < len(b) && b[i] == '"' {
					var s []byte
					s, i, fe = readString(b, i, field, idx)
					limit := maxNameBytes
					if bit == 4 {
						limit = maxIDBytes
					}
					switch {
					case fe != nil:
					case !utf8.Valid(s):
						fail(field, "must be valid UTF-8")
					case len(s) > limit:
						fail(field, "at most "+strconv.Itoa(limit)+" bytes")
					case bit == 1 && len(s) == 0:
						fail(field, "must not be empty")
					case bit == 1:
						it.Name = string(s)
					default:
						it.ID = string(s)
					}
				} else {
					fail(field, "must be a string, got "+jsonType(b, i))
					i, fe = skipValue(b, i, 1, field, idx)
				}
			}
			if fe != nil {
				return i, fe
			}
			seen |= bit
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return i, syntaxErr(prefix, idx, b, i, "',' or '}'")
		}
	}
	if seen&1 == 0 {
		fail(prefix+".name", "required")
	}
	return i, nil
}

// readItemLast reads a batch item's "last" at b[i], checked as the
// top-level setting is. It returns the value (0 when refused), the end,
// the reason the item fails (another type, out of bounds, not an
// integer; "" when none), and the error of broken JSON.
func readItemLast(b []byte, i int, field string, idx int) (int, int, string, *FieldError) {
	v, j, ne := parseFloat(b, i)
	switch ne {
	case numOK:
		n, reason := settings[lastSetting].check(v)
		return n, j, reason, nil
	case numSyntax:
		return 0, j, "", &FieldError{Field: field, Index: idx, Reason: ne.reason()}
	case numRange:
		return 0, j, ne.reason(), nil
	}
	j, fe := skipValue(b, i, 1, field, idx)
	return 0, j, "must be an integer, got " + jsonType(b, i), fe
}

// readString reads the JSON string at b[i] (b[i] == '"') and returns its
// contents: a subslice of b when it has no escapes, else a new unescaped
// copy (invalid surrogates become U+FFFD, as encoding/json does). Raw
// control characters and bad escapes are syntax errors.
func readString(b []byte, i int, field string, index int) ([]byte, int, *FieldError) {
	i++
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			return b[start:i], i + 1, nil
		}
		if c == '\\' {
			return unescape(b, start, field, index)
		}
		if c < 0x20 {
			return nil, i, syntaxErr(field, index, b, i, "a string without raw control characters")
		}
	}
	return nil, i, syntaxErr(field, index, b, i, "'\"' ending the string")
}

func unescape(b []byte, start int, field string, index int) ([]byte, int, *FieldError) {
	out := make([]byte, 0, 16)
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return out, i + 1, nil
		case c < 0x20:
			return nil, i, syntaxErr(field, index, b, i, "a string without raw control characters")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		i++
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+1)
			if !ok {
				return nil, i, syntaxErr(field, index, b, i, "four hex digits after \\u")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(b, i+3); ok && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, i, syntaxErr(field, index, b, i, "a valid escape")
		}
		i++
	}
	return nil, i, syntaxErr(field, index, b, i, "'\"' ending the string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipValue checks and skips the JSON value at b[i], nested at most
// maxDepth deep.
func skipValue(b []byte, i int, depth int, field string, index int) (int, *FieldError) {
	if depth > maxDepth {
		return i, &FieldError{Field: field, Index: index, Reason: "nested more than " + strconv.Itoa(maxDepth) + " levels deep"}
	}
	if i >= len(b) {
		return i, syntaxErr(field, index, b, i, "a value")
	}
	var fe *FieldError
	switch c := b[i]; {
	case c == '"':
		_, i, fe = readString(b, i, field, index)
		return i, fe
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, syntaxErr(field, index, b, i, "a field name")
				}
				if _, i, fe = readString(b, i, field, index); fe != nil {
					return i, fe
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, syntaxErr(field, index, b, i, "':'")
				}
				i = skipWS(b, i+1)
			}
			if i, fe = skipValue(b, i, depth+1, field, index); fe != nil {
				return i, fe
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == closer {
				return i + 1, nil
			}
			return i, syntaxErr(field, index, b, i, "',' or '"+string(closer)+"'")
		}
	case c == 't':
		return skipLiteral(b, i, "true", field, index)
	case c == 'f':
		return skipLiteral(b, i, "false", field, index)
	case c == 'n':
		return skipLiteral(b, i, "null", field, index)
	case c == '-' || c >= '0' && c <= '9':
		_, j, ne := parseFloat(b, i)
		if ne == numSyntax {
			return j, &FieldError{Field: field, Index: index, Reason: ne.reason()}
		}
		return j, nil // numRange is valid JSON
	}
	return i, syntaxErr(field, index, b, i, "a value")
}

func skipLiteral(b []byte, i int, lit string, field string, index int) (int, *FieldError) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return i, syntaxErr(field, index, b, i, lit)
}
