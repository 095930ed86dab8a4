package docs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/docs"
)

// The committed renderer is the version package.json pins exactly and
// package-lock.json locks, with its licence; when node_modules is there
// (make docs-assets), each committed file is the package's own.
func TestAssetsArePinned(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	for file, v := range map[string]any{"package.json": &pkg, "package-lock.json": &lock} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	version := pkg.Dependencies["swagger-ui-dist"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
		t.Fatalf("package.json pins swagger-ui-dist at %q, not an exact version", version)
	}
	if got := lock.Packages["node_modules/swagger-ui-dist"].Version; got != version {
		t.Fatalf("package-lock.json locks swagger-ui-dist %q, package.json pins %q", got, version)
	}
	bundle, err := os.ReadFile("assets/swagger-ui-bundle.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bundle, []byte(`PACKAGE_VERSION:"`+version+`"`)) {
		t.Errorf("assets/swagger-ui-bundle.js is not swagger-ui-dist %s: run make docs-assets", version)
	}
	for _, f := range []string{"LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"} {
		if fi, err := os.Stat(filepath.Join("assets", f)); err != nil || fi.Size() == 0 {
			t.Errorf("assets/%s, the renderer's licence, is missing", f)
		}
	}
	if _, err := os.Stat("node_modules/swagger-ui-dist"); err == nil {
		entries, err := os.ReadDir("assets")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			a, _ := os.ReadFile(filepath.Join("assets", e.Name()))
			b, err := os.ReadFile(filepath.Join("node_modules/swagger-ui-dist", e.Name()))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("assets/%s differs from node_modules/swagger-ui-dist: run make docs-assets", e.Name())
			}
		}
	}
}

// Every file the page links is served: the page names no file that
// Asset does not know.
func TestPageLinksServedFiles(t *testing.T) {
	page, err := docs.Page()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := page(rec, httptest.NewRequest(http.MethodGet, "/api/v1/docs", nil)); err != nil {
		t.Fatal(err)
	}
	names, err := docs.Assets()
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`(?:src|href)="docs/([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1)
	if len(links) < 4 {
		t.Fatalf("the page links %d files, want its script, style and renderer's", len(links))
	}
	for _, m := range links {
		if !slices.Contains(names, m[1]) {
			t.Errorf("the page links docs/%s, which is not served", m[1])
		}
	}
	if got := rec.Header().Get("Content-Security-Policy"); got != docs.CSP {
		t.Errorf("CSP %q", got)
	}
	for _, elsewhere := range []string{"http:", "https:", "//"} {
		if strings.Contains(docs.CSP, elsewhere) {
			t.Errorf("the CSP allows %s", elsewhere)
		}
	}
}
