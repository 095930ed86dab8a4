package samtemplate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParameterSpec is one template parameter as declared.
type ParameterSpec struct {
	Type           string
	Default        string
	HasDefault     bool
	AllowedValues  []string
	AllowedPattern string
	NoEcho         bool
}

// ParameterSpecs returns the template's parameters as declared.
func (t *Template) ParameterSpecs() map[string]ParameterSpec {
	out := make(map[string]ParameterSpec, len(t.paramSpecs))
	for k, v := range t.paramSpecs {
		out[k] = v
	}
	return out
}

// Stack is what CloudFormation knows when it resolves the template: the
// parameter values chosen at deploy time, the pseudo parameters, and the
// physical names and attributes of the resources it created.
type Stack struct {
	// Parameters are the chosen values; a parameter not named here takes
	// its Default.
	Parameters map[string]string
	Region     string // AWS::Region (default us-east-1)
	AccountID  string // AWS::AccountId (default 123456789012)
	Partition  string // AWS::Partition (default aws)
	StackName  string // AWS::StackName (default waickoff)
	// Ref answers !Ref of a resource (the physical ID: a table's name, a
	// queue's URL); nil or ok false uses the logical ID.
	Ref func(logicalID, typ string) (string, bool)
	// GetAtt answers !GetAtt of a resource; nil or ok false builds an ARN
	// from the logical ID.
	GetAtt func(logicalID, typ, attr string) (string, bool)
	// Unchecked names parameters whose value need not be one of their
	// AllowedValues (the local run's Stage=local, which no stack has).
	Unchecked []string
}

// Resolved is the template resolved for one Stack.
type Resolved struct {
	t          *Template
	s          Stack
	params     map[string]string
	conditions map[string]bool
}

// noValue is AWS::NoValue: the property it is the value of is removed.
type noValue struct{}

