package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/session/sessiontest"
)

func TestStart(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h", "SESSION_TOKEN_LIMIT": "5000"})
	acc, empty, other := e.account(2), e.account(0), e.account(1)
	write, read := sessiontest.Key(acc, caller.Write), sessiontest.Key(acc, caller.Read)
	poorWrite, otherWrite := sessiontest.Key(empty, caller.Write), sessiontest.Key(other, caller.Write)
	master := sessiontest.Master
	var first string
	tests := []struct {
		name   string
		c      caller.Caller
		body   string
		status int
		code   string
	}{
		{"read key is too low", read, "", 403, "forbidden"},
		{"starts", write, "", 201, ""},
		{"one active at a time", write, "", 409, "conflict"},
		{"no quota", poorWrite, "", 402, "quota_exhausted"},
		{"another account is not found", write, `{"account_id":"` + other + `"}`, 404, "not_found"},
		{"own account named", otherWrite, `{"account_id":"` + other + `"}`, 201, ""},
		{"master must name the account", master, "", 400, "invalid_request"},
		{"master, unknown account", master, `{"account_id":"acc_0000000000000000"}`, 404, "not_found"},
		{"master, active session", master, `{"account_id":"` + acc + `"}`, 409, "conflict"},
		{"unknown field", write, `{"sessions":1}`, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("start", sessiontest.Request{Method: "POST", Path: "/api/v1/sessions", Body: tc.body, Caller: &tc.c})
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.Code(), tc.status, tc.code, r.Raw)
			}
			switch {
			case r.Status == 201 && tc.c.AccountID == acc:
				first = r.Str("session_id")
				started, _ := time.Parse(time.RFC3339Nano, r.Str("started_at"))
				expires, _ := time.Parse(time.RFC3339Nano, r.Str("expires_at"))
				if !session.ValidID(first) || r.Str("account_id") != acc || r.Str("status") != "active" ||
					r.Int("token_limit") != 5000 || r.Int("tokens_used") != 0 || r.Int("tokens_remaining") != 5000 ||
					r.Int("requests") != 0 || expires.Sub(started) != time.Hour || r.Body["ended_at"] != nil {
					t.Fatalf("session %s", r.Raw)
				}
			case r.Status == 409:
				if r.Str("active_session_id") != first || first == "" {
					t.Fatalf("active_session_id %q, want %q", r.Str("active_session_id"), first)
				}
			}
		})
	}
	hub := e.hub(acc)
	if num(hub, "purchased") != 2 || num(hub, "used") != 1 || num(hub, "remaining") != 1 || str(hub, "active_session_id") != first {
		t.Fatalf("hub after one start: %v", hub)
	}
	if e.logs.metric("SessionsStarted", nil) != 2 {
		t.Errorf("SessionsStarted = %v, want 2", e.logs.metric("SessionsStarted", nil))
	}
}

// Concurrent starts: exactly one 201, one quota spent, never negative.
func TestConcurrentStarts(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []int{10, 20} {
		t.Run(fmt.Sprintf("%d starts", n), func(t *testing.T) {
			acc := e.account(5)
			c := sessiontest.Key(acc, caller.Write)
			statuses := make([]sessiontest.Response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = e.do("start", sessiontest.Request{Method: "POST", Path: "/api/v1/sessions", Caller: &c})
				}()
			}
			wg.Wait()
			created, conflicts, winner := 0, 0, ""
			for _, r := range statuses {
				switch r.Status {
				case 201:
					created++
					winner = r.Str("session_id")
				case 409:
					conflicts++
				default:
					t.Errorf("status %d: %s", r.Status, r.Raw)
				}
			}
			for _, r := range statuses {
				if r.Status == 409 && r.Str("active_session_id") != winner {
					t.Errorf("409 names %q, winner %q", r.Str("active_session_id"), winner)
				}
			}
			hub := e.hub(acc)
			census, err := e.store.Census(context.Background(), acc)
			if err != nil {
				t.Fatal(err)
			}
			if created != 1 || conflicts != n-1 || num(hub, "used") != 1 || num(hub, "remaining") != 4 || census.Count != 1 {
				t.Fatalf("%d concurrent starts: %d created, %d conflicts, used %d, remaining %d, %d sessions",
					n, created, conflicts, num(hub, "used"), num(hub, "remaining"), census.Count)
			}
			t.Logf("%d concurrent starts with quota 5: %d x 201, %d x 409, quota spent %d", n, created, conflicts, 5-num(hub, "remaining"))
		})
	}
}

