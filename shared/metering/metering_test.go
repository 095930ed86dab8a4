package metering_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/metering"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/session/sessiontest"
	"github.com/waickoff/waickoff/shared/usage"
)

var (
	fx *localdb.Fixture
	// db is the fixture's server through a client that queues requests
	// in a pool rather than in the single-threaded server's listen
	// backlog, so that hundreds of concurrent requests wait instead of
	// timing out; counter counts its round trips.
	db      *dynamodb.Client
	counter *dynamo.Counter
)

func TestMain(m *testing.M) {
	var err error
	fx, err = localdb.NewFixture(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "localdb fixture:", err)
		os.Exit(1)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = 32, 32
	counter = &dynamo.Counter{Next: &http.Client{Transport: tr, Timeout: time.Minute}}
	db, err = dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: fx.Endpoint, HTTPClient: counter})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	code := m.Run()
	fx.Close()
	os.Exit(code)
}

// route is the metered route the test-only endpoint is mounted on: the
// indicators' pattern, so that the usage recorder treats it as metered.
const route = "POST /api/v1/indicators/{name}"

// echo is a test-only metered endpoint: it answers {"echo","pad"} with
// pad x's, and fails on request.
func echo(w http.ResponseWriter, r *http.Request) (metering.Result, error) {
	var in struct {
		Data string `json:"data"`
		Pad  int    `json:"pad"`
		Fail bool   `json:"fail"`
	}
	if err := httpapi.DecodeJSON(r, &in, true); err != nil {
		return metering.Result{}, err
	}
	if in.Fail {
		return metering.Result{}, problem.Invalid("fail", "asked to fail")
	}
	body, err := json.Marshal(map[string]any{"echo": in.Data, "pad": strings.Repeat("x", in.Pad)})
	return metering.Result{Body: body, Meta: struct {
		Engine string `json:"engine_version"`
	}{"test"}}, err
}

type env struct {
	t     *testing.T
	d     *store.Deps
	store *session.Store
	h     sessiontest.Handler
}

// newEnv wires the test-only metered function over tables of its own,
// so that no other test's items meet its concurrency tests.
func newEnv(t *testing.T, over map[string]string) *env {
	t.Helper()
	cfg, err := fx.IsolatedConfig(context.Background(), over)
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.NewDeps(context.Background(), cfg, "test", &syncDiscard{}, db)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, store: d.Sessions()}
	s := d.Server()
	s.Handle(route, httpapi.Need(caller.Read), d.Meter().Handler(
		func(r *http.Request) string { return "indicators/" + r.PathValue("name") }, echo))
	e.h = s.Lambda()
	return e
}

type syncDiscard struct{}

func (syncDiscard) Write(p []byte) (int, error) { return len(p), nil }

