package tests

// The OWASP API Security Top 10 (2023), one test per item that applies,
// against the local API over HTTP. API7 (server-side request forgery)
// does not apply: no endpoint fetches a URL or any other resource a
// client names.
//
// Every request these tests (and the fault and bad-input tests) send goes
// through do, which checks the contract's error shape on every refusal
// and keeps each exchange in book; API3, API8 and API9 then read the
// whole book.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/problem"
)

// ---------------------------------------------------------------- the book

// exchange is one request and its answer.
type exchange struct {
	method, path, route string // route: the template pattern ("" unknown)
	key                 string
	master              bool
	status              int
	body                []byte
}

// ledger keeps every exchange, the keys the API showed (and where), and
// which account owns each id the API mentioned.
type ledger struct {
	mu      sync.Mutex
	ex      []exchange
	creator map[string]int    // key -> index of the exchange that showed it
	keyAcct map[string]string // key -> its account
	owner   map[string]string // account, key, session or purchase id -> account
	masters map[string]bool   // master keys of every API started
}

var book = &ledger{creator: map[string]int{}, keyAcct: map[string]string{}, owner: map[string]string{},
	masters: map[string]bool{}}

// add records e and learns the keys and ids in its body.
func (l *ledger) add(e exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.ex)
	l.ex = append(l.ex, e)
	var v any
	if json.Unmarshal(e.body, &v) != nil || e.status >= 300 {
		return
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			acc, _ := x["account_id"].(string)
			if acc != "" {
				for _, f := range []string{"account_id", "key_id", "session_id", "purchase_id", "active_session_id"} {
					if id, ok := x[f].(string); ok && id != "" {
						l.owner[id] = acc
					}
				}
				if k, ok := x["key"].(string); ok && strings.HasPrefix(k, apikey.Scheme) {
					if _, seen := l.creator[k]; !seen {
						l.creator[k] = i
					}
					l.keyAcct[k] = acc
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
}

func (l *ledger) snapshot() ([]exchange, map[string]int, map[string]string, map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]exchange(nil), l.ex...), clone(l.creator), clone(l.keyAcct), clone(l.owner)
}