// With a 2s SESSION_TTL the session reads as ended the moment it
// expires, before anything cleans it up; the next start finalises it.
func TestExpiredSessionReadsEndedAtOnce(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "2s"})
	acc := e.account(2)
	c := sessiontest.Key(acc, caller.Read)
	first := e.start(acc)
	id := first.Str("session_id")
	if r := e.do("current", sessiontest.Request{Method: "GET", Path: "/api/v1/sessions/current", Caller: &c}); r.Status != 200 || r.Str("session_id") != id {
		t.Fatalf("current while active: %d %s", r.Status, r.Raw)
	}
	expires, _ := time.Parse(time.RFC3339Nano, first.Str("expires_at"))
	time.Sleep(time.Until(expires) + 50*time.Millisecond)

	if r := e.do("current", sessiontest.Request{Method: "GET", Path: "/api/v1/sessions/current", Caller: &c}); r.Status != 404 || r.Code() != "not_found" {
		t.Fatalf("current after expiry: %d %s", r.Status, r.Raw)
	}
	r := e.do("get", sessiontest.Request{Method: "GET", Path: pathOf("sessions", id), Caller: &c})
	if r.Status != 200 || r.Str("status") != "ended" || r.Str("end_reason") != "expired" || r.Str("ended_at") != first.Str("expires_at") {
		t.Fatalf("get after expiry: %s", r.Raw)
	}
	if r := e.do("quota", sessiontest.Request{Method: "GET", Path: "/api/v1/sessions/quota", Caller: &c}); r.Status != 200 || r.Body["active_session_id"] != nil {
		t.Fatalf("quota after expiry: %s", r.Raw)
	}
	for status, want := range map[string]int{"ended": 1, "active": 0} {
		r := e.do("list", sessiontest.Request{Method: "GET", Path: "/api/v1/sessions", Query: map[string]string{"status": status}, Caller: &c})
		if items, _ := r.Body["items"].([]any); r.Status != 200 || len(items) != want {
			t.Fatalf("list %s: %s", status, r.Raw)
		}
	}
	if _, ok, err := e.store.Active(context.Background(), acc, e.clock.Now()); ok || err != nil {
		t.Fatalf("authorizer lookup after expiry: %v %v", ok, err)
	}
	if stored, _ := e.store.Get(context.Background(), acc, id); stored.Status != session.Active {
		t.Fatalf("nothing should have written the end yet: %+v", stored)
	}
	e.start(acc)
	stored, err := e.store.Get(context.Background(), acc, id)
	if err != nil || stored.Status != session.Ended || stored.EndReason != session.Expired || !stored.EndedAt.Equal(stored.ExpiresAt) {
		t.Fatalf("previous session after the next start: %+v %v", stored, err)
	}
	if e.logs.metric("SessionsEnded", map[string]any{"reason": "expired"}) != 1 {
		t.Errorf("SessionsEnded{expired} = %v", e.logs.metric("SessionsEnded", map[string]any{"reason": "expired"}))
	}
}