// session starts a session for a new account and returns the account.
func (e *env) session() (string, string) {
	e.t.Helper()
	acc := sessiontest.Account(e.t, fx.DB, e.d.Config.Tables.Quotas, 1)
	s, err := e.store.Start(context.Background(), acc, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return acc, s.ID
}

// admit does the authorizer's session check (session.Store.Active, the
// lookup the authorizer is given) and returns the caller it would pass
// on.
func (e *env) admit(acc string) caller.Caller {
	e.t.Helper()
	c := sessiontest.Key(acc, caller.Read)
	a, ok, err := e.store.Active(context.Background(), acc, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if !ok {
		c.Refusal = string(problem.SessionRequired)
		return c
	}
	c.SessionID, c.SessionTokensUsed, c.SessionTokenLimit, c.SessionExpiresAt = a.ID, a.TokensUsed, a.TokenLimit, a.ExpiresAt.UnixMilli()
	return c
}

func (e *env) call(c caller.Caller, body, requestID string) sessiontest.Response {
	return sessiontest.Do(e.t, e.h, sessiontest.Request{Method: "POST", Path: "/api/v1/indicators/echo", Body: body,
		Caller: &c, RequestID: requestID})
}

type meta struct {
	SessionID       *string `json:"session_id"`
	Tokens          int64   `json:"tokens"`
	TokensUsed      *int64  `json:"tokens_used"`
	TokensRemaining *int64  `json:"tokens_remaining"`
	Engine          string  `json:"engine_version"`
}

func metaOf(t *testing.T, r sessiontest.Response) meta {
	t.Helper()
	var doc struct {
		Meta *meta `json:"meta"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &doc); err != nil || doc.Meta == nil {
		t.Fatalf("no meta: %s", r.Raw)
	}
	return *doc.Meta
}

func (e *env) stored(acc, id string) session.Session {
	e.t.Helper()
	s, err := e.store.Get(context.Background(), acc, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) hubTokens(acc string) int64 {
	e.t.Helper()
	out, err := fx.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.d.Config.Tables.Quotas),
		Key: session.HubKey(acc), ConsistentRead: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	var n int64
	if v, ok := out.Item["active_tokens_used"].(*types.AttributeValueMemberN); ok {
		fmt.Sscan(v.Value, &n)
	}
	return n
}

func TestMeteredRequest(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "100000"})
	acc, id := e.session()
	body := `{"data":"hello","pad":10}`
	c := e.admit(acc)
	r := e.call(c, body, "")
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	m := metaOf(t, r)
	want := answer.Tokens(int64(len(body)), int64(len(r.Raw)))
	if m.Tokens != want || m.SessionID == nil || *m.SessionID != id || *m.TokensUsed != want || *m.TokensRemaining != 100000-want || m.Engine != "test" {
		t.Fatalf("meta %+v, want %d tokens: %s", m, want, r.Raw)
	}
	if r.Header.Get("X-Session-Id") != id || r.Header.Get("X-Session-Tokens-Used") != strconv.FormatInt(want, 10) ||
		r.Header.Get("X-Session-Tokens-Remaining") != strconv.FormatInt(100000-want, 10) || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", r.Header)
	}
	s := e.stored(acc, id)
	if s.TokensUsed != want || s.Requests != 1 || e.hubTokens(acc) != want {
		t.Fatalf("stored %+v hub %d, want %d", s, e.hubTokens(acc), want)
	}
	by, _ := e.store.Usage(context.Background(), id)
	rep, err := e.d.Usage().AccountUsage(context.Background(), acc, time.Now(), time.Now())
	if err != nil || len(by) != 1 || by[0] != (session.EndpointUsage{Endpoint: "indicators/echo", Requests: 1, Tokens: want}) ||
		rep.Tokens != want || rep.Requests != 1 || len(rep.ByKey) != 1 || rep.ByKey[0].KeyID != c.KeyID {
		t.Fatalf("session usage %v, account usage %+v %v", by, rep, err)
	}

	tests := []struct {
		name   string
		c      caller.Caller
		body   string
		status int
		code   string
	}{
		{"endpoint error", e.admit(acc), `{"fail":true}`, 400, "invalid_request"},
		{"bad json", e.admit(acc), `{"pad":`, 400, "invalid_request"},
		{"refused by the authorizer", caller.Caller{AccountID: acc, KeyID: "key_x", Permission: caller.Read, Refusal: "session_required"}, body, 403, "session_required"},
		{"no session", sessiontest.Key(acc, caller.Read), body, 403, "session_required"},
		{"master", sessiontest.Master, body, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tc.c, tc.body, "")
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("%d %q: %s", r.Status, r.Code(), r.Raw)
			}
			if tc.status == 200 {
				m := metaOf(t, r)
				if m.SessionID != nil || m.TokensUsed != nil || m.TokensRemaining != nil ||
					m.Tokens != answer.Tokens(int64(len(tc.body)), int64(len(r.Raw))) || r.Header.Get("X-Session-Id") != "" {
					t.Fatalf("master meta %+v headers %v", m, r.Header)
				}
			}
			if s := e.stored(acc, id); s.TokensUsed != want || s.Requests != 1 {
				t.Fatalf("%s spent tokens: %+v", tc.name, s)
			}
			// A refusal in a session states the session as admitted.
			if inSession := tc.status != 200 && tc.c.SessionID != ""; inSession != (r.Header.Get("X-Session-Id") == id) ||
				(inSession && (r.Header.Get("X-Session-Tokens-Used") != strconv.FormatInt(want, 10) ||
					r.Header.Get("X-Session-Tokens-Remaining") != strconv.FormatInt(100000-want, 10))) {
				t.Fatalf("%s: headers %v", tc.name, r.Header)
			}
		})
	}
}

// A charge that cannot be written is a 503 with no result.
func TestChargeFailureServesNothing(t *testing.T) {
	e := newEnv(t, nil)
	acc, id := e.session()
	tables := e.d.Config.Tables
	tables.Usage = "missing-table"
	broken := session.NewStore(fx.DB, tables, session.Options{})
	s := e.d.Deps.Server(nil, nil)
	s.Handle(route, httpapi.Need(caller.Read), metering.New(broken, e.d.Usage(), nil, time.Now).Handler(nil, echo))
	c := e.admit(acc)
	r := sessiontest.Do(t, s.Lambda(), sessiontest.Request{Method: "POST", Path: "/api/v1/indicators/echo", Body: `{"data":"x"}`, Caller: &c})
	if r.Status != 503 || r.Code() != "service_unavailable" || strings.Contains(r.Raw, "meta") || strings.Contains(r.Raw, "missing-table") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if st := e.stored(acc, id); st.TokensUsed != 0 || st.Requests != 0 {
		t.Fatalf("charged anyway: %+v", st)
	}
}

// An answer ready only after the session's expires_at (admitted before
// it) is not delivered and charges nothing: 403 session_required.
func TestAnswerAfterExpiryServesNothing(t *testing.T) {
	e := newEnv(t, nil)
	acc, id := e.session()
	c := e.admit(acc)
	late := func() time.Time { return e.stored(acc, id).ExpiresAt }
	s := e.d.Deps.Server(nil, nil)
	s.Handle(route, httpapi.Need(caller.Read), metering.New(e.store, e.d.Usage(), nil, late).Handler(nil, echo))
	r := sessiontest.Do(t, s.Lambda(), sessiontest.Request{Method: "POST", Path: "/api/v1/indicators/echo", Body: `{"data":"x"}`, Caller: &c})
	if r.Status != 403 || r.Code() != "session_required" || strings.Contains(r.Raw, "meta") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if st := e.stored(acc, id); st.TokensUsed != 0 || st.Requests != 0 || e.hubTokens(acc) != 0 {
		t.Fatalf("charged after expiry: %+v", st)
	}
}

// The same request id charged twice (a retried charge) counts once.
func TestDuplicateChargeCountsOnce(t *testing.T) {
	e := newEnv(t, nil)
	acc, id := e.session()
	body := `{"data":"again"}`
	var tokens int64
	for range 3 {
		r := e.call(e.admit(acc), body, "req-dup-"+id)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		tokens = metaOf(t, r).Tokens
	}
	if s := e.stored(acc, id); s.TokensUsed != tokens || s.Requests != 1 || e.hubTokens(acc) != tokens {
		t.Fatalf("after 3 deliveries of one request: %+v, hub %d, want %d", s, e.hubTokens(acc), tokens)
	}
	rep, _ := e.d.Usage().AccountUsage(context.Background(), acc, time.Now(), time.Now())
	if rep.Tokens != tokens || rep.Requests != 1 {
		t.Fatalf("account usage %+v", rep)
	}
}

// Concurrent metered requests: tokens_used is the sum of the tokens the
// responses reported, exactly.
func TestConcurrentMeteredRequests(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "100000000"})
	for _, n := range []int{48, 200} {
		t.Run(fmt.Sprintf("%d requests", n), func(t *testing.T) {
			acc, id := e.session()
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				reported int64
				failed   int
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := e.call(e.admit(acc), fmt.Sprintf(`{"data":"r%d","pad":%d}`, i, rand.IntN(400)), "")
					mu.Lock()
					defer mu.Unlock()
					if r.Status != 200 {
						failed++
						t.Errorf("%d %s", r.Status, r.Raw)
						return
					}
					reported += metaOf(t, r).Tokens
				}()
			}
			wg.Wait()
			s := e.stored(acc, id)
			by, _ := e.store.Usage(context.Background(), id)
			rep, _ := e.d.Usage().AccountUsage(context.Background(), acc, time.Now(), time.Now())
			diff := s.TokensUsed - reported
			t.Logf("%d concurrent metered requests: %d tokens reported, %d stored: %d lost, %d double-counted",
				n, reported, s.TokensUsed, max(0, -diff), max(0, diff))
			if failed != 0 || diff != 0 || s.Requests != int64(n) || e.hubTokens(acc) != reported ||
				len(by) != 1 || by[0].Tokens != reported || rep.Tokens != reported || rep.Requests != int64(n) {
				t.Fatalf("stored %+v hub %d usage %v account %+v; reported %d over %d requests",
					s, e.hubTokens(acc), by, rep.Counters, reported, n)
			}
		})
	}
}

// A sequential client with a small token limit: every answer that fits
// is delivered and charged; one that does not is refused 402
// insufficient_tokens naming its cost and what is left, charges nothing
// and, as it could not fit what was left at admission, costs no charge
// round trip (only the usage recorder's); the session stays active, and
// the answer that fills it exactly (tokens == limit - used) is delivered
// and ends it.
func TestSessionNeverPassesItsLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "1000"})
	acc, id := e.session()
	var delivered, refused int64
	pad := 1000
	for i := 0; ; i++ {
		if i == 60 {
			t.Fatalf("the session was not filled after %d requests: %+v", i, e.stored(acc, id))
		}
		c := e.admit(acc)
		if c.Refusal != "" {
			break // filled: the authorizer admits no more
		}
		before := counter.Count()
		r := e.call(c, fmt.Sprintf(`{"pad":%d}`, pad), "")
		trips := counter.Count() - before
		switch r.Status {
		case 200:
			delivered += metaOf(t, r).Tokens
			continue
		case 402:
		default:
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		refused++
		need, left := r.Int("tokens_required"), r.Int("tokens_remaining")
		if r.Code() != "insufficient_tokens" || left != 1000-delivered || need <= left || trips != 1 {
			t.Fatalf("refusal after %d delivered tokens, %d round trips: %s", delivered, trips, r.Raw)
		}
		s := e.stored(acc, id)
		if s.TokensUsed != delivered || s.Status != session.Active || e.hubTokens(acc) != delivered {
			t.Fatalf("after a refusal: session %+v, hub %d, delivered %d", s, e.hubTokens(acc), delivered)
		}
		// Four pad bytes are one token: ask for what is left, closing
		// in by one byte at the end so that no answer undershoots.
		pad -= int(max(1, 4*(need-left-1)))
	}
	s := e.stored(acc, id)
	t.Logf("limit %d: %d tokens delivered and charged, %d requests refused, session %s (%s)",
		s.TokenLimit, delivered, refused, s.Status, s.EndReason)
	if refused == 0 || s.TokensUsed != 1000 || delivered != 1000 || s.Status != session.Ended || s.EndReason != session.Exhausted ||
		s.EndedAt.IsZero() || e.hubTokens(acc) != 0 {
		t.Fatalf("session %+v, delivered %d, hub %d", s, delivered, e.hubTokens(acc))
	}
}

// Concurrent requests whose sum passes the limit, all admitted with room
// to spare: the charge's own condition refuses those that no longer fit,
// so tokens_used ends at most at the limit and is exactly the sum of the
// delivered answers' tokens; every refusal is a 402 that charged nothing.
func TestConcurrentRequestsNeverPassTheLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "20000"})
	acc, id := e.session()
	const n = 100
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		delivered, refused int64
		tokens             int64
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.call(e.admit(acc), fmt.Sprintf(`{"data":"c%d","pad":%d}`, i, 800+rand.IntN(1600)), "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.Status == 200:
				delivered++
				tokens += metaOf(t, r).Tokens
			case r.Status == 402 && r.Code() == "insufficient_tokens":
				refused++
			default:
				t.Errorf("%d %s", r.Status, r.Raw)
			}
		}()
	}
	wg.Wait()
	s := e.stored(acc, id)
	by, _ := e.store.Usage(context.Background(), id)
	rep, _ := e.d.Usage().AccountUsage(context.Background(), acc, time.Now(), time.Now())
	t.Logf("%d concurrent requests on a 20000-token session: %d delivered (%d tokens), %d refused; tokens_used %d",
		n, delivered, tokens, refused, s.TokensUsed)
	if s.TokensUsed > s.TokenLimit || s.TokensUsed != tokens || s.Requests != delivered || refused == 0 ||
		delivered+refused != n || (s.Status == session.Active && e.hubTokens(acc) != tokens) ||
		len(by) != 1 || by[0].Tokens != tokens || rep.Tokens != tokens {
		t.Fatalf("session %+v, hub %d, usage %v, account %+v; delivered %d (%d tokens), refused %d",
			s, e.hubTokens(acc), by, rep.Counters, delivered, tokens, refused)
	}
}

// Round trips of a metered request: the authorizer's two (key check and
// rate limit in one, the hub's active session) and the charge's one.
func TestRoundTrips(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	acc, _ := e.session()
	keys := apikey.NewStore(db, e.d.Config.Tables.APIKeys)
	// At 6,000,000 a minute (far above the API's maximum, so created in
	// the store directly) a token comes back every 10 µs, quicker than
	// any round trip, so every request finds the key idle and the count
	// does not depend on the machine's speed. (At 1,000 a minute a key
	// can turn from busy to idle between two requests, which costs the
	// instance one more call: shared/authorizer's TestRoundTrips bounds
	// that case.)
	key, err := keys.Create(ctx, acc, apikey.Spec{Name: "read", Permission: caller.Read, RateLimit: 6_000_000}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	auth := authorizer.New(authorizer.Options{Keys: keys, Sessions: e.store, Metered: store.MeteredRoutes})
	for i := range 3 {
		before := counter.Count()
		reqID := fmt.Sprintf("rt-%s-%d", acc, i)
		resp, err := auth.Handle(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{
			MethodArn: "arn:aws:execute-api:us-east-1:123456789012:local/v1stage/POST/api/v1/indicators/echo",
			Resource:  "/api/v1/indicators/{name}", Path: "/api/v1/indicators/echo", HTTPMethod: "POST",
			Headers:        map[string]string{"X-API-Key": key.Secret},
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{RequestID: reqID}})
		if err != nil {
			t.Fatal(err)
		}
		authTrips := counter.Count() - before
		c, err := caller.FromContext(resp.Context)
		if err != nil || c.SessionID == "" {
			t.Fatalf("authorizer context %v: %v", resp.Context, err)
		}
		r := e.call(c, `{"data":"x"}`, reqID)
		total := counter.Count() - before
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		t.Logf("metered request %d: authorizer %d + function %d = %d DynamoDB round trips", i, authTrips, total-authTrips, total)
		if authTrips != 2 || total != 3 {
			t.Fatalf("authorizer %d, total %d round trips; want 2 and 3", authTrips, total)
		}
	}
}

// GET /api/v1/usage reports the account's metered usage.
func TestUsageEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	acc, _ := e.session()
	other := sessiontest.Account(t, fx.DB, e.d.Config.Tables.Quotas, 0)
	r := e.call(e.admit(acc), `{"data":"u"}`, "")
	tokens := metaOf(t, r).Tokens
	s, err := sessions.Usage(e.d)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Lambda()
	rd, ord, master := sessiontest.Key(acc, caller.Read), sessiontest.Key(other, caller.Read), sessiontest.Master
	today := time.Now().UTC().Format(usage.Day)
	tests := []struct {
		name   string
		c      caller.Caller
		q      map[string]string
		status int
		code   string
		tokens int64
	}{
		{"own", rd, nil, 200, "", tokens},
		{"today", rd, map[string]string{"from": today, "to": today}, 200, "", tokens},
		{"master", master, map[string]string{"account_id": acc}, 200, "", tokens},
		{"master must name", master, nil, 400, "invalid_request", 0},
		{"another account", ord, map[string]string{"account_id": acc}, 404, "not_found", 0},
		{"bad day", rd, map[string]string{"from": "yesterday"}, 400, "invalid_request", 0},
		{"reversed", rd, map[string]string{"from": today, "to": "2020-01-01"}, 400, "invalid_request", 0},
		{"other's own", ord, nil, 200, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sessiontest.Do(t, h, sessiontest.Request{Method: "GET", Path: "/api/v1/usage", Query: tc.q, Caller: &tc.c})
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("%d %q %s", r.Status, r.Code(), r.Raw)
			}
			if tc.status != 200 {
				return
			}
			var rep usage.Report
			if err := json.Unmarshal([]byte(r.Raw), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Tokens != tc.tokens {
				t.Fatalf("report %s", r.Raw)
			}
			if tc.tokens == 0 {
				return
			}
			found := false
			for _, ep := range rep.ByEndpoint {
				found = found || (ep.Endpoint == "indicators/echo" && ep.Tokens == tc.tokens && ep.Requests == 1)
			}
			if !found || len(rep.ByDay) != 1 || rep.ByDay[0].Day != today || rep.AccountID != acc {
				t.Fatalf("report %s", r.Raw)
			}
		})
	}
}

// invoke sends body as the caller c and returns the proxy response and
// the size of the invoke response aws-lambda-go would send for it.
func (e *env) invoke(c caller.Caller, body string) (events.APIGatewayProxyResponse, int) {
	e.t.Helper()
	resp, err := e.h(context.Background(), sessiontest.Request{Method: "POST", Path: "/api/v1/indicators/echo", Body: body,
		Caller: &c}.Event())
	if err != nil {
		e.t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		e.t.Fatal(err)
	}
	return resp, b.Len()
}

// An answer over Lambda's 6 MB response limit, measured as Lambda does
// (the JSON-encoded proxy response), is refused 413 response_too_large
// naming its size and the limit, and nothing is charged; the answer
// exactly at the limit is delivered and charged.
func TestResponseSizeLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "1000000000"})
	acc, id := e.session()
	pad := metering.MaxResponseBytes + 1000
	resp, _ := e.invoke(e.admit(acc), fmt.Sprintf(`{"pad":%d}`, pad))
	var p struct {
		Code  string `json:"code"`
		Size  int    `json:"response_bytes"`
		Limit int    `json:"max_response_bytes"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || resp.StatusCode != 413 || p.Code != "response_too_large" ||
		p.Limit != metering.MaxResponseBytes || p.Size <= p.Limit {
		t.Fatalf("%d %.300s", resp.StatusCode, resp.Body)
	}
	// One pad byte is one byte of the invoke response.
	pad -= p.Size - metering.MaxResponseBytes
	resp, size := e.invoke(e.admit(acc), fmt.Sprintf(`{"pad":%d}`, pad))
	if resp.StatusCode != 200 || size != metering.MaxResponseBytes {
		t.Fatalf("at the limit: %d, %d bytes: %.300s", resp.StatusCode, size, resp.Body)
	}
	var ok struct {
		Meta struct {
			Tokens int64 `json:"tokens"`
		} `json:"meta"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &ok); err != nil {
		t.Fatal(err)
	}
	before := counter.Count()
	resp, _ = e.invoke(e.admit(acc), fmt.Sprintf(`{"pad":%d}`, pad+1))
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if resp.StatusCode != 413 || p.Size != metering.MaxResponseBytes+1 {
		t.Fatalf("one byte over: %d %.300s", resp.StatusCode, resp.Body)
	}
	// The refusal read the hub (admit) and recorded the error: no charge.
	if trips := counter.Count() - before; trips != 2 {
		t.Fatalf("a refused answer made %d round trips, want 2 (the admission's read and the usage record)", trips)
	}
	t.Logf("the answer of %d invoke bytes was delivered (%d tokens); %d bytes was refused 413", size, ok.Meta.Tokens, p.Size)
	if s := e.stored(acc, id); s.TokensUsed != ok.Meta.Tokens || s.Requests != 1 {
		t.Fatalf("session %+v: the refusals were charged", s)
	}
}

// A charge starts only with DeliveryMargin left before the request's
// deadline (the Lambda context's): closer to it, the answer could be
// charged and the function stopped before it leaves, so the request is
// refused 503 with Retry-After and nothing is charged or written.
func TestNoChargeNearTheDeadline(t *testing.T) {
	e := newEnv(t, nil)
	acc, id := e.session()
	tests := []struct {
		name    string
		left    time.Duration
		status  int
		charged bool
	}{
		{"under the margin", metering.DeliveryMargin - 200*time.Millisecond, 503, false},
		{"past the deadline", -time.Second, 503, false},
		{"enough time", metering.DeliveryMargin + 3*time.Second, 200, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.stored(acc, id)
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(tc.left))
			defer cancel()
			c := e.admit(acc)
			resp, err := e.h(ctx, sessiontest.Request{Method: "POST", Path: "/api/v1/indicators/echo", Body: `{"data":"x"}`,
				Caller: &c}.Event())
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Code string `json:"code"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &p)
			if resp.StatusCode != tc.status || (tc.status == 503 && (p.Code != "service_unavailable" || resp.MultiValueHeaders["Retry-After"] == nil)) {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			after := e.stored(acc, id)
			if got := after.Requests - before.Requests; (got == 1) != tc.charged || got > 1 {
				t.Fatalf("charged %d requests (%d tokens); want charged=%v", got, after.TokensUsed-before.TokensUsed, tc.charged)
			}
		})
	}
}

// deadlineSessions records the deadline of the context a charge gets.
type deadlineSessions struct{ got time.Time }

func (s *deadlineSessions) Charge(ctx context.Context, _ session.Charge) (session.Charged, error) {
	s.got, _ = ctx.Deadline()
	return session.Charged{}, nil
}

// The charge's own context ends DeliveryReserve before the request's
// deadline, so that its retries cannot use the time the answer needs to
// leave.
func TestChargeLeavesTimeToDeliver(t *testing.T) {
	s := &deadlineSessions{}
	m := metering.New(s, nil, nil, time.Now)
	deadline := time.Now().Add(5 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	c := caller.Caller{AccountID: "acc_1", KeyID: "key_1", Permission: caller.Read, SessionID: "ses_1", SessionTokenLimit: 100}
	if err := m.Charge(ctx, c, "req-1", "indicators/x", 10); err != nil {
		t.Fatal(err)
	}
	if want := deadline.Add(-metering.DeliveryReserve); !s.got.Equal(want) {
		t.Fatalf("the charge's deadline is %v, want %v (DeliveryReserve before the request's)", s.got, want)
	}
}