func clone[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---------------------------------------------------------------- requests

// req is one request to send.
type req struct {
	method, path string
	key          string // sent as X-API-Key (or Bearer) unless empty
	bearer       bool
	json         any    // marshalled as the body, Content-Type application/json
	raw          []byte // the body as is (with ct) when json is nil
	ct           string
	hdr          map[string]string
	timeout      time.Duration // client timeout (0: none)
}

var contractCodes = map[string]bool{"invalid_request": true, "unauthorized": true, "forbidden": true,
	"session_required": true, "quota_exhausted": true, "insufficient_tokens": true, "response_too_large": true, "rate_limited": true, "not_found": true, "conflict": true,
	"payload_too_large": true, "unsupported_media_type": true, "payments_disabled": true,
	"service_unavailable": true, "internal": true,
	// Beyond the contract's list: MCP's GET and DELETE; a key past the
	// account's caps.
	"method_not_allowed": true, "key_limit_reached": true}

// do sends r to a, records the exchange and checks what every answer
// owes the contract: an X-Request-Id, and on refusals a problem+json body
// whose status and type agree with its code. A transport error (expected
// only when r.timeout lets the client give up) returns status 0.
func do(t *testing.T, a *local.API, r req) response {
	t.Helper()
	var body io.Reader
	ct := r.ct
	switch {
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			t.Fatal(err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	case r.raw != nil:
		body = bytes.NewReader(r.raw)
	}
	// Failures here are reported with Errorf and a zero response, never
	// FailNow: tests call do from several goroutines at once.
	hr, err := http.NewRequest(r.method, a.URL+r.path, body)
	if err != nil {
		t.Errorf("%s %s: %v", r.method, shorten(r.path), err)
		return response{}
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.key != "" {
		if r.bearer {
			hr.Header.Set("Authorization", "Bearer "+r.key)
		} else {
			hr.Header.Set("X-API-Key", r.key)
		}
	}
	for k, v := range r.hdr {
		hr.Header.Set(k, v)
	}
	// Redirects are answers too: never follow them.
	client := &http.Client{Timeout: r.timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(hr)
	if err != nil {
		if r.timeout == 0 {
			t.Errorf("%s %s: %v", r.method, shorten(r.path), err)
		}
		return response{} // a client that gave up (r.timeout) sees no answer
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	path, _, _ := strings.Cut(r.path, "?")
	trustMaster(a)
	key := r.key // the key the caller acts with, wherever it was sent
	for k, v := range r.hdr {
		scheme, token, _ := strings.Cut(strings.TrimSpace(v), " ")
		switch {
		case key != "":
		case strings.EqualFold(k, "X-API-Key"):
			key = strings.TrimSpace(v)
		case strings.EqualFold(k, "Authorization") && strings.EqualFold(scheme, "Bearer"):
			key = strings.TrimSpace(token)
		}
	}
	book.add(exchange{method: r.method, path: path, route: routeOf(r.method, path), key: key,
		master: book.isMaster(key), status: resp.StatusCode, body: raw})
	what := r.method + " " + shorten(r.path)
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
	if resp.StatusCode >= 400 {
		checkProblem(t, what, out)
	}
	return out
}

// checkProblem asserts the contract's problem+json shape.
func checkProblem(t *testing.T, what string, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: %d with Content-Type %q, want application/problem+json", what, r.status, ct)
		return
	}
	code, _ := r.body["code"].(string)
	if !contractCodes[code] || r.body["status"] != float64(r.status) || problem.Status(problem.Code(code)) != r.status ||
		r.body["type"] != problem.TypeBase+code || r.body["title"] == "" || r.body["detail"] == nil {
		t.Errorf("%s: problem body %s does not match status %d", what, shorten(string(r.raw)), r.status)
	}
}

func shorten(s string) string {
	if len(s) > 160 {
		return s[:160] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

func (l *ledger) isMaster(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return key != "" && l.masters[key]
}

// started are the APIs this suite started, with their logs.
var started = struct {
	sync.Mutex
	logs map[*local.API]*syncBuffer
}{logs: map[*local.API]*syncBuffer{}}

// startAPIAt starts an API of its own for one test: fresh tables on the
// main API's DynamoDB server unless env names another (""), so that its
// tables stay small and the test is alone in them. Its TTL sweeper runs
// once a minute: these tests drive the stream and schedule handlers
// themselves, and a sweep is a full Scan that moto, single-threaded,
// makes every other call wait for.
func startAPIAt(t *testing.T, env map[string]string) *local.API {
	t.Helper()
	all := map[string]string{"DYNAMODB_ENDPOINT": api.Endpoint}
	for k, v := range env {
		all[k] = v
	}
	logs := &syncBuffer{}
	a, err := local.Start(context.Background(), local.Options{
		Getenv: func(k string) string { return all[k] }, Addr: "127.0.0.1:0", Logs: logs,
		SweepEvery: time.Minute, TableSuffix: fmt.Sprintf("-sec%d", time.Now().UnixNano()), IAMRecorder: iamUses,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Stop()
		noIAMDenials(t, a)
	})
	trustMaster(a)
	started.Lock()
	started.logs[a] = logs
	started.Unlock()
	return a
}

// logsOf returns the logs of an API startAPIAt started.
func logsOf(a *local.API) *syncBuffer {
	started.Lock()
	defer started.Unlock()
	return started.logs[a]
}

func trustMaster(a *local.API) {
	book.mu.Lock()
	book.masters[a.MasterKey] = true
	book.mu.Unlock()
}

// routeOf maps a request to its template route pattern (literal segments
// before parameters, as the gateway matches), or "".
func routeOf(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestScore := "", -1
	for _, r := range api.Template.Routes() {
		if r.Method != method {
			continue
		}
		tpl := strings.Split(strings.Trim(r.Path, "/"), "/")
		if len(tpl) != len(segs) {
			continue
		}
		score, ok := 0, true
		for i, s := range tpl {
			switch {
			case strings.HasPrefix(s, "{"):
				ok = ok && segs[i] != ""
			case s == segs[i]:
				score++
			default:
				ok = false
			}
		}
		if ok && score > bestScore {
			best, bestScore = r.Pattern(), score
		}
	}
	return best
}

// ---------------------------------------------------------------- tenants

// tenant is an account with a key of each level (generous rate limits).
type tenant struct {
	a                        *local.API
	id                       string
	admin, write, read       string
	adminID, writeID, readID string
	firstAdmin               string // the account's first ADMIN key (default limit)
}

// The tenant's ADMIN, WRITE and READ keys, and the spare keys tests make,
// leave the test alone with the rate limit and fit the account's caps
// (24,000 a minute over 20 keys) with room for a dozen spare keys.
const (
	tenantKeyLimit = 6000
	spareKeyLimit  = 400
)

func newTenant(t *testing.T, a *local.API, name string, sessions int) *tenant {
	t.Helper()
	r := do(t, a, req{method: "POST", path: "/api/v1/accounts", key: a.MasterKey, json: map[string]any{"name": name}})
	expect(t, "create account "+name, r, 201, "")
	tn := &tenant{a: a, id: r.body["account_id"].(string)}
	tn.firstAdmin = r.body["admin_key"].(map[string]any)["key"].(string)
	mk := func(perm string) (string, string) {
		r := do(t, a, req{method: "POST", path: "/api/v1/keys", key: tn.firstAdmin,
			json: map[string]any{"name": strings.ToLower(perm), "permission": perm, "rate_limit_per_minute": tenantKeyLimit}})
		expect(t, "create "+perm+" key", r, 201, "")
		return r.body["key"].(string), r.body["key_id"].(string)
	}
	tn.admin, tn.adminID = mk("ADMIN")
	tn.write, tn.writeID = mk("WRITE")
	tn.read, tn.readID = mk("READ")
	if sessions > 0 {
		expect(t, "grant quota", do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: a.MasterKey,
			json: map[string]any{"sessions": sessions, "account_id": tn.id}}), 201, "")
	}
	return tn
}

// key creates a key of the account (by its ADMIN key) and returns it
// with its id.
func (tn *tenant) key(t *testing.T, perm string, extra map[string]any) (string, string) {
	t.Helper()
	body := map[string]any{"name": "k-" + strings.ToLower(perm), "permission": perm, "rate_limit_per_minute": spareKeyLimit}
	for k, v := range extra {
		body[k] = v
	}
	r := do(t, tn.a, req{method: "POST", path: "/api/v1/keys", key: tn.admin, json: body})
	expect(t, "create key", r, 201, "")
	return r.body["key"].(string), r.body["key_id"].(string)
}

// active returns the account's active session, starting one if needed.
func (tn *tenant) active(t *testing.T) string {
	t.Helper()
	r := do(t, tn.a, req{method: "GET", path: "/api/v1/sessions/current", key: tn.admin})
	if r.status == 200 {
		return r.body["session_id"].(string)
	}
	r = do(t, tn.a, req{method: "POST", path: "/api/v1/sessions", key: tn.admin})
	expect(t, "start session", r, 201, "")
	return r.body["session_id"].(string)
}

// idle ends the account's active session, if any.
func (tn *tenant) idle(t *testing.T) {
	t.Helper()
	r := do(t, tn.a, req{method: "GET", path: "/api/v1/sessions/current", key: tn.admin})
	if r.status == 200 {
		expect(t, "terminate", do(t, tn.a, req{method: "POST", path: "/api/v1/sessions/" + r.body["session_id"].(string) + "/terminate", key: tn.admin}), 200, "")
	}
}

func candleBody(n int) map[string]any { return map[string]any{"candles": candleRows(n)} }

// ---------------------------------------------------------------- API1

// API1 Broken Object Level Authorization: every endpoint that takes an id
// answers another account's id with 404 not_found, as for an id that
// does not exist, and the object is untouched.
func TestAPI1ObjectLevelAuthorization(t *testing.T) {
	a := startAPIAt(t, nil)
	victim := newTenant(t, a, "api1-victim", 3)
	attacker := newTenant(t, a, "api1-attacker", 3)
	sid := victim.active(t)
	attacker.active(t)
	_, spareID := victim.key(t, "READ", nil)

	for _, lv := range []struct{ name, key string }{{"ADMIN", attacker.admin}, {"WRITE", attacker.write}, {"READ", attacker.read}} {
		for _, tc := range []req{
			{method: "GET", path: "/api/v1/keys/" + victim.readID},
			{method: "GET", path: "/api/v1/keys/" + victim.readID + "/usage"},
			{method: "DELETE", path: "/api/v1/keys/" + spareID},
			{method: "POST", path: "/api/v1/keys/" + spareID + "/rotate"},
			{method: "GET", path: "/api/v1/sessions/" + sid},
			{method: "POST", path: "/api/v1/sessions/" + sid + "/terminate"},
			// Naming the victim's account outright is 404 too.
			{method: "GET", path: "/api/v1/keys?account_id=" + victim.id},
			{method: "GET", path: "/api/v1/keys/" + victim.readID + "?account_id=" + victim.id},
			{method: "GET", path: "/api/v1/sessions?account_id=" + victim.id},
			{method: "GET", path: "/api/v1/sessions/current?account_id=" + victim.id},
			{method: "GET", path: "/api/v1/sessions/" + sid + "?account_id=" + victim.id},
			{method: "GET", path: "/api/v1/sessions/quota?account_id=" + victim.id},
			{method: "GET", path: "/api/v1/usage?account_id=" + victim.id},
			{method: "POST", path: "/api/v1/sessions", json: map[string]any{"account_id": victim.id}},
			{method: "POST", path: "/api/v1/keys", json: map[string]any{"name": "x", "permission": "ADMIN", "account_id": victim.id}},
			{method: "POST", path: "/api/v1/sessions/quota/add", json: map[string]any{"sessions": 1, "account_id": victim.id}},
			{method: "POST", path: "/api/v1/sessions/" + sid + "/terminate", json: map[string]any{"account_id": victim.id}},
			{method: "POST", path: "/api/v1/keys/" + spareID + "/rotate", json: map[string]any{"account_id": victim.id}},
		} {
			tc.key = lv.key
			r := do(t, a, tc)
			// A level too low for the route is refused before any lookup
			// (403 says nothing about the object); anything else is 404.
			if r.status == 403 && r.body["code"] == "forbidden" && tooLow(lv.name, tc.method, tc.path) {
				continue
			}
			if r.status != 404 || r.body["code"] != "not_found" {
				t.Errorf("%s %s %s: %d %s, want 404 not_found", lv.name, tc.method, tc.path, r.status, r.raw)
			}
		}
	}
	// Nothing of the victim's changed.
	s := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + sid, key: victim.read})
	if s.body["status"] != "active" {
		t.Fatalf("victim's session after the attack: %s", s.raw)
	}
	k := do(t, a, req{method: "GET", path: "/api/v1/keys/" + spareID, key: victim.read})
	if k.status != 200 || k.body["revoked_at"] != nil {
		t.Fatalf("victim's key after the attack: %s", k.raw)
	}
	q := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: victim.read})
	if q.body["purchased"] != 3.0 || q.body["used"] != 1.0 {
		t.Fatalf("victim's quota after the attack: %s", q.raw)
	}
	keys := do(t, a, req{method: "GET", path: "/api/v1/keys?limit=100", key: victim.read})
	if n := len(keys.body["items"].([]any)); n != 5 {
		t.Fatalf("victim has %d keys after the attack, want 5", n)
	}
}

