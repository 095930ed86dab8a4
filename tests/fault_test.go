package tests

// Faults: the DynamoDB server paused (SIGSTOP) and stopped under a
// running API, SDK throttling, a poison record in a stream batch and the
// same batch delivered three times, the reconciler run twice at once, and
// a client retrying quota add across a fault.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/authorize"
	"github.com/waickoff/waickoff/shared/app/indicators"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/session"
)

// outcome is one request's answer during a fault.
type outcome struct {
	name string
	r    response
	took time.Duration
}

// concurrently sends every request at once and returns the answers.
func concurrently(t *testing.T, a *local.API, reqs map[string]req) []outcome {
	t.Helper()
	out := make([]outcome, 0, len(reqs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, r := range reqs {
		if r.timeout == 0 {
			r.timeout = 30 * time.Second // bounded, whatever happens
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp := do(t, a, r)
			mu.Lock()
			out = append(out, outcome{name, resp, time.Since(start)})
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// failedClosed checks that a keyed request was refused with the
// authorizer-failure problem: 503 service_unavailable, Retry-After.
func failedClosed(t *testing.T, o outcome, within time.Duration) {
	t.Helper()
	if o.r.status != 503 || o.r.body["code"] != "service_unavailable" || o.r.header.Get("Retry-After") == "" {
		t.Errorf("%s: %d %s (Retry-After %q), want 503 service_unavailable", o.name, o.r.status, shorten(string(o.r.raw)), o.r.header.Get("Retry-After"))
	}
	if o.took > within {
		t.Errorf("%s: answered after %v, want within %v", o.name, o.took, within)
	}
}

// gatewayLines counts the gateway's log lines of finished requests to
// path.
func gatewayLines(logs *syncBuffer, path string) int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"gateway"`) && strings.Contains(line, `"path":"`+path+`"`) {
			n++
		}
	}
	return n
}

// The DynamoDB server paused and then stopped under a running API: every
// keyed request fails closed with 503 (none is served, no token charged,
// no quota, key or session changed), public routes still answer, and
// the API recovers by itself when the server comes back, with no restart
// of its own. A client that retries quota add with its idempotency key
// across the fault gets the purchase exactly once.
func TestFaultStoreOutage(t *testing.T) {
	a := startAPIAt(t, map[string]string{"DYNAMODB_ENDPOINT": ""}) // its own moto, to pause
	logs := logsOf(a)
	tn := newTenant(t, a, "outage", 5)
	sid := tn.active(t)
	adds := gatewayLines(logs, "/api/v1/sessions/quota/add") // finished quota adds so far
	unknown := apikeyLike(t)
	candles := candleBody(60)

	t.Run("paused", func(t *testing.T) {
		if err := a.DB.Pause(); err != nil {
			t.Fatal(err)
		}
		resumed := false
		defer func() {
			if !resumed {
				_ = a.DB.Resume()
			}
		}()
		outs := concurrently(t, a, map[string]req{
			"READ quota":              {method: "GET", path: "/api/v1/sessions/quota", key: tn.read},
			"READ metered":            {method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: candles},
			"READ metered batch":      {method: "POST", path: "/api/v1/indicators/batch", key: tn.read, json: map[string]any{"candles": candleRows(60), "indicators": []any{map[string]any{"name": "rsi"}}}},
			"READ usage (bearer)":     {method: "GET", path: "/api/v1/usage", key: tn.read, bearer: true},
			"WRITE terminate":         {method: "POST", path: "/api/v1/sessions/" + sid + "/terminate", key: tn.write},
			"ADMIN create key":        {method: "POST", path: "/api/v1/keys", key: tn.admin, json: map[string]any{"name": "during outage", "permission": "ADMIN"}},
			"ADMIN quota add":         {method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin, json: map[string]any{"sessions": 3, "idempotency_key": "fault-1"}},
			"ADMIN revoke":            {method: "DELETE", path: "/api/v1/keys/" + tn.readID, key: tn.admin},
			"unknown well-formed key": {method: "GET", path: "/api/v1/keys", key: unknown},
			"malformed key":           {method: "GET", path: "/api/v1/keys", key: "wk_nope"},
			"no key":                  {method: "GET", path: "/api/v1/keys"},
			"public health":           {method: "GET", path: "/api/v1/health"},
			"public pricing":          {method: "GET", path: "/api/v1/pricing"},
			// The master key needs no store to be recognised; its request
			// reaches the function, which waits on the store. This client
			// gives up, as clients do.
			"master quota add (client gives up)": {method: "POST", path: "/api/v1/sessions/quota/add", key: a.MasterKey,
				json: map[string]any{"sessions": 2, "idempotency_key": "fault-2", "account_id": tn.id}, timeout: 1500 * time.Millisecond},
		})
		for _, o := range outs {
			switch o.name {
			case "malformed key", "no key":
				if o.r.status != 401 || o.took > time.Second {
					t.Errorf("%s: %d after %v, want 401 at once", o.name, o.r.status, o.took)
				}
			case "public health", "public pricing":
				if o.r.status != 200 || o.took > time.Second {
					t.Errorf("%s: %d after %v, want 200 at once", o.name, o.r.status, o.took)
				}
			case "master quota add (client gives up)":
				if o.r.status >= 200 && o.r.status < 300 {
					t.Errorf("%s: served %d during the outage", o.name, o.r.status)
				}
			default:
				// The authorizer gives the store 3 s, then fails closed.
				failedClosed(t, o, 6*time.Second)
			}
		}
		if err := a.DB.Resume(); err != nil {
			t.Fatal(err)
		}
		resumed = true

		// It comes back by itself: the very next requests are served.
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: tn.read, timeout: 8 * time.Second})
			if r.status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not serving 10 s after the store resumed: %d %s", r.status, r.raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Nothing was served or changed during the outage.
		s := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + sid, key: tn.read})
		if s.body["status"] != "active" || s.body["tokens_used"] != 0.0 || s.body["requests"] != 0.0 {
			t.Fatalf("the session after the outage: %s", s.raw)
		}
		keys := do(t, a, req{method: "GET", path: "/api/v1/keys?limit=100", key: tn.read})
		if n := len(keys.body["items"].([]any)); keys.status != 200 || n != 4 {
			t.Fatalf("%d keys after the outage, want 4: %s", n, shorten(string(keys.raw)))
		}
		// The metered path works again, and charges.
		m := do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: candles})
		expect(t, "metered call after the outage", m, 200, "")
	})

	t.Run("quota add retried across the fault adds once", func(t *testing.T) {
		first := do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
			json: map[string]any{"sessions": 3, "idempotency_key": "fault-1"}})
		expect(t, "ADMIN retry", first, 201, "")
		again := do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
			json: map[string]any{"sessions": 3, "idempotency_key": "fault-1"}})
		if again.status != 201 || again.body["purchase_id"] != first.body["purchase_id"] {
			t.Fatalf("second retry: %d %s, want %s", again.status, again.raw, first.body["purchase_id"])
		}
		m := do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: a.MasterKey,
			json: map[string]any{"sessions": 2, "idempotency_key": "fault-2", "account_id": tn.id}})
		expect(t, "master retry", m, 201, "")
		// Wait until the request the client abandoned has finished too,
		// whatever it did, before counting.
		deadline := time.Now().Add(20 * time.Second)
		for gatewayLines(logs, "/api/v1/sessions/quota/add") < adds+5 {
			if time.Now().After(deadline) {
				t.Fatalf("the abandoned quota add never finished (%d of 5 logged)", gatewayLines(logs, "/api/v1/sessions/quota/add")-adds)
			}
			time.Sleep(100 * time.Millisecond)
		}
		q := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: tn.read})
		if q.body["purchased"] != 10.0 || q.body["used"] != 1.0 || q.body["remaining"] != 9.0 {
			t.Fatalf("quota %s, want purchased 5+3+2, used 1, remaining 9", q.raw)
		}
		out, err := dbOf(t, a).Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(a.Config.Tables.Quotas),
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": dynamo.S("ACCOUNT#" + tn.id), ":p": dynamo.S("PURCHASE#")}})
		if err != nil || len(out.Items) != 3 {
			t.Fatalf("%d purchases in the ledger (%v), want 3", len(out.Items), err)
		}
	})

	t.Run("stopped, then back", func(t *testing.T) {
		u, err := url.Parse(a.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		a.DB.Stop()
		outs := concurrently(t, a, map[string]req{
			"READ quota":       {method: "GET", path: "/api/v1/sessions/quota", key: tn.read},
			"READ metered":     {method: "POST", path: "/api/v1/indicators/rsi", key: tn.read, json: candles},
			"ADMIN quota add":  {method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin, json: map[string]any{"sessions": 1, "idempotency_key": "fault-3"}},
			"WRITE start":      {method: "POST", path: "/api/v1/sessions", key: tn.write},
			"master quota add": {method: "POST", path: "/api/v1/sessions/quota/add", key: a.MasterKey, json: map[string]any{"sessions": 1, "account_id": tn.id}},
			"master account":   {method: "POST", path: "/api/v1/accounts", key: a.MasterKey, json: map[string]any{"name": "while down"}},
			"public health":    {method: "GET", path: "/api/v1/health"},
		})
		for _, o := range outs {
			if o.name == "public health" {
				if o.r.status != 200 {
					t.Errorf("health while the store is down: %d", o.r.status)
				}
				continue
			}
			// Refused connections fail fast (3 attempts, 200 ms backoff).
			failedClosed(t, o, 3*time.Second)
		}

		// The server comes back on the same address (empty, as moto
		// keeps nothing); the API, untouched, serves again.
		restartMoto(t, a, u.Port())
		deadline := time.Now().Add(10 * time.Second)
		var acct response
		for {
			acct = do(t, a, req{method: "POST", path: "/api/v1/accounts", key: a.MasterKey, json: map[string]any{"name": "after"}})
			if acct.status == 201 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		expect(t, "account after the store is back", acct, 201, "")
		admin := acct.body["admin_key"].(map[string]any)["key"].(string)
		expect(t, "a key after the store is back", do(t, a, req{method: "GET", path: "/api/v1/keys", key: admin}), 200, "")
		// The old account lived in the lost store: its keys are now
		// unknown (401), not served.
		expect(t, "a key of the lost store", do(t, a, req{method: "GET", path: "/api/v1/keys", key: tn.read}), 401, "unauthorized")
	})
}

// restartMoto starts infra/moto/server.py on port (this test's own
// process, stopped by its PID at cleanup) and creates the API's tables.
func restartMoto(t *testing.T, a *local.API, port string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "python3"
	}
	cmd := exec.Command(python, filepath.Join(root, "infra", "moto", "server.py"), "--port", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(a.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("moto exited: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("moto did not come back within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := localdb.CreateTables(context.Background(), dbOf(t, a), a.Template, a.TableNames); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------- throttling

// throttler answers every DynamoDB call with a throttling error, as
// DynamoDB does when a table is over its capacity.
type throttler struct{ calls atomic.Int64 }

func (th *throttler) Do(r *http.Request) (*http.Response, error) {
	th.calls.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}`
	return dynamoError(r, []byte(body)), nil
}

// dynamoError is DynamoDB's answer to r with a JSON error body.
func dynamoError(r *http.Request, body []byte) *http.Response {
	return &http.Response{StatusCode: 400, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"fault-test"}},
		Body:   io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}
}

// SDK throttling is retried (3 attempts) within the Lambda time budget
// and then answered 503 by the functions, as an outage by the
// authorizer; the stream handler reports the record for retry and the
// reconciler returns an error; nothing crashes.
func TestFaultThrottledStore(t *testing.T) {
	// Each function gets its own throttled client, so that they can run
	// at once and their calls be counted apart.
	throttlers := map[string]*throttler{}
	deps := func(fn string) *store.Deps {
		th := &throttler{}
		throttlers[fn] = th
		db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: "http://127.0.0.1:9", HTTPClient: th})
		if err != nil {
			t.Fatal(err)
		}
		d, err := store.NewDeps(context.Background(), api.Config, fn, io.Discard, db)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	const budget = 10 * time.Second // the template's function Timeout
	var wg sync.WaitGroup
	defer wg.Wait()
	measure := func(fn string, f func()) {
		th := throttlers[fn]
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			f()
			if took, calls := time.Since(start), th.calls.Load(); calls < 3 || took > budget/2 {
				t.Errorf("%s: %d store calls in %v, want the SDK's 3 attempts well within %v", fn, calls, took, budget)
			}
		}()
	}

	authz, err := authorize.Authorizer(deps("AuthorizerFunction"))
	if err != nil {
		t.Fatal(err)
	}
	var areq events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(loadEvent(t, "authorizer-request.json"), &areq); err != nil {
		t.Fatal(err)
	}
	key := apikeyLike(t)
	areq.Headers["X-API-Key"], areq.MultiValueHeaders["X-API-Key"] = key, []string{key}
	measure("AuthorizerFunction", func() {
		_, err := authz(context.Background(), areq)
		if err == nil || err.Error() == "Unauthorized" {
			t.Errorf("authorizer on a throttled store: %v, want a failure (503), not 401", err)
		}
	})

	for _, c := range []struct {
		fn    string
		build store.HTTPBuilder
		ev    events.APIGatewayProxyRequest
	}{
		{"QuotaGetFunction", sessions.QuotaGet, proxyEvent("GET", "/api/v1/sessions/quota", "", nil, nil)},
		{"QuotaAddFunction", sessions.QuotaAdd, proxyEvent("POST", "/api/v1/sessions/quota/add", `{"sessions":1,"idempotency_key":"t"}`, nil, nil)},
		{"SessionStartFunction", sessions.Start, proxyEvent("POST", "/api/v1/sessions", "", nil, nil)},
		{"KeyListFunction", keys.KeyList, proxyEvent("GET", "/api/v1/keys", "", nil, nil)},
		{"KeyGetFunction", keys.KeyGet, proxyEvent("GET", "/api/v1/keys/key_019abde39500deadbeef", "", map[string]string{"key_id": "key_019abde39500deadbeef"}, nil)},
		{"SessionGetFunction", sessions.Get, proxyEvent("GET", "/api/v1/sessions/ses_000000000000aaaaaaaaaa", "", map[string]string{"session_id": "ses_000000000000aaaaaaaaaa"}, nil)},
		{"UsageFunction", sessions.Usage, proxyEvent("GET", "/api/v1/usage", "", nil, nil)},
		{"IndicatorComputeFunction", indicators.Compute, proxyEvent("POST", "/api/v1/indicators/sma", mustJSON(candleBody(30)),
			map[string]string{"name": "sma"}, map[string]any{"session_id": "ses_000000000000aaaaaaaaaa", "session_tokens_used": "0",
				"session_token_limit": "100000", "session_expires_at": strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)})},
	} {
		s, err := c.build(deps(c.fn))
		if err != nil {
			t.Fatal(err)
		}
		measure(c.fn, func() {
			resp, err := s.Lambda()(context.Background(), c.ev)
			var p map[string]any
			_ = json.Unmarshal([]byte(resp.Body), &p)
			retry := resp.Headers["Retry-After"]
			if vs := resp.MultiValueHeaders["Retry-After"]; len(vs) > 0 {
				retry = vs[0]
			}
			if err != nil || resp.StatusCode != 503 || p["code"] != "service_unavailable" || retry == "" {
				t.Errorf("%s: %d %s %v, want 503 service_unavailable with Retry-After", c.fn, resp.StatusCode, resp.Body, err)
			}
		})
	}

	exp, err := sessions.Expiry(deps("SessionExpiryFunction"))
	if err != nil {
		t.Fatal(err)
	}
	rec := leaseRecord(t, "acc_0123456789abcdef", session.NewID(time.Now().Add(-time.Hour)), "77", time.Now().Add(-time.Minute))
	measure("SessionExpiryFunction", func() {
		resp, err := exp(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
		if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "77" {
			t.Errorf("expiry on a throttled store: %+v %v, want the record reported for retry", resp, err)
		}
	})
	rc, err := sessions.Reconcile(deps("QuotaReconcileFunction"))
	if err != nil {
		t.Fatal(err)
	}
	var sched events.EventBridgeEvent
	_ = json.Unmarshal(loadEvent(t, "schedule.json"), &sched)
	measure("QuotaReconcileFunction", func() {
		if err := rc(context.Background(), sched); err == nil {
			t.Error("reconciler on a throttled store returned nil; it must fail so the run is retried")
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// proxyEvent is a proxy event as API Gateway hands a function, from an
// ADMIN key of a made-up account (so that every route admits it); extra
// adds authorizer context.
func proxyEvent(method, path, body string, params map[string]string, extra map[string]any) events.APIGatewayProxyRequest {
	auth := caller.Caller{AccountID: "acc_0123456789abcdef", KeyID: "key_019abde39500deadbeef", Permission: caller.Admin,
		RateLimit: 60, RateRemaining: 59}.Context()
	ctx := map[string]any{"principalId": "key_019abde39500deadbeef"}
	for k, v := range auth {
		ctx[k] = fmt.Sprint(v)
	}
	for k, v := range extra {
		ctx[k] = v
	}
	resource := path
	for name, v := range params {
		resource = strings.Replace(resource, v, "{"+name+"}", 1)
	}
	h := map[string]string{"Content-Type": "application/json"}
	return events.APIGatewayProxyRequest{Resource: resource, Path: path, HTTPMethod: method, Body: body, Headers: h,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}}, PathParameters: params,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "throttle-" + strconv.FormatInt(time.Now().UnixNano(), 36),
			Stage: "v1stage", HTTPMethod: method, ResourcePath: resource, Authorizer: ctx}}
}

// ---------------------------------------------------------------- stream

// leaseRecord is events/ttl-removal.json made the TTL removal of the
// given session's lease.
func leaseRecord(t *testing.T, accountID, sessionID, seq string, expires time.Time) events.DynamoDBEventRecord {
	t.Helper()
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(loadEvent(t, "ttl-removal.json"), &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("events/ttl-removal.json: %v", err)
	}
	rec := ev.Records[0]
	rec.Change.SequenceNumber = seq
	pk := events.NewStringAttribute("LEASE#" + sessionID)
	rec.Change.Keys = map[string]events.DynamoDBAttributeValue{"pk": pk, "sk": events.NewStringAttribute("LEASE")}
	rec.Change.OldImage = map[string]events.DynamoDBAttributeValue{
		"pk": pk, "sk": events.NewStringAttribute("LEASE"),
		"account_id": events.NewStringAttribute(accountID), "session_id": events.NewStringAttribute(sessionID),
		"expires_at": events.NewNumberAttribute(strconv.FormatInt(expires.UnixMilli(), 10)),
		"ttl":        events.NewNumberAttribute(strconv.FormatInt((expires.UnixMilli()+999)/1000, 10)),
	}
	return rec
}

// sessionItem reads a session's item as stored.
func sessionItem(t *testing.T, a *local.API, accountID, sessionID string) map[string]string {
	t.Helper()
	out, err := dbOf(t, a).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(a.Config.Tables.Sessions),
		Key: session.Key(accountID, sessionID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k, v := range out.Item {
		m[k] = render(v)
	}
	return m
}

// A stream batch with a poison record (a lease whose session item is
// corrupt) reports only that record in BatchItemFailures and ends the
// others; the same batch delivered three times ends each session once.
func TestFaultStreamPoisonAndRedelivery(t *testing.T) {
	a := startAPIAt(t, nil)
	var ids [2]struct {
		tn  *tenant
		sid string
		exp time.Time
	}
	for i := range ids {
		tn := newTenant(t, a, fmt.Sprintf("stream-%d", i), 1)
		r := do(t, a, req{method: "POST", path: "/api/v1/sessions", key: tn.write})
		expect(t, "start", r, 201, "")
		exp, err := time.Parse(time.RFC3339Nano, r.body["expires_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		ids[i].tn, ids[i].sid, ids[i].exp = tn, r.body["session_id"].(string), exp
	}
	// The poison: a lease of a session whose item is garbage.
	poisonAcc, poisonSID := "acc_00000000deadbeef", session.NewID(time.Now())
	bad := session.Key(poisonAcc, poisonSID)
	bad["status"] = dynamo.S("bogus")
	bad["expires_at"] = dynamo.S("yesterday")
	if _, err := dbOf(t, a).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(a.Config.Tables.Sessions), Item: bad}); err != nil {
		t.Fatal(err)
	}
	batch := []events.DynamoDBEventRecord{
		leaseRecord(t, ids[0].tn.id, ids[0].sid, "100", ids[0].exp),
		leaseRecord(t, poisonAcc, poisonSID, "101", time.Now()),
		leaseRecord(t, ids[1].tn.id, ids[1].sid, "102", ids[1].exp),
	}
	// The stream function as Lambda runs it, its clock past the
	// sessions' expiry (as when TTL removes the leases a day later).
	d := appDeps(t, a, "SessionExpiryFunction", 25*time.Hour)
	h, err := sessions.Expiry(d.Deps)
	if err != nil {
		t.Fatal(err)
	}
	var first [2]map[string]string
	for delivery := 1; delivery <= 3; delivery++ {
		resp, err := callStreamSafely(h, events.DynamoDBEvent{Records: batch})
		if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "101" {
			t.Fatalf("delivery %d: %+v %v, want only record 101 failed", delivery, resp, err)
		}
		for i, s := range ids {
			it := sessionItem(t, a, s.tn.id, s.sid)
			if delivery == 1 {
				first[i] = it
				if it["status"] != "ended" || it["end_reason"] != "expired" || it["ended_at"] != strconv.FormatInt(s.exp.UnixMilli(), 10) {
					t.Fatalf("session %d after the first delivery: %v", i, it)
				}
				continue
			}
			if !same(first[i], it) {
				t.Fatalf("delivery %d changed session %d: %v -> %v", delivery, i, changed(first[i], it), it)
			}
		}
	}
	for _, s := range ids {
		expect(t, "no current session", do(t, a, req{method: "GET", path: "/api/v1/sessions/current", key: s.tn.read}), 404, "not_found")
		q := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: s.tn.read})
		if _, has := q.body["active_session_id"]; has || q.body["used"] != 1.0 {
			t.Fatalf("quota after expiry: %s", q.raw)
		}
	}
	if n := strings.Count(d.logs.String(), `"msg":"session ended"`); n != 2 {
		t.Fatalf("%d sessions ended over three deliveries, want 2 (one each)", n)
	}
	if n := strings.Count(d.logs.String(), "reported for retry"); n != 3 {
		t.Fatalf("the poison record was reported %d times over three deliveries, want 3", n)
	}
}