func TestListPages(t *testing.T) {
	e := newEnv(t, nil)
	acc := e.account(5)
	w, c := sessiontest.Key(acc, caller.Write), sessiontest.Key(acc, caller.Read)
	var ids []string
	for i := range 5 {
		id := e.start(acc).Str("session_id")
		ids = append([]string{id}, ids...) // newest first
		if i < 4 {
			if r := e.do("terminate", sessiontest.Request{Method: "POST", Path: pathOf("sessions", id, "terminate"), Caller: &w}); r.Status != 200 {
				t.Fatalf("terminate: %s", r.Raw)
			}
		}
		e.clock.Advance(time.Second)
	}
	list := func(q map[string]string) sessiontest.Response {
		return e.do("list", sessiontest.Request{Method: "GET", Path: "/api/v1/sessions", Query: q, Caller: &c})
	}
	var got []string
	q := map[string]string{"limit": "2"}
	for pages := 0; ; pages++ {
		r := list(q)
		if r.Status != 200 || pages > 3 {
			t.Fatalf("page %d: %s", pages, r.Raw)
		}
		for _, it := range r.Body["items"].([]any) {
			got = append(got, it.(map[string]any)["session_id"].(string))
		}
		next := r.Str("next_token")
		if next == "" {
			break
		}
		q = map[string]string{"limit": "2", "next_token": next}
	}
	if len(got) != 5 {
		t.Fatalf("listed %v, want %v", got, ids)
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("listed %v, want newest first %v", got, ids)
		}
	}
	tests := []struct {
		name   string
		q      map[string]string
		status int
		items  int
		first  string
	}{
		{"active", map[string]string{"status": "active"}, 200, 1, ids[0]},
		{"ended", map[string]string{"status": "ended"}, 200, 4, ids[1]},
		{"ended, one page", map[string]string{"status": "ended", "limit": "3"}, 200, 3, ids[1]},
		{"default", nil, 200, 5, ids[0]},
		{"bad status", map[string]string{"status": "gone"}, 400, 0, ""},
		{"bad token", map[string]string{"next_token": "bm90LWEtdG9rZW4"}, 400, 0, ""},
		{"bad limit", map[string]string{"limit": "0"}, 400, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := list(tc.q)
			if r.Status != tc.status {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			if tc.status != 200 {
				if r.Code() != "invalid_request" {
					t.Fatalf("code %s", r.Code())
				}
				return
			}
			items := r.Body["items"].([]any)
			if len(items) != tc.items || items[0].(map[string]any)["session_id"] != tc.first {
				t.Fatalf("items %v", items)
			}
		})
	}
}