// tooLow reports whether level may not call the route at all (contract
// table): READ may not write, WRITE may not manage keys or buy quota.
func tooLow(level, method, path string) bool {
	p, _, _ := strings.Cut(path, "?")
	switch {
	case method == "GET":
		return false
	case strings.HasPrefix(p, "/api/v1/keys") || strings.HasSuffix(p, "/quota/add"):
		return level != "ADMIN"
	default: // sessions start and terminate
		return level == "READ"
	}
}

// ---------------------------------------------------------------- API2

// API2 Broken Authentication: expired, revoked, rotated-away and
// malformed keys are 401 unauthorized with WWW-Authenticate; a key in the
// query string is not a key.
func TestAPI2Authentication(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "api2", 0)
	expiresAt := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	expiring, _ := tn.key(t, "READ", map[string]any{"expires_at": expiresAt.UTC().Format(time.RFC3339)})
	expect(t, "expiring key before expiry", do(t, a, req{method: "GET", path: "/api/v1/keys", key: expiring}), 200, "")
	revoked, revokedID := tn.key(t, "READ", nil)
	expect(t, "revoke", do(t, a, req{method: "DELETE", path: "/api/v1/keys/" + revokedID, key: tn.admin}), 204, "")
	old, oldID := tn.key(t, "READ", nil)
	rot := do(t, a, req{method: "POST", path: "/api/v1/keys/" + oldID + "/rotate", key: tn.admin})
	expect(t, "rotate", rot, 201, "")
	fresh := rot.body["key"].(string)
	unknown, _ := apikey.Generate() // well-formed, never issued

	flip := []byte(tn.read)
	flip[10] = map[bool]byte{true: 'B', false: 'A'}[flip[10] == 'A'] // the checksum no longer holds
	cases := map[string]req{
		"revoked":                  {key: revoked},
		"rotated away":             {key: old},
		"well-formed but unknown":  {key: unknown},
		"bad checksum":             {key: string(flip)},
		"truncated":                {key: tn.read[:len(tn.read)-1]},
		"one character more":       {key: tn.read + "A"},
		"lower-cased scheme":       {key: "WK_" + tn.read[3:]},
		"bearer scheme only":       {hdr: map[string]string{"Authorization": "Bearer"}},
		"basic scheme":             {hdr: map[string]string{"Authorization": "Basic " + tn.read}},
		"token scheme":             {hdr: map[string]string{"Authorization": "Token " + tn.read}},
		"raw key in Authorization": {hdr: map[string]string{"Authorization": tn.read}},
		"two different keys":       {key: tn.read, hdr: map[string]string{"Authorization": "Bearer " + tn.admin}},
		"key in query (api_key)":   {path: "?api_key=" + tn.read},
		"key in query (key)":       {path: "?key=" + tn.read},
		"key in query (X-API-Key)": {path: "?X-API-Key=" + tn.read},
		"key in query (token)":     {path: "?access_token=" + tn.read},
		"key in a cookie":          {hdr: map[string]string{"Cookie": "X-API-Key=" + tn.read}},
		"master key's prefix":      {key: a.MasterKey[:len(a.MasterKey)-1]},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tc := cases[n]
		tc.method, tc.path = "GET", "/api/v1/keys"+tc.path
		r := do(t, a, tc)
		if r.status != 401 || r.body["code"] != "unauthorized" || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s (WWW-Authenticate %q), want 401 unauthorized", n, r.status, r.raw, r.header.Get("WWW-Authenticate"))
		}
	}
	// The rotated key works, by either header, with its old settings.
	expect(t, "rotated key", do(t, a, req{method: "GET", path: "/api/v1/keys", key: fresh, bearer: true}), 200, "")
	expect(t, "lower-case bearer", do(t, a, req{method: "GET", path: "/api/v1/keys",
		hdr: map[string]string{"authorization": "bearer " + fresh}}), 200, "")
	expect(t, "same key twice", do(t, a, req{method: "GET", path: "/api/v1/keys", key: fresh,
		hdr: map[string]string{"Authorization": "Bearer " + fresh}}), 200, "")

	time.Sleep(time.Until(expiresAt) + 50*time.Millisecond)
	r := do(t, a, req{method: "GET", path: "/api/v1/keys", key: expiring})
	expect(t, "expired key", r, 401, "unauthorized")
}

// ---------------------------------------------------------------- API4

// API4 Unrestricted Resource Consumption: the per-key rate limit answers
// 429 with Retry-After and the RateLimit headers; bodies over the cap are
// 413; more candles or batch items than the engine takes are 400 naming
// the field, and cost nothing.
func TestAPI4ResourceConsumption(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "api4", 2)
	sid := tn.active(t)
	slow, _ := tn.key(t, "READ", map[string]any{"rate_limit_per_minute": 3})
	for i := 1; i <= 3; i++ {
		r := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: slow})
		expect(t, fmt.Sprintf("request %d of 3", i), r, 200, "")
		if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != strconv.Itoa(3-i) || r.header.Get("RateLimit-Reset") == "" {
			t.Fatalf("request %d: RateLimit headers %v", i, r.header)
		}
	}
	r := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: slow})
	expect(t, "fourth request", r, 429, "rate_limited")
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if r.header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("429 RateLimit-Remaining %q", r.header.Get("RateLimit-Remaining"))
	}
	// A metered call over the limit is refused before it is computed.
	r = do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: slow, json: candleBody(30)})
	expect(t, "metered call over the limit", r, 429, "rate_limited")

	// Over MAX_BODY_BYTES (5 MiB here): 413, nothing computed or charged.
	big := append([]byte(`{"candles":[],"pad":"`), bytes.Repeat([]byte("x"), int(a.Config.MaxBodyBytes))...)
	big = append(big, `"}`...)
	r = do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, raw: big, ct: "application/json"})
	expect(t, "body over the cap", r, 413, "payload_too_large")

	// More candles than the engine takes, in the compact column form.
	const n = 50_001
	cols := map[string][]float64{}
	for _, c := range []string{"time", "open", "high", "low", "close", "volume"} {
		cols[c] = make([]float64, n)
	}
	for i := range n {
		cols["time"][i] = float64(1_700_000_000 + i*60)
		for _, c := range []string{"open", "high", "low", "close", "volume"} {
			cols[c][i] = 1
		}
	}
	r = do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, json: cols})
	expect(t, "too many candles", r, 400, "invalid_request")
	if f, _ := r.body["field"].(string); !strings.Contains(f+fmt.Sprint(r.body["detail"]), "candles") && f != "time" {
		t.Fatalf("candle cap names %q: %s", f, r.raw)
	}
	items := make([]any, 51)
	for i := range items {
		items[i] = map[string]any{"name": "sma"}
	}
	r = do(t, a, req{method: "POST", path: "/api/v1/indicators/batch", key: tn.read,
		json: map[string]any{"candles": candleRows(30), "indicators": items}})
	expect(t, "too many batch items", r, 400, "invalid_request")
	if f, _ := r.body["field"].(string); !strings.HasPrefix(f, "indicators") {
		t.Fatalf("batch cap names %q: %s", f, r.raw)
	}
	// A period larger than the candles is refused, not computed.
	r = do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read,
		json: map[string]any{"candles": candleRows(30), "params": map[string]any{"period": 1e9}}})
	expect(t, "absurd period", r, 400, "invalid_request")
	// The refusals spent nothing.
	s := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + sid, key: tn.read})
	if s.body["tokens_used"] != 0.0 || s.body["requests"] != 0.0 {
		t.Fatalf("refused requests were charged: %s", s.raw)
	}
}

