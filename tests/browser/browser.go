// Package browser drives headless Chromium from Go tests (chromedp): it
// opens a page and records what a person with the developer tools open
// would see go wrong (console errors, uncaught exceptions, Content-
// Security-Policy violations, failed loads) and every URL the page
// requested. It installs nothing: New fails the test with the one line
// that says how to install Chromium.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Install is how to install the browser the tests drive.
const Install = "apt-get update && apt-get install -y chromium"

// Path returns the Chromium executable: $CHROME_PATH, else chromium or
// chromium-browser on the PATH; or an error that says how to install it.
func Path() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not installed (the browser tests need it): run " + Install)
}

// Browser is one headless Chromium, stopped when the test ends.
type Browser struct {
	ctx context.Context
}

// New starts Chromium with the flags this machine needs and an empty
// profile, or fails t when it is missing.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// Page is one tab. Its methods fail the test on a browser error.
type Page struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []string
	requests []string
}

// violations collects the page's CSP violations (the console reports
// them too, but in words that vary between versions).
const violations = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " refused " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`

// Open opens url in a new tab and waits for its load event. From before
// the first byte, the tab records problems and requests.
func (b *Browser) Open(t testing.TB, url string) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &Page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.add(fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			}
		}
	}()
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			p.mu.Lock()
			p.requests = append(p.requests, e.Request.URL)
			p.mu.Unlock()
		case *network.EventLoadingFailed:
			p.add(fmt.Sprintf("load failed: %s %s", e.ErrorText, e.BlockedReason))
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				p.add(fmt.Sprintf("HTTP %d for %s", e.Response.Status, e.Response.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: violations})
			return err
		}),
		chromedp.Navigate(url))
	if err != nil {
		t.Fatalf("navigate to %s: %v", url, err)
	}
	return p
}

func (p *Page) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, s)
}

// Wait polls the JavaScript expression until it is truthy, failing the
// test after timeout with what went wrong meanwhile.
func (p *Page) Wait(expression string, timeout time.Duration) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](expression, chromedp.WithPollingTimeout(timeout))); err != nil {
		p.t.Fatalf("waiting for %s: %v; problems: %v", expression, err, p.Problems())
	}
}

// Eval evaluates the JavaScript expression and decodes its value into T.
func Eval[T any](p *Page, expression string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// Problems returns what went wrong so far: console errors, uncaught
// exceptions, CSP violations, failed loads and HTTP errors.
func (p *Page) Problems() []string {
	var csp []string
	if v, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`window.__cspViolations || []`)); err == nil {
		for _, s := range v {
			csp = append(csp, "CSP violation: "+s)
		}
	} else {
		csp = append(csp, "read the CSP violations: "+err.Error())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append(append([]string(nil), p.problems...), csp...)
}

// Requests returns every URL the page requested, in order.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Foreign returns the requests that went to another origin than origin
// ("http://127.0.0.1:3000"); data: URLs are not requests elsewhere.
func (p *Page) Foreign(origin string) []string {
	var out []string
	for _, u := range p.Requests() {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") {
			out = append(out, u)
		}
	}
	return out
}
