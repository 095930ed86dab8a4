package memdb

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The expression language, as far as the project uses it: top-level
// attribute paths (literal names or #placeholders), :values, comparisons,
// BETWEEN, IN, AND/OR/NOT, parentheses, the functions attribute_exists,
// attribute_not_exists, attribute_type, begins_with, contains and size;
// in updates SET (with +, -, if_not_exists and list_append), REMOVE, ADD
// and DELETE. Nested document paths (a.b, a[0]) are refused.

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tName  // #placeholder
	tValue // :placeholder
	tNum
	tOp
)

type token struct {
	k tokKind
	s string
}

func tokenize(src string) ([]token, error) {
	var out []token
	word := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(src) && word(src[j]) {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("Syntax error; token: %q, near: %q", string(c), near(src, i))
			}
			k := tName
			if c == ':' {
				k = tValue
			}
			out = append(out, token{k, src[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			out = append(out, token{tNum, src[i:j]})
			i = j
		case word(c):
			j := i
			for j < len(src) && word(src[j]) {
				j++
			}
			out = append(out, token{tIdent, src[i:j]})
			i = j
		case c == '<' || c == '>':
			if i+1 < len(src) && (src[i+1] == '=' || (c == '<' && src[i+1] == '>')) {
				out = append(out, token{tOp, src[i : i+2]})
				i += 2
			} else {
				out = append(out, token{tOp, src[i : i+1]})
				i++
			}
		case strings.IndexByte("=(),.[]+-", c) >= 0:
			out = append(out, token{tOp, src[i : i+1]})
			i++
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, fmt.Errorf("Invalid character encountered; character: %q, near: %q", r, near(src, i))
		}
	}
	return append(out, token{k: tEOF}), nil
}

func near(src string, i int) string {
	end := min(len(src), i+12)
	return src[i:end]
}

type opKind uint8

const (
	opPath opKind = iota + 1
	opValue
	opSize
	opIfNotExists
	opListAppend
	opPlus
	opMinus
)

// operand is a value in an expression.
type operand struct {
	k    opKind
	ref  string // opPath: "#x" or a literal name; opValue: ":x"
	args []*operand
}

type condKind uint8

const (
	cOr condKind = iota + 1
	cAnd
	cNot
	cCmp
	cBetween
	cIn
	cFunc
)

// cond is a condition (ConditionExpression, FilterExpression,
// KeyConditionExpression).
type cond struct {
	k    condKind
	op   string // cCmp: = <> < <= > >=; cFunc: the function
	kids []*cond
	args []*operand
}

// action is one update action.
type action struct {
	verb string // SET, REMOVE, ADD, DELETE
	path string // "#x" or a literal name
	val  *operand
}

// refs are the placeholders an expression uses.
type refs struct {
	names  []string
	values []string
}

type parser struct {
	toks []token
	pos  int
	refs refs
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.k != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isOp(s string) bool { t := p.peek(); return t.k == tOp && t.s == s }

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.k == tIdent && strings.EqualFold(t.s, w)
}

func (p *parser) expectOp(s string) error {
	if !p.isOp(s) {
		return p.syntax()
	}
	p.next()
	return nil
}

func (p *parser) syntax() error {
	t := p.peek()
	if t.k == tEOF {
		return fmt.Errorf("Syntax error; token: <EOF>")
	}
	return fmt.Errorf("Syntax error; token: %q", t.s)
}

var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true,
	"SET": true, "REMOVE": true, "ADD": true, "DELETE": true}

// path reads an attribute path.
func (p *parser) path() (string, error) {
	t := p.peek()
	switch {
	case t.k == tName:
		p.refs.names = append(p.refs.names, t.s)
	case t.k == tIdent && !keywords[strings.ToUpper(t.s)]:
	default:
		return "", p.syntax()
	}
	p.next()
	if p.isOp(".") || p.isOp("[") {
		return "", fmt.Errorf("nested document paths are not supported by memdb (near %q)", t.s)
	}
	return t.s, nil
}

