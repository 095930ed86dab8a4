package dashboard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/httpapi"
)

func server() *httpapi.Server {
	s := httpapi.New(httpapi.Options{})
	Mount(s)
	return s
}

func TestServesPageAndAssets(t *testing.T) {
	s := server()
	for _, tc := range []struct {
		path, ctype string
		status      int
	}{
		{"/dashboard", "text/html; charset=utf-8", 200},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", 200},
		{"/dashboard/app.css", "text/css; charset=utf-8", 200},
		{"/dashboard/lightweight-charts.standalone.production.mjs", "text/javascript; charset=utf-8", 200},
		{"/dashboard/uPlot.min.css", "text/css; charset=utf-8", 200},
		{"/dashboard/LICENSES.txt", "text/plain; charset=utf-8", 200},
		{"/dashboard/nope.js", "application/problem+json", 404},
		{"/dashboard/index.html", "application/problem+json", 404},
		{"/dashboard/vendor", "application/problem+json", 404},
		{"/dashboard/dashboard.go", "application/problem+json", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != tc.status || w.Header().Get("Content-Type") != tc.ctype {
				t.Fatalf("%s: %d %q, want %d %q", tc.path, w.Code, w.Header().Get("Content-Type"), tc.status, tc.ctype)
			}
			if tc.status != 200 {
				return
			}
			h := w.Header()
			for k, want := range map[string]string{"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
				"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// The policy forbids inline code, eval, other origins and framing.
func TestCSPIsStrict(t *testing.T) {
	for _, must := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'", "style-src 'self';"} {
		if !strings.Contains(CSP, must) {
			t.Errorf("CSP lacks %q", must)
		}
	}
	for _, never := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(CSP, never) {
			t.Errorf("CSP allows %q", never)
		}
	}
}

// No page file loads anything from elsewhere, has inline script or an
// inline handler, writes HTML from strings, or keeps the key beyond
// sessionStorage.
func TestAssetsLoadNothingFromElsewhere(t *testing.T) {
	forbidden := []*regexp.Regexp{
		regexp.MustCompile(`<script>`), regexp.MustCompile(`\son[a-z]+="`), regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML`),
		regexp.MustCompile(`document\.write|eval\(|new Function`), regexp.MustCompile(`import[^;]*https?://`),
		regexp.MustCompile(`localStorage|document\.cookie`),
	}
	absolute := regexp.MustCompile(`(src|href)="https?://[^"]*"`)
	for _, f := range []string{"index.html", "app.js", "api.js", "dom.js", "views.js", "analysis.js", "charts.js", "app.css"} {
		b, err := assets.ReadFile("assets/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range forbidden {
			if re.Match(b) {
				t.Errorf("%s matches %q", f, re)
			}
		}
		for _, m := range absolute.FindAllString(string(b), -1) {
			if m != `href="https://www.tradingview.com/"` { // the attribution link the chart license asks for
				t.Errorf("%s loads %s", f, m)
			}
		}
	}
}

// The vendored libraries are the versions package.json pins.
func TestVendoredVersionsArePinned(t *testing.T) {
	var pkg struct{ Dependencies map[string]string }
	b, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	lic, _ := assets.ReadFile("assets/vendor/LICENSES.txt")
	for name, v := range pkg.Dependencies {
		if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
			t.Errorf("%s is pinned as %q, want an exact version", name, v)
		}
		if !strings.Contains(string(lic), name+" "+v+"\n") {
			t.Errorf("LICENSES.txt does not carry %s %s: run make dashboard-assets", name, v)
		}
	}
	lwc, _ := assets.ReadFile("assets/vendor/lightweight-charts.standalone.production.mjs")
	if want := "Lightweight Charts™ v" + pkg.Dependencies["lightweight-charts"]; !strings.Contains(string(lwc[:300]), want) {
		t.Errorf("vendored lightweight-charts is not %s", want)
	}
}
