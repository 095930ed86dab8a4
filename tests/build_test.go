package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every function cross-compiles for Lambda (linux/arm64, provided.al2023)
// through its Makefile target, exactly as `sam build` runs it, and each
// bootstrap stays under 10 MB.
func TestEveryLambdaBuildsThroughItsMakeTarget(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := regexp.MustCompile(`(?m)^(build-\w+Function):`).FindAllStringSubmatch(string(makefile), -1)
	if len(targets) != len(api.Template.Functions) {
		t.Fatalf("%d build targets for %d functions", len(targets), len(api.Template.Functions))
	}
	out := t.TempDir()
	args := []string{"--no-print-directory", "-C", root, "-j2", "BUILD_DIR=" + out}
	for _, m := range targets {
		args = append(args, m[1])
	}
	cmd := exec.Command("make", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build targets: %v\n%s", err, b)
	}
	for _, m := range targets {
		id := strings.TrimPrefix(m[1], "build-")
		fi, err := os.Stat(filepath.Join(out, id, "bootstrap"))
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		t.Logf("%-28s %5.1f MB", id, float64(fi.Size())/1e6)
		if fi.Size() > 10_000_000 {
			t.Errorf("%s bootstrap is %d bytes, over 10 MB", id, fi.Size())
		}
	}
}