// ---------------------------------------------------------------- reconciler

// The reconciler run twice at once (two function instances, one
// schedule event each): the drifted quota is repaired by exactly one of
// them, the overdue session is ended once, and a third run finds nothing
// to do.
func TestFaultReconcilerTwiceAtOnce(t *testing.T) {
	a := startAPIAt(t, nil)
	ctx := context.Background()
	db := dbOf(t, a)
	drift := newTenant(t, a, "drift", 5)
	drift.active(t)
	overdue := newTenant(t, a, "overdue", 1)
	osid := overdue.active(t)

	// Drift the hub's figures (as a lost write would) and make the other
	// account's session overdue while the table still calls it active.
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.Config.Tables.Quotas),
		Key: session.HubKey(drift.id), UpdateExpression: aws.String("SET purchased = :p, used = :u, remaining = :r"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": dynamo.N(9), ":u": dynamo.N(3), ":r": dynamo.N(1)}})
	if err != nil {
		t.Fatal(err)
	}
	past := dynamo.N(time.Now().Add(-time.Minute).UnixMilli())
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.Config.Tables.Sessions),
		Key: session.Key(overdue.id, osid), UpdateExpression: aws.String("SET expires_at = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": past}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.Config.Tables.Quotas),
		Key: session.HubKey(overdue.id), UpdateExpression: aws.String("SET active_expires_at = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": past}}); err != nil {
		t.Fatal(err)
	}

	var sched events.EventBridgeEvent
	if err := json.Unmarshal(loadEvent(t, "schedule.json"), &sched); err != nil {
		t.Fatal(err)
	}
	var runs [2]*testDeps
	var handlers [2]app.ScheduleHandler
	for i := range runs {
		runs[i] = appDeps(t, a, "QuotaReconcileFunction", 0)
		if handlers[i], err = sessions.Reconcile(runs[i].Deps); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var errs [2]error
	start := make(chan struct{})
	for i := range handlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = handlers[i](ctx, sched)
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Logf("concurrent runs reported: %v", err)
	}
	count := func(msg, account string) int {
		n := 0
		for _, r := range runs {
			for _, line := range strings.Split(r.logs.String(), "\n") {
				if strings.Contains(line, `"msg":"`+msg+`"`) && strings.Contains(line, account) {
					n++
				}
			}
		}
		return n
	}
	if n := count("quota repaired", drift.id); n != 1 {
		t.Errorf("the drifted quota was repaired %d times, want once", n)
	}
	if n := count("overdue session ended", overdue.id); n != 1 {
		t.Errorf("the overdue session was ended %d times, want once", n)
	}
	q := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: drift.read})
	if q.body["purchased"] != 5.0 || q.body["used"] != 1.0 || q.body["remaining"] != 4.0 {
		t.Fatalf("quota after the runs: %s, want 5/1/4", q.raw)
	}
	s := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + osid, key: overdue.read})
	if s.body["status"] != "ended" || s.body["end_reason"] != "expired" {
		t.Fatalf("overdue session: %s", s.raw)
	}
	hub, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a.Config.Tables.Quotas), Key: session.HubKey(overdue.id), ConsistentRead: aws.Bool(true)})
	if err != nil || hub.Item["active_session_id"] != nil {
		t.Fatalf("the overdue session's pointer was not cleared: %v %v", hub.Item["active_session_id"], err)
	}

	// A third run finds these accounts in order.
	third := appDeps(t, a, "QuotaReconcileFunction", 0)
	h, err := sessions.Reconcile(third.Deps)
	if err != nil {
		t.Fatal(err)
	}
	_ = h(ctx, sched)
	for _, line := range strings.Split(third.logs.String(), "\n") {
		for _, acc := range []string{drift.id, overdue.id} {
			if strings.Contains(line, acc) && (strings.Contains(line, `"msg":"quota repaired"`) || strings.Contains(line, `"msg":"overdue session ended"`)) {
				t.Errorf("the third run acted on %s again: %s", acc, line)
			}
		}
	}
}

