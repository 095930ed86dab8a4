package contract

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/waickoff/waickoff/tests/contract/goclient"
)

// run runs a command in dir and fails t with its output when it fails.
func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// goBin is the go command of the toolchain running the test.
func goBin() string {
	if bin := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(bin) {
		return bin
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestGoClientGenerated regenerates the Go client with the oapi-codegen
// pinned in go.mod (a tool dependency) from the served document: the
// generator must accept the document, its output must be the committed
// goclient package (which the walkthrough below drives), and that package
// must build and pass vet.
func TestGoClientGenerated(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(here(t), "goclient", "oapi-codegen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "client.gen.go")
	cfg = append(cfg, []byte("\noutput: "+out+"\n")...)
	cfg = bytes.Replace(cfg, []byte("output: client.gen.go\n"), nil, 1)
	if err := os.WriteFile(filepath.Join(dir, "oapi-codegen.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, root(t), goBin(), "tool", "oapi-codegen", "-config", filepath.Join(dir, "oapi-codegen.yaml"), goldenDocument(t))
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(here(t), "goclient", "client.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("tests/contract/goclient/client.gen.go is not what oapi-codegen makes of the current document: run `make clients`")
	}
	run(t, root(t), goBin(), "build", "./tests/contract/goclient")
	run(t, root(t), goBin(), "vet", "./tests/contract/goclient")
}

// TestTypeScriptClient generates TypeScript types with the openapi-typescript
// pinned in package.json and type-checks walkthrough.ts, the README's
// walkthrough written against them, with the pinned tsc.
func TestTypeScriptClient(t *testing.T) {
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not on PATH: install Node.js and npm, then run `make clients-deps`", bin)
		}
	}
	bin := filepath.Join(here(t), "node_modules", ".bin")
	for _, tool := range []string{"openapi-typescript", "tsc"} {
		if !fileExists(filepath.Join(bin, tool)) {
			t.Fatalf("%s is not installed in tests/contract/node_modules: run `make clients-deps`", tool)
		}
	}
	dir := t.TempDir()
	run(t, here(t), filepath.Join(bin, "openapi-typescript"), goldenDocument(t), "-o", filepath.Join(dir, "api.d.ts"))
	src, err := os.ReadFile(filepath.Join(here(t), "walkthrough.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "walkthrough.ts"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, filepath.Join(bin, "tsc"), "--noEmit", "--strict", "--noUnusedLocals",
		"--target", "es2022", "--lib", "es2022,dom", "--module", "esnext", "--moduleResolution", "bundler",
		"walkthrough.ts")
}

// as authenticates a generated client's request with key.
func as(key string) goclient.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", key)
		return nil
	}
}

// TestWalkthroughWithGoClient follows the README's walkthrough with the
// generated Go client: health, an account made with the master key,
// quota, a session, an indicator over CSV and over JSON, and the usage
// they left.
func TestWalkthroughWithGoClient(t *testing.T) {
	ctx := context.Background()
	c, err := goclient.NewClientWithResponses(api.URL)
	if err != nil {
		t.Fatal(err)
	}

	health, err := c.GetHealthWithResponse(ctx)
	if err != nil || health.JSON200 == nil || health.JSON200.Status != goclient.Ok || health.JSON200.Version == "" {
		t.Fatalf("health: %v %s", err, body(health))
	}

	acc, err := c.CreateAccountWithResponse(ctx, goclient.AccountCreateRequest{Name: "acme"}, as(api.MasterKey))
	if err != nil || acc.JSON201 == nil {
		t.Fatalf("create account: %v %s", err, body(acc))
	}
	admin := acc.JSON201.AdminKey
	if admin.Permission != goclient.ADMIN || admin.AccountId != acc.JSON201.AccountId || !strings.HasPrefix(admin.Key, admin.Prefix) {
		t.Fatalf("admin key = %+v", admin)
	}
	key := admin.Key

	quota, err := c.AddQuotaWithResponse(ctx, goclient.QuotaAddRequest{Sessions: 10}, as(key))
	if err != nil || quota.JSON201 == nil {
		t.Fatalf("quota add: %v %s", err, body(quota))
	}
	if p := quota.JSON201; p.Sessions != 10 || p.DiscountPct != 10 || p.TotalPriceCents != 900 {
		t.Errorf("purchase = %+v, want 10 sessions at 10%% off, 900 cents", p)
	}

	// As in the README: a POST with no body.
	ses, err := c.StartSessionWithBodyWithResponse(ctx, "", nil, as(key))
	if err != nil || ses.JSON201 == nil {
		t.Fatalf("start session: %v %s", err, body(ses))
	}
	if s := ses.JSON201; s.Status != goclient.SessionStatusActive || s.TokensUsed != 0 || s.TokensRemaining != s.TokenLimit {
		t.Errorf("session = %+v, want a fresh active one", s)
	}
	sessionID := ses.JSON201.SessionId

	csv := "time,open,high,low,close,volume\n1,10,11,9,10.5,100\n2,10.5,12,10,11,150\n3,11,11.5,10.2,10.4,90\n"
	fromCSV, err := c.ComputeIndicatorWithBodyWithResponse(ctx, "sma",
		&goclient.ComputeIndicatorParams{Params: &goclient.CSVQueryParam{"period": 2}},
		"text/csv", strings.NewReader(csv), as(key))
	if err != nil || fromCSV.JSON200 == nil {
		t.Fatalf("CSV sma: %v %s", err, body(fromCSV))
	}
	checkSMA(t, "CSV", fromCSV.JSON200, sessionID)

	var candles goclient.Candles
	if err := candles.FromCandlesColumns(goclient.CandlesColumns{
		Time: []int64{1, 2, 3}, Open: []float64{10, 10.5, 11}, High: []float64{11, 12, 11.5},
		Low: []float64{9, 10, 10.2}, Close: []float64{10.5, 11, 10.4}, Volume: []float64{100, 150, 90},
		Params: &goclient.Params{"period": 2},
	}); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := c.ComputeIndicatorWithResponse(ctx, "sma", nil, candles, as(key))
	if err != nil || fromJSON.JSON200 == nil {
		t.Fatalf("JSON sma: %v %s", err, body(fromJSON))
	}
	checkSMA(t, "JSON", fromJSON.JSON200, sessionID)
	if a, b := fromCSV.JSON200.Meta.InputChecksum, fromJSON.JSON200.Meta.InputChecksum; a != b {
		t.Errorf("the same candles as CSV and as JSON columns have checksums %s and %s", a, b)
	}
	spent := fromCSV.JSON200.Meta.Tokens + fromJSON.JSON200.Meta.Tokens
	if used := fromJSON.JSON200.Meta.TokensUsed; used == nil || int64(*used) != int64(spent) {
		t.Errorf("tokens_used after both = %v, want %d", used, spent)
	}

	use, err := c.GetUsageWithResponse(ctx, nil, as(key))
	if err != nil || use.JSON200 == nil {
		t.Fatalf("usage: %v %s", err, body(use))
	}
	rep := use.JSON200
	if rep.AccountId != acc.JSON201.AccountId || int64(rep.Tokens) != int64(spent) {
		t.Errorf("usage: account %s tokens %d, want %s and %d", rep.AccountId, rep.Tokens, acc.JSON201.AccountId, spent)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if rep.From.String() != today || rep.To.String() != today {
		t.Errorf("usage covers %s to %s, want today (%s) for an account made today", rep.From, rep.To, today)
	}
	var sma int64
	for _, e := range rep.ByEndpoint {
		if e.Endpoint == "indicators/sma" {
			sma = int64(e.Requests)
		}
	}
	if sma != 2 {
		t.Errorf("usage by endpoint %+v: indicators/sma has %d requests, want 2", rep.ByEndpoint, sma)
	}
}

// checkSMA checks a 2-period SMA over the walkthrough's three closes.
func checkSMA(t *testing.T, form string, r *goclient.IndicatorResult, sessionID string) {
	t.Helper()
	v := r.Values["value"]
	want := []float64{10.75, 10.7}
	if r.Indicator != "sma" || r.Count != 3 || len(v) != 3 || v[0] != nil || v[1] == nil || v[2] == nil ||
		*v[1] != want[0] || *v[2] != want[1] {
		t.Errorf("%s: sma = %+v (values %v), want [null 10.75 10.7]", form, r, v)
	}
	if r.Params["period"] != 2 {
		t.Errorf("%s: params %v, want period 2", form, r.Params)
	}
	m := r.Meta
	if m.SessionId == nil || *m.SessionId != sessionID || m.Tokens <= 0 || m.Candles != 3 {
		t.Errorf("%s: meta = %+v, want session %s, 3 candles, some tokens", form, m, sessionID)
	}
}

// body returns a generated response's status and body for a failure
// message (every generated response has HTTPResponse and Body).
func body(r any) string {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return "<no response>"
	}
	v = v.Elem()
	status := ""
	if h, ok := v.FieldByName("HTTPResponse").Interface().(*http.Response); ok && h != nil {
		status = h.Status
	}
	return fmt.Sprintf("%s %s", status, v.FieldByName("Body").Bytes())
}
