package tests

import (
	"flag"
	"fmt"
	"strings"

	"github.com/waickoff/waickoff/infra/iam"
	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// iamUses records every store call a function's role allowed, in every
// local API the suite starts: the measure of what each role needs.
var iamUses = iam.NewRecorder()

// unusedAllowed are the grants the suite cannot measure, each with why.
var unusedAllowed = map[string]string{
	// A secret under a customer managed KMS key is decrypted by Secrets
	// Manager on the caller's behalf (the condition holds it to that
	// secret); the local stand-in has no KMS, and a secret under the
	// AWS managed key needs no grant at all.
	"AuthorizerFunction: kms:Decrypt on *": "no KMS locally",
}

// checkLeastPrivilege fails the run when the template grants a function
// an action (on a table, index or partition key) that none of the
// suite's calls needed: each role holds exactly what its function calls
// (a call it lacks fails as an AccessDenied, IAMDenied). It needs the
// whole suite: with -run or -skip, it says so and checks nothing.
func checkLeastPrivilege(tpl *samtemplate.Template) error {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			fmt.Printf("least privilege not checked: -%s runs part of the suite\n", strings.TrimPrefix(name, "test."))
			return nil
		}
	}
	unused, err := local.UnusedGrants(tpl, iamUses)
	if err != nil {
		return err
	}
	var lines, called []string
	for _, fn := range tpl.FunctionIDs() {
		n := len(lines)
		for _, g := range unused[fn] {
			if _, ok := unusedAllowed[fn+": "+g]; !ok {
				lines = append(lines, fn+": "+g)
			}
		}
		if len(lines) > n {
			for _, u := range iamUses.Uses(fn) {
				called = append(called, fmt.Sprintf("%s: %s on %s, keys like %q", fn, u.Action, u.Resource, u.Keys))
			}
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("template.yaml grants what no call of the suite needed (drop it, or reach it in a test):\n  %s\nwhat those functions called:\n  %s",
		strings.Join(lines, "\n  "), strings.Join(called, "\n  "))
}
