package authorizer_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/authorize"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
	"github.com/waickoff/waickoff/shared/session"
)

var (
	fx       *localdb.Fixture
	keys     *apikey.Store
	accounts *account.Store
)

func TestMain(m *testing.M) {
	var err error
	fx, err = localdb.NewFixture(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "localdb fixture:", err)
		os.Exit(1)
	}
	keys = apikey.NewStore(fx.DB, fx.Tables.APIKeys)
	accounts = account.NewStore(fx.DB, fx.Tables.Quotas, keys)
	code := m.Run()
	fx.Close()
	os.Exit(code)
}

var metered = store.MeteredRoutes

// sessionsOver is the session store (the authorizer's Sessions) over db.
func sessionsOver(db *dynamodb.Client) authorizer.Sessions {
	return session.NewStore(db, fx.Tables, session.Options{TTL: time.Hour, TokenLimit: 1000})
}

func newAuthorizer(o authorizer.Options) *authorizer.Authorizer {
	if o.Keys == nil {
		o.Keys = keys
	}
	if o.Sessions == nil {
		o.Sessions = sessionsOver(fx.DB)
	}
	if o.Metered == nil {
		o.Metered = metered
	}
	if o.SessionAware == nil {
		o.SessionAware = []string{"POST /api/v1/mcp"}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	return authorizer.New(o)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newAccount creates an account with its ADMIN key and returns the
// account id and that key.
func newAccount(t testing.TB, rate int) (string, apikey.Created) {
	t.Helper()
	a, k, err := accounts.Create(context.Background(), "test", apikey.Spec{Name: "admin", Permission: caller.Admin, RateLimit: rate}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, k
}

// request loads an events/ fixture with key in place of its placeholder
// and a fresh request id.
func request(t testing.TB, fixture, key string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fx.Root, "events", fixture))
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "KEY_PLACEHOLDER", key))
	var req events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	req.RequestContext.RequestID = newID()
	return req
}

const (
	plain   = "authorizer-request.json"
	meterEv = "authorizer-request-metered.json"
	mcpEv   = "authorizer-request-mcp.json"
)

// allowed returns a call of a's for key on an events/ fixture, which a
// must allow: the caller it passes on.
func allowed(t *testing.T, a *authorizer.Authorizer, key string) func(fixture string) caller.Caller {
	return func(fixture string) caller.Caller {
		t.Helper()
		req := request(t, fixture, key)
		resp, err := a.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return callerOf(t, req, resp)
	}
}

// callerOf checks an Allow policy for the request and returns the caller
// as a function would read it (after API Gateway turned the values into
// strings).
func callerOf(t testing.TB, req events.APIGatewayCustomAuthorizerRequestTypeRequest, resp events.APIGatewayCustomAuthorizerResponse) caller.Caller {
	t.Helper()
	p := resp.PolicyDocument
	if p.Version != "2012-10-17" || len(p.Statement) != 1 || p.Statement[0].Effect != "Allow" ||
		len(p.Statement[0].Resource) != 1 || p.Statement[0].Resource[0] != req.MethodArn ||
		len(p.Statement[0].Action) != 1 || p.Statement[0].Action[0] != "execute-api:Invoke" {
		t.Fatalf("policy %+v", p)
	}
	ctx := map[string]any{}
	for k, v := range resp.Context {
		switch v.(type) {
		case string, int, int64, bool, float64:
		default:
			t.Fatalf("context %s holds a %T", k, v)
		}
		ctx[k] = fmt.Sprint(v)
	}
	c, err := caller.FromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKeyFrom(t *testing.T) {
	const k = "wk_key"
	tests := []struct {
		name    string
		headers map[string]string
		multi   map[string][]string
		want    string
	}{
		{"x-api-key", map[string]string{"X-API-Key": k}, nil, k},
		{"lower", map[string]string{"x-api-key": k}, nil, k},
		{"odd case", map[string]string{"X-Api-KEY": " " + k + " "}, nil, k},
		{"bearer", map[string]string{"Authorization": "Bearer " + k}, nil, k},
		{"bearer lower", map[string]string{"authorization": "bearer " + k}, nil, k},
		{"bearer upper", map[string]string{"AUTHORIZATION": "BEARER  " + k}, nil, k},
		{"multi only", nil, map[string][]string{"x-api-key": {k}}, k},
		{"both agree", map[string]string{"X-API-Key": k, "Authorization": "Bearer " + k}, nil, k},
		{"both differ", map[string]string{"X-API-Key": k, "Authorization": "Bearer wk_other"}, nil, ""},
		{"two in multi", nil, map[string][]string{"X-API-Key": {k, "wk_other"}}, ""},
		{"basic", map[string]string{"Authorization": "Basic " + k}, nil, ""},
		{"bare authorization", map[string]string{"Authorization": k}, nil, ""},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, nil, ""},
		{"none", map[string]string{"Accept": "*/*"}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, found := authorizer.KeyFrom(events.APIGatewayCustomAuthorizerRequestTypeRequest{Headers: tc.headers, MultiValueHeaders: tc.multi})
			if got != tc.want || found != (tc.want != "") {
				t.Fatalf("KeyFrom = %q, %v; want %q", got, found, tc.want)
			}
		})
	}
}

