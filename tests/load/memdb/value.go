package memdb

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is an attribute value's DynamoDB type.
type kind uint8

const (
	kindNone kind = iota // a missing value (an operand that names nothing)
	kindS
	kindN
	kindB
	kindBOOL
	kindNULL
	kindSS
	kindNS
	kindBS
	kindL
	kindM
)

var kindNames = [...]string{kindNone: "", kindS: "S", kindN: "N", kindB: "B", kindBOOL: "BOOL", kindNULL: "NULL",
	kindSS: "SS", kindNS: "NS", kindBS: "BS", kindL: "L", kindM: "M"}

func (k kind) String() string { return kindNames[k] }

// Value is one attribute value. Values are never changed in place once
// stored: an update builds new ones.
type Value struct {
	k   kind
	s   string   // S; N in canonical form; B as raw bytes
	b   bool     // BOOL, NULL
	set []string // SS; NS canonical; BS raw
	l   []Value
	m   map[string]Value
}

// Item is a stored item.
type Item map[string]Value

func (v Value) isSet() bool { return v.k == kindSS || v.k == kindNS || v.k == kindBS }

// setKind is the set type holding scalars of kind k.
func setKind(k kind) kind {
	switch k {
	case kindS:
		return kindSS
	case kindN:
		return kindNS
	case kindB:
		return kindBS
	}
	return kindNone
}

// UnmarshalJSON reads a DynamoDB JSON attribute value.
func (v *Value) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if len(raw) != 1 {
		return errors.New("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	for t, body := range raw {
		switch t {
		case "S":
			v.k = kindS
			return json.Unmarshal(body, &v.s)
		case "N":
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				return err
			}
			c, err := canonNumber(s)
			if err != nil {
				return err
			}
			v.k, v.s = kindN, c
		case "B":
			var b []byte
			if err := json.Unmarshal(body, &b); err != nil {
				return err
			}
			v.k, v.s = kindB, string(b)
		case "BOOL":
			v.k = kindBOOL
			return json.Unmarshal(body, &v.b)
		case "NULL":
			v.k = kindNULL
			return json.Unmarshal(body, &v.b)
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(body, &ss); err != nil {
				return err
			}
			v.k = kindSS
			if t == "NS" {
				v.k = kindNS
				for i, s := range ss {
					c, err := canonNumber(s)
					if err != nil {
						return err
					}
					ss[i] = c
				}
			}
			v.set = ss
			return checkSet(ss)
		case "BS":
			var bs [][]byte
			if err := json.Unmarshal(body, &bs); err != nil {
				return err
			}
			v.k = kindBS
			for _, b := range bs {
				v.set = append(v.set, string(b))
			}
			return checkSet(v.set)
		case "L":
			v.k = kindL
			v.l = []Value{}
			return json.Unmarshal(body, &v.l)
		case "M":
			v.k = kindM
			v.m = map[string]Value{}
			return json.Unmarshal(body, &v.m)
		default:
			return fmt.Errorf("unknown attribute value type %q", t)
		}
	}
	return nil
}

func checkSet(ss []string) error {
	if len(ss) == 0 {
		return errors.New("One or more parameter values were invalid: An number set  may not be empty")
	}
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		if seen[s] {
			return errors.New("One or more parameter values were invalid: Input collection contains duplicates")
		}
		seen[s] = true
	}
	return nil
}

// appendValue writes v as DynamoDB JSON.
func appendValue(b []byte, v Value) []byte {
	b = append(b, `{"`...)
	b = append(b, v.k.String()...)
	b = append(b, `":`...)
	switch v.k {
	case kindS, kindN:
		b = appendString(b, v.s)
	case kindB:
		b = appendBase64(b, v.s)
	case kindBOOL, kindNULL:
		b = strconv.AppendBool(b, v.b)
	case kindSS, kindNS, kindBS:
		b = append(b, '[')
		for i, s := range v.set {
			if i > 0 {
				b = append(b, ',')
			}
			if v.k == kindBS {
				b = appendBase64(b, s)
			} else {
				b = appendString(b, s)
			}
		}
		b = append(b, ']')
	case kindL:
		b = append(b, '[')
		for i, e := range v.l {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		b = append(b, ']')
	case kindM:
		b = appendItem(b, v.m)
	}
	return append(b, '}')
}

// appendItem writes an attribute map, names sorted.
func appendItem(b []byte, it map[string]Value) []byte {
	names := make([]string, 0, len(it))
	for n := range it {
		names = append(names, n)
	}
	sort.Strings(names)
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
		b = append(b, ':')
		b = appendValue(b, it[n])
	}
	return append(b, '}')
}