// Resolve evaluates the template's parameters and Conditions for s, as
// CloudFormation does at deploy time. It fails on a parameter the
// template does not declare, a parameter without a value, a value outside
// AllowedValues or AllowedPattern, or a Condition it cannot evaluate.
func (t *Template) Resolve(s Stack) (*Resolved, error) {
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.AccountID == "" {
		s.AccountID = "123456789012"
	}
	if s.Partition == "" {
		s.Partition = "aws"
	}
	if s.StackName == "" {
		s.StackName = "waickoff"
	}
	r := &Resolved{t: t, s: s, params: map[string]string{}, conditions: map[string]bool{}}
	var errs []error
	for name := range s.Parameters {
		if _, ok := t.paramSpecs[name]; !ok {
			errs = append(errs, fmt.Errorf("parameter %s: the template declares no such parameter", name))
		}
	}
	for name, spec := range t.paramSpecs {
		v, ok := s.Parameters[name]
		if !ok {
			if !spec.HasDefault {
				errs = append(errs, fmt.Errorf("parameter %s: no value and no default", name))
				continue
			}
			v = spec.Default
		}
		if slices.Contains(s.Unchecked, name) {
			spec.AllowedValues = nil
		}
		if err := spec.check(v); err != nil {
			errs = append(errs, fmt.Errorf("parameter %s: %w", name, err))
			continue
		}
		r.params[name] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	names := make([]string, 0, len(t.conditions))
	for name := range t.conditions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := r.condition(name, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (p ParameterSpec) check(v string) error {
	if len(p.AllowedValues) > 0 {
		ok := false
		for _, a := range p.AllowedValues {
			ok = ok || a == v
		}
		if !ok {
			return fmt.Errorf("%q is not one of %q", v, p.AllowedValues)
		}
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
		if err != nil {
			return fmt.Errorf("AllowedPattern: %w", err)
		}
		if !re.MatchString(v) {
			return fmt.Errorf("%q does not match %s", v, p.AllowedPattern)
		}
	}
	if p.Type == "Number" {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	}
	return nil
}

// Parameter returns the value of a parameter.
func (r *Resolved) Parameter(name string) string { return r.params[name] }

// Condition returns the value of a template Condition.
func (r *Resolved) Condition(name string) bool { return r.conditions[name] }

// Environment returns the environment a function runs with: the Globals
// variables, then the function's own (which win), each resolved; a
// variable whose value is AWS::NoValue is absent, as in Lambda. The
// function "" has the Globals alone.
func (r *Resolved) Environment(function string) (map[string]string, error) {
	f, ok := r.t.Functions[function]
	if !ok && function != "" {
		return nil, fmt.Errorf("no function %s in the template", function)
	}
	env := map[string]string{}
	for _, layer := range []map[string]yaml.Node{r.t.globalEnv, f.env} {
		for name, n := range layer {
			n := n
			v, err := r.eval(&n)
			if err != nil {
				return nil, fmt.Errorf("%s: environment %s: %w", function, name, err)
			}
			switch v := v.(type) {
			case noValue:
				delete(env, name)
			case string:
				env[name] = v
			default:
				return nil, fmt.Errorf("%s: environment %s: not a string but %T", function, name, v)
			}
		}
	}
	return env, nil
}

// Variables returns the name of every environment variable the template
// sets, in the Globals or in any function.
func (t *Template) Variables() map[string]bool {
	out := map[string]bool{}
	for name := range t.globalEnv {
		out[name] = true
	}
	for _, f := range t.Functions {
		for name := range f.env {
			out[name] = true
		}
	}
	return out
}

// VariableParameters maps each environment variable whose value depends
// on exactly one parameter (directly or through !If, !Sub, ...) to that
// parameter, over the Globals and every function's variables. The local
// run uses it to take the parameters from variables of the same names.
func (t *Template) VariableParameters() map[string]string {
	out := map[string]string{}
	add := func(layer map[string]yaml.Node) {
		for name, n := range layer {
			n := n
			ps := map[string]bool{}
			t.paramRefs(&n, ps)
			if len(ps) == 1 {
				for p := range ps {
					out[name] = p
				}
			}
		}
	}
	add(t.globalEnv)
	for _, id := range t.FunctionIDs() {
		add(t.Functions[id].env)
	}
	return out
}

func (t *Template) paramRefs(n *yaml.Node, out map[string]bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!Ref":
			if _, ok := t.paramSpecs[n.Value]; ok {
				out[n.Value] = true
			}
		case "!Sub":
			for _, m := range subVar.FindAllStringSubmatch(n.Value, -1) {
				if _, ok := t.paramSpecs[m[1]]; ok {
					out[m[1]] = true
				}
			}
		}
		return
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref" {
		if _, ok := t.paramSpecs[n.Content[1].Value]; ok {
			out[n.Content[1].Value] = true
		}
		return
	}
	for _, c := range n.Content {
		t.paramRefs(c, out)
	}
}

// subVar matches ${Name} and ${Name.Attr} in a !Sub string (not ${!...}).
var subVar = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}`)

// intrinsic returns the function name and argument node of an intrinsic
// function in short (!If) or long (Fn::If:) form.
func intrinsic(n *yaml.Node) (string, *yaml.Node, bool) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := n.Tag[1:]
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		arg := *n
		arg.Tag = ""
		switch arg.Kind {
		case yaml.ScalarNode:
			arg.Tag = "!!str"
		case yaml.SequenceNode:
			arg.Tag = "!!seq"
		case yaml.MappingNode:
			arg.Tag = "!!map"
		}
		return name, &arg, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, n.Content[1], true
		}
	}
	return "", nil, false
}

func (r *Resolved) eval(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return r.eval(n.Alias)
	}
	if fn, arg, ok := intrinsic(n); ok {
		return r.call(fn, arg)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		var out []any
		for _, c := range n.Content {
			v, err := r.eval(c)
			if err != nil {
				return nil, err
			}
			if _, skip := v.(noValue); !skip {
				out = append(out, v)
			}
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := r.eval(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if _, skip := v.(noValue); !skip {
				out[n.Content[i].Value] = v
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unsupported node", n.Line)
}

func (r *Resolved) args(arg *yaml.Node, fn string, count int) ([]*yaml.Node, error) {
	if arg.Kind != yaml.SequenceNode || (count >= 0 && len(arg.Content) != count) {
		return nil, fmt.Errorf("line %d: %s wants a list of %d", arg.Line, fn, count)
	}
	return arg.Content, nil
}

func (r *Resolved) str(n *yaml.Node) (string, error) {
	v, err := r.eval(n)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("line %d: want a string, got %T", n.Line, v)
	}
	return s, nil
}

func (r *Resolved) call(fn string, arg *yaml.Node) (any, error) {
	switch fn {
	case "Ref":
		return r.ref(arg.Value)
	case "Fn::GetAtt":
		var id, attr string
		if arg.Kind == yaml.SequenceNode && len(arg.Content) == 2 {
			id, attr = arg.Content[0].Value, arg.Content[1].Value
		} else {
			id, attr, _ = strings.Cut(arg.Value, ".")
		}
		return r.getAtt(id, attr)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::If":
		a, err := r.args(arg, fn, 3)
		if err != nil {
			return nil, err
		}
		c, err := r.condition(a[0].Value, nil)
		if err != nil {
			return nil, err
		}
		if c {
			return r.eval(a[1])
		}
		return r.eval(a[2])
	case "Fn::Join":
		a, err := r.args(arg, fn, 2)
		if err != nil {
			return nil, err
		}
		list, err := r.eval(a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("line %d: Fn::Join wants a list", arg.Line)
		}
		parts := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("line %d: Fn::Join of a %T", arg.Line, it)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, a[0].Value), nil
	case "Condition", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return r.boolean(fn, arg, nil)
	}
	return nil, fmt.Errorf("line %d: %s is not an intrinsic function the local run resolves", arg.Line, fn)
}

func (r *Resolved) ref(name string) (any, error) {
	switch name {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::Region":
		return r.s.Region, nil
	case "AWS::AccountId":
		return r.s.AccountID, nil
	case "AWS::Partition":
		return r.s.Partition, nil
	case "AWS::StackName":
		return r.s.StackName, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	typ, ok := r.t.resources[name]
	if !ok {
		return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	if r.s.Ref != nil {
		if v, ok := r.s.Ref(name, typ); ok {
			return v, nil
		}
	}
	return name, nil
}

func (r *Resolved) getAtt(id, attr string) (any, error) {
	typ, ok := r.t.resources[id]
	if !ok {
		return nil, fmt.Errorf("!GetAtt %s.%s: no such resource", id, attr)
	}
	if r.s.GetAtt != nil {
		if v, ok := r.s.GetAtt(id, typ, attr); ok {
			return v, nil
		}
	}
	svc := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(typ, "AWS::"), "Serverless::"))
	svc, _, _ = strings.Cut(svc, "::")
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s/%s", r.s.Partition, svc, r.s.Region, r.s.AccountID, id, attr), nil
}

func (r *Resolved) sub(arg *yaml.Node) (any, error) {
	text, vars := arg.Value, map[string]string{}
	if arg.Kind == yaml.SequenceNode {
		if len(arg.Content) != 2 || arg.Content[1].Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: Fn::Sub wants a string or [string, {vars}]", arg.Line)
		}
		text = arg.Content[0].Value
		m := arg.Content[1]
		for i := 0; i+1 < len(m.Content); i += 2 {
			v, err := r.str(m.Content[i+1])
			if err != nil {
				return nil, err
			}
			vars[m.Content[i].Value] = v
		}
	}
	var err error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		g := subVar.FindStringSubmatch(m)
		if v, ok := vars[g[1]]; ok && g[2] == "" {
			return v
		}
		var v any
		var e error
		if g[2] != "" {
			v, e = r.getAtt(g[1], g[2])
		} else {
			v, e = r.ref(g[1])
		}
		if e == nil {
			if s, ok := v.(string); ok {
				return s
			}
			e = fmt.Errorf("Fn::Sub %s: not a string", m)
		}
		if err == nil {
			err = e
		}
		return m
	})
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(out, "${!", "${"), nil
}

// condition evaluates a named Condition (memoised); seen guards cycles.
func (r *Resolved) condition(name string, seen map[string]bool) (bool, error) {
	if v, ok := r.conditions[name]; ok {
		return v, nil
	}
	n, ok := r.t.conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not defined", name)
	}
	if seen[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	if seen == nil {
		seen = map[string]bool{}
	}
	seen[name] = true
	fn, arg, ok := intrinsic(&n)
	if !ok {
		return false, fmt.Errorf("condition %s is not a condition function", name)
	}
	v, err := r.boolean(fn, arg, seen)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	r.conditions[name] = v
	return v, nil
}

func (r *Resolved) boolean(fn string, arg *yaml.Node, seen map[string]bool) (bool, error) {
	sub := func(n *yaml.Node) (bool, error) {
		f, a, ok := intrinsic(n)
		if !ok {
			return false, fmt.Errorf("line %d: want a condition function", n.Line)
		}
		return r.boolean(f, a, seen)
	}
	switch fn {
	case "Condition":
		return r.condition(arg.Value, seen)
	case "Fn::Equals":
		a, err := r.args(arg, fn, 2)
		if err != nil {
			return false, err
		}
		x, err := r.str(a[0])
		if err != nil {
			return false, err
		}
		y, err := r.str(a[1])
		if err != nil {
			return false, err
		}
		return x == y, nil
	case "Fn::Not":
		a, err := r.args(arg, fn, 1)
		if err != nil {
			return false, err
		}
		v, err := sub(a[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		a, err := r.args(arg, fn, -1)
		if err != nil {
			return false, err
		}
		and := fn == "Fn::And"
		out := and
		for _, c := range a {
			v, err := sub(c)
			if err != nil {
				return false, err
			}
			if and {
				out = out && v
			} else {
				out = out || v
			}
		}
		return out, nil
	}
	return false, fmt.Errorf("line %d: %s is not a condition function", arg.Line, fn)
}
