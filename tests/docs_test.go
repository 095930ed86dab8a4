package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/docs"
	"github.com/waickoff/waickoff/tests/browser"
)

// GET /api/v1/docs, loaded in headless Chromium from the local API,
// renders every operation of the served OpenAPI document, with nothing
// on the console, no CSP violation, and no request to another origin.
func TestDocsPageRendersEveryOperation(t *testing.T) {
	resp, err := http.Get(api.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for path, item := range doc.Paths {
		for method := range item {
			if slices.Contains([]string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}, method) {
				want = append(want, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(want)

	page := browser.New(t).Open(t, api.URL+"/api/v1/docs")
	page.Wait(`document.querySelectorAll(".opblock").length > 0`, 30*time.Second)
	got := browser.Eval[[]string](page, `Array.from(document.querySelectorAll(".opblock")).map(op =>
		op.querySelector(".opblock-summary-method").textContent + " " +
		op.querySelector(".opblock-summary-path").getAttribute("data-path"))`)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("the page renders %d operations, the document has %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	if p := page.Problems(); len(p) > 0 {
		t.Errorf("the page went wrong:\n  %s", strings.Join(p, "\n  "))
	}
	if f := page.Foreign(api.URL); len(f) > 0 {
		t.Errorf("the page requested other origins: %v", f)
	}
}

// The page and each of its files carry the CSP; the renderer's licence
// is served with it; an unknown file is a problem+json 404.
func TestDocsFiles(t *testing.T) {
	names, err := docs.Assets()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE", "docs.js", "docs.css"} {
		if !slices.Contains(names, want) {
			t.Errorf("the docs page does not serve %s", want)
		}
	}
	for _, tc := range []struct{ path, contentType string }{
		{"/api/v1/docs", "text/html; charset=utf-8"},
		{"/api/v1/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
		{"/api/v1/docs/swagger-ui.css", "text/css; charset=utf-8"},
		{"/api/v1/docs/LICENSE", "text/plain; charset=utf-8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(api.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.contentType || len(body) == 0 {
				t.Fatalf("%d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != docs.CSP {
				t.Errorf("CSP %q, want %q", got, docs.CSP)
			}
		})
	}
	resp, err := http.Get(api.URL + "/api/v1/docs/nothing.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown file: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