// operand reads a condition operand: a path, a :value or size(path).
func (p *parser) operand() (*operand, error) {
	t := p.peek()
	switch {
	case t.k == tValue:
		p.next()
		p.refs.values = append(p.refs.values, t.s)
		return &operand{k: opValue, ref: t.s}, nil
	case t.k == tIdent && strings.EqualFold(t.s, "size") && p.toks[p.pos+1].k == tOp && p.toks[p.pos+1].s == "(":
		p.next()
		p.next()
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &operand{k: opSize, args: []*operand{{k: opPath, ref: path}}}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return &operand{k: opPath, ref: path}, nil
}

var condFuncs = map[string]int{"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
	"begins_with": 2, "contains": 2}

func (p *parser) or() (*cond, error) {
	c, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("OR") {
		p.next()
		d, err := p.and()
		if err != nil {
			return nil, err
		}
		c = &cond{k: cOr, kids: []*cond{c, d}}
	}
	return c, nil
}

func (p *parser) and() (*cond, error) {
	c, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isWord("AND") {
		p.next()
		d, err := p.not()
		if err != nil {
			return nil, err
		}
		c = &cond{k: cAnd, kids: []*cond{c, d}}
	}
	return c, nil
}

func (p *parser) not() (*cond, error) {
	if p.isWord("NOT") {
		p.next()
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return &cond{k: cNot, kids: []*cond{c}}, nil
	}
	return p.predicate()
}

func (p *parser) predicate() (*cond, error) {
	if p.isOp("(") {
		p.next()
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		return c, p.expectOp(")")
	}
	t := p.peek()
	if t.k == tIdent {
		if n, ok := condFuncs[strings.ToLower(t.s)]; ok && p.toks[p.pos+1].k == tOp && p.toks[p.pos+1].s == "(" {
			p.next()
			p.next()
			c := &cond{k: cFunc, op: strings.ToLower(t.s)}
			for i := 0; i < n; i++ {
				if i > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
				}
				var o *operand
				var err error
				if i == 0 {
					var path string
					path, err = p.path()
					o = &operand{k: opPath, ref: path}
				} else {
					o, err = p.operand()
				}
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, o)
			}
			return c, p.expectOp(")")
		}
	}
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); {
	case t.k == tOp && (t.s == "=" || t.s == "<>" || t.s == "<" || t.s == "<=" || t.s == ">" || t.s == ">="):
		p.next()
		b, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{k: cCmp, op: t.s, args: []*operand{a, b}}, nil
	case p.isWord("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.isWord("AND") {
			return nil, p.syntax()
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{k: cBetween, args: []*operand{a, lo, hi}}, nil
	case p.isWord("IN"):
		p.next()
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		c := &cond{k: cIn, args: []*operand{a}}
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, o)
			if p.isOp(",") {
				p.next()
				continue
			}
			return c, p.expectOp(")")
		}
	}
	return nil, p.syntax()
}

// setOperand reads the right side of a SET action.
func (p *parser) setValue() (*operand, error) {
	a, err := p.setOperand()
	if err != nil {
		return nil, err
	}
	if p.isOp("+") || p.isOp("-") {
		k := opPlus
		if p.next().s == "-" {
			k = opMinus
		}
		b, err := p.setOperand()
		if err != nil {
			return nil, err
		}
		return &operand{k: k, args: []*operand{a, b}}, nil
	}
	return a, nil
}

