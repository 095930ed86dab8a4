package apikey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/config"
)

func TestAccountCreate(t *testing.T) {
	r := h.do(t, "POST", "/api/v1/accounts", h.master, map[string]any{"name": "Acme Research"})
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	accID := r.str("account_id")
	if !strings.HasPrefix(accID, "acc_") || r.str("name") != "Acme Research" || r.str("created_at") == "" {
		t.Fatalf("account %s", r.raw)
	}
	if r.str("admin_key", "permission") != "ADMIN" || r.num("admin_key", "rate_limit_per_minute") != 60 ||
		r.str("admin_key", "account_id") != accID || !strings.HasPrefix(r.str("admin_key", "key"), r.str("admin_key", "prefix")) {
		t.Fatalf("admin key %s", r.raw)
	}
	// The hub item, as DESIGN.md has it.
	out, err := fx.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(fx.Tables.Quotas),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + accID},
			"sk": &types.AttributeValueMemberS{Value: "ACCOUNT"}}})
	if err != nil {
		t.Fatal(err)
	}
	for attr, want := range map[string]string{"purchased": "0", "used": "0", "remaining": "0"} {
		if v, ok := out.Item[attr].(*types.AttributeValueMemberN); !ok || v.Value != want {
			t.Errorf("hub %s = %v", attr, out.Item[attr])
		}
	}
	if v, _ := out.Item["gsi1pk"].(*types.AttributeValueMemberS); v == nil || v.Value != "ACCOUNT" {
		t.Errorf("hub gsi1pk %v", out.Item["gsi1pk"])
	}
	if _, has := out.Item["active_session_id"]; has {
		t.Error("a new account has an active session")
	}
	// The admin key works at once.
	if l := h.do(t, "GET", "/api/v1/keys", r.str("admin_key", "key"), nil); l.status != 200 {
		t.Fatalf("admin key: %d %s", l.status, l.raw)
	}

	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{}, "name"},
		{"empty", map[string]any{"name": ""}, "name"},
		{"blank", map[string]any{"name": "   "}, "name"},
		{"too long", map[string]any{"name": strings.Repeat("x", 101)}, "name"},
		{"control", map[string]any{"name": "a\x00b"}, "name"},
		{"number", map[string]any{"name": 7}, "name"},
		{"unknown field", map[string]any{"name": "x", "plan": "gold"}, "plan"},
		{"not json", "{", "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, "POST", "/api/v1/accounts", h.master, tc.body)
			if r.status != 400 || r.str("code") != "invalid_request" || r.str("field") != tc.field {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestKeyCreateValidation(t *testing.T) {
	a := h.newAccount(t)
	futureAt := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	future := futureAt.Format(time.RFC3339)
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"permission": "READ"}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("é", 101), "permission": "READ"}, "name"},
		{"no permission", map[string]any{"name": "x"}, "permission"},
		{"bad permission", map[string]any{"name": "x", "permission": "OWNER"}, "permission"},
		{"lower-case permission", map[string]any{"name": "x", "permission": "read"}, "permission"},
		{"master permission", map[string]any{"name": "x", "permission": "MASTER"}, "permission"},
		{"zero rate", map[string]any{"name": "x", "permission": "READ", "rate_limit_per_minute": 0}, "rate_limit_per_minute"},
		{"huge rate", map[string]any{"name": "x", "permission": "READ", "rate_limit_per_minute": config.MaxRateLimitPerMinute + 1}, "rate_limit_per_minute"},
		{"fractional rate", map[string]any{"name": "x", "permission": "READ", "rate_limit_per_minute": 1.5}, "rate_limit_per_minute"},
		{"string rate", map[string]any{"name": "x", "permission": "READ", "rate_limit_per_minute": "10"}, "rate_limit_per_minute"},
		{"past expiry", map[string]any{"name": "x", "permission": "READ", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"},
		{"bad expiry", map[string]any{"name": "x", "permission": "READ", "expires_at": "tomorrow"}, "expires_at"},
		{"unknown field", map[string]any{"name": "x", "permission": "READ", "scopes": []string{"a"}}, "scopes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, "POST", "/api/v1/keys", a.admin, tc.body)
			if r.status != 400 || r.str("code") != "invalid_request" || r.str("field") != tc.field {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
	if r := h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "ok", "permission": "READ"}); r.num("rate_limit_per_minute") != 60 {
		t.Fatalf("default rate limit: %s", r.raw)
	}
	// The key maximum is a valid limit: refused here for want of room in
	// the account (its two keys take 120), not as invalid.
	r := h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "ok", "permission": "WRITE",
		"rate_limit_per_minute": config.MaxRateLimitPerMinute, "expires_at": future})
	if r.status != 409 || r.str("code") != "key_limit_reached" || r.str("field") != "rate_limit_per_minute" {
		t.Fatalf("a key at the maximum beside two others: %d %s", r.status, r.raw)
	}
	room := config.MaxAccountRateLimitPerMinute - 120
	r = h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "ok", "permission": "WRITE",
		"rate_limit_per_minute": room, "expires_at": future})
	if r.status != 201 || !sameInstant(r.str("expires_at"), futureAt) || r.num("rate_limit_per_minute") != float64(room) {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

// A key's whole life through the gateway: create, list, get, use,
// rotate (the old key stops on the next request), revoke (likewise).
func TestKeyLifecycle(t *testing.T) {
	a := h.newAccount(t)
	exp := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	created := h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "notebook", "permission": "READ",
		"rate_limit_per_minute": 120, "expires_at": exp.Format(time.RFC3339)})
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	key, id := created.str("key"), created.str("key_id")
	if !keyShape.MatchString(key) || created.str("prefix") != key[:12] || created.str("permission") != "READ" ||
		created.str("account_id") != a.id {
		t.Fatalf("created %s", created.raw)
	}

	// Listed and read without the key or its hash.
	list := h.do(t, "GET", "/api/v1/keys", key, nil)
	if list.status != 200 || strings.Contains(string(list.raw), key) || strings.Contains(string(list.raw), "hash") {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	if list.header.Get("RateLimit-Limit") != "120" || list.header.Get("RateLimit-Remaining") != "119" || list.header.Get("RateLimit-Reset") == "" {
		t.Errorf("rate headers %v", list.header)
	}
	got := h.do(t, "GET", "/api/v1/keys/"+id, key, nil)
	if got.status != 200 || got.str("key_id") != id || got.str("name") != "notebook" || got.str("key") != "" ||
		!sameInstant(got.str("expires_at"), exp) || strings.Contains(string(got.raw), "hash") {
		t.Fatalf("get: %d %s", got.status, got.raw)
	}
	// The list request was recorded before this one.
	if got.num("usage", "requests") != 1 || got.str("usage", "last_used_at") == "" {
		t.Errorf("usage %s", got.raw)
	}

	// Rotate: new key, same settings; the old one is refused next.
	rot := h.do(t, "POST", "/api/v1/keys/"+id+"/rotate", a.admin, nil)
	if rot.status != 201 {
		t.Fatalf("rotate: %d %s", rot.status, rot.raw)
	}
	newKey, newID := rot.str("key"), rot.str("key_id")
	if newKey == key || newID == id || rot.str("name") != "notebook" || rot.str("permission") != "READ" ||
		rot.num("rate_limit_per_minute") != 120 || !sameInstant(rot.str("expires_at"), exp) {
		t.Fatalf("rotated %s", rot.raw)
	}
	if r := h.do(t, "GET", "/api/v1/keys", key, nil); r.status != 401 || r.str("code") != "unauthorized" {
		t.Fatalf("old key after rotation: %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/v1/keys", newKey, nil); r.status != 200 {
		t.Fatalf("new key: %d %s", r.status, r.raw)
	}
	old := h.do(t, "GET", "/api/v1/keys/"+id, a.admin, nil)
	if old.str("revoked_at") == "" {
		t.Errorf("the rotated key has no revoked_at: %s", old.raw)
	}
	if r := h.do(t, "POST", "/api/v1/keys/"+id+"/rotate", a.admin, nil); r.status != 409 || r.str("code") != "conflict" {
		t.Fatalf("rotating a revoked key: %d %s", r.status, r.raw)
	}

	// Revoke: 204, refused on the very next request, idempotent.
	if r := h.do(t, "GET", "/api/v1/keys/"+newID, newKey, nil); r.status != 200 {
		t.Fatalf("before revocation: %d", r.status)
	}
	if r := h.do(t, "DELETE", "/api/v1/keys/"+newID, a.admin, nil); r.status != 204 || len(r.raw) != 0 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/v1/keys/"+newID, newKey, nil); r.status != 401 {
		t.Fatalf("after revocation: %d %s", r.status, r.raw)
	}
	if r := h.do(t, "DELETE", "/api/v1/keys/"+newID, a.admin, nil); r.status != 204 {
		t.Fatalf("second revoke: %d %s", r.status, r.raw)
	}
	// A key may revoke itself.
	if r := h.do(t, "DELETE", "/api/v1/keys/"+a.adminID, a.admin, nil); r.status != 204 {
		t.Fatalf("self revoke: %d", r.status)
	}
	if r := h.do(t, "GET", "/api/v1/keys", a.admin, nil); r.status != 401 {
		t.Fatalf("after self revocation: %d", r.status)
	}
	// Unknown and malformed key ids.
	b := h.newAccount(t)
	for _, bad := range []string{"key_000000000000deadbeef", "nope", "key_%2e%2e"} {
		if r := h.do(t, "GET", "/api/v1/keys/"+bad, b.admin, nil); r.status != 404 || r.str("code") != "not_found" {
			t.Errorf("%s: %d %s", bad, r.status, r.raw)
		}
	}
}

