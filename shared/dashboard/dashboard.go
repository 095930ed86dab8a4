// Package dashboard serves the customer dashboard: a single-page app of
// plain HTML, CSS and ES modules embedded in the binary (the chart
// libraries included, copied from npm by vendor.sh), under a strict
// Content-Security-Policy. The page calls the public API with the
// customer's key; it holds no server state of its own.
package dashboard

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

//go:embed assets
var assets embed.FS

// CSP allows the page's own scripts, styles and API calls and nothing
// else: no inline script or style, no eval, no other origin, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Routes are the template's paths of the dashboard function: the page,
// and its files by name (flat: /dashboard/app.js, /dashboard/uPlot.esm.js).
const (
	Route     = "GET /dashboard"
	FileRoute = "GET /dashboard/{file}"
)

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
}

// Mount adds the dashboard's routes to s.
func Mount(s *httpapi.Server) {
	s.Handle(Route, httpapi.Public, Handler())
	s.Handle(FileRoute, httpapi.Public, Handler())
}

// Handler serves the page at /dashboard and its files at
// /dashboard/<name>; any other path is a 404 problem.
func Handler() httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		SetSecurityHeaders(w.Header()) // on the 404 problems too
		name, ok := assetName(r.URL.Path)
		if !ok {
			return problem.New(problem.NotFound, "no such dashboard file")
		}
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			return problem.New(problem.NotFound, "no such dashboard file")
		}
		h := w.Header()
		ct := contentTypes[path.Ext(name)]
		if ct == "" {
			ct = mime.TypeByExtension(path.Ext(name))
		}
		h.Set("Content-Type", ct)
		if strings.HasPrefix(name, "assets/vendor/") { // pinned: a new version has a new build
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return nil
		}
		_, err = w.Write(b)
		return err
	}
}

// SetSecurityHeaders sets the headers every dashboard answer carries.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// files maps each served name to its file in the embedded tree: every
// file of assets/ and assets/vendor/ by its base name.
var files = func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, dup := m[path.Base(p)]; dup {
				panic("dashboard: two assets named " + path.Base(p))
			}
			m[path.Base(p)] = p
		}
		return err
	})
	return m
}()

// assetName maps a request path to a file of the embedded tree: the page
// for /dashboard, a file by its name for /dashboard/<name>.
func assetName(p string) (string, bool) {
	if p == "/dashboard" {
		return "assets/index.html", true
	}
	name, ok := strings.CutPrefix(p, "/dashboard/")
	if !ok || name == "index.html" {
		return "", false
	}
	f, ok := files[name]
	return f, ok
}