func (p *parser) setOperand() (*operand, error) {
	t := p.peek()
	if t.k == tIdent && p.toks[p.pos+1].k == tOp && p.toks[p.pos+1].s == "(" {
		switch strings.ToLower(t.s) {
		case "if_not_exists":
			p.next()
			p.next()
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			def, err := p.setOperand()
			if err != nil {
				return nil, err
			}
			return &operand{k: opIfNotExists, args: []*operand{{k: opPath, ref: path}, def}}, p.expectOp(")")
		case "list_append":
			p.next()
			p.next()
			a, err := p.setOperand()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			b, err := p.setOperand()
			if err != nil {
				return nil, err
			}
			return &operand{k: opListAppend, args: []*operand{a, b}}, p.expectOp(")")
		}
		return nil, fmt.Errorf("Invalid function name; function: %s", t.s)
	}
	if t.k == tValue {
		p.next()
		p.refs.values = append(p.refs.values, t.s)
		return &operand{k: opValue, ref: t.s}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return &operand{k: opPath, ref: path}, nil
}

func (p *parser) update() ([]action, error) {
	var acts []action
	seen := map[string]bool{}
	for p.peek().k != tEOF {
		t := p.next()
		verb := strings.ToUpper(t.s)
		if t.k != tIdent || (verb != "SET" && verb != "REMOVE" && verb != "ADD" && verb != "DELETE") {
			return nil, fmt.Errorf("Syntax error; token: %q", t.s)
		}
		if seen[verb] {
			return nil, fmt.Errorf("The %q section can only be used once in an update expression", verb)
		}
		seen[verb] = true
		for {
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			a := action{verb: verb, path: path}
			switch verb {
			case "SET":
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				if a.val, err = p.setValue(); err != nil {
					return nil, err
				}
			case "ADD", "DELETE":
				t := p.peek()
				if t.k != tValue {
					return nil, p.syntax()
				}
				p.next()
				p.refs.values = append(p.refs.values, t.s)
				a.val = &operand{k: opValue, ref: t.s}
			}
			acts = append(acts, a)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
	}
	if len(acts) == 0 {
		return nil, fmt.Errorf("Syntax error; token: <EOF>")
	}
	return acts, nil
}

func (p *parser) projection() ([]string, error) {
	var out []string
	for {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		out = append(out, path)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if p.peek().k != tEOF {
		return nil, p.syntax()
	}
	return out, nil
}

// parsed expressions, cached by kind and text.
type parsedCond struct {
	c    *cond
	refs refs
}

type parsedUpdate struct {
	acts []action
	refs refs
}

type parsedProjection struct {
	paths []string
	refs  refs
}

func parseCond(src string) (*parsedCond, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().k != tEOF {
		return nil, p.syntax()
	}
	return &parsedCond{c: c, refs: p.refs}, nil
}

func parseUpdate(src string) (*parsedUpdate, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	acts, err := p.update()
	if err != nil {
		return nil, err
	}
	return &parsedUpdate{acts: acts, refs: p.refs}, nil
}

func parseProjection(src string) (*parsedProjection, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	paths, err := p.projection()
	if err != nil {
		return nil, err
	}
	return &parsedProjection{paths: paths, refs: p.refs}, nil
}

// scope resolves placeholders for one request's expressions and records
// which were used.
type scope struct {
	names  map[string]string
	values map[string]Value
	usedN  map[string]bool
	usedV  map[string]bool
}

func newScope(names map[string]string, values map[string]Value) *scope {
	return &scope{names: names, values: values, usedN: map[string]bool{}, usedV: map[string]bool{}}
}

// use checks that every placeholder of r is defined and marks it used.
func (s *scope) use(r refs) error {
	for _, n := range r.names {
		if _, ok := s.names[n]; !ok {
			return fmt.Errorf("An expression attribute name used in the document path is not defined; attribute name: %s", n)
		}
		s.usedN[n] = true
	}
	for _, v := range r.values {
		if _, ok := s.values[v]; !ok {
			return fmt.Errorf("An expression attribute value used in expression is not defined; attribute value: %s", v)
		}
		s.usedV[v] = true
	}
	return nil
}

// unused reports placeholders given but never used, as DynamoDB refuses
// them.
func (s *scope) unused() error {
	var un, uv []string
	for n := range s.names {
		if !s.usedN[n] {
			un = append(un, n)
		}
	}
	for v := range s.values {
		if !s.usedV[v] {
			uv = append(uv, v)
		}
	}
	switch {
	case len(un) > 0:
		return fmt.Errorf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(un, ", "))
	case len(uv) > 0:
		return fmt.Errorf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(uv, ", "))
	}
	return nil
}

func (s *scope) name(ref string) string {
	if strings.HasPrefix(ref, "#") {
		return s.names[ref]
	}
	return ref
}

// eval returns an operand's value on item; kindNone when it names
// nothing.
func (s *scope) eval(o *operand, it Item) (Value, error) {
	switch o.k {
	case opPath:
		return it[s.name(o.ref)], nil
	case opValue:
		return s.values[o.ref], nil
	case opSize:
		v := it[s.name(o.args[0].ref)]
		var n int
		switch v.k {
		case kindS:
			n = utf8.RuneCountInString(v.s)
		case kindB:
			n = len(v.s)
		case kindSS, kindNS, kindBS:
			n = len(v.set)
		case kindL:
			n = len(v.l)
		case kindM:
			n = len(v.m)
		case kindNone:
			return Value{}, nil
		default:
			return Value{}, fmt.Errorf("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: %s", v.k)
		}
		return Value{k: kindN, s: fmt.Sprint(n)}, nil
	case opIfNotExists:
		if v := it[s.name(o.args[0].ref)]; v.k != kindNone {
			return v, nil
		}
		return s.eval(o.args[1], it)
	case opListAppend:
		a, err := s.eval(o.args[0], it)
		if err != nil {
			return Value{}, err
		}
		b, err := s.eval(o.args[1], it)
		if err != nil {
			return Value{}, err
		}
		if a.k != kindL || b.k != kindL {
			return Value{}, missingOrType("list_append", a, b)
		}
		l := append(append([]Value{}, a.l...), b.l...)
		return Value{k: kindL, l: l}, nil
	case opPlus, opMinus:
		a, err := s.eval(o.args[0], it)
		if err != nil {
			return Value{}, err
		}
		b, err := s.eval(o.args[1], it)
		if err != nil {
			return Value{}, err
		}
		if a.k != kindN || b.k != kindN {
			return Value{}, missingOrType("+", a, b)
		}
		sign := 1
		if o.k == opMinus {
			sign = -1
		}
		return Value{k: kindN, s: addNumbers(a.s, b.s, sign)}, nil
	}
	return Value{}, fmt.Errorf("memdb: bad operand")
}

func missingOrType(op string, a, b Value) error {
	if a.k == kindNone || b.k == kindNone {
		return fmt.Errorf("The provided expression refers to an attribute that does not exist in the item")
	}
	return fmt.Errorf("An operand in the update expression has an incorrect data type; operator or function: %s", op)
}

// test evaluates a condition on item (nil item: no item).
func (s *scope) test(c *cond, it Item) (bool, error) {
	switch c.k {
	case cOr:
		a, err := s.test(c.kids[0], it)
		if err != nil || a {
			return a, err
		}
		return s.test(c.kids[1], it)
	case cAnd:
		a, err := s.test(c.kids[0], it)
		if err != nil || !a {
			return a, err
		}
		return s.test(c.kids[1], it)
	case cNot:
		a, err := s.test(c.kids[0], it)
		return !a, err
	}
	vals := make([]Value, len(c.args))
	for i, o := range c.args {
		v, err := s.eval(o, it)
		if err != nil {
			return false, err
		}
		vals[i] = v
	}
	switch c.k {
	case cCmp:
		a, b := vals[0], vals[1]
		switch c.op {
		case "=":
			return equal(a, b), nil
		case "<>":
			return !equal(a, b), nil
		}
		n, ok := compare(a, b)
		if !ok {
			return false, nil
		}
		switch c.op {
		case "<":
			return n < 0, nil
		case "<=":
			return n <= 0, nil
		case ">":
			return n > 0, nil
		}
		return n >= 0, nil
	case cBetween:
		lo, ok1 := compare(vals[0], vals[1])
		hi, ok2 := compare(vals[0], vals[2])
		return ok1 && ok2 && lo >= 0 && hi <= 0, nil
	case cIn:
		for _, v := range vals[1:] {
			if equal(vals[0], v) {
				return true, nil
			}
		}
		return false, nil
	case cFunc:
		a := vals[0]
		switch c.op {
		case "attribute_exists":
			return a.k != kindNone, nil
		case "attribute_not_exists":
			return a.k == kindNone, nil
		case "attribute_type":
			return vals[1].k == kindS && a.k != kindNone && a.k.String() == vals[1].s, nil
		case "begins_with":
			b := vals[1]
			return (a.k == kindS || a.k == kindB) && a.k == b.k && strings.HasPrefix(a.s, b.s), nil
		case "contains":
			b := vals[1]
			switch {
			case a.k == kindS && b.k == kindS:
				return strings.Contains(a.s, b.s), nil
			case a.isSet() && setKind(b.k) == a.k:
				for _, e := range a.set {
					if (b.k == kindN && compareNumbers(e, b.s) == 0) || (b.k != kindN && e == b.s) {
						return true, nil
					}
				}
			case a.k == kindL:
				for _, e := range a.l {
					if equal(e, b) {
						return true, nil
					}
				}
			}
			return false, nil
		}
	}
	return false, fmt.Errorf("memdb: bad condition")
}