func TestGetAndTerminate(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h"})
	acc, other := e.account(3), e.account(1)
	w, rd, ow := sessiontest.Key(acc, caller.Write), sessiontest.Key(acc, caller.Read), sessiontest.Key(other, caller.Write)
	master := sessiontest.Master
	id := e.start(acc).Str("session_id")
	tests := []struct {
		name   string
		fn     string
		method string
		path   string
		c      caller.Caller
		q      map[string]string
		body   string
		status int
		code   string
	}{
		{"get own", "get", "GET", pathOf("sessions", id), rd, nil, "", 200, ""},
		{"get as another account", "get", "GET", pathOf("sessions", id), ow, nil, "", 404, "not_found"},
		{"get naming another account", "get", "GET", pathOf("sessions", id), ow, map[string]string{"account_id": acc}, "", 404, "not_found"},
		{"get as master", "get", "GET", pathOf("sessions", id), master, map[string]string{"account_id": acc}, "", 200, ""},
		{"get malformed id", "get", "GET", pathOf("sessions", "nope"), rd, nil, "", 404, "not_found"},
		{"current", "current", "GET", "/api/v1/sessions/current", rd, nil, "", 200, ""},
		{"terminate needs write", "terminate", "POST", pathOf("sessions", id, "terminate"), rd, nil, "", 403, "forbidden"},
		{"terminate another's", "terminate", "POST", pathOf("sessions", id, "terminate"), ow, nil, "", 404, "not_found"},
		{"terminate", "terminate", "POST", pathOf("sessions", id, "terminate"), w, nil, "", 200, ""},
		{"terminate again", "terminate", "POST", pathOf("sessions", id, "terminate"), w, nil, "", 409, "conflict"},
		{"no current after", "current", "GET", "/api/v1/sessions/current", rd, nil, "", 404, "not_found"},
		{"get ended", "get", "GET", pathOf("sessions", id), rd, nil, "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.fn, sessiontest.Request{Method: tc.method, Path: tc.path, Query: tc.q, Body: tc.body, Caller: &tc.c})
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.Code(), tc.status, tc.code, r.Raw)
			}
			if tc.status == 200 && tc.fn != "current" {
				if r.Str("session_id") != id {
					t.Fatalf("session %s", r.Raw)
				}
				if tc.fn == "get" {
					if _, ok := r.Body["by_endpoint"].([]any); !ok {
						t.Fatalf("get lacks by_endpoint: %s", r.Raw)
					}
				}
			}
			if tc.name == "terminate" || tc.name == "get ended" {
				if r.Str("status") != "ended" || r.Str("end_reason") != "terminated" || r.Str("ended_at") == "" {
					t.Fatalf("ended session %s", r.Raw)
				}
			}
		})
	}
	if hub := e.hub(acc); str(hub, "active_session_id") != "" {
		t.Fatalf("hub still points at the terminated session: %v", hub)
	}
	if e.logs.metric("SessionsEnded", map[string]any{"reason": "terminated"}) != 1 {
		t.Errorf("SessionsEnded{terminated} = %v", e.logs.metric("SessionsEnded", map[string]any{"reason": "terminated"}))
	}

	// A session past expires_at cannot be terminated: it has ended.
	id = e.start(acc).Str("session_id")
	e.clock.Advance(time.Hour)
	if r := e.do("terminate", sessiontest.Request{Method: "POST", Path: pathOf("sessions", id, "terminate"), Caller: &w}); r.Status != 409 {
		t.Fatalf("terminate an expired session: %d %s", r.Status, r.Raw)
	}
}

// Concurrent terminates: one 200, the others 409.
func TestConcurrentTerminates(t *testing.T) {
	e := newEnv(t, nil)
	acc := e.account(1)
	w := sessiontest.Key(acc, caller.Write)
	id := e.start(acc).Str("session_id")
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.do("terminate", sessiontest.Request{Method: "POST", Path: pathOf("sessions", id, "terminate"), Caller: &w}).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		} else if c != http.StatusConflict {
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d terminates succeeded: %v", ok, codes)
	}
}

// The authorizer's lookup reads the hub only: one round trip.
func TestActiveLookup(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "700", "SESSION_TTL": "1h"})
	acc := e.account(1)
	ctx := context.Background()
	if _, ok, err := e.store.Active(ctx, acc, e.clock.Now()); ok || err != nil {
		t.Fatalf("before any session: %v %v", ok, err)
	}
	if _, ok, err := e.store.Active(ctx, "acc_0000000000000000", e.clock.Now()); ok || err != nil {
		t.Fatalf("unknown account: %v %v", ok, err)
	}
	id := e.start(acc).Str("session_id")
	before := fx.Counter.Count()
	a, ok, err := e.store.Active(ctx, acc, e.clock.Now())
	if trips := fx.Counter.Count() - before; trips != 1 {
		t.Errorf("lookup took %d round trips, want 1", trips)
	}
	if !ok || err != nil || a.ID != id || a.TokenLimit != 700 || a.TokensUsed != 0 || !a.ExpiresAt.After(e.clock.Now()) {
		t.Fatalf("active: %+v %v %v", a, ok, err)
	}
	if _, ok, _ := e.store.Active(ctx, acc, a.ExpiresAt); ok {
		t.Fatal("active at expires_at")
	}
}

