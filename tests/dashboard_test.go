package tests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
	"github.com/waickoff/waickoff/tests/browser"
)

// shotsDir is where the dashboard's screenshots go (`make screenshots`
// keeps a copy for the README).
var shotsDir = filepath.Join("artifacts")

// TestDashboardInBrowser drives the dashboard as a customer would, in
// headless Chromium against the local API: sign in, buy, start a session,
// run an analysis and see it drawn, see usage move, create, rotate and
// revoke a key (one named as an XSS attempt), sign out; then the operator
// view with the master key. Any console error, exception, CSP violation,
// failed load or dialog fails it. Screenshots of every view at 360 and
// 1280 px go to tests/artifacts.
func TestDashboardInBrowser(t *testing.T) {
	a := startAPIAt(t, nil)
	acc := callAt(t, a.URL, "POST", "/api/v1/accounts", a.MasterKey, map[string]any{"name": "browser co"})
	if acc.status != 201 {
		t.Fatalf("create account: %d %s", acc.status, acc.raw)
	}
	key := acc.body["admin_key"].(map[string]any)["key"].(string)
	const wait = 20 * time.Second

	b := browser.New(t)
	p := b.Open(t, a.URL+"/dashboard")
	p.Dialogs()
	p.Viewport(1280, 900)
	p.Wait(`document.querySelector("#api-key")`, wait)
	const unlabelled = `[...document.querySelectorAll("input,select,textarea")].filter(e => e.labels.length === 0 && !e.getAttribute("aria-label")).length`
	if n := browser.Eval[int](p, unlabelled); n != 0 {
		t.Errorf("%d controls without a label on the sign-in page", n)
	}
	// Keyboard only: type the key and press Enter.
	p.Type("#api-key", key+"\r")
	p.Wait(`document.querySelector("#view-session")`, wait)
	if browser.Eval[string](p, `sessionStorage.getItem("waickoff.key")`) != key {
		t.Fatal("the key is not in sessionStorage")
	}
	if browser.Eval[bool](p, `location.href.includes("wk_") || document.cookie !== "" || localStorage.length > 0`) {
		t.Fatal("the key reached the URL, a cookie or localStorage")
	}
	if n := browser.Eval[int](p, `document.querySelectorAll("#nav a:not([hidden])").length`); n < 5 {
		t.Errorf("%d views in the navigation", n)
	}

	// Quota: the price of 10 sessions shows the 10% tier before buying.
	view(p, "quota")
	p.Wait(`document.querySelector("#buy-qty")`, wait)
	p.SetValue("#buy-qty", "")
	p.Type("#buy-qty", "10")
	p.Wait(`document.querySelector("#buy-price").textContent === "$9.00 (10% off)"`, wait)
	shots(p, "quota")
	p.Click("#buy")
	p.Wait(`document.querySelector("#quota-remaining").textContent === "10"`, wait)

	// Session: start one; the countdown runs and the tokens show.
	view(p, "session")
	p.Wait(`document.querySelector("#start-session")`, wait)
	p.Click("#start-session")
	p.Wait(`/^23:59:[0-5]\d$/.test(document.querySelector("#time-left").textContent)`, wait)
	p.Wait(`document.querySelector("#tokens-left").textContent === "100,000"`, wait)
	first := browser.Eval[string](p, `document.querySelector("#time-left").textContent`)
	p.Wait(`document.querySelector("#time-left").textContent !== `+jsString(first), 3*time.Second)
	shots(p, "session")

	// Analysis: a sample, two indicators, run, and the chart drawn.
	view(p, "analysis")
	p.Wait(`document.querySelector("#load-sample")`, wait)
	p.Click("#load-sample")
	p.SetValue("#indicator-pick", "sma")
	p.Click("#add-indicator")
	p.SetValue("#indicator-pick", "rsi")
	p.Click("#add-indicator")
	p.Click("#run-analysis")
	p.Wait(`document.querySelector("#analysis-cost .cost")`, wait)
	if cost := browser.Eval[string](p, `document.querySelector("#analysis-cost").textContent`); !strings.Contains(cost, "tokens") || !strings.Contains(cost, "left in the session") {
		t.Errorf("the analysis cost reads %q", cost)
	}
	// Pixels, not only the DOM: the candles' colours are on the canvas.
	p.Wait(candlePixels+` > 200`, wait)

	// The Wyckoff analysis of a planted accumulation schematic, pasted as
	// CSV: its events are drawn as markers and listed with their evidence.
	p.Wait(`document.querySelector("#wyckoff-on")?.checked === true`, wait)
	p.SetValue("#candles-input", schematicCSV())
	p.Click("#run-analysis")
	p.Wait(`document.querySelector("#analysis-cost").textContent.includes("wyckoff:")`, wait)
	p.Wait(`[...document.querySelectorAll("#wyckoff-events li strong")].some(e => e.textContent.startsWith("SC at bar"))`, wait)
	if ev := browser.Eval[string](p, `document.querySelector("#wyckoff-events").textContent`); !strings.Contains(ev, "Spring") && !strings.Contains(ev, "SOS") {
		t.Errorf("the planted schematic's events are not listed: %.400s", ev)
	}
	p.Wait(candlePixels+` > 200`, wait)
	shots(p, "analysis")

	// Usage moved: the batch is counted.
	view(p, "usage")
	p.Wait(`document.querySelector("#usage-requests-chart canvas")`, wait)
	if u := browser.Eval[string](p, `document.querySelector("#view-usage").textContent`); !strings.Contains(u, "indicators/batch") {
		t.Errorf("usage does not show the batch: %.300s", u)
	}
	shots(p, "usage")

	// Keys: a key named as markup is shown as text and runs nothing.
	const evil = `<img src=x onerror=alert(1)>`
	view(p, "keys")
	p.Wait(`document.querySelector("#key-name")`, wait)
	p.Type("#key-name", evil)
	p.SetValue("#key-permission", "READ")
	p.Click("#create-key")
	p.Wait(`/^wk_[A-Za-z0-9_-]{40,}$/.test(document.querySelector("#new-key")?.textContent || "")`, wait)
	p.Wait(`[...document.querySelectorAll(".key-name")].some(e => e.textContent === `+jsString(evil)+`)`, wait)
	if n := browser.Eval[int](p, `document.querySelectorAll("#keys-table img").length`); n != 0 {
		t.Errorf("the key's name became %d img elements", n)
	}
	shots(p, "keys")
	p.Click(`button[aria-label="Rotate key ` + evil + `"]`)
	p.Wait(`document.querySelectorAll("#keys-table .pill.revoked").length === 1 && document.querySelector("#new-key")`, wait)
	p.Click(`#keys-table tr:has(.pill.active) button[aria-label="Revoke key ` + evil + `"]`)
	p.Wait(`document.querySelectorAll("#keys-table .pill.revoked").length === 2`, wait)

	// 360 px: nothing overflows sideways.
	p.Viewport(360, 800)
	for _, v := range []string{"session", "quota", "usage", "keys", "analysis"} {
		view(p, v)
		p.Wait(`document.querySelector("#view-`+v+`")`, wait)
		if browser.Eval[bool](p, `document.documentElement.scrollWidth > 362`) {
			t.Errorf("%s overflows at 360 px", v)
		}
	}
	p.Viewport(1280, 900)

	// Sign out forgets the key.
	p.Click("#signout")
	p.Wait(`document.querySelector("#api-key")`, wait)
	if !browser.Eval[bool](p, `sessionStorage.length === 0`) {
		t.Error("sessionStorage still holds something after sign out")
	}

	// The operator view, for the master key.
	p.Type("#api-key", a.MasterKey+"\r")
	p.Wait(`document.querySelector("#operator-figures")`, wait)
	if f := browser.Eval[string](p, `document.querySelector("#operator-figures").textContent`); !strings.Contains(f, "Sessions started1") {
		t.Errorf("operator figures: %q", f)
	}
	shots(p, "operator")

	// Telling the master key from an account key costs it one refused
	// account-key call (GET /api/v1/keys needs account_id from the master
	// key); nothing else may go wrong.
	for _, pr := range p.Problems() {
		if strings.Contains(pr, "/api/v1/keys?limit=100") && strings.Contains(pr, "400") {
			continue
		}
		t.Errorf("browser: %s", pr)
	}
	if f := p.Foreign(a.URL); len(f) > 0 {
		t.Errorf("the page loaded from elsewhere: %v", f)
	}
	if !slices.ContainsFunc(p.Requests(), func(u string) bool {
		return strings.HasSuffix(u, "/dashboard/lightweight-charts.standalone.production.mjs")
	}) {
		t.Error("the chart library was not loaded from the dashboard's own assets")
	}
}