func TestAllow(t *testing.T) {
	acc, admin := newAccount(t, 60)
	a := newAuthorizer(authorizer.Options{})
	req := request(t, plain, admin.Secret)
	resp, err := a.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.PrincipalID != admin.ID {
		t.Fatalf("principal %q", resp.PrincipalID)
	}
	c := callerOf(t, req, resp)
	want := caller.Caller{AccountID: acc, KeyID: admin.ID, Permission: caller.Admin, RateLimit: 60, RateRemaining: 59, RateReset: 1}
	if c != want {
		t.Fatalf("caller %+v, want %+v", c, want)
	}
	// The same key as Authorization: Bearer on the metered fixture (lower
	// case) is found too; with no session the request is refused there.
	resp, err = a.Handle(context.Background(), request(t, meterEv, admin.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if c := callerOf(t, request(t, meterEv, admin.Secret), resp); c.Refusal != "session_required" {
		t.Fatalf("metered without a session: %+v", c)
	}
}

func TestUnauthorized(t *testing.T) {
	ctx := context.Background()
	_, admin := newAccount(t, 60)
	_, revoked := newAccount(t, 60)
	if err := keys.Revoke(ctx, revoked.AccountID, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	acc, _ := newAccount(t, 60)
	expiring, err := keys.Create(ctx, acc, apikey.Spec{Name: "x", Permission: caller.Read, RateLimit: 60,
		ExpiresAt: time.Now().Add(time.Minute)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	unknown, _ := apikey.Generate()
	master := "wk_" + strings.Repeat("M", 43)
	tests := []struct {
		name, key string
		o         authorizer.Options
		dbCalls   int64
	}{
		{"missing", "", authorizer.Options{}, 0},
		{"malformed", "hello", authorizer.Options{}, 0},
		{"typo", typo(admin.Secret, 20), authorizer.Options{}, 0},
		{"master when disabled", master, authorizer.Options{}, 0},
		{"unknown", unknown, authorizer.Options{}, 1},
		{"revoked", revoked.Secret, authorizer.Options{}, 1},
		{"expired", expiring.Secret, authorizer.Options{Now: func() time.Time { return time.Now().Add(2 * time.Minute) }}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request(t, plain, tc.key)
			if tc.key == "" {
				req.Headers, req.MultiValueHeaders = nil, nil
			}
			before := fx.Counter.Count()
			resp, err := newAuthorizer(tc.o).Handle(ctx, req)
			if !errors.Is(err, authorizer.ErrUnauthorized) || err.Error() != "Unauthorized" {
				t.Fatalf("err %v", err)
			}
			if len(resp.PolicyDocument.Statement) != 0 {
				t.Fatal("a policy with an unauthorized answer")
			}
			if n := fx.Counter.Count() - before; n != tc.dbCalls {
				t.Errorf("%d DynamoDB calls, want %d", n, tc.dbCalls)
			}
		})
	}
}

// typo changes the i-th character of key.
func typo(key string, i int) string {
	c := "x"
	if key[i] == 'x' {
		c = "y"
	}
	return key[:i] + c + key[i+1:]
}

// The master key works where the configuration enables it, in constant
// time, and is an unknown key elsewhere.
func TestMasterKey(t *testing.T) {
	master := "wk_" + strings.Repeat("M", 43)
	tests := []struct {
		env   map[string]string
		allow bool
	}{
		{map[string]string{"STAGE": "local"}, true},
		{map[string]string{"STAGE": "dev"}, true},
		{map[string]string{"STAGE": "prod"}, false},
		{map[string]string{"STAGE": "prod", "ALLOW_MASTER_KEY": "true"}, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			tc.env["MASTER_KEY_SECRET"] = "test/master"
			cfg, err := fx.Config(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			d, err := store.NewDeps(context.Background(), cfg, "test", io.Discard, fx.DB)
			if err != nil {
				t.Fatal(err)
			}
			d.MasterKey = keyIn(map[string]string{"test/master": master})
			h, err := authorize.Authorizer(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, fixture := range []string{plain, meterEv} {
				req := request(t, fixture, master)
				resp, err := h(context.Background(), req)
				if !tc.allow {
					if !errors.Is(err, authorizer.ErrUnauthorized) {
						t.Fatalf("master in prod: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				c := callerOf(t, req, resp)
				// No session needed on metered routes; its own rate limit.
				if !c.IsMaster() || c.Refusal != "" || c.RateLimit != 60 || resp.PrincipalID != "master" {
					t.Fatalf("master caller %+v", c)
				}
			}
			// A near miss is not the master key.
			near := master[:len(master)-1] + "N"
			if _, err := h(context.Background(), request(t, plain, near)); !errors.Is(err, authorizer.ErrUnauthorized) {
				t.Fatalf("near miss: %v", err)
			}
		})
	}
}

// keyIn reads secrets from a map, as Secrets Manager would.
func keyIn(params map[string]string) app.MasterKeyLoader {
	return func(_ context.Context, name string) (string, error) {
		v, ok := params[name]
		if !ok {
			return "", fmt.Errorf("secret %s not found", name)
		}
		return v, nil
	}
}

// The master key has a rate limit of its own, held in the store so that
// it binds every authorizer instance together; over it the master key is
// refused like any key (429 with the limit's figures). A master key that
// cannot be read, or is not in the key format, stops the authorizer from
// being built at all.
func TestMasterKeyRateLimit(t *testing.T) {
	master := "wk_" + strings.Repeat("L", 43)
	cfg, err := fx.IsolatedConfig(context.Background(), map[string]string{"MASTER_KEY_SECRET": "m", "MASTER_RATE_LIMIT_PER_MINUTE": "3"})
	if err != nil {
		t.Fatal(err)
	}
	build := func(params map[string]string) (app.AuthorizerHandler, error) {
		d, err := store.NewDeps(context.Background(), cfg, "test", io.Discard, fx.DB)
		if err != nil {
			t.Fatal(err)
		}
		d.MasterKey = keyIn(params)
		return authorize.Authorizer(d)
	}
	// Two instances share the limit.
	h1, err := build(map[string]string{"m": master})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := build(map[string]string{"m": master})
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range []app.AuthorizerHandler{h1, h2, h1, h2} {
		req := request(t, plain, master)
		resp, err := h(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			// Over the limit: denied, with the figures for API Gateway's 429.
			st := resp.PolicyDocument.Statement
			if len(st) != 1 || st[0].Effect != "Deny" || resp.PrincipalID != "master" || resp.Context["refusal"] != "rate_limited" ||
				fmt.Sprint(resp.Context["rate_limit"]) != "3" || fmt.Sprint(resp.Context["retry_after"]) == "0" {
				t.Fatalf("request %d over the master limit: %+v", i, resp)
			}
			continue
		}
		c := callerOf(t, req, resp)
		if !c.IsMaster() || c.RateLimit != 3 || c.Refusal != "" {
			t.Fatalf("request %d: %+v", i, c)
		}
	}
	for name, params := range map[string]map[string]string{
		"missing":      {},
		"too short":    {"m": "wk_" + strings.Repeat("a", 39)},
		"not url-safe": {"m": "wk_" + strings.Repeat("a", 39) + "+"},
	} {
		if _, err := build(params); err == nil {
			t.Errorf("%s master key: the authorizer was built", name)
		}
	}
}

// setSession writes the account hub's active-session fields.
func setSession(t testing.TB, acc, id string, expires time.Time, used, limit int64) {
	t.Helper()
	_, err := fx.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(fx.Tables.Quotas),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + acc},
			"sk": &types.AttributeValueMemberS{Value: "ACCOUNT"}},
		UpdateExpression: aws.String("SET active_session_id = :id, active_expires_at = :exp, active_tokens_used = :used, active_token_limit = :lim"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id":   &types.AttributeValueMemberS{Value: id},
			":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.UnixMilli(), 10)},
			":used": &types.AttributeValueMemberN{Value: strconv.FormatInt(used, 10)},
			":lim":  &types.AttributeValueMemberN{Value: strconv.FormatInt(limit, 10)},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMeteredRoutesNeedASession(t *testing.T) {
	acc, admin := newAccount(t, 10)
	call := allowed(t, newAuthorizer(authorizer.Options{}), admin.Secret)
	// No session: refused, and the rate-limit token is given back.
	for range 15 {
		c := call(meterEv)
		if c.Refusal != "session_required" || c.RateRemaining != 10 || c.SessionID != "" {
			t.Fatalf("no session: %+v", c)
		}
	}
	if c := call(plain); c.Refusal != "" || c.RateRemaining != 9 {
		t.Fatalf("after 15 refused metered requests the limit is not whole: %+v", c)
	}
	now := time.Now()
	tests := []struct {
		name        string
		expires     time.Time
		used, limit int64
		refusal     string
	}{
		{"active", now.Add(time.Hour), 10, 100, ""},
		{"expired", now.Add(-time.Second), 10, 100, "session_required"},
		{"exhausted", now.Add(time.Hour), 100, 100, "session_required"},
		{"over", now.Add(time.Hour), 101, 100, "session_required"},
		{"last token", now.Add(time.Hour), 99, 100, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sid := "ses_" + newID()
			setSession(t, acc, sid, tc.expires, tc.used, tc.limit)
			c := call(meterEv)
			if c.Refusal != tc.refusal {
				t.Fatalf("refusal %q, want %q", c.Refusal, tc.refusal)
			}
			if tc.refusal == "" && (c.SessionID != sid || c.SessionTokensUsed != tc.used || c.SessionTokenLimit != tc.limit ||
				c.SessionExpiresAt != tc.expires.UnixMilli()) {
				t.Fatalf("session in the context: %+v", c)
			}
			// Non-metered routes never look at the session.
			if c := call(plain); c.Refusal != "" || c.SessionID != "" {
				t.Fatalf("plain route: %+v", c)
			}
		})
	}
}

// A session-aware route (MCP) runs with the active session when there is
// one, and without it, unrefused and counted, when there is none.
func TestSessionAwareRoutesCarryTheSession(t *testing.T) {
	acc, admin := newAccount(t, 10)
	call := allowed(t, newAuthorizer(authorizer.Options{}), admin.Secret)
	for i := range 3 {
		if c := call(mcpEv); c.Refusal != "" || c.SessionID != "" || c.RateRemaining != 9-i {
			t.Fatalf("no session, call %d: %+v", i, c)
		}
	}
	now := time.Now()
	tests := []struct {
		name        string
		expires     time.Time
		used, limit int64
		active      bool
	}{
		{"active", now.Add(time.Hour), 10, 100, true},
		{"expired", now.Add(-time.Second), 10, 100, false},
		{"exhausted", now.Add(time.Hour), 100, 100, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sid := "ses_" + newID()
			setSession(t, acc, sid, tc.expires, tc.used, tc.limit)
			c := call(mcpEv)
			if c.Refusal != "" {
				t.Fatalf("refused: %+v", c)
			}
			if !tc.active && c.SessionID != "" {
				t.Fatalf("a session that is over in the context: %+v", c)
			}
			if tc.active && (c.SessionID != sid || c.SessionTokensUsed != tc.used || c.SessionTokenLimit != tc.limit ||
				c.SessionExpiresAt != tc.expires.UnixMilli()) {
				t.Fatalf("session in the context: %+v", c)
			}
		})
	}
}

// The authorizer never allows what it could not check.
func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	_, admin := newAccount(t, 60)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	down, err := dynamo.NewClient(ctx, dynamo.Options{Region: "us-east-1", Endpoint: closed})
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, a *authorizer.Authorizer, fixture string) {
		t.Helper()
		start := time.Now()
		resp, err := a.Handle(ctx, request(t, fixture, admin.Secret))
		if err == nil || errors.Is(err, authorizer.ErrUnauthorized) || !errors.Is(err, authorizer.ErrUnavailable) {
			t.Fatalf("err %v, want ErrUnavailable", err)
		}
		if len(resp.PolicyDocument.Statement) != 0 || resp.Context != nil {
			t.Fatalf("a response with the error: %+v", resp)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("took %v", el)
		}
	}
	t.Run("key store endpoint closed", func(t *testing.T) {
		check(t, newAuthorizer(authorizer.Options{Keys: apikey.NewStore(down, fx.Tables.APIKeys)}), plain)
	})
	t.Run("session store endpoint closed", func(t *testing.T) {
		check(t, newAuthorizer(authorizer.Options{Sessions: sessionsOver(down)}), meterEv)
	})
	t.Run("server paused", func(t *testing.T) {
		if fx.Server == nil {
			t.Log("DYNAMODB_ENDPOINT names an outside server: the pause case runs only against the fixture's own")
			return
		}
		if err := fx.Server.Pause(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := fx.Server.Resume(); err != nil {
				t.Fatal(err)
			}
		}()
		check(t, newAuthorizer(authorizer.Options{Timeout: 300 * time.Millisecond}), plain)
	})
	t.Run("server stopped", func(t *testing.T) {
		srv, err := localdb.Start(ctx, fx.Root)
		if err != nil {
			t.Fatal(err)
		}
		db, err := dynamo.NewClient(ctx, dynamo.Options{Region: "us-east-1", Endpoint: srv.Endpoint})
		if err != nil {
			srv.Stop()
			t.Fatal(err)
		}
		if err := localdb.CreateTables(ctx, db, fx.Template, localdb.TableNames{"ApiKeysTable": fx.Tables.APIKeys,
			"QuotasTable": fx.Tables.Quotas, "UsageTable": fx.Tables.Usage, "SessionsTable": fx.Tables.Sessions}); err != nil {
			srv.Stop()
			t.Fatal(err)
		}
		k2 := apikey.NewStore(db, fx.Tables.APIKeys)
		_, admin2, err := account.NewStore(db, fx.Tables.Quotas, k2).Create(ctx, "x",
			apikey.Spec{Name: "a", Permission: caller.Admin, RateLimit: 60}, time.Now())
		if err != nil {
			srv.Stop()
			t.Fatal(err)
		}
		a := newAuthorizer(authorizer.Options{Keys: k2})
		if _, err := a.Handle(ctx, request(t, plain, admin2.Secret)); err != nil {
			srv.Stop()
			t.Fatalf("before the stop: %v", err)
		}
		srv.Stop()
		admin = admin2
		check(t, a, plain)
	})
}

// A fixed clock: the burst must not straddle a refill.
type fixedClock struct{ us atomic.Int64 }

func (c *fixedClock) Now() time.Time      { return time.UnixMicro(c.us.Load()) }
func (c *fixedClock) Add(d time.Duration) { c.us.Add(d.Microseconds()) }

// A burst of concurrent requests for one key from a standing start admits
// exactly its limit, with separate authorizer instances (as separate
// Lambdas); refused requests do not count, so the refill after the burst
// is exact too.
func TestRateLimitExactUnderConcurrency(t *testing.T) {
	const n = 37
	period := time.Duration(ratelimit.ParamsFor(n).Period) * time.Microsecond
	for _, workers := range []int{50, 200} {
		t.Run(fmt.Sprintf("%d concurrent", workers), func(t *testing.T) {
			_, admin := newAccount(t, n)
			clock := &fixedClock{}
			clock.us.Store(time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC).UnixMicro())
			template := request(t, plain, admin.Secret)
			// One authorizer per concurrent request, each with its own
			// client and key store (and so its own limiter and its own
			// guesses of the key's state), as separate Lambda instances
			// have: nothing in process can make the count exact, only
			// the store's conditional writes. The instances stay warm
			// across the bursts, with what each saw last.
			instances := make([]*authorizer.Authorizer, workers)
			for i := range instances {
				// A generous budget: this test is about exactness, and
				// 200 requests queue at a single-threaded server.
				instances[i] = newAuthorizer(authorizer.Options{Keys: apikey.NewStore(patientClient(t), fx.Tables.APIKeys),
					Now: clock.Now, Timeout: 2 * time.Minute})
			}
			burst := func(count int) (admitted, limited int) {
				var ok, lim atomic.Int64
				var wg sync.WaitGroup
				for i := range count {
					wg.Add(1)
					go func() {
						defer wg.Done()
						a := instances[i]
						req := template
						req.RequestContext.RequestID = newID()
						resp, err := a.Handle(context.Background(), req)
						if err != nil {
							t.Error(err)
							return
						}
						// Admitted: Allow with no refusal; over the limit: Deny
						// (API Gateway answers 429 from the context's figures).
						st := resp.PolicyDocument.Statement
						if len(st) != 1 {
							t.Errorf("policy %+v", resp.PolicyDocument)
							return
						}
						switch {
						case st[0].Effect == "Allow" && resp.Context["refusal"] == nil:
							ok.Add(1)
						case st[0].Effect == "Deny" && resp.Context["refusal"] == "rate_limited":
							if ra, _ := resp.Context["retry_after"].(int); ra < 1 || resp.Context["rate_remaining"] != 0 ||
								resp.Context["rate_limit"] != n {
								t.Errorf("refusal without Retry-After: %v", resp.Context)
							}
							lim.Add(1)
						default:
							t.Errorf("policy %+v, context %v", resp.PolicyDocument, resp.Context)
						}
					}()
				}
				wg.Wait()
				return int(ok.Load()), int(lim.Load())
			}
			admitted, limited := burst(workers)
			t.Logf("burst of %d concurrent requests, limit %d: admitted %d, limited %d (admitted/limit = %.3f)",
				workers, n, admitted, limited, float64(admitted)/n)
			if admitted != n || limited != workers-n {
				t.Fatalf("admitted %d limited %d, want exactly %d admitted", admitted, limited, n)
			}
			// Three periods later exactly three more pass, however many
			// were refused meanwhile.
			clock.Add(3 * period)
			if admitted, _ := burst(workers / 2); admitted != 3 {
				t.Fatalf("three periods after the burst %d passed, want 3", admitted)
			}
			// N periods of quiet (a minute, rounded up to whole
			// microsecond periods) bring the whole burst back.
			clock.Add(n * period)
			if admitted, _ := burst(workers); admitted != n {
				t.Fatalf("a minute later %d passed, want %d", admitted, n)
			}
		})
	}
}

// DynamoDB round trips per authorized request.
// patientClient is a DynamoDB client that waits as long as it takes:
// 200 requests at once queue at the single-threaded server, and on a
// loaded machine the last ones wait longer than the SDK's usual 5 s, which
// would make the SDK retry (and, on a shared client, run out of its retry
// quota). Exactness does not depend on it: retried takes count once.
func patientClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: fx.Endpoint,
		HTTPClient: &http.Client{Transport: tr, Timeout: 2 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// drain waits until the server has answered everything queued before
// (requests that callers gave up on are still served), so that what
// follows is measured alone.
func drain(t testing.TB) {
	t.Helper()
	db := patientClient(t)
	for range 3 {
		if _, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(fx.Tables.APIKeys)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRoundTrips(t *testing.T) {
	drain(t)
	ctx := context.Background()
	// At 6,000,000 a minute (far above the API's maximum, so set in the
	// store directly) a token comes back every 10 µs, quicker than any
	// round trip (at 100,000 a minute, 0.6 ms, a quiet machine's moto
	// was quicker), so every request finds the key idle, whatever the
	// machine's speed: the count does not depend on timing. (A key that
	// turns from busy to idle between two requests costs its instance
	// one more call; the cold-instance case below bounds that.)
	acc, admin := newAccount(t, 6_000_000)
	setSession(t, acc, "ses_"+newID(), time.Now().Add(time.Hour), 0, 1000000)
	a := newAuthorizer(authorizer.Options{})
	measure := func(fixture string, times int) float64 {
		before := fx.Counter.Count()
		for range times {
			if _, err := a.Handle(ctx, request(t, fixture, admin.Secret)); err != nil {
				t.Fatal(err)
			}
		}
		return float64(fx.Counter.Count()-before) / float64(times)
	}
	tests := []struct {
		name    string
		fixture string
		max     float64
	}{
		{"plain route", plain, 1},
		{"metered route", meterEv, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			measure(tc.fixture, 1) // warm: the instance has seen the key
			got := measure(tc.fixture, 50)
			t.Logf("%s: %.2f DynamoDB round trips per authorized request (50 sequential requests, warm instance)", tc.name, got)
			if got > tc.max {
				t.Fatalf("%.2f round trips, want at most %.0f", got, tc.max)
			}
		})
	}
	// A cold instance (its own key store, so no memory of the key) on a
	// key another instance keeps busy needs one more call to learn that
	// the key is busy.
	busyAcc, busy := newAccount(t, 60)
	setSession(t, busyAcc, "ses_"+newID(), time.Now().Add(time.Hour), 0, 1000000)
	for range 3 { // one token a second: three at once leave the key busy
		if _, err := a.Handle(ctx, request(t, meterEv, busy.Secret)); err != nil {
			t.Fatal(err)
		}
	}
	cold := newAuthorizer(authorizer.Options{Keys: apikey.NewStore(fx.DB, fx.Tables.APIKeys)})
	before := fx.Counter.Count()
	if _, err := cold.Handle(ctx, request(t, meterEv, busy.Secret)); err != nil {
		t.Fatal(err)
	}
	t.Logf("cold instance, busy key, metered route: %d round trips", fx.Counter.Count()-before)
	if n := fx.Counter.Count() - before; n > 3 {
		t.Fatalf("%d round trips", n)
	}
}
