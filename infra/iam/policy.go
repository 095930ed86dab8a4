package iam

import "strings"

// operators are the condition operators the emulation evaluates, on the
// multivalued dynamodb:LeadingKeys: ForAllValues holds when every value of
// the request matches one of the condition's (and, as in IAM, when the
// request names no key at all: a Scan, a Query on an index), ForAnyValue
// when one does.
var operators = map[string]func(req, cond []string) bool{
	"ForAllValues:StringEquals": func(req, cond []string) bool { return all(req, cond, equal) },
	"ForAllValues:StringLike":   func(req, cond []string) bool { return all(req, cond, Match) },
	"ForAnyValue:StringEquals":  func(req, cond []string) bool { return anyOf(req, cond, equal) },
	"ForAnyValue:StringLike":    func(req, cond []string) bool { return anyOf(req, cond, Match) },
}

// knownConditionKeys are the condition keys of DynamoDB calls the
// emulation knows.
var knownConditionKeys = map[string]bool{"dynamodb:LeadingKeys": true}

func equal(pattern, s string) bool { return pattern == s }

func all(req, cond []string, match func(p, s string) bool) bool {
	for _, v := range req {
		if !anyOf([]string{v}, cond, match) {
			return false
		}
	}
	return true
}

func anyOf(req, cond []string, match func(p, s string) bool) bool {
	for _, v := range req {
		for _, c := range cond {
			if match(c, v) {
				return true
			}
		}
	}
	return false
}

// appliesToDynamoDB reports whether a statement names a DynamoDB action.
func appliesToDynamoDB(actions []string) bool {
	for _, a := range actions {
		if a == "*" || strings.HasPrefix(strings.ToLower(a), "dynamodb:") {
			return true
		}
	}
	return false
}

// Allows evaluates the policy for one need as IAM does: an explicit Deny
// wins, then any Allow whose action, resource and conditions match.
func (p Policy) Allows(n Need) bool {
	arn := p.TableARN(n.Table)
	if n.Index != "" {
		arn += "/index/" + n.Index
	}
	return p.allows("dynamodb:"+n.Action, arn, n)
}

func (p Policy) allows(action, arn string, n Need) bool {
	allowed := false
	for _, st := range p.Statements {
		if !matchesAny(st.Action, action, true) || !matchesAny(st.Resource, arn, false) || !conditionsHold(st.Condition, n) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func matchesAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Match(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Match(p, s) {
			return true
		}
	}
	return false
}

func conditionsHold(c map[string]map[string][]string, n Need) bool {
	for op, keys := range c {
		eval := operators[op]
		for k, vals := range keys {
			if k != "dynamodb:LeadingKeys" || eval == nil || !eval(n.Keys, vals) {
				return false
			}
		}
	}
	return true
}

// Match matches s against a pattern where * matches any run and ? one
// character, as IAM's StringLike and resource patterns do (the local
// gateway matches an authorizer policy's resources with it too).
func Match(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if Match(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}