// schematicCSV is a planted accumulation schematic (#1, seed 7) as CSV.
func schematicCSV() string {
	s := schematic.Generate(schematic.Accumulation1, 7)
	var b strings.Builder
	b.WriteString("time,open,high,low,close,volume\n")
	for i := range s.Close {
		fmt.Fprintf(&b, "%d,%g,%g,%g,%g,%g\n", 1700000000+86400*i, s.Open[i], s.High[i], s.Low[i], s.Close[i], s.Volume[i])
	}
	return b.String()
}

// candlePixels counts the pixels of the candles' colours on the chart.
const candlePixels = `[...document.querySelectorAll("#analysis-chart canvas")].reduce((n, c) => {
  if (!c.width || !c.height) return n;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) {
    if ((d[i] === 0x1a && d[i+1] === 0x7f && d[i+2] === 0x4b) || (d[i] === 0xc0 && d[i+1] === 0x39 && d[i+2] === 0x2b)) n++;
  }
  return n;
}, 0)`

// view switches the dashboard to a view, as its navigation links do.
func view(p *browser.Page, name string) {
	browser.Eval[string](p, `location.hash = "#`+name+`"`)
}

func jsString(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }

// shots saves the view at 360 and 1280 px wide.
func shots(p *browser.Page, view string) {
	p.Viewport(360, 800)
	p.Screenshot(shotsDir, "dashboard-"+view+"-360")
	p.Viewport(1280, 900)
	p.Screenshot(shotsDir, "dashboard-"+view+"-1280")
}

