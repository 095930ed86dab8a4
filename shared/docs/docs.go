// Package docs serves the API's reference for people: GET /api/v1/docs
// renders the OpenAPI document with Swagger UI, whose files (pinned in
// package-lock.json, copied with their licences into assets/ by `make
// docs-assets`) are embedded, so the page works offline and its
// Content-Security-Policy allows nothing from elsewhere.
package docs

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

//go:embed page assets
var files embed.FS

// CSP is the pages' Content-Security-Policy: scripts, styles, fonts and
// the document from this origin only; images from it or inline (Swagger
// UI's icons are data: URIs); no frames, forms, plugins or base URL.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// types are the content types of the files served, by extension.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	"":      "text/plain; charset=utf-8", // LICENSE, NOTICE
}

// Assets lists the files served under /api/v1/docs/, by name.
func Assets() ([]string, error) {
	var names []string
	for _, dir := range []string{"page", "assets"} {
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", dir, err)
		}
		for _, e := range entries {
			if e.Name() != "index.html" {
				names = append(names, e.Name())
			}
		}
	}
	return names, nil
}

// Page serves GET /api/v1/docs.
func Page() (httpapi.HandlerFunc, error) {
	b, err := files.ReadFile("page/index.html")
	if err != nil {
		return nil, fmt.Errorf("read embedded page: %w", err)
	}
	return serve(b, types[".html"]), nil
}

// Asset serves GET /api/v1/docs/{file}: the page's script and style, the
// renderer and its licences; any other name is a 404.
func Asset() (httpapi.HandlerFunc, error) {
	byName := map[string]httpapi.HandlerFunc{}
	names, err := Assets()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := fs.ReadFile(files, "page/"+name)
		if err != nil {
			b, err = fs.ReadFile(files, "assets/"+name)
		}
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", name, err)
		}
		byName[name] = serve(b, types[path.Ext(name)])
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		h := byName[r.PathValue("file")]
		if h == nil {
			return problem.New(problem.NotFound, "no such file of the docs page")
		}
		return h(w, r)
	}, nil
}

func serve(body []byte, contentType string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "public, max-age=300")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(body)
		return err
	}
}