// ---------------------------------------------------------------- API5

// level is a caller in the function-level table.
type level struct {
	name   string
	key    string
	master bool
}

type matrixRow struct {
	route string
	want  [5]int // none, READ, WRITE, ADMIN, master
	req   func(t *testing.T, lv level) req
}

var matrixOnce sync.Once

// runMatrix runs the function-level table once per test binary: every
// route of template.yaml called by no key, READ, WRITE, ADMIN and the
// master key. It returns the table's failures.
func runMatrix(t *testing.T) []string {
	var fails []string
	matrixOnce.Do(func() { fails = functionMatrix(t) })
	return fails
}

func functionMatrix(t *testing.T) []string {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "api5", 20)
	forAcct := func(lv level, sep string) string {
		if lv.master {
			return sep + "account_id=" + tn.id
		}
		return ""
	}
	body := func(lv level, m map[string]any) map[string]any {
		if m == nil {
			m = map[string]any{}
		}
		if lv.master {
			m["account_id"] = tn.id
		}
		return m
	}
	const ok, created, gone = 200, 201, 204
	rows := []matrixRow{
		{"GET /api/v1/health", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/api/v1/health"} }},
		{"GET /api/v1/pricing", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/api/v1/pricing"} }},
		{"GET /api/v1/openapi.json", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/api/v1/openapi.json"} }},
		{"GET /api/v1/docs", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/api/v1/docs"} }},
		{"GET /api/v1/docs/{file}", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/api/v1/docs/docs.js"} }},
		{"GET /dashboard", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/dashboard"} }},
		{"GET /dashboard/{file}", [5]int{ok, ok, ok, ok, ok}, func(t *testing.T, lv level) req { return req{path: "/dashboard/app.js"} }},
		// Operator figures: 404 to every key but the master key, as if
		// the route did not exist.
		{"GET /api/v1/operator/metrics", [5]int{401, 404, 404, 404, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/operator/metrics"}
		}},
		{"POST /api/v1/accounts", [5]int{401, 403, 403, 403, created}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/accounts", json: map[string]any{"name": "made by " + lv.name}}
		}},
		{"POST /api/v1/keys", [5]int{401, 403, 403, created, created}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/keys", json: body(lv, map[string]any{"name": "by " + lv.name, "permission": "READ"})}
		}},
		{"GET /api/v1/keys", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/keys" + forAcct(lv, "?")}
		}},
		{"GET /api/v1/keys/{key_id}", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/keys/" + tn.readID + forAcct(lv, "?")}
		}},
		{"GET /api/v1/keys/{key_id}/usage", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/keys/" + tn.readID + "/usage" + forAcct(lv, "?")}
		}},
		{"POST /api/v1/keys/{key_id}/rotate", [5]int{401, 403, 403, created, created}, func(t *testing.T, lv level) req {
			_, id := tn.key(t, "READ", nil)
			return req{path: "/api/v1/keys/" + id + "/rotate", json: body(lv, nil)}
		}},
		{"DELETE /api/v1/keys/{key_id}", [5]int{401, 403, 403, gone, gone}, func(t *testing.T, lv level) req {
			_, id := tn.key(t, "READ", nil)
			return req{path: "/api/v1/keys/" + id + forAcct(lv, "?")}
		}},
		{"GET /api/v1/sessions/quota", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/sessions/quota" + forAcct(lv, "?")}
		}},
		{"POST /api/v1/sessions/quota/add", [5]int{401, 403, 403, created, created}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/sessions/quota/add", json: body(lv, map[string]any{"sessions": 1})}
		}},
		{"POST /api/v1/sessions", [5]int{401, 403, created, created, created}, func(t *testing.T, lv level) req {
			tn.idle(t)
			return req{path: "/api/v1/sessions", json: body(lv, nil)}
		}},
		{"GET /api/v1/sessions/current", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/sessions/current" + forAcct(lv, "?")}
		}},
		{"GET /api/v1/sessions", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/sessions" + forAcct(lv, "?")}
		}},
		{"GET /api/v1/sessions/{session_id}", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/sessions/" + tn.active(t) + forAcct(lv, "?")}
		}},
		{"POST /api/v1/sessions/{session_id}/terminate", [5]int{401, 403, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/sessions/" + tn.active(t) + "/terminate", json: body(lv, nil)}
		}},
		{"GET /api/v1/usage", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/usage" + forAcct(lv, "?")}
		}},
		{"GET /api/v1/indicators", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/indicators"}
		}},
		{"POST /api/v1/indicators/{name}", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/indicators/rsi", json: candleBody(40)}
		}},
		{"POST /api/v1/indicators/batch", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/indicators/batch", json: map[string]any{"candles": candleRows(40),
				"indicators": []any{map[string]any{"name": "sma"}, map[string]any{"name": "ema"}}}}
		}},
		{"POST /api/v1/indicators/quote/{name}", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/indicators/quote/batch", json: map[string]any{"candles": candleRows(40),
				"indicators": []any{map[string]any{"name": "sma"}}}}
		}},
		{"POST /api/v1/analysis/wyckoff", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/analysis/wyckoff", json: candleBody(40)}
		}},
		{"POST /api/v1/analysis/quote/wyckoff", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/analysis/quote/wyckoff", json: candleBody(40)}
		}},
		{"POST /api/v1/mcp", [5]int{401, ok, ok, ok, ok}, func(t *testing.T, lv level) req {
			tn.active(t)
			return req{path: "/api/v1/mcp", hdr: mcpHeaders, json: map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
				"params": map[string]any{"name": "compute_indicator", "arguments": map[string]any{"indicator": "rsi", "candles": candleRows(40)}}}}
		}},
		// MCP's GET and DELETE: 405 to every caller the authorizer admits.
		{"GET /api/v1/mcp", [5]int{401, 405, 405, 405, 405}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/mcp", hdr: map[string]string{"Accept": "text/event-stream"}}
		}},
		{"DELETE /api/v1/mcp", [5]int{401, 405, 405, 405, 405}, func(t *testing.T, lv level) req {
			return req{path: "/api/v1/mcp"}
		}},
	}
	levels := []level{{name: "none"}, {name: "READ", key: tn.read}, {name: "WRITE", key: tn.write},
		{name: "ADMIN", key: tn.admin}, {name: "master", key: a.MasterKey, master: true}}

	covered := map[string]bool{}
	var fails []string
	var table strings.Builder
	fmt.Fprintf(&table, "%-46s %6s %6s %6s %6s %6s\n", "route", "none", "READ", "WRITE", "ADMIN", "master")
	for _, row := range rows {
		covered[row.route] = true
		method, _, _ := strings.Cut(row.route, " ")
		fmt.Fprintf(&table, "%-46s", row.route)
		for i, lv := range levels {
			rq := row.req(t, lv)
			rq.method, rq.key = method, lv.key
			r := do(t, a, rq)
			mark := ""
			if r.status != row.want[i] {
				mark = "!"
				fails = append(fails, fmt.Sprintf("%s as %s: %d %s, want %d", row.route, lv.name, r.status, shorten(string(r.raw)), row.want[i]))
			}
			if got := routeOf(method, strings.SplitN(rq.path, "?", 2)[0]); got != row.route {
				fails = append(fails, fmt.Sprintf("%s: request %s %s maps to route %q", row.route, method, rq.path, got))
			}
			fmt.Fprintf(&table, " %5d%1s", r.status, mark)
		}
		table.WriteString("\n")
	}
	t.Logf("function-level authorization (status by caller):\n%s", table.String())
	for _, r := range api.Template.Routes() {
		if !covered[r.Pattern()] {
			fails = append(fails, "template route "+r.Pattern()+" is not in the table")
		}
	}
	// The OpenAPI document's x-permission agrees with the table: the
	// lowest level admitted.
	doc := do(t, a, req{method: "GET", path: "/api/v1/openapi.json"})
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc.raw, &spec); err != nil {
		fails = append(fails, "openapi.json: "+err.Error())
	}
	for _, row := range rows {
		method, path, _ := strings.Cut(row.route, " ")
		var op struct {
			Permission string            `json:"x-permission"`
			Security   *[]map[string]any `json:"security"`
		}
		if err := json.Unmarshal(spec.Paths[path][strings.ToLower(method)], &op); err != nil {
			fails = append(fails, fmt.Sprintf("openapi %s: %v", row.route, err))
		}
		lowest := ""
		for i, name := range []string{"PUBLIC", "READ", "WRITE", "ADMIN", "MASTER"} {
			// 405: admitted, and told the route does not take the method.
			if row.want[i] < 400 || row.want[i] == http.StatusMethodNotAllowed {
				lowest = name
				break
			}
		}
		got := op.Permission
		if got == "" && op.Security != nil && len(*op.Security) == 0 {
			got = "PUBLIC"
		}
		if got != lowest {
			fails = append(fails, fmt.Sprintf("openapi %s: x-permission %q, the table admits from %s", row.route, op.Permission, lowest))
		}
	}
	return fails
}