// TestOperatorMetrics: the figures come from the tables, pages of
// accounts add up to the whole, and every key but the master key gets 404.
func TestOperatorMetrics(t *testing.T) {
	a := startAPIAt(t, nil)
	const path = "/api/v1/operator/metrics"
	var admins []string
	for i, sessions := range []int{10, 1} {
		acc := callAt(t, a.URL, "POST", "/api/v1/accounts", a.MasterKey, map[string]any{"name": fmt.Sprintf("op%d", i)})
		k := acc.body["admin_key"].(map[string]any)["key"].(string)
		admins = append(admins, k)
		if r := callAt(t, a.URL, "POST", "/api/v1/sessions/quota/add", k, map[string]any{"sessions": sessions}); r.status != 201 {
			t.Fatalf("buy: %d %s", r.status, r.raw)
		}
		if r := callAt(t, a.URL, "POST", "/api/v1/sessions", k, nil); r.status != 201 {
			t.Fatalf("start: %d %s", r.status, r.raw)
		}
	}
	// The first account runs one indicator and ends its session.
	r := callAt(t, a.URL, "POST", "/api/v1/indicators/sma", admins[0], map[string]any{"params": map[string]any{"period": 2},
		"time": []int{1, 2, 3}, "open": []float64{10, 10.5, 11}, "high": []float64{11, 12, 11.5}, "low": []float64{9, 10, 10.2},
		"close": []float64{10.5, 11, 10.4}, "volume": []float64{100, 150, 90}})
	if r.status != 200 {
		t.Fatalf("sma: %d %s", r.status, r.raw)
	}
	tokens := int64(r.body["meta"].(map[string]any)["tokens"].(float64))
	cur := callAt(t, a.URL, "GET", "/api/v1/sessions/current", admins[0], nil)
	if r := callAt(t, a.URL, "POST", "/api/v1/sessions/"+cur.body["session_id"].(string)+"/terminate", admins[0], nil); r.status != 200 {
		t.Fatalf("terminate: %d %s", r.status, r.raw)
	}

	for _, k := range []string{admins[0], ""} {
		if r := callAt(t, a.URL, "GET", path, k, nil); r.status != map[bool]int{true: 404, false: 401}[k != ""] {
			t.Errorf("key %q: %d, want 404 for an account key and 401 for none", k, r.status)
		}
	}
	whole := callAt(t, a.URL, "GET", path, a.MasterKey, nil)
	if whole.status != 200 {
		t.Fatalf("master: %d %s", whole.status, whole.raw)
	}
	num := func(m map[string]any, k string) int64 { v, _ := m[k].(float64); return int64(v) }
	for k, want := range map[string]int64{"accounts": 2, "sessions_started": 2, "sessions_ended": 1, "sessions_purchased": 11,
		"revenue_cents": 900 + 100, "tokens_total": tokens, "active_accounts": 2} {
		if got := num(whole.body, k); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
	if _, ok := whole.body["next_token"]; ok {
		t.Error("one page of 20 accounts has a next_token for 2 accounts")
	}
	// One account a page: two pages that add up to the whole.
	p1 := callAt(t, a.URL, "GET", path+"?limit=1", a.MasterKey, nil)
	tok, _ := p1.body["next_token"].(string)
	if p1.status != 200 || tok == "" {
		t.Fatalf("page 1: %d %s", p1.status, p1.raw)
	}
	p2 := callAt(t, a.URL, "GET", path+"?limit=1&next_token="+tok, a.MasterKey, nil)
	if p2.status != 200 {
		t.Fatalf("page 2: %d %s", p2.status, p2.raw)
	}
	for _, k := range []string{"accounts", "sessions_started", "sessions_purchased", "revenue_cents", "tokens_total", "requests"} {
		if num(p1.body, k)+num(p2.body, k) != num(whole.body, k) {
			t.Errorf("%s: pages %d + %d != whole %d", k, num(p1.body, k), num(p2.body, k), num(whole.body, k))
		}
	}
	for _, q := range []string{"?from=2026-13-01", "?from=2026-02-01&to=2026-01-01", "?from=2020-01-01&to=2026-01-01", "?next_token=bm9wZQ", "?limit=0"} {
		if r := callAt(t, a.URL, "GET", path+q, a.MasterKey, nil); r.status != 400 || r.body["code"] != "invalid_request" {
			t.Errorf("%s: %d %s, want 400 invalid_request", q, r.status, r.raw)
		}
	}
}

// TestDashboardServedBySuiteAPI: the page, a file and the operator
// figures through the suite's own API, whose answers the inventory
// (TestAPI9Inventory) and the security checks read.
func TestDashboardServedBySuiteAPI(t *testing.T) {
	for _, tc := range []struct {
		r      req
		status int
		ctype  string
	}{
		{req{method: "GET", path: "/dashboard"}, 200, "text/html; charset=utf-8"},
		{req{method: "GET", path: "/dashboard/app.js"}, 200, "text/javascript; charset=utf-8"},
		{req{method: "GET", path: "/dashboard/secret.txt"}, 404, "application/problem+json"},
		{req{method: "GET", path: "/api/v1/operator/metrics", key: api.MasterKey}, 200, "application/json"},
	} {
		r := do(t, api, tc.r)
		if r.status != tc.status || r.header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q, want %d %q", tc.r.path, r.status, r.header.Get("Content-Type"), tc.status, tc.ctype)
		}
		if strings.HasPrefix(tc.r.path, "/dashboard") && r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s has no Content-Security-Policy", tc.r.path)
		}
	}
}
