package iam

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

// Use is an action a function was allowed and called on one resource.
type Use struct {
	Action   string // "dynamodb:UpdateItem"
	Resource string // the table's ARN (under its logical ID), index's or secret's
	// Keys are example partition key values the calls named
	// (dynamodb:LeadingKeys), a few for each shape (the value up to its
	// first '#'); "" stands for calls that named none (a Scan, a Query on
	// an index).
	Keys []string
}

// maxExamples bounds the partition key values kept for one shape.
const maxExamples = 4

// Recorder collects what functions were allowed and called, over any
// number of clients and local runs: the measure of what their roles need.
type Recorder struct {
	mu   sync.Mutex
	uses map[string]map[[2]string]map[string][]string // function -> {action, resource} -> shape -> examples
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{uses: map[string]map[[2]string]map[string][]string{}}
}

func (r *Recorder) add(function, action, resource string, keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byRes := r.uses[function]
	if byRes == nil {
		byRes = map[[2]string]map[string][]string{}
		r.uses[function] = byRes
	}
	slot := [2]string{action, resource}
	shapes := byRes[slot]
	if shapes == nil {
		shapes = map[string][]string{}
		byRes[slot] = shapes
	}
	if len(keys) == 0 {
		keys = []string{""}
	}
	for _, k := range keys {
		shape, _, _ := strings.Cut(k, "#")
		ex := shapes[shape]
		if len(ex) < maxExamples && !contains(ex, k) {
			shapes[shape] = append(ex, k)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Uses returns what function was allowed and called, sorted.
func (r *Recorder) Uses(function string) []Use {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Use
	for slot, shapes := range r.uses[function] {
		u := Use{Action: slot[0], Resource: slot[1]}
		for _, ex := range shapes {
			u.Keys = append(u.Keys, ex...)
		}
		sort.Strings(u.Keys)
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Resource != out[j].Resource {
			return out[i].Resource < out[j].Resource
		}
		return out[i].Action < out[j].Action
	})
	return out
}

// Unused returns what statements grant that none of uses needed, one line
// each: an Allow statement's action on one of its resources that no use
// matches under the statement's conditions, a dynamodb:LeadingKeys value
// that no such use's key matches, and any action pattern with a wildcard
// (it grants actions nobody measured). A role is least privilege for the
// uses when it gives none.
func Unused(sts []samtemplate.Statement, uses []Use) []string {
	var out []string
	for _, st := range sts {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Action {
			if strings.ContainsAny(a, "*?") {
				out = append(out, fmt.Sprintf("%s (a wildcard) on %s", a, strings.Join(st.Resource, ", ")))
				continue
			}
			for _, res := range st.Resource {
				keys := matchingKeys(st, a, res, uses)
				if keys == nil {
					out = append(out, fmt.Sprintf("%s on %s", a, res))
					continue
				}
				for _, v := range leadingKeys(st) {
					if !anyOf(keys, []string{v}, Match) {
						out = append(out, fmt.Sprintf("%s on %s for dynamodb:LeadingKeys %s", a, res, v))
					}
				}
			}
		}
	}
	return out
}

// matchingKeys returns the example keys of the uses of action on resource
// that st's conditions allow (a keyless use as ""), nil when there is none.
func matchingKeys(st samtemplate.Statement, action, resource string, uses []Use) []string {
	var keys []string
	for _, u := range uses {
		if !matchesAny([]string{action}, u.Action, true) || !Match(resource, u.Resource) {
			continue
		}
		for _, k := range u.Keys {
			n := Need{}
			if k != "" {
				n.Keys = []string{k}
			}
			if conditionsHold(st.Condition, n) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// leadingKeys returns the dynamodb:LeadingKeys values of st's conditions.
func leadingKeys(st samtemplate.Statement) []string {
	var out []string
	for _, keys := range st.Condition {
		out = append(out, keys["dynamodb:LeadingKeys"]...)
	}
	return out
}