// API5 Broken Function Level Authorization: every endpoint of
// template.yaml against every permission level, as a table of the
// statuses the contract gives.
func TestAPI5FunctionLevelAuthorization(t *testing.T) {
	for _, f := range runMatrix(t) {
		t.Error(f)
	}
}

// ---------------------------------------------------------------- API6

// API6 Unrestricted Access to Sensitive Business Flows: quota add cannot
// be replayed for free (the same idempotency key adds once, with another
// amount it is a conflict, and keys are per account), and with
// PAYMENTS_MODE=disabled an ADMIN cannot buy while the master key still
// grants.
func TestAPI6SensitiveBusinessFlows(t *testing.T) {
	a := startAPIAt(t, nil)
	ta := newTenant(t, a, "api6-a", 0)
	tb := newTenant(t, a, "api6-b", 0)
	buy := func(tn *tenant, n int, key string) response {
		return do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
			json: map[string]any{"sessions": n, "idempotency_key": key}})
	}
	first := buy(ta, 10, "order-42")
	expect(t, "buy", first, 201, "")
	var wg sync.WaitGroup
	replays := make([]response, 8)
	for i := range replays {
		wg.Add(1)
		go func() { defer wg.Done(); replays[i] = buy(ta, 10, "order-42") }()
	}
	wg.Wait()
	for i, r := range replays {
		if r.status != 201 || r.body["purchase_id"] != first.body["purchase_id"] || r.body["total_price_cents"] != first.body["total_price_cents"] {
			t.Fatalf("replay %d: %d %s, want the first purchase %s", i, r.status, r.raw, first.raw)
		}
	}
	expect(t, "same key, other amount", buy(ta, 1, "order-42"), 409, "conflict")
	// The same key in another account is that account's own purchase.
	other := buy(tb, 1, "order-42")
	expect(t, "other account, same key", other, 201, "")
	if other.body["purchase_id"] == first.body["purchase_id"] || other.body["account_id"] != tb.id {
		t.Fatalf("account b got %s", other.raw)
	}
	for _, c := range []struct {
		tn   *tenant
		want float64
	}{{ta, 10}, {tb, 1}} {
		q := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: c.tn.read})
		if q.body["purchased"] != c.want || q.body["remaining"] != c.want {
			t.Fatalf("quota of %s: %s, want %v", c.tn.id, q.raw, c.want)
		}
	}
	// Negative, zero, fractional and huge amounts buy nothing.
	for _, n := range []any{0, -5, 1.5, 1e12, "10", nil} {
		r := do(t, a, req{method: "POST", path: "/api/v1/sessions/quota/add", key: ta.admin, json: map[string]any{"sessions": n}})
		expect(t, fmt.Sprintf("sessions=%v", n), r, 400, "invalid_request")
	}

	off := startAPIAt(t, map[string]string{"PAYMENTS_MODE": "disabled"})
	c := newTenant(t, off, "api6-off", 0)
	r := do(t, off, req{method: "POST", path: "/api/v1/sessions/quota/add", key: c.admin, json: map[string]any{"sessions": 1, "idempotency_key": "x"}})
	expect(t, "ADMIN buys with payments disabled", r, 402, "payments_disabled")
	r = do(t, off, req{method: "POST", path: "/api/v1/sessions/quota/add", key: off.MasterKey, json: map[string]any{"sessions": 2, "account_id": c.id}})
	expect(t, "master grants with payments disabled", r, 201, "")
	q := do(t, off, req{method: "GET", path: "/api/v1/sessions/quota", key: c.read})
	if q.body["purchased"] != 2.0 || q.body["remaining"] != 2.0 {
		t.Fatalf("quota %s, want only the master's 2 sessions", q.raw)
	}
}

// ---------------------------------------------------------------- API8

// API8 Security Misconfiguration: with STAGE=prod the master key is
// refused like any unknown key unless ALLOW_MASTER_KEY=true (payments
// then default to disabled); every error body this suite collected is
// free of stack traces, internal names and SDK error text.
func TestAPI8Misconfiguration(t *testing.T) {
	master := apikeyLike(t)
	prod := startAPIAt(t, map[string]string{"STAGE": "prod", "MASTER_API_KEY": master})
	for _, path := range []string{"/api/v1/accounts", "/api/v1/keys?account_id=acc_0000000000000000"} {
		method := "GET"
		var body any
		if path == "/api/v1/accounts" {
			method, body = "POST", map[string]any{"name": "prod"}
		}
		expect(t, "master key in prod "+path, do(t, prod, req{method: method, path: path, key: master, json: body}), 401, "unauthorized")
		expect(t, "master key in prod (bearer) "+path, do(t, prod, req{method: method, path: path, key: master, bearer: true, json: body}), 401, "unauthorized")
	}
	expect(t, "health in prod", do(t, prod, req{method: "GET", path: "/api/v1/health"}), 200, "")

	allowed := startAPIAt(t, map[string]string{"STAGE": "prod", "MASTER_API_KEY": master, "ALLOW_MASTER_KEY": "true"})
	tn := newTenant(t, allowed, "prod-allowed", 1)
	expect(t, "ADMIN buys in prod", do(t, allowed, req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin,
		json: map[string]any{"sessions": 1}}), 402, "payments_disabled")

	// Provoke what errors there are, then read every error body of the
	// suite.
	for _, p := range []string{"/api/v1/keys?next_token=" + strings.Repeat("A", 300), "/api/v1/sessions?next_token=%FF%FE",
		"/api/v1/sessions?limit=-1", "/api/v1/usage?from=yesterday", "/api/v1/keys/" + strings.Repeat("k", 3000),
		"/api/v1/sessions/ses_" + strings.Repeat("z", 22), "/api/v1/keys/key_../../etc/passwd"} {
		do(t, allowed, req{method: "GET", path: p, key: tn.admin})
	}
	do(t, allowed, req{method: "POST", path: "/api/v1/keys", key: tn.admin, raw: []byte(`{"name":`), ct: "application/json"})
	do(t, allowed, req{method: "POST", path: "/api/v1/keys", key: tn.admin, raw: []byte(`{"name":"x","permission":"READ","expires_at":"2020-01-01T00:00:00Z"}`), ct: "application/json"})

	forbidden := []string{"goroutine ", ".go:", "panic", "runtime.", "Exception", "dynamodb", "DynamoDB", "arn:aws",
		"ApiKeysTable", "SessionsTable", "UsageTable", "QuotasTable", "TransactWriteItems", "UpdateItem", "GetItem",
		"ConditionalCheck", "smithy", "operation error", "127.0.0.1", "moto", "/root/", "/work/"}
	started.Lock()
	for a := range started.logs {
		for _, name := range a.TableNames {
			forbidden = append(forbidden, name)
		}
	}
	started.Unlock()
	for _, name := range api.TableNames {
		forbidden = append(forbidden, name)
	}
	exs, _, _, _ := book.snapshot()
	n := 0
	for _, e := range exs {
		if e.status < 400 {
			continue
		}
		n++
		for _, f := range forbidden {
			if bytes.Contains(e.body, []byte(f)) {
				t.Errorf("%s %s: %d body mentions %q: %s", e.method, shorten(e.path), e.status, f, shorten(string(e.body)))
			}
		}
	}
	t.Logf("%d error bodies checked for internals", n)
}

