package local

import (
	"fmt"

	"github.com/waickoff/waickoff/infra/iam"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// UnusedGrants compares what the template grants each function (resolved
// as a local run resolves it, tables under their logical IDs as
// iam.Recorder names them) with what rec recorded the functions calling,
// and returns, by function, each grant no recorded call needed
// (iam.Unused).
func UnusedGrants(tpl *samtemplate.Template, rec *iam.Recorder) (map[string][]string, error) {
	names := map[string]string{}
	for id := range tpl.Tables {
		names[id] = id
	}
	s := Stack(names, Parameters(tpl, func(string) string { return "" }, true))
	s.Unchecked = []string{"Stage"} // "local", as in Environments
	r, err := tpl.Resolve(s)
	if err != nil {
		return nil, fmt.Errorf("resolve the template: %w", err)
	}
	out := map[string][]string{}
	for _, fn := range tpl.FunctionIDs() {
		sts, err := r.Policies(fn)
		if err != nil {
			return nil, err
		}
		if unused := iam.Unused(sts, rec.Uses(fn)); len(unused) > 0 {
			out[fn] = unused
		}
	}
	return out, nil
}
