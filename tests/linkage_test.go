package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Only the authorizer links the master key loader (shared/masterkey): no
// other function could read the master key even with a grant.
func TestOnlyTheAuthorizerLinksTheMasterKeyLoader(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]bool{}
	for _, dir := range mustDirs(t, filepath.Join(root, "functions")) {
		cmd := exec.Command("go", "list", "-deps", "./functions/"+dir)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", dir, err, b)
		}
		links := strings.Contains(string(b), "/shared/masterkey\n")
		per[dir] = links
		if links != (dir == "authorizer") {
			t.Errorf("functions/%s links shared/masterkey: %v", dir, links)
		}
	}
	if !per["authorizer"] {
		t.Error("the authorizer does not read the master key")
	}
}

func mustDirs(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}