// ---------------------------------------------------------------- conflicts

// conflicter passes every call to the store but answers the TransactWriteItems
// calls it is armed for with a cancellation whose last reason is code
// (TransactionConflict when another transaction holds one of the items,
// ThrottlingError or ProvisionedThroughputExceeded when one is
// throttled), as DynamoDB does: nothing of the transaction is applied.
// moto never cancels for these, so this is how their retry is proved.
type conflicter struct {
	next    aws.HTTPClient
	armed   atomic.Int64 // transactions still to refuse; -1: all
	refused atomic.Int64
	code    atomic.Value // string
}

func (c *conflicter) arm(n int64, code string) {
	c.code.Store(code)
	c.refused.Store(0)
	c.armed.Store(n)
}

func (c *conflicter) take() bool {
	for {
		n := c.armed.Load()
		switch {
		case n == 0:
			return false
		case n < 0:
			return true
		case c.armed.CompareAndSwap(n, n-1):
			return true
		}
	}
}

func (c *conflicter) Do(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.TransactWriteItems" || !c.take() {
		return c.next.Do(r)
	}
	c.refused.Add(1)
	var in struct{ TransactItems []json.RawMessage }
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&in)
	}
	reasons := make([]map[string]string, len(in.TransactItems))
	for i := range reasons {
		reasons[i] = map[string]string{"Code": "None"}
	}
	if len(reasons) > 0 {
		reasons[len(reasons)-1] = map[string]string{"Code": c.code.Load().(string), "Message": "Transaction is ongoing for the item"}
	}
	body, _ := json.Marshal(map[string]any{
		"__type":              "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"Message":             "Transaction cancelled, please refer cancellation reasons for specific reasons",
		"CancellationReasons": reasons,
	})
	return dynamoError(r, body), nil
}