// apikeyLike returns a fresh key in the key format.
func apikeyLike(t *testing.T) string {
	t.Helper()
	k, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ---------------------------------------------------------------- API10

// API10 Unsafe Consumption of APIs: what the platform feeds the functions
// (DynamoDB stream records, EventBridge schedule events) is validated.
// Stream records of unexpected shapes are skipped: never a crash, never
// reported for retry, no table changed, although the handler's clock says
// the session is over; the same session's well-formed removal, odd but
// valid variants included, then ends it, once. Events that are not
// EventBridge's scheduled event do not run the reconciler.
func TestAPI10UnsafeConsumption(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "api10", 1)
	sid := tn.active(t)
	d := appDeps(t, a, "SessionExpiryFunction", 25*time.Hour) // past the session's expiry
	expiry, err := sessions.Expiry(d.Deps)
	if err != nil {
		t.Fatal(err)
	}
	base := loadEvent(t, "ttl-removal.json")
	seq := 9000
	lease := func(mut func(rec map[string]any)) map[string]any {
		var ev map[string]any
		_ = json.Unmarshal(base, &ev)
		rec := ev["Records"].([]any)[0].(map[string]any)
		img := rec["dynamodb"].(map[string]any)
		seq++
		img["SequenceNumber"] = strconv.Itoa(seq)
		img["Keys"].(map[string]any)["pk"] = map[string]any{"S": "LEASE#" + sid}
		old := img["OldImage"].(map[string]any)
		old["pk"] = map[string]any{"S": "LEASE#" + sid}
		old["session_id"] = map[string]any{"S": sid}
		old["account_id"] = map[string]any{"S": tn.id}
		mut(rec)
		return rec
	}
	old := func(rec map[string]any) map[string]any {
		return rec["dynamodb"].(map[string]any)["OldImage"].(map[string]any)
	}
	keys := func(rec map[string]any) map[string]any {
		return rec["dynamodb"].(map[string]any)["Keys"].(map[string]any)
	}
	renamed := func(id string) func(r map[string]any) {
		return func(r map[string]any) {
			old(r)["session_id"] = map[string]any{"S": id}
			keys(r)["pk"] = map[string]any{"S": "LEASE#" + id}
			old(r)["pk"] = map[string]any{"S": "LEASE#" + id}
		}
	}
	invalid := map[string]func(rec map[string]any){
		"INSERT":            func(r map[string]any) { r["eventName"] = "INSERT" },
		"MODIFY":            func(r map[string]any) { r["eventName"] = "MODIFY" },
		"lower-case remove": func(r map[string]any) { r["eventName"] = "remove" },
		"no eventName":      func(r map[string]any) { delete(r, "eventName") },
		"removed by a user": func(r map[string]any) { delete(r, "userIdentity") },
		"other service": func(r map[string]any) {
			r["userIdentity"] = map[string]any{"type": "Service", "principalId": "evil.amazonaws.com"}
		},
		"identity of a user": func(r map[string]any) {
			r["userIdentity"] = map[string]any{"type": "User", "principalId": "dynamodb.amazonaws.com"}
		},
		"no dynamodb":  func(r map[string]any) { delete(r, "dynamodb") },
		"no keys":      func(r map[string]any) { delete(r["dynamodb"].(map[string]any), "Keys") },
		"no old image": func(r map[string]any) { delete(r["dynamodb"].(map[string]any), "OldImage") },
		"new image only": func(r map[string]any) {
			dyn := r["dynamodb"].(map[string]any)
			dyn["NewImage"] = dyn["OldImage"]
			delete(dyn, "OldImage")
		},
		"account key": func(r map[string]any) { keys(r)["pk"] = map[string]any{"S": "ACCOUNT#" + tn.id} },
		"session key": func(r map[string]any) {
			keys(r)["pk"] = map[string]any{"S": "ACCOUNT#" + tn.id}
			keys(r)["sk"] = map[string]any{"S": "SESSION#" + sid}
		},
		"lease sk differs":    func(r map[string]any) { keys(r)["sk"] = map[string]any{"S": "SESSION"} },
		"pk is a number":      func(r map[string]any) { keys(r)["pk"] = map[string]any{"N": "1"} },
		"pk is binary":        func(r map[string]any) { keys(r)["pk"] = map[string]any{"B": "TEVBU0Uj"} },
		"pk is null":          func(r map[string]any) { keys(r)["pk"] = map[string]any{"NULL": true} },
		"account is a number": func(r map[string]any) { old(r)["account_id"] = map[string]any{"N": "7"} },
		"account is a map": func(r map[string]any) {
			old(r)["account_id"] = map[string]any{"M": map[string]any{"S": map[string]any{"S": tn.id}}}
		},
		"account is a list":    func(r map[string]any) { old(r)["account_id"] = map[string]any{"L": []any{map[string]any{"S": tn.id}}} },
		"account is a set":     func(r map[string]any) { old(r)["account_id"] = map[string]any{"SS": []any{tn.id}} },
		"account missing":      func(r map[string]any) { delete(old(r), "account_id") },
		"empty account":        func(r map[string]any) { old(r)["account_id"] = map[string]any{"S": ""} },
		"session id differs":   func(r map[string]any) { old(r)["session_id"] = map[string]any{"S": "ses_000000000000aaaaaaaaaa"} },
		"session id missing":   func(r map[string]any) { delete(old(r), "session_id") },
		"session id malformed": renamed("../../" + sid),
		"session id huge":      renamed("ses_" + strings.Repeat("a", 1<<16)),
		"session id with NUL":  renamed(sid + "\x00"),
	}
	// Well-formed removals that name no session of this account: skipped
	// too (nothing to end).
	harmless := map[string]func(rec map[string]any){
		"unknown session": renamed("ses_000000000001bbbbbbbbbb"),
		"unknown account": func(r map[string]any) { old(r)["account_id"] = map[string]any{"S": "acc_ffffffffffffffff"} },
		"another account": func(r map[string]any) { old(r)["account_id"] = map[string]any{"S": tn.id + "x"} },
	}
	// Odd but valid: the session's own removal.
	valid := map[string]func(rec map[string]any){
		"as it comes":      func(r map[string]any) {},
		"extra attributes": func(r map[string]any) { old(r)["surprise"] = map[string]any{"SS": []any{"a", "b"}} },
		"ttl is a string":  func(r map[string]any) { old(r)["ttl"] = map[string]any{"S": "soon"} },
		"ttl out of range": func(r map[string]any) { old(r)["ttl"] = map[string]any{"N": "99999999999999999999"} },
		"from a second ARN": func(r map[string]any) {
			r["eventSourceARN"] = "arn:aws:dynamodb:us-east-1:1:table/SessionsTable/stream/x"
		},
		"no creation time": func(r map[string]any) { delete(r["dynamodb"].(map[string]any), "ApproximateCreationDateTime") },
	}
	decode := func(name string, recs ...any) (events.DynamoDBEvent, bool) {
		raw, _ := json.Marshal(map[string]any{"Records": recs})
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			// The Lambda runtime refuses the event before the handler.
			t.Logf("%s: not a DynamoDB event (%v)", name, err)
			return ev, false
		}
		return ev, true
	}
	before := snapshot(t, a)
	var all []any
	for _, group := range []map[string]func(map[string]any){invalid, harmless} {
		for _, n := range sortedKeys(group) {
			rec := lease(group[n])
			ev, ok := decode(n, rec)
			if !ok {
				continue
			}
			all = append(all, rec)
			if resp, err := callStreamSafely(expiry, ev); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("%s: resp %+v err %v, want skipped", n, resp, err)
			}
		}
	}
	ev, _ := decode("all at once", all...)
	for _, e := range []events.DynamoDBEvent{ev, {}, {Records: []events.DynamoDBEventRecord{{}}}} {
		if resp, err := callStreamSafely(expiry, e); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("batch of %d: resp %+v err %v", len(e.Records), resp, err)
		}
	}
	compareSnapshots(t, before, snapshot(t, a), allowance{})
	if s := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + sid, key: tn.read}); s.body["status"] != "active" {
		t.Fatalf("a record of the wrong shape ended the session: %s", s.raw)
	}
	var recs []any
	for _, n := range sortedKeys(valid) {
		recs = append(recs, lease(valid[n]))
	}
	ev, ok := decode("valid", recs...)
	if !ok {
		t.Fatal("the valid records do not decode")
	}
	if resp, err := callStreamSafely(expiry, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("valid records: resp %+v err %v", resp, err)
	}
	if s := do(t, a, req{method: "GET", path: "/api/v1/sessions/" + sid, key: tn.read}); s.body["status"] != "ended" || s.body["end_reason"] != "expired" {
		t.Fatalf("the session's own removal did not end it: %s", s.raw)
	}
	if n := strings.Count(d.logs.String(), `"msg":"session ended"`); n != 1 {
		t.Fatalf("the session was ended %d times, want once", n)
	}
	if strings.Contains(d.logs.String(), "panic") {
		t.Errorf("the expiry handler panicked: %s", shorten(d.logs.String()))
	}

	// Schedule events: only EventBridge's scheduled event runs the
	// reconciler; the rest are ignored without error.
	rd := appDeps(t, a, "QuotaReconcileFunction", 0)
	reconcile, err := sessions.Reconcile(rd.Deps)
	if err != nil {
		t.Fatal(err)
	}
	var sched map[string]any
	_ = json.Unmarshal(loadEvent(t, "schedule.json"), &sched)
	before = snapshot(t, a)
	for name, mut := range map[string]func(m map[string]any){
		"custom detail-type": func(m map[string]any) { m["detail-type"] = "Custom Event" },
		"another source":     func(m map[string]any) { m["source"] = "evil.app" },
		"no source":          func(m map[string]any) { delete(m, "source") },
		"empty":              func(m map[string]any) { clear(m) },
		"detail is a string": func(m map[string]any) { m["detail-type"] = "x"; m["detail"] = "boom" },
		"a stream record":    func(m map[string]any) { clear(m); m["Records"] = all },
	} {
		ev := clone(sched)
		mut(ev)
		raw, _ := json.Marshal(ev)
		var eb events.EventBridgeEvent
		if err := json.Unmarshal(raw, &eb); err != nil {
			t.Logf("%s: not an EventBridge event (%v)", name, err)
			continue
		}
		if err := reconcile(context.Background(), eb); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if strings.Contains(rd.logs.String(), "reconcile done") {
		t.Errorf("an event that is not a schedule ran the reconciler: %s", shorten(rd.logs.String()))
	}
	compareSnapshots(t, before, snapshot(t, a), allowance{})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// callStreamSafely calls a stream handler, turning a panic into an error.
func callStreamSafely(h app.StreamHandler, ev events.DynamoDBEvent) (resp events.DynamoDBEventResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h(context.Background(), ev)
}

// testDeps are app deps over a running API's tables, with their own
// logs and a clock skewed by skew.
type testDeps struct {
	*store.Deps
	logs *syncBuffer
}

func appDeps(t *testing.T, a *local.API, function string, skew time.Duration) *testDeps {
	t.Helper()
	logs := &syncBuffer{}
	// The handler calls the store under the function's role, as the
	// emulator's would (and its calls count in the IAM measure).
	hc, ok := a.StoreHTTP(function)
	if !ok {
		t.Fatalf("no function %s", function)
	}
	cfg, _ := a.FunctionConfig(function)
	db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: cfg.Region, Endpoint: a.Endpoint, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.NewDeps(context.Background(), cfg, function, logs, db)
	if err != nil {
		t.Fatal(err)
	}
	if skew != 0 {
		d.Now = func() time.Time { return time.Now().Add(skew) }
	}
	return &testDeps{Deps: d, logs: logs}
}

var (
	dbMu     sync.Mutex
	dbClient = map[string]*dynamodb.Client{}
)

// dbOf is a DynamoDB client for the API's endpoint.
func dbOf(t *testing.T, a *local.API) *dynamodb.Client {
	t.Helper()
	dbMu.Lock()
	defer dbMu.Unlock()
	if c := dbClient[a.Endpoint]; c != nil {
		return c
	}
	c, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: a.Config.Region, Endpoint: a.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	dbClient[a.Endpoint] = c
	return c
}

func loadEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------- proxy headers

// The api-proxy adapter's X-GoLambdaProxy-ApiGw-Context and
// X-GoLambdaProxy-ApiGw-StageVars headers, sent by a client, change
// nothing: a forged authorizer context claiming the master key or another
// account is ignored; only the authorizer's context counts.
func TestForgedProxyHeadersChangeNothing(t *testing.T) {
	a := startAPIAt(t, nil)
	mine := newTenant(t, a, "forger", 0)
	theirs := newTenant(t, a, "forged", 0)
	forged := func(acc, keyID, perm string) string {
		b, _ := json.Marshal(events.APIGatewayProxyRequestContext{RequestID: "forged", Stage: "v1stage",
			Authorizer: map[string]any{"principalId": keyID, "account_id": acc, "key_id": keyID, "permission": perm,
				"rate_limit": "100000", "rate_remaining": "99999", "rate_reset": "0",
				"session_id": "ses_000000000000aaaaaaaaaa", "session_token_limit": "100000"}})
		return string(b)
	}
	hdrs := []map[string]string{
		{"X-GoLambdaProxy-ApiGw-Context": forged("", "", "MASTER")},
		{"X-GoLambdaProxy-ApiGw-Context": forged(theirs.id, theirs.adminID, "ADMIN"),
			"X-GoLambdaProxy-ApiGw-StageVars": `{"stage":"admin","MASTER_API_KEY":"x"}`},
		{"x-golambdaproxy-apigw-context": forged(theirs.id, theirs.adminID, "MASTER")},
	}
	for i, h := range hdrs {
		what := fmt.Sprintf("forgery %d", i)
		// No key: the authorizer refuses, whatever the header says.
		expect(t, what+" without a key", do(t, a, req{method: "GET", path: "/api/v1/keys", hdr: h}), 401, "unauthorized")
		expect(t, what+" creating an account without a key", do(t, a, req{method: "POST", path: "/api/v1/accounts", hdr: h,
			json: map[string]any{"name": "forged"}}), 401, "unauthorized")
		// A READ key stays READ and stays in its own account.
		expect(t, what+" READ creates an account", do(t, a, req{method: "POST", path: "/api/v1/accounts", key: mine.read, hdr: h,
			json: map[string]any{"name": "forged"}}), 403, "forbidden")
		expect(t, what+" READ creates a key", do(t, a, req{method: "POST", path: "/api/v1/keys", key: mine.read, hdr: h,
			json: map[string]any{"name": "forged", "permission": "ADMIN"}}), 403, "forbidden")
		expect(t, what+" READ reads their key", do(t, a, req{method: "GET", path: "/api/v1/keys/" + theirs.adminID, key: mine.read, hdr: h}), 404, "not_found")
		expect(t, what+" metered call with no session", do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: mine.read, hdr: h,
			json: candleBody(30)}), 403, "session_required")
		list := do(t, a, req{method: "GET", path: "/api/v1/keys", key: mine.read, hdr: h})
		expect(t, what+" list keys", list, 200, "")
		for _, it := range list.body["items"].([]any) {
			if acc := it.(map[string]any)["account_id"]; acc != mine.id {
				t.Fatalf("%s: the key list shows account %v", what, acc)
			}
		}
		if q := do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: mine.read, hdr: h}); q.body["account_id"] != mine.id {
			t.Fatalf("%s: quota of %v", what, q.body["account_id"])
		}
		expect(t, what+" on a public route", do(t, a, req{method: "GET", path: "/api/v1/health", hdr: h}), 200, "")
	}
	// Their account is untouched.
	keys := do(t, a, req{method: "GET", path: "/api/v1/keys", key: theirs.read})
	if n := len(keys.body["items"].([]any)); n != 4 {
		t.Fatalf("their account has %d keys, want 4", n)
	}
}