// Charges: a repeated request id counts once; a charge that does not fit
// what is left is refused and writes nothing; the charge that lands
// exactly on the limit (tokens == limit - used) is counted and ends the
// session as exhausted, clearing the hub; after that nothing fits.
func TestCharge(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "100"})
	acc := e.account(1)
	ctx := context.Background()
	id := e.start(acc).Str("session_id")
	charge := func(req string, tokens int64) (session.Charged, error) {
		return e.store.Charge(ctx, session.Charge{AccountID: acc, SessionID: id, RequestID: req, Endpoint: "test/x",
			Tokens: tokens, TokenLimit: 100, At: e.clock.Now()})
	}
	steps := []struct {
		req                  string
		tokens               int64
		dup, exhausted       bool
		refusedWithLeft      int64 // -1: not refused
		wantUsed, wantCalls  int64
		wantStatus, wantHub  string
		wantReportedUsedOver int64
	}{
		{"r1", 10, false, false, -1, 10, 1, "active", id, -1},
		{"r1", 10, true, false, -1, 10, 1, "active", id, -1},
		{"r2", 88, false, false, -1, 98, 2, "active", id, -1},
		{"r3", 5, false, false, 2, 98, 2, "active", id, 0},
		{"r4", 3, false, false, 2, 98, 2, "active", id, 0},
		{"r5", 2, false, true, -1, 100, 3, "ended", "", 100},
		{"r5", 2, true, false, -1, 100, 3, "ended", "", -1},
		{"r6", 1, false, false, 0, 100, 3, "ended", "", 0},
	}
	for _, st := range steps {
		res, err := charge(st.req, st.tokens)
		var ie *session.InsufficientError
		switch {
		case st.refusedWithLeft >= 0:
			if !errors.As(err, &ie) || ie.Required != st.tokens || ie.Remaining != st.refusedWithLeft {
				t.Fatalf("%s: %+v %v, want a refusal naming %d required and %d left", st.req, res, err, st.tokens, st.refusedWithLeft)
			}
		case err != nil:
			t.Fatal(err)
		}
		s, _ := e.store.Get(ctx, acc, id)
		hub := e.hub(acc)
		if res.Duplicate != st.dup || res.Exhausted != st.exhausted || s.TokensUsed != st.wantUsed || s.Requests != st.wantCalls ||
			string(s.Status) != st.wantStatus || str(hub, "active_session_id") != st.wantHub ||
			(st.wantHub != "" && num(hub, "active_tokens_used") != st.wantUsed) || res.TokensUsed != st.wantReportedUsedOver {
			t.Fatalf("%s: %+v, session %+v, hub pointer %q", st.req, res, s, str(hub, "active_session_id"))
		}
		if st.wantStatus == "ended" && s.EndReason != session.Exhausted {
			t.Fatalf("%s: end reason %s", st.req, s.EndReason)
		}
	}
	usage, err := e.store.Usage(ctx, id)
	if err != nil || len(usage) != 1 || usage[0] != (session.EndpointUsage{Endpoint: "test/x", Requests: 3, Tokens: 100}) {
		t.Fatalf("usage %v %v", usage, err)
	}
	if _, err := e.store.Charge(ctx, session.Charge{AccountID: acc, SessionID: "ses_000000000000aaaaaaaaaa", RequestID: "r9",
		Endpoint: "test/x", Tokens: 1, TokenLimit: 100, At: e.clock.Now()}); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("charge of a missing session: %v", err)
	}
}