func appendBase64(b []byte, raw string) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, []byte(raw))
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// canonNumber validates a DynamoDB number and returns its canonical form
// (no leading zeros, no trailing fractional zeros, no exponent).
func canonNumber(s string) (string, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	if !numberSyntax(s) {
		return "", fmt.Errorf("A value provided cannot be converted into a number")
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("A value provided cannot be converted into a number")
	}
	return formatRat(r), nil
}

func numberSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 || exp > 3 {
			return false
		}
	}
	return i == len(s)
}

func formatRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	s := r.FloatString(40)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func ratOf(s string) *big.Rat {
	r, _ := new(big.Rat).SetString(s)
	return r
}

// compareNumbers compares two canonical numbers.
func compareNumbers(a, b string) int {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return ratOf(a).Cmp(ratOf(b))
}

// addNumbers returns a+b (sign -1: a-b) in canonical form.
func addNumbers(a, b string, sign int) string {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil {
		if sign < 0 {
			y = -y
		}
		z := x + y
		// No overflow: the signs of x and y differ or z keeps x's sign.
		if (x >= 0) != (y >= 0) || (z >= 0) == (x >= 0) {
			return strconv.FormatInt(z, 10)
		}
	}
	rb := ratOf(b)
	if sign < 0 {
		rb.Neg(rb)
	}
	return formatRat(rb.Add(ratOf(a), rb))
}

// equal reports whether two values are equal as DynamoDB compares them
// (sets as sets).
func equal(a, b Value) bool {
	if a.k != b.k || a.k == kindNone {
		return false
	}
	switch a.k {
	case kindS, kindB:
		return a.s == b.s
	case kindN:
		return compareNumbers(a.s, b.s) == 0
	case kindBOOL, kindNULL:
		return a.b == b.b
	case kindSS, kindNS, kindBS:
		if len(a.set) != len(b.set) {
			return false
		}
		in := make(map[string]bool, len(a.set))
		for _, s := range a.set {
			in[s] = true
		}
		for _, s := range b.set {
			if !in[s] {
				return false
			}
		}
		return true
	case kindL:
		if len(a.l) != len(b.l) {
			return false
		}
		for i := range a.l {
			if !equal(a.l[i], b.l[i]) {
				return false
			}
		}
		return true
	case kindM:
		if len(a.m) != len(b.m) {
			return false
		}
		for k, v := range a.m {
			if w, ok := b.m[k]; !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// compare orders two scalars of the same kind (S, N, B); ok is false for
// anything else.
func compare(a, b Value) (int, bool) {
	if a.k != b.k {
		return 0, false
	}
	switch a.k {
	case kindS, kindB:
		return strings.Compare(a.s, b.s), true
	case kindN:
		return compareNumbers(a.s, b.s), true
	}
	return 0, false
}

// keyString identifies a key value inside a table.
func keyString(v Value) string { return string(rune('0'+v.k)) + v.s }

// itemSize is the item's size as DynamoDB counts it (names plus values;
// numbers at about one byte per two digits).
func itemSize(it Item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v Value) int {
	switch v.k {
	case kindS, kindB:
		return len(v.s)
	case kindN:
		return len(v.s)/2 + 1
	case kindBOOL, kindNULL:
		return 1
	case kindSS, kindBS:
		n := 0
		for _, s := range v.set {
			n += len(s)
		}
		return n
	case kindNS:
		n := 0
		for _, s := range v.set {
			n += len(s)/2 + 1
		}
		return n
	case kindL:
		n := 3
		for _, e := range v.l {
			n += 1 + valueSize(e)
		}
		return n
	case kindM:
		n := 3
		for k, e := range v.m {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}