// An expired key is 401.
func TestExpiredKey(t *testing.T) {
	a := h.newAccount(t)
	key, _ := h.newKey(t, a, map[string]any{"permission": "READ",
		"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	if r := h.do(t, "GET", "/api/v1/keys", key, nil); r.status != 200 {
		t.Fatalf("before expiry: %d", r.status)
	}
	h.clock.offset.Store(int64(61 * time.Minute))
	defer h.clock.offset.Store(0)
	if r := h.do(t, "GET", "/api/v1/keys", key, nil); r.status != 401 || r.str("code") != "unauthorized" {
		t.Fatalf("after expiry: %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/v1/keys", a.admin, nil); r.status != 200 {
		t.Fatalf("a key without expiry: %d", r.status)
	}
}

func TestListPages(t *testing.T) {
	a := h.newAccount(t)
	ids := map[string]bool{a.adminID: true}
	for range 6 {
		_, id := h.newKey(t, a, map[string]any{"permission": "READ"})
		ids[id] = true
	}
	var seen []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		path := "/api/v1/keys?limit=3"
		if token != "" {
			path += "&next_token=" + token
		}
		r := h.do(t, "GET", path, a.admin, nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		var page struct {
			Items []struct {
				KeyID string `json:"key_id"`
				Key   string `json:"key"`
			} `json:"items"`
			NextToken string `json:"next_token"`
		}
		if err := json.Unmarshal(r.raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.Key != "" {
				t.Fatal("a list holds a key")
			}
			seen = append(seen, it.KeyID)
		}
		if page.NextToken == "" {
			if len(page.Items) == 0 {
				t.Error("an empty last page")
			}
			break
		}
		if len(page.Items) != 3 {
			t.Fatalf("a page of %d before the last", len(page.Items))
		}
		token = page.NextToken
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %d keys, want %d", len(seen), len(ids))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i-1] <= seen[i] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
	for _, bad := range []string{"limit=0", "limit=101", "limit=x", "next_token=%21%21", "next_token=" + "S0VZI3g"} {
		if r := h.do(t, "GET", "/api/v1/keys?"+bad, a.admin, nil); r.status != 400 || r.str("code") != "invalid_request" {
			t.Errorf("%s: %d %s", bad, r.status, r.raw)
		}
	}
}

// Every keys and accounts endpoint against every level, through the
// authorizer.
func TestPermissionTable(t *testing.T) {
	a := h.newAccount(t)
	keys := map[string]string{"ADMIN": a.admin, "MASTER": h.master}
	for _, p := range []string{"READ", "WRITE"} {
		keys[p], _ = h.newKey(t, a, map[string]any{"permission": p})
	}
	_, target := h.newKey(t, a, map[string]any{"permission": "READ"})
	fresh := func() string { _, id := h.newKey(t, a, map[string]any{"permission": "READ"}); return id }
	type row struct {
		method, path string
		body         func(level string) any
		want         map[string]int
	}
	acct := func(level string) string {
		if level == "MASTER" {
			return "?account_id=" + a.id
		}
		return ""
	}
	body := func(extra map[string]any) func(string) any {
		return func(level string) any {
			m := map[string]any{}
			for k, v := range extra {
				m[k] = v
			}
			if level == "MASTER" {
				m["account_id"] = a.id
			}
			return m
		}
	}
	rows := []row{
		{"POST", "/api/v1/accounts", func(string) any { return map[string]any{"name": "x"} },
			map[string]int{"READ": 403, "WRITE": 403, "ADMIN": 403, "MASTER": 201}},
		{"POST", "/api/v1/keys", body(map[string]any{"name": "x", "permission": "READ"}),
			map[string]int{"READ": 403, "WRITE": 403, "ADMIN": 201, "MASTER": 201}},
		{"GET", "/api/v1/keys", nil, map[string]int{"READ": 200, "WRITE": 200, "ADMIN": 200, "MASTER": 200}},
		{"GET", "/api/v1/keys/" + target, nil, map[string]int{"READ": 200, "WRITE": 200, "ADMIN": 200, "MASTER": 200}},
		{"GET", "/api/v1/keys/" + target + "/usage", nil, map[string]int{"READ": 200, "WRITE": 200, "ADMIN": 200, "MASTER": 200}},
		{"DELETE", "/api/v1/keys/{fresh}", nil, map[string]int{"READ": 403, "WRITE": 403, "ADMIN": 204, "MASTER": 204}},
		{"POST", "/api/v1/keys/{fresh}/rotate", body(nil), map[string]int{"READ": 403, "WRITE": 403, "ADMIN": 201, "MASTER": 201}},
	}
	for _, rw := range rows {
		for _, level := range []string{"READ", "WRITE", "ADMIN", "MASTER"} {
			t.Run(rw.method+" "+rw.path+" "+level, func(t *testing.T) {
				path := rw.path
				if strings.Contains(path, "{fresh}") {
					path = strings.Replace(path, "{fresh}", fresh(), 1)
				}
				if rw.method != "POST" {
					path += acct(level)
				}
				var b any
				if rw.body != nil {
					b = rw.body(level)
				}
				r := h.do(t, rw.method, path, keys[level], b)
				if r.status != rw.want[level] {
					t.Fatalf("%d %s", r.status, r.raw)
				}
				if r.status == 403 && r.str("code") != "forbidden" {
					t.Fatalf("403 code %q", r.str("code"))
				}
			})
		}
	}
	// The master key must name the account; an account that does not exist
	// is 404.
	for _, p := range []string{"/api/v1/keys", "/api/v1/keys/" + target, "/api/v1/keys/" + target + "/usage"} {
		if r := h.do(t, "GET", p, h.master, nil); r.status != 400 || r.str("field") != "account_id" {
			t.Errorf("master without account_id on %s: %d %s", p, r.status, r.raw)
		}
		if r := h.do(t, "GET", p+"?account_id=acc_00000000deadbeef", h.master, nil); r.status != 404 {
			t.Errorf("master on a missing account on %s: %d %s", p, r.status, r.raw)
		}
	}
}

// Another account's key is 404 on every id-taking endpoint, and naming
// another account is 404; nothing changes.
func TestCrossAccountIs404(t *testing.T) {
	a, b := h.newAccount(t), h.newAccount(t)
	aKey, aID := h.newKey(t, a, map[string]any{"permission": "READ"})
	tests := []struct{ method, path string }{
		{"GET", "/api/v1/keys/" + aID},
		{"GET", "/api/v1/keys/" + aID + "/usage"},
		{"DELETE", "/api/v1/keys/" + aID},
		{"POST", "/api/v1/keys/" + aID + "/rotate"},
		{"GET", "/api/v1/keys?account_id=" + a.id},
		{"GET", "/api/v1/keys/" + b.adminID + "?account_id=" + a.id},
		{"DELETE", "/api/v1/keys/" + aID + "?account_id=" + a.id},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(t, tc.method, tc.path, b.admin, nil)
			if r.status != 404 || r.str("code") != "not_found" {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if strings.Contains(string(r.raw), a.id) || strings.Contains(string(r.raw), aID) {
				t.Fatalf("the 404 names the other account's resource: %s", r.raw)
			}
		})
	}
	for _, body := range []map[string]any{{"name": "x", "permission": "ADMIN", "account_id": a.id}} {
		if r := h.do(t, "POST", "/api/v1/keys", b.admin, body); r.status != 404 {
			t.Fatalf("create in another account: %d %s", r.status, r.raw)
		}
	}
	if r := h.do(t, "POST", "/api/v1/keys/"+aID+"/rotate", b.admin, map[string]any{"account_id": a.id}); r.status != 404 {
		t.Fatalf("rotate naming the other account: %d %s", r.status, r.raw)
	}
	// The master key acting on b cannot reach a's key either.
	if r := h.do(t, "GET", "/api/v1/keys/"+aID+"?account_id="+b.id, h.master, nil); r.status != 404 {
		t.Fatalf("master on the wrong account: %d %s", r.status, r.raw)
	}
	// a's key still works and b's list holds only b's key.
	if r := h.do(t, "GET", "/api/v1/keys", aKey, nil); r.status != 200 {
		t.Fatalf("a's key after b's attempts: %d", r.status)
	}
	r := h.do(t, "GET", "/api/v1/keys", b.admin, nil)
	items, _ := r.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("b lists %d keys", len(items))
	}
}

// Rate limits through the gateway: 429 with Retry-After, RateLimit
// headers, and the key's usage counts every request including the
// refused ones.
func TestRateLimitAndUsage(t *testing.T) {
	a := h.newAccount(t)
	key, id := h.newKey(t, a, map[string]any{"permission": "READ", "rate_limit_per_minute": 3})
	var statuses []int
	for i := range 5 {
		r := h.do(t, "GET", "/api/v1/keys", key, nil)
		statuses = append(statuses, r.status)
		if r.header.Get("RateLimit-Limit") != "3" {
			t.Errorf("request %d: RateLimit-Limit %q", i, r.header.Get("RateLimit-Limit"))
		}
		if want := fmt.Sprint(max(0, 2-i)); r.header.Get("RateLimit-Remaining") != want {
			t.Errorf("request %d: RateLimit-Remaining %q, want %s", i, r.header.Get("RateLimit-Remaining"), want)
		}
		if r.status == 429 {
			if r.str("code") != "rate_limited" || r.header.Get("Retry-After") != "20" {
				t.Errorf("429: Retry-After %q %s", r.header.Get("Retry-After"), r.raw)
			}
		}
	}
	if fmt.Sprint(statuses) != "[200 200 200 429 429]" {
		t.Fatalf("statuses %v", statuses)
	}
	// The gateway answered the 429s; the authorizer wrote the key's first
	// refusal at once and holds the second until its interval passes
	// (shared/refusals) or the instance writes its tally.
	if u := h.do(t, "GET", "/api/v1/keys/"+id+"/usage", a.admin, nil); u.num("requests") != 4 || u.num("rate_limited") != 1 {
		t.Fatalf("usage before the tally is written: %s", u.raw)
	}
	for _, f := range h.deps.Flushers {
		f.Flush(context.Background(), time.Now())
	}
	u := h.do(t, "GET", "/api/v1/keys/"+id+"/usage", a.admin, nil)
	if u.status != 200 || u.num("requests") != 5 || u.num("rate_limited") != 2 || u.str("key_id") != id || u.str("last_used_at") == "" {
		t.Fatalf("usage %d %s", u.status, u.raw)
	}
	var rep struct {
		ByDay []struct {
			Day         string `json:"day"`
			Requests    int    `json:"requests"`
			RateLimited int    `json:"rate_limited"`
			Errors      int    `json:"errors"`
		} `json:"by_day"`
		ByEndpoint []struct {
			Endpoint string `json:"endpoint"`
			Requests int    `json:"requests"`
		} `json:"by_endpoint"`
	}
	if err := json.Unmarshal(u.raw, &rep); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format("2006-01-02")
	if len(rep.ByDay) != 1 || rep.ByDay[0].Day != today || rep.ByDay[0].Requests != 5 || rep.ByDay[0].RateLimited != 2 || rep.ByDay[0].Errors != 2 {
		t.Errorf("by day %+v", rep.ByDay)
	}
	if len(rep.ByEndpoint) != 1 || rep.ByEndpoint[0].Endpoint != "GET /api/v1/keys" || rep.ByEndpoint[0].Requests != 5 {
		t.Errorf("by endpoint %+v", rep.ByEndpoint)
	}
	for _, q := range []string{"?from=2020-13-01", "?to=yesterday", "?from=2026-02-02&to=2026-02-01"} {
		if r := h.do(t, "GET", "/api/v1/keys/"+id+"/usage"+q, a.admin, nil); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
	if r := h.do(t, "GET", "/api/v1/keys/"+id+"/usage?from=2020-01-01&to=2020-01-31", a.admin, nil); r.status != 200 || r.num("requests") != 5 {
		t.Errorf("an empty window still shows the totals: %s", r.raw)
	}
}

// The committed proxy event fixture, as a function receives it.
func TestCreateFromProxyEvent(t *testing.T) {
	a := h.newAccount(t)
	raw, err := os.ReadFile(filepath.Join(fx.Root, "events", "api-keys-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.NewReplacer("ACCOUNT_PLACEHOLDER", a.id, "KEY_ID_PLACEHOLDER", a.adminID,
		"KEY_PLACEHOLDER", a.admin).Replace(string(raw)))
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	out, err := h.servers["KeyCreateFunction"].Lambda()(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	r := h.parse(t, "fixture", out.StatusCode, nil, []byte(out.Body))
	if r.status != 201 || r.str("name") != "research notebook" || r.num("rate_limit_per_minute") != 120 || r.str("account_id") != a.id {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	// The same function refuses a READ caller handed in directly.
	c := caller.Caller{AccountID: a.id, KeyID: a.adminID, Permission: caller.Read, RateLimit: 60}
	if r := h.direct(t, "KeyCreateFunction", c, "POST", "/api/v1/keys", `{"name":"x","permission":"READ"}`); r.status != 403 {
		t.Fatalf("READ caller: %d %s", r.status, r.raw)
	}
	// And a client-sent context header is not trusted.
	ev.RequestContext.Authorizer = nil
	ev.Headers["X-GoLambdaProxy-ApiGw-Context"] = `{"authorizer":{"account_id":"` + a.id + `","key_id":"` + a.adminID + `","permission":"ADMIN"}}`
	out, err = h.servers["KeyCreateFunction"].Lambda()(context.Background(), ev)
	if err != nil || out.StatusCode != 401 {
		t.Fatalf("forged context header: %d %v", out.StatusCode, err)
	}
}

// A full run of every endpoint leaves no key in any log line.
func TestNoKeyInLogs(t *testing.T) {
	before := len(logs.String())
	a := h.newAccount(t)
	key, id := h.newKey(t, a, map[string]any{"permission": "ADMIN", "rate_limit_per_minute": 2})
	seen := []string{h.master, a.admin, key}
	for _, step := range []struct{ method, path string }{
		{"GET", "/api/v1/keys"}, {"GET", "/api/v1/keys/" + id}, {"GET", "/api/v1/keys/" + id + "/usage"},
		{"GET", "/api/v1/keys"},
	} {
		h.do(t, step.method, step.path, key, nil)
	}
	rot := h.do(t, "POST", "/api/v1/keys/"+id+"/rotate", a.admin, nil)
	seen = append(seen, rot.str("key"))
	h.do(t, "GET", "/api/v1/keys", key, nil) // revoked: 401
	h.do(t, "DELETE", "/api/v1/keys/"+rot.str("key_id"), a.admin, nil)
	h.do(t, "GET", "/api/v1/keys", rot.str("key"), nil)
	h.do(t, "GET", "/api/v1/keys", "wk_"+strings.Repeat("Q", 49), nil)             // malformed
	h.do(t, "GET", "/api/v1/keys", strings.Replace(a.admin, "wk_", "wk-", 1), nil) // malformed
	out := logs.String()[before:]
	if !strings.Contains(out, `"authorize"`) || !strings.Contains(out, id) {
		t.Fatalf("the run left no authorizer or request logs:\n%.500s", out)
	}
	for _, k := range append(seen, h.leaked()...) {
		if k != "" && strings.Contains(out, k) {
			t.Fatalf("a key appears in the logs")
		}
	}
	// Nor its hash, nor the malformed key sent.
	if strings.Contains(out, strings.Repeat("Q", 49)) {
		t.Fatal("a sent key string appears in the logs")
	}
}

// sameInstant reports whether an RFC 3339 string from a response names
// the instant t.
func sameInstant(s string, t time.Time) bool {
	got, err := time.Parse(time.RFC3339, s)
	return err == nil && got.Equal(t)
}
