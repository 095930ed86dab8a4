package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Do runs chromedp actions in the tab (clicks, typing, navigation),
// failing the test on an error.
func (p *Page) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v; problems: %v", what, err, p.Problems())
	}
}

// Click clicks the first element the CSS selector matches, once visible.
func (p *Page) Click(css string) {
	p.t.Helper()
	p.Do("click "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// Type focuses the element and types text as key presses ("\r" is Enter).
func (p *Page) Type(css, text string) {
	p.t.Helper()
	p.Do("type into "+css, chromedp.SendKeys(chromedp.CSS(css), text, chromedp.NodeVisible))
}

// SetValue sets a form control's value and fires its change event, as a
// person picking from a select does.
func (p *Page) SetValue(css, value string) {
	p.t.Helper()
	p.Do("set "+css, chromedp.SetValue(chromedp.CSS(css), value, chromedp.NodeReady),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true}))`, css))(ctx, t)
			return err
		}))
}

// Viewport sets the window's CSS width and height (mobile under 600 px).
func (p *Page) Viewport(width, height int64) {
	p.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if width < 600 {
		opts = append(opts, chromedp.EmulateMobile)
	}
	p.Do("viewport", chromedp.EmulateViewport(width, height, opts...))
}

// Screenshot saves a PNG of the whole page to dir/name.png.
func (p *Page) Screenshot(dir, name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	f := filepath.Join(dir, name+".png")
	if err := os.WriteFile(f, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return f
}

// Dialogs makes the tab fail any JavaScript dialog (alert, confirm,
// prompt) as a problem and dismiss it: a page that opens one where it
// should not ran code it should not have.
func (p *Page) Dialogs() {
	p.t.Helper()
	err := chromedp.Listen(p.ctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			p.add(fmt.Sprintf("a %s dialog opened: %q", e.Type, e.Message))
			go chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				return err
			}))
		}
	})
	if err != nil {
		p.t.Fatalf("listen for dialogs: %v", err)
	}
}
