package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

// readmeBlock returns the one fenced block of README.md in language lang.
func readmeBlock(t *testing.T, lang string) string {
	t.Helper()
	_, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```"+lang+"\n(.*?)^```$").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d ```%s blocks, want 1", len(blocks), lang)
	}
	return blocks[0][1]
}

// The README's Python and JavaScript examples run, as written, against
// the local API, each with a key of a fresh account that has quota, and
// print what the API answers.
func TestReadmeExamples(t *testing.T) {
	for _, ex := range []struct {
		lang, file string
		cmd        []string
	}{
		{"python", "example.py", []string{"python3"}},
		{"js", "example.mjs", []string{"node"}},
	} {
		t.Run(ex.lang, func(t *testing.T) {
			r := call(t, "POST", "/api/v1/accounts", api.MasterKey, map[string]any{"name": "readme " + ex.lang})
			expect(t, "create account", r, 201, "")
			key := r.body["admin_key"].(map[string]any)["key"].(string)
			expect(t, "buy", call(t, "POST", "/api/v1/sessions/quota/add", key, map[string]any{"sessions": 1}), 201, "")

			path := filepath.Join(t.TempDir(), ex.file)
			if err := os.WriteFile(path, []byte(readmeBlock(t, ex.lang)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(ex.cmd[0], append(ex.cmd[1:], path)...)
			cmd.Env = append(os.Environ(), "WAICKOFF_URL="+api.URL, "WAICKOFF_KEY="+key)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", ex.cmd[0], ex.file, err, out)
			}
			// SMA(2) of the closes 1.5, 2.1, 2.0; OBV of the volumes.
			for _, want := range []string{
				`(?m)^rows \[null,1\.8,2\.05\] [1-9]\d* tokens$`,
				`(?m)^columns \[null,1\.8,2\.05\]$`,
				`(?m)^batch sma2 \{"value":\[null,1\.8,2\.05\]\}$`,
				`(?m)^batch obv \{"value":\[1000,2200,1300\]\}$`,
				`(?m)^usage [1-9]\d* tokens, [1-9]\d* requests$`,
			} {
				if !regexp.MustCompile(want).Match(out) {
					t.Errorf("no line %s in the output:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "Error") {
				t.Errorf("the example failed:\n%s", out)
			}
		})
	}
}