// A transaction that loses to another (TransactionConflict) or is
// throttled item by item is retried and then applied exactly once; one
// that keeps losing ends in 503 with nothing applied, and the client's
// retry afterwards counts once. Covered: session start, a metered charge,
// quota add and terminate.
func TestFaultTransactionConflicts(t *testing.T) {
	cf := &conflicter{next: http.DefaultClient}
	a, err := local.Start(context.Background(), local.Options{
		Getenv: func(k string) string {
			if k == "DYNAMODB_ENDPOINT" {
				return api.Endpoint
			}
			return ""
		},
		Addr: "127.0.0.1:0", Logs: io.Discard, SweepEvery: time.Minute,
		TableSuffix: fmt.Sprintf("-cf%d", time.Now().UnixNano()), DynamoDBHTTPClient: cf, IAMRecorder: iamUses,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		a.Stop()
		noIAMDenials(t, a)
	}()
	trustMaster(a)
	tn := newTenant(t, a, "conflicts", 2)
	quota := func() (purchased, used float64) {
		r := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: tn.read})
		expect(t, "quota", r, 200, "")
		return r.body["purchased"].(float64), r.body["used"].(float64)
	}
	tokens := func(id string) float64 {
		r := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + id, key: tn.read})
		expect(t, "session", r, 200, "")
		return r.body["tokens_used"].(float64)
	}
	refused := func(what string, want int64) {
		t.Helper()
		if got := cf.refused.Load(); got < want {
			t.Fatalf("%s: %d transactions refused, want at least %d", what, got, want)
		}
	}

	// Two refusals, then the transaction goes through: applied once.
	const conflict = "TransactionConflict"
	cf.arm(2, conflict)
	r := do(t, a, req{method: "POST", path: "/api/v1/sessions", key: tn.write})
	expect(t, "start after two conflicts (retried)", r, 201, "")
	refused("start", 2)
	sid := r.body["session_id"].(string)
	if p, u := quota(); p != 2 || u != 1 {
		t.Fatalf("after a start retried past two conflicts: purchased %v used %v, want 2 and 1", p, u)
	}
	cf.arm(2, "ThrottlingError")
	r = do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: candleBody(40)})
	expect(t, "charge after two throttled tries", r, 200, "")
	refused("charge", 2)
	spent := r.body["meta"].(map[string]any)["tokens"].(float64)
	if got := tokens(sid); got != spent {
		t.Fatalf("tokens_used %v after one charge of %v retried past two throttled tries", got, spent)
	}
	cf.arm(2, "ProvisionedThroughputExceeded")
	expect(t, "quota add after two throttled tries", do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
		json: map[string]any{"sessions": 1, "idempotency_key": "cf-1"}}), 201, "")
	refused("quota add", 2)
	if p, u := quota(); p != 3 || u != 1 {
		t.Fatalf("after a quota add retried past two throttled tries: purchased %v used %v, want 3 and 1", p, u)
	}

	// Conflicts that do not end: 503 with Retry-After, nothing applied;
	// the client's retry once they end counts once.
	cf.arm(-1, conflict)
	for _, c := range []struct {
		what string
		r    req
	}{
		{"charge", req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: candleBody(40)}},
		{"quota add", req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin, json: map[string]any{"sessions": 2, "idempotency_key": "cf-2"}}},
		{"terminate", req{method: "POST", path: "/api/v1/sessions/" + sid + "/terminate", key: tn.write}},
	} {
		r := do(t, a, c.r)
		expect(t, c.what+" while conflicts last", r, 503, "service_unavailable")
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", c.what)
		}
	}
	refused("endless conflicts", 3)
	cf.arm(0, conflict)
	if got := tokens(sid); got != spent {
		t.Fatalf("tokens_used %v after refused charges, want %v", got, spent)
	}
	if p, u := quota(); p != 3 || u != 1 {
		t.Fatalf("after refused quota adds: purchased %v used %v, want 3 and 1", p, u)
	}
	expect(t, "quota add retried", do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
		json: map[string]any{"sessions": 2, "idempotency_key": "cf-2"}}), 201, "")
	expect(t, "quota add retried again", do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
		json: map[string]any{"sessions": 2, "idempotency_key": "cf-2"}}), 201, "")
	if p, u := quota(); p != 5 || u != 1 {
		t.Fatalf("after the retried quota add: purchased %v used %v, want 5 and 1", p, u)
	}
	expect(t, "terminate retried", do(t, a, req{method: "POST", path: "/api/v1/sessions/" + sid + "/terminate", key: tn.write}), 200, "")
	cf.arm(-1, conflict)
	expect(t, "start while conflicts last", do(t, a, req{method: "POST", path: "/api/v1/sessions", key: tn.write}), 503, "service_unavailable")
	cf.arm(0, conflict)
	if p, u := quota(); p != 5 || u != 1 {
		t.Fatalf("after a refused start: purchased %v used %v, want 5 and 1", p, u)
	}
}