// A charge still in flight when its session was terminated (the hub no
// longer points at it) is counted if it fits what the session has left,
// and refused if it does not: the session's own count holds the limit.
func TestChargeAfterTerminate(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "100"})
	acc := e.account(1)
	ctx := context.Background()
	id := e.start(acc).Str("session_id")
	if _, err := e.store.Terminate(ctx, acc, id, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		tokens   int64
		refused  bool
		wantUsed int64
	}{{60, false, 60}, {41, true, 60}, {40, false, 100}, {1, true, 100}} {
		_, err := e.store.Charge(ctx, session.Charge{AccountID: acc, SessionID: id, RequestID: fmt.Sprintf("late-%d", i),
			Endpoint: "test/x", Tokens: tc.tokens, TokenLimit: 100, At: e.clock.Now()})
		var ie *session.InsufficientError
		if refused := errors.As(err, &ie); refused != tc.refused || (!refused && err != nil) {
			t.Fatalf("charge %d of %d tokens: %v, want refused %v", i, tc.tokens, err, tc.refused)
		}
		if s, _ := e.store.Get(ctx, acc, id); s.TokensUsed != tc.wantUsed || s.EndReason != session.Terminated {
			t.Fatalf("charge %d: session %+v, want %d used", i, s, tc.wantUsed)
		}
	}
}

// A charge at or after expires_at is refused with ErrExpired and counts
// nothing, whatever tokens are left: the answer finished after the
// session's end. A retry of a charge that landed before the end is still
// recognised as a duplicate.
func TestChargeAfterExpiry(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "100"})
	acc := e.account(1)
	ctx := context.Background()
	started := e.start(acc)
	id := started.Str("session_id")
	expires, err := time.Parse(time.RFC3339Nano, started.Str("expires_at"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req      string
		at       time.Time
		err      error
		dup      bool
		wantUsed int64
	}{
		{"before", expires.Add(-time.Millisecond), nil, false, 10},
		{"at", expires, session.ErrExpired, false, 10},
		{"after", expires.Add(time.Second), session.ErrExpired, false, 10},
		{"before", expires.Add(time.Second), nil, true, 10}, // a retry of the first
	} {
		res, err := e.store.Charge(ctx, session.Charge{AccountID: acc, SessionID: id, RequestID: tc.req,
			Endpoint: "test/x", Tokens: 10, TokenLimit: 100, At: tc.at})
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || res.Duplicate != tc.dup {
			t.Fatalf("charge %s at expires_at%+v: %+v %v, want %v", tc.req, tc.at.Sub(expires), res, err, tc.err)
		}
		if s, _ := e.store.Get(ctx, acc, id); s.TokensUsed != tc.wantUsed || s.Requests != 1 || num(e.hub(acc), "active_tokens_used") != tc.wantUsed {
			t.Fatalf("after the charge %s: session %+v", tc.req, s)
		}
	}
}

// A charge admitted with a stale or missing limit is counted against the
// session's own limit, not ended early nor refused, and one that then
// fills it exactly ends it.
func TestChargeWithStaleLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TOKEN_LIMIT": "100"})
	acc := e.account(1)
	ctx := context.Background()
	id := e.start(acc).Str("session_id")
	for i, limit := range []int64{0, 5, 100} {
		res, err := e.store.Charge(ctx, session.Charge{AccountID: acc, SessionID: id, RequestID: fmt.Sprintf("stale-%s-%d", id, i),
			Endpoint: "test/x", Tokens: 10, TokenLimit: limit, At: e.clock.Now()})
		if err != nil || res.Exhausted || res.Duplicate {
			t.Fatalf("limit %d: %+v %v", limit, res, err)
		}
	}
	s, _ := e.store.Get(ctx, acc, id)
	if s.Status != session.Active || s.TokensUsed != 30 || num(e.hub(acc), "active_tokens_used") != 30 {
		t.Fatalf("session %+v", s)
	}
	res, err := e.store.Charge(ctx, session.Charge{AccountID: acc, SessionID: id, RequestID: "stale-fill-" + id,
		Endpoint: "test/x", Tokens: 70, TokenLimit: 0, At: e.clock.Now()})
	if s, _ = e.store.Get(ctx, acc, id); err != nil || !res.Exhausted || s.TokensUsed != 100 || s.EndReason != session.Exhausted {
		t.Fatalf("filling charge with a stale limit: %+v %v, session %+v", res, err, s)
	}
}