// ---------------------------------------------------------------- API3, API9 (read the whole book)

// API3 Broken Object Property Level Authorization: no response of the
// suite ever shows a key after the response that created it, any key's
// hash or secret part, the master key, or an id belonging to an account
// other than the caller's.
func TestAPI3PropertyLevelExposure(t *testing.T) {
	a := startAPIAt(t, nil)
	if fails := runMatrix(t); len(fails) > 0 {
		t.Logf("function-level table had %d failures (reported by API5)", len(fails))
	}
	// A second account reads everything it may, so that a leak across
	// accounts would show.
	tn := newTenant(t, a, "api3", 2)
	other := newTenant(t, a, "api3-other", 2)
	other.active(t)
	sid := tn.active(t)
	do(t, a, req{method: "POST", path: "/api/v1/indicators/obv", key: tn.read, json: candleBody(50)})
	for _, p := range []string{"/api/v1/keys", "/api/v1/keys/" + tn.readID, "/api/v1/keys/" + tn.readID + "/usage",
		"/api/v1/sessions", "/api/v1/sessions/current", "/api/v1/sessions/" + sid, "/api/v1/sessions/quota",
		"/api/v1/usage", "/api/v1/indicators", "/api/v1/sessions?status=ended", "/api/v1/keys?limit=1"} {
		expect(t, p, do(t, a, req{method: "GET", path: p, key: tn.read}), 200, "")
	}

	exs, creator, keyAcct, owner := book.snapshot()
	book.mu.Lock()
	masters := clone(book.masters)
	book.mu.Unlock()
	type secret struct{ what, s string }
	var secrets []secret
	for k := range keyAcct {
		secrets = append(secrets, secret{"key", k}, secret{"the key's random part", k[len(apikey.Scheme) : len(k)-6]})
		sum := sha256.Sum256([]byte(k))
		secrets = append(secrets, secret{"the key's SHA-256", hex.EncodeToString(sum[:])}, secret{"the key's hash (upper)", strings.ToUpper(hex.EncodeToString(sum[:]))})
	}
	for m := range masters {
		sum := sha256.Sum256([]byte(m))
		secrets = append(secrets, secret{"the master key", m}, secret{"the master key's SHA-256", hex.EncodeToString(sum[:])})
	}
	leaks := 0
	for i, e := range exs {
		for _, s := range secrets {
			if !bytes.Contains(e.body, []byte(s.s)) {
				continue
			}
			if s.what == "key" && creator[s.s] == i {
				continue // the response that created it
			}
			if s.what == "the key's random part" && creator[keyOfPart(keyAcct, s.s)] == i {
				continue
			}
			leaks++
			t.Errorf("%s %s (%d) shows %s %s...", e.method, shorten(e.path), e.status, s.what, s.s[:12])
		}
		if e.master {
			continue
		}
		acc := keyAcct[e.key] // "" for no key or an unknown one
		for id, o := range owner {
			if o != acc && bytes.Contains(e.body, []byte(id)) {
				leaks++
				t.Errorf("%s %s (%d) by account %q shows %s of account %s", e.method, shorten(e.path), e.status, acc, id, o)
			}
		}
	}
	t.Logf("%d responses checked against %d keys and %d ids: %d leaks", len(exs), len(keyAcct), len(owner), leaks)
	if len(keyAcct) < 10 || len(exs) < 100 {
		t.Fatalf("the book is too thin to mean anything: %d keys, %d responses", len(keyAcct), len(exs))
	}
	// Nor do the logs of any API carry a key.
	all := []string{logs.String()}
	started.Lock()
	for _, l := range started.logs {
		all = append(all, l.String())
	}
	started.Unlock()
	for _, text := range all {
		for k := range keyAcct {
			if strings.Contains(text, k) || strings.Contains(text, k[len(apikey.Scheme):len(k)-6]) {
				t.Errorf("a key (%s...) appears in the logs", k[:12])
			}
		}
		for m := range masters {
			if strings.Contains(text, m) {
				t.Error("the master key appears in the logs")
			}
		}
	}
}

