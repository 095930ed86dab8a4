// Package lambdasize builds every Lambda through its Makefile target, as
// `sam build` does, and holds each bootstrap to its size goal (issue 11):
// a function links only what it serves.
package lambdasize

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

const mib = 1 << 20

// Goals, in MiB of a stripped linux/arm64 bootstrap: aws-lambda-go and
// the API proxy alone are 5.6; a DynamoDB client adds about 1.9.
const (
	storelessGoal = 6.0 * mib // a function that never reaches the store
	goal          = 7.8 * mib // every other one
)

// withAssets are the store-less functions that embed a web page's
// assets; they are held to the general goal, assets included.
var withAssets = map[string]bool{"DocsFunction": true, "DashboardFunction": true}

// withEngine are the store-less functions that link the indicator engine
// (the dry-run quote computes the answer it prices); they are held to the
// general goal, and still must not link the DynamoDB client.
var withEngine = map[string]bool{"IndicatorQuoteFunction": true}

// withMCPSDK are the functions that link the official MCP Go SDK (its
// protocol, client and server, JSON Schema validator and JSON codec):
// 1.8 MiB over the general goal.
var withMCPSDK = map[string]bool{"McpFunction": true}

const mcpGoal = 9.8 * mib

// dynamoModule is the DynamoDB client's module: a function with no table
// policy must not build with it.
const dynamoModule = "github.com/aws/aws-sdk-go-v2/service/dynamodb"

// Every function cross-compiles for Lambda (linux/arm64,
// provided.al2023) through its build-<LogicalId> target, exactly as
// `sam build` runs it, and each bootstrap meets its goal. `make sizes`
// runs this test with -v, which prints the table.
func TestLambdaSizes(t *testing.T) {
	tpl, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := regexp.MustCompile(`(?m)^build-(\w+Function):`).FindAllStringSubmatch(string(makefile), -1)
	if len(targets) != len(tpl.Functions) {
		t.Fatalf("%d build targets for %d functions", len(targets), len(tpl.Functions))
	}
	out := t.TempDir()
	// One make, two jobs, the one Go build cache: the shared packages
	// compile once.
	args := []string{"--no-print-directory", "-C", root, "-j2", "BUILD_DIR=" + out}
	for _, m := range targets {
		args = append(args, "build-"+m[1])
	}
	if b, err := exec.Command("make", args...).CombinedOutput(); err != nil {
		t.Fatalf("make build targets: %v\n%s", err, b)
	}
	resolved, err := tpl.Resolve(samtemplate.Stack{})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-28s %9s %6s %6s  %s\n", "function", "bytes", "MiB", "goal", "store")
	var total int64
	for _, m := range targets {
		id := m[1]
		bootstrap := filepath.Join(out, id, "bootstrap")
		fi, err := os.Stat(bootstrap)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		total += fi.Size()
		storeless := !reachesStore(t, resolved, id)
		limit := float64(goal)
		if storeless && !withAssets[id] && !withEngine[id] {
			limit = storelessGoal
		}
		if withMCPSDK[id] {
			limit = mcpGoal
		}
		fmt.Fprintf(&table, "%-28s %9d %6.2f %6.1f  %s\n", id, fi.Size(), float64(fi.Size())/mib, limit/mib, map[bool]string{true: "-", false: "yes"}[storeless])
		if float64(fi.Size()) > limit {
			t.Errorf("%s bootstrap is %d bytes (%.2f MiB), over its goal of %.1f MiB", id, fi.Size(), float64(fi.Size())/mib, limit/mib)
		}
		if storeless {
			info, err := exec.Command("go", "version", "-m", bootstrap).Output()
			if err != nil {
				t.Fatalf("go version -m %s: %v", id, err)
			}
			if strings.Contains(string(info), "\t"+dynamoModule+"\t") {
				t.Errorf("%s has no table policy but links the DynamoDB client", id)
			}
		}
	}
	fmt.Fprintf(&table, "%-28s %9d %6.1f\n", "all", total, float64(total)/mib)
	t.Log(table.String())
}

// reachesStore reports whether function's role grants a DynamoDB action.
func reachesStore(t *testing.T, r *samtemplate.Resolved, function string) bool {
	t.Helper()
	sts, err := r.Policies(function)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "dynamodb:") {
				return true
			}
		}
	}
	return false
}
