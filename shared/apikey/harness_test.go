package apikey_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/infra/gateway"
	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/app/authorize"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
)

// The tests run the key and account functions with the real authorizer
// behind the local gateway (infra/gateway, which reads template.yaml), on
// the DynamoDB-protocol server, and capture every log line.

var (
	fx   *localdb.Fixture
	logs = &syncBuffer{}
	h    *harness
)

func TestMain(m *testing.M) {
	var err error
	fx, err = localdb.NewFixture(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "localdb fixture:", err)
		os.Exit(1)
	}
	h, err = newHarness(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		fx.Close()
		os.Exit(1)
	}
	code := m.Run()
	// Whatever the tests did, no key they saw may be in any log line.
	if leaked := h.leaked(); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "%d keys appear in the logs\n", len(leaked))
		code = 1
	}
	fx.Close()
	os.Exit(code)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clock is the deps' clock, shiftable by tests.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// The functions this package serves; the others get a stub.
var keyFunctions = map[string]store.HTTPBuilder{"AccountCreateFunction": keys.AccountCreate,
	"KeyCreateFunction": keys.KeyCreate, "KeyListFunction": keys.KeyList, "KeyGetFunction": keys.KeyGet,
	"KeyRevokeFunction": keys.KeyRevoke, "KeyRotateFunction": keys.KeyRotate, "KeyUsageFunction": keys.KeyUsage}

type harness struct {
	deps    *store.Deps
	gw      *gateway.Gateway
	servers map[string]*httpapi.Server
	master  string
	clock   *clock

	mu      sync.Mutex
	secrets []string
}

func newHarness(ctx context.Context) (*harness, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	h := &harness{master: "wk_" + base64.RawURLEncoding.EncodeToString(b[:]), clock: &clock{},
		servers: map[string]*httpapi.Server{}}
	h.secrets = append(h.secrets, h.master)
	cfg, err := fx.Config(map[string]string{"MASTER_KEY_SECRET": "test/master"})
	if err != nil {
		return nil, err
	}
	h.deps, err = store.NewDeps(ctx, cfg, "keys-test", logs, fx.DB)
	if err != nil {
		return nil, err
	}
	h.deps.MasterKey = func(_ context.Context, name string) (string, error) {
		if name != "test/master" {
			return "", fmt.Errorf("secret %s not found", name)
		}
		return h.master, nil
	}
	h.deps.Now = h.clock.Now
	handlers := map[string]gateway.ProxyHandler{}
	for _, id := range fx.Template.FunctionIDs() {
		if len(fx.Template.Functions[id].Routes) == 0 {
			continue
		}
		build := keyFunctions[id]
		if build == nil {
			handlers[id] = stub
			continue
		}
		s, err := build(h.deps)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", id, err)
		}
		h.servers[id], handlers[id] = s, s.Lambda()
	}
	auth, err := authorize.Authorizer(h.deps)
	if err != nil {
		return nil, err
	}
	h.gw, err = gateway.New(fx.Template, handlers, auth, h.deps.Logger)
	return h, err
}

func stub(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 503, Body: `{"code":"service_unavailable"}`}, nil
}

// remember notes a key the tests saw, for the log scan.
func (h *harness) remember(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, key)
}

// leaked returns the keys seen that appear in the logs.
func (h *harness) leaked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := logs.String()
	var out []string
	for _, k := range h.secrets {
		if k != "" && strings.Contains(all, k) {
			out = append(out, k)
		}
	}
	return out
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) str(path ...string) string {
	var v any = r.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (r response) num(path ...string) float64 {
	var v any = r.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return -1
		}
		v = m[p]
	}
	f, ok := v.(float64)
	if !ok {
		return -1
	}
	return f
}

// do sends a request through the gateway (authorizer included) with key.
func (h *harness) do(t *testing.T, method, path, key string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = bytes.NewReader(raw)
		}
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	rec := httptest.NewRecorder()
	h.gw.ServeHTTP(rec, req)
	return h.parse(t, method+" "+path, rec.Code, rec.Header(), rec.Body.Bytes())
}

// direct calls one function's Lambda handler with the caller as the
// authorizer context, as API Gateway hands it on (strings).
func (h *harness) direct(t *testing.T, function string, c caller.Caller, method, path string, body string) response {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	authCtx := map[string]any{"principalId": c.KeyID}
	for k, v := range c.Context() {
		authCtx[k] = fmt.Sprint(v)
	}
	ev := events.APIGatewayProxyRequest{Path: u.Path, HTTPMethod: method,
		Headers:           map[string]string{"Content-Type": "application/json"},
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
		Body:              body,
		RequestContext:    events.APIGatewayProxyRequestContext{RequestID: newID(), Authorizer: authCtx, Stage: "v1stage"}}
	if q := u.Query(); len(q) > 0 {
		ev.MultiValueQueryStringParameters = q
	}
	out, err := h.servers[function].Lambda()(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: %v", function, err)
	}
	hdr := http.Header{}
	for k, v := range out.Headers {
		hdr.Set(k, v)
	}
	for k, vs := range out.MultiValueHeaders {
		hdr[http.CanonicalHeaderKey(k)] = vs
	}
	return h.parse(t, method+" "+path, out.StatusCode, hdr, []byte(out.Body))
}

func (h *harness) parse(t *testing.T, what string, status int, hdr http.Header, raw []byte) response {
	t.Helper()
	r := response{status: status, header: hdr, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s: not JSON: %q", what, raw)
		}
	}
	if k := r.str("key"); k != "" {
		h.remember(k)
	}
	if k := r.str("admin_key", "key"); k != "" {
		h.remember(k)
	}
	return r
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// account is a test account with its admin key.
type account struct {
	id, admin, adminID string
}

// newAccount creates an account through POST /api/v1/accounts.
func (h *harness) newAccount(t *testing.T) account {
	t.Helper()
	r := h.do(t, "POST", "/api/v1/accounts", h.master, map[string]any{"name": "test " + newID()})
	if r.status != 201 {
		t.Fatalf("create account: %d %s", r.status, r.raw)
	}
	return account{id: r.str("account_id"), admin: r.str("admin_key", "key"), adminID: r.str("admin_key", "key_id")}
}

// newKey creates a key in a's account through POST /api/v1/keys and
// returns the key and its id.
func (h *harness) newKey(t *testing.T, a account, body map[string]any) (string, string) {
	t.Helper()
	if body["name"] == nil {
		body["name"] = "k " + newID()
	}
	r := h.do(t, "POST", "/api/v1/keys", a.admin, body)
	if r.status != 201 {
		t.Fatalf("create key: %d %s", r.status, r.raw)
	}
	return r.str("key"), r.str("key_id")
}