func keyOfPart(keys map[string]string, part string) string {
	for k := range keys {
		if strings.Contains(k, part) {
			return k
		}
	}
	return ""
}

// mcpHeaders are the headers an MCP client sends with a message.
var mcpHeaders = map[string]string{"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}

// refusesByDesign are routes with no 2xx answer: MCP's GET and DELETE,
// 405 from a server with no SSE stream and no session.
var refusesByDesign = map[string]bool{"GET /api/v1/mcp": true, "DELETE /api/v1/mcp": true}

// API9 Improper Inventory Management: every route of template.yaml is in
// the served OpenAPI document and was answered with a 2xx somewhere in
// this suite; the document lists no route the template lacks.
func TestAPI9Inventory(t *testing.T) {
	runMatrix(t)
	doc := do(t, api, req{method: "GET", path: "/api/v1/openapi.json"})
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc.raw, &spec); err != nil {
		t.Fatal(err)
	}
	inTemplate := map[string]bool{}
	for _, r := range api.Template.Routes() {
		inTemplate[r.Pattern()] = true
		if _, ok := spec.Paths[r.Path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("template route %s is not in openapi.json", r.Pattern())
		}
	}
	for p, ops := range spec.Paths {
		for m := range ops {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete", "head", "options"}, m) && !inTemplate[strings.ToUpper(m)+" "+p] {
				t.Errorf("openapi.json documents %s %s, which template.yaml does not route", strings.ToUpper(m), p)
			}
		}
	}
	exs, _, _, _ := book.snapshot()
	served := map[string]int{}
	for _, e := range exs {
		if e.status >= 200 && e.status < 300 && e.route != "" {
			served[e.route]++
		}
	}
	for _, r := range api.Template.Routes() {
		if served[r.Pattern()] == 0 && !refusesByDesign[r.Pattern()] {
			t.Errorf("template route %s was never answered 2xx in this suite", r.Pattern())
		}
	}
	t.Logf("%d routes, each served: %v", len(inTemplate), served)
}
