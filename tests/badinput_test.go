package tests

// Bad input over HTTP: bodies at and over MAX_BODY_BYTES, wrong content
// types, deeply nested and huge JSON, header injection in keys and very
// long paths. Each is answered with the right problem+json (checked by
// do) and leaves every table as it was, but for what the design records
// of a refused keyed request: its rate-limit token (the lookup item's
// rl_* attributes, or the master key's rate-limit item's) and the usage
// recorder's counters (requests and errors
// +1 on the key's day/endpoint item and summary, and its receipt;
// DESIGN.md "Who counts"). Those are asserted exactly.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/payload"
)

// ---------------------------------------------------------------- table snapshots

// tables is every item of an API's four tables: logical table ID ->
// "pk sk" -> attribute -> rendered value.
type tables map[string]map[string]map[string]string

func snapshot(t *testing.T, a *local.API) tables {
	t.Helper()
	db := dbOf(t, a)
	out := tables{}
	for id, name := range a.TableNames {
		items := map[string]map[string]string{}
		var start map[string]types.AttributeValue
		for {
			page, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name),
				ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatalf("scan %s: %v", id, err)
			}
			for _, it := range page.Items {
				m := map[string]string{}
				for k, v := range it {
					m[k] = render(v)
				}
				items[m["pk"]+" "+m["sk"]] = m
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			start = page.LastEvaluatedKey
		}
		out[id] = items
	}
	return out
}

func render(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return x.Value
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(x.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B%x", x.Value)
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), x.Value...)
		sort.Strings(s)
		return "SS" + strings.Join(s, ",")
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), x.Value...)
		sort.Strings(s)
		return "NS" + strings.Join(s, ",")
	case *types.AttributeValueMemberBS:
		return fmt.Sprintf("BS%x", x.Value)
	case *types.AttributeValueMemberL:
		var parts []string
		for _, e := range x.Value {
			parts = append(parts, render(e))
		}
		return "L[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		keys := make([]string, 0, len(x.Value))
		for k := range x.Value {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+":"+render(x.Value[k]))
		}
		return "M{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprintf("%T", v)
}

// allowance is what refused requests may leave behind: counted[key] is
// how many requests made with that key were refused by a function (so
// took a rate-limit token and were counted by the usage recorder).
type allowance struct {
	counted map[string]int
}

// compareSnapshots fails unless after differs from before by exactly
// what allow permits.
func compareSnapshots(t *testing.T, before, after tables, allow allowance) {
	t.Helper()
	keyIDs := map[string]string{} // key_id -> key
	hashes := map[string]bool{}
	total := 0
	for k, n := range allow.counted {
		h := "HASH#" + apikey.Hash(k)
		hashes[h] = true
		if it, ok := before["ApiKeysTable"][h+" HASH"]; ok {
			keyIDs[it["key_id"]] = k
		} else {
			t.Errorf("allowance names a key that has no lookup item")
		}
		total += n
	}
	num := func(m map[string]string, a string) int64 {
		n, _ := strconv.ParseInt(m[a], 10, 64)
		return n
	}
	reqs, errs := map[string]int64{}, map[string]int64{} // key -> delta on day items
	sumReqs := map[string]int64{}                        // key -> delta on the summary
	receipts := 0
	for _, id := range []string{"ApiKeysTable", "SessionsTable", "QuotasTable", "UsageTable"} {
		b, a := before[id], after[id]
		for k := range b {
			if _, ok := a[k]; !ok {
				t.Errorf("%s: item %q removed", id, shorten(k))
			}
		}
		for k, ai := range a {
			bi, existed := b[k]
			if existed && same(bi, ai) {
				continue
			}
			switch id {
			case "ApiKeysTable":
				if ai["pk"] == apikey.MasterLimitPK {
					// The master key's token, and the item's creation.
					for _, attr := range changed(bi, ai) {
						if !strings.HasPrefix(attr, "rl_") && (existed || (attr != "pk" && attr != "sk")) {
							t.Errorf("%s: %q changed %s: %q -> %q", id, shorten(k), attr, bi[attr], ai[attr])
						}
					}
					continue
				}
				if !existed || !hashes[ai["pk"]] {
					t.Errorf("%s: item %q added or changed: %v", id, shorten(k), changed(bi, ai))
					continue
				}
				for _, attr := range changed(bi, ai) {
					if !strings.HasPrefix(attr, "rl_") {
						t.Errorf("%s: %q changed %s: %q -> %q", id, shorten(k), attr, bi[attr], ai[attr])
					}
				}
			case "UsageTable":
				pk, sk := ai["pk"], ai["sk"]
				switch {
				case !existed && strings.HasPrefix(pk, "REQ#") && strings.HasSuffix(pk, "#rec") && sk == "REQ":
					receipts++
				case strings.HasPrefix(pk, "ACCOUNT#") && strings.HasPrefix(sk, "DAY#") && keyIDs[ai["key_id"]] != "":
					key := keyIDs[ai["key_id"]]
					reqs[key] += num(ai, "requests") - num(bi, "requests")
					errs[key] += num(ai, "errors") - num(bi, "errors")
					for _, attr := range []string{"tokens", "rate_limited"} {
						if num(ai, attr) != num(bi, attr) {
							t.Errorf("%s: %q %s %q -> %q", id, shorten(k), attr, bi[attr], ai[attr])
						}
					}
				case strings.HasPrefix(pk, "KEY#") && sk == "SUMMARY" && keyIDs[strings.TrimPrefix(pk, "KEY#")] != "":
					key := keyIDs[strings.TrimPrefix(pk, "KEY#")]
					sumReqs[key] += num(ai, "requests") - num(bi, "requests")
					for _, attr := range []string{"tokens", "rate_limited"} {
						if num(ai, attr) != num(bi, attr) {
							t.Errorf("%s: %q %s %q -> %q", id, shorten(k), attr, bi[attr], ai[attr])
						}
					}
				default:
					t.Errorf("%s: item %q added or changed: %v", id, shorten(k), changed(bi, ai))
				}
			default:
				t.Errorf("%s: item %q added or changed: %v", id, shorten(k), changed(bi, ai))
			}
		}
	}
	if receipts != total {
		t.Errorf("UsageTable: %d new usage receipts, want %d (one per refused keyed request)", receipts, total)
	}
	for k, n := range allow.counted {
		if reqs[k] != int64(n) || errs[k] != int64(n) || sumReqs[k] != int64(n) {
			t.Errorf("key %s...: usage +%d requests, +%d errors, summary +%d; want +%d of each",
				k[:12], reqs[k], errs[k], sumReqs[k], n)
		}
	}
}

func same(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func changed(a, b map[string]string) []string {
	var out []string
	for k, v := range b {
		if w, ok := a[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------- cases

// badCase is one bad request and its expected answer.
type badCase struct {
	name   string
	r      req
	status int
	code   string
	field  string // the problem's field, when it must name one
	// counted: a keyed, non-master request the gateway let through, so a
	// function refused it and the usage recorder counted it.
	counted bool
}

// runBad sends each case, checks its answer, and then checks that the
// tables changed by exactly the refusals' usage records.
func runBad(t *testing.T, a *local.API, cases []badCase) {
	t.Helper()
	before := snapshot(t, a)
	allow := allowance{counted: map[string]int{}}
	for _, c := range cases {
		start := time.Now()
		r := do(t, a, c.r)
		took := time.Since(start)
		if r.status != c.status || (c.code != "" && r.body["code"] != c.code) {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, shorten(string(r.raw)), c.status, c.code)
		}
		if c.field != "" && r.body["field"] != c.field {
			t.Errorf("%s: field %v, want %q (%s)", c.name, r.body["field"], c.field, shorten(string(r.raw)))
		}
		if took > 5*time.Second {
			t.Errorf("%s: took %v", c.name, took)
		}
		if c.counted {
			allow.counted[c.r.key]++
		}
	}
	compareSnapshots(t, before, snapshot(t, a), allow)
}

// padJSON returns the JSON of v padded with spaces before its closing
// brace to exactly n bytes as Lambda's event carries the body
// (payload.BodySize, what MAX_BODY_BYTES counts).
func padJSON(t *testing.T, v any, n int) []byte {
	t.Helper()
	b, _ := json.Marshal(v)
	size := payload.BodySize(b)
	if size > n {
		t.Fatalf("%d counted bytes of JSON do not fit in %d", size, n)
	}
	return append(append(b[:len(b)-1:len(b)-1], bytes.Repeat([]byte(" "), n-size)...), '}')
}

// padCounted returns the JSON of v padded with newlines (and one space
// when n is odd) before its closing brace so that the body counts exactly
// n bytes as Lambda's event carries it (payload.BodySize), each newline
// counting 2; the raw body must stay under n.
func padCounted(t *testing.T, v any, n int) []byte {
	t.Helper()
	b, _ := json.Marshal(v)
	rest := n - payload.BodySize(b)
	if rest < 0 {
		t.Fatalf("%d counted bytes of JSON do not fit in %d", payload.BodySize(b), n)
	}
	pad := bytes.Repeat([]byte("\n"), rest/2)
	if rest%2 == 1 {
		pad = append(pad, ' ')
	}
	out := append(append(b[:len(b)-1:len(b)-1], pad...), '}')
	if payload.BodySize(out) != n || len(out) >= n {
		t.Fatalf("padded to %d counted bytes, %d raw; want %d counted, fewer raw", payload.BodySize(out), len(out), n)
	}
	return out
}

// At the default MAX_BODY_BYTES (5 MiB, all Lambda's 6 MB event leaves
// for a body) a body of newlines at the limit as Lambda counts it (2.5
// MiB raw) reaches its function and is judged on its content, and one
// counted byte more is an honest 413 from the function, not a 5xx from
// Lambda refusing the event.
func TestBadInputBodyLimitAtTheDefault(t *testing.T) {
	if api.Config.MaxBodyBytes != payload.MaxBody {
		t.Fatalf("the default MAX_BODY_BYTES is %d, want %d", api.Config.MaxBodyBytes, payload.MaxBody)
	}
	tn := newTenant(t, api, "default-limit", 1)
	tn.active(t)
	badCandles := map[string]any{"candles": []any{map[string]any{"t": 1, "o": 1, "h": 0, "l": 1, "c": 1, "v": 1}}}
	for _, c := range []struct {
		n      int
		status int
		code   string
	}{{payload.MaxBody, 400, "invalid_request"}, {payload.MaxBody + 1, 413, "payload_too_large"}} {
		r := do(t, api, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, raw: padCounted(t, badCandles, c.n), ct: "application/json"})
		expect(t, fmt.Sprintf("newlines counting %d bytes", c.n), r, c.status, c.code)
	}
}

// ---------------------------------------------------------------- tests

// Bodies at MAX_BODY_BYTES are read (and judged on their content); one
// byte more is 413 payload_too_large on every route that takes a body, by
// any caller, and changes nothing; over API Gateway's own 10 MB the
// gateway answers 413 before the authorizer.
func TestBadInputBodySizeLimit(t *testing.T) {
	const limit = 4096
	a := startAPIAt(t, map[string]string{"MAX_BODY_BYTES": strconv.Itoa(limit)})
	tn := newTenant(t, a, "limits", 3)
	sid := tn.active(t)
	_, spareID := tn.key(t, "READ", nil)
	atLimit := padJSON(t, map[string]any{"name": strings.Repeat("n", 200), "permission": "READ"}, limit)
	over := func(v any) []byte { return padJSON(t, v, limit+1) }
	jsonReq := func(method, path, key string, body []byte) req {
		return req{method: method, path: path, key: key, raw: body, ct: "application/json"}
	}
	badCandles := map[string]any{"candles": []any{map[string]any{"t": 1, "o": 1, "h": 0, "l": 1, "c": 1, "v": 1}}}
	quoted := map[string]any{"name": strings.Repeat(`"`, 400), "permission": "READ"}
	cases := []badCase{
		{"keys: at the limit is read", jsonReq("POST", "/api/v1/keys", tn.admin, atLimit), 400, "invalid_request", "name", true},
		{"keys: one byte over", jsonReq("POST", "/api/v1/keys", tn.admin, over(map[string]any{"name": "x", "permission": "READ"})), 413, "payload_too_large", "", true},
		{"indicator: at the limit is read", jsonReq("POST", "/api/v1/indicators/sma", tn.read, padJSON(t, badCandles, limit)), 400, "invalid_request", "", true},
		{"indicator: one byte over", jsonReq("POST", "/api/v1/indicators/sma", tn.read, over(candleBody(20))), 413, "payload_too_large", "", true},
		{"batch: one byte over", jsonReq("POST", "/api/v1/indicators/batch", tn.read, over(map[string]any{"candles": candleRows(20), "indicators": []any{map[string]any{"name": "sma"}}})), 413, "payload_too_large", "", true},
		{"csv: one byte over", req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, ct: "text/csv",
			raw: append([]byte("time,open,high,low,close,volume\n"), bytes.Repeat([]byte("1,1,1,1,1,1\n"), limit/12)...)}, 413, "payload_too_large", "", true},
		{"quota add: one byte over", jsonReq("POST", "/api/v1/sessions/quota/add", tn.admin, over(map[string]any{"sessions": 5})), 413, "payload_too_large", "", true},
		{"session start: one byte over", jsonReq("POST", "/api/v1/sessions", tn.write, over(map[string]any{})), 413, "payload_too_large", "", true},
		{"terminate: one byte over", jsonReq("POST", "/api/v1/sessions/"+sid+"/terminate", tn.write, over(map[string]any{})), 413, "payload_too_large", "", true},
		{"rotate: one byte over", jsonReq("POST", "/api/v1/keys/"+spareID+"/rotate", tn.admin, over(map[string]any{})), 413, "payload_too_large", "", true},
		{"a GET with a body over", jsonReq("GET", "/api/v1/keys", tn.read, over(map[string]any{})), 413, "payload_too_large", "", true},
		{"master: one byte over", jsonReq("POST", "/api/v1/accounts", a.MasterKey, over(map[string]any{"name": "x"})), 413, "payload_too_large", "", false},
		{"over API Gateway's 10 MB", jsonReq("POST", "/api/v1/keys", tn.admin, bytes.Repeat([]byte(" "), 10<<20+1)), 413, "payload_too_large", "", false},
		// The limit counts a body as Lambda's event carries it: quotes and
		// newlines twice. Bodies dense in them are read at the limit and
		// refused one counted byte over, under half the limit in raw bytes.
		{"newlines: at the limit as Lambda counts it is read", jsonReq("POST", "/api/v1/indicators/sma", tn.read, padCounted(t, badCandles, limit)), 400, "invalid_request", "", true},
		{"newlines: one counted byte over", jsonReq("POST", "/api/v1/indicators/sma", tn.read, padCounted(t, badCandles, limit+1)), 413, "payload_too_large", "", true},
		{"quotes: at the limit as Lambda counts it is read", jsonReq("POST", "/api/v1/keys", tn.admin, padCounted(t, quoted, limit)), 400, "invalid_request", "name", true},
		{"quotes: one counted byte over", jsonReq("POST", "/api/v1/keys", tn.admin, padCounted(t, quoted, limit+1)), 413, "payload_too_large", "", true},
		{"over, with a key that does not exist", jsonReq("POST", "/api/v1/keys", apikeyLike(t), over(map[string]any{})), 401, "unauthorized", "", false},
	}
	runBad(t, a, cases)

	// At the limit a good request is served (and charged).
	r := do(t, a, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, ct: "application/json",
		raw: padJSON(t, map[string]any{"candles": candleRows(25), "params": map[string]any{"period": 5}}, limit)})
	expect(t, "indicator at the limit", r, 200, "")
	if meta, _ := r.body["meta"].(map[string]any); meta["session_id"] != sid {
		t.Fatalf("meta %v", r.body["meta"])
	}
}

// Wrong content types are 415 unsupported_media_type, on the JSON
// endpoints and the metered ones alike, before anything is done.
func TestBadInputContentTypes(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "content-types", 2)
	sid := tn.active(t)
	keyBody := []byte(`{"name":"ct","permission":"READ"}`)
	candles, _ := json.Marshal(candleBody(30))
	var cases []badCase
	for _, ct := range []string{"text/plain", "application/xml", "text/html; charset=utf-8", "multipart/form-data; boundary=x",
		"application/x-www-form-urlencoded", "application/", ";;;", "application/json\r\nX-Injected: 1", "image/png"} {
		if strings.ContainsAny(ct, "\r\n") {
			continue // net/http will not send it; see the header tests
		}
		cases = append(cases,
			badCase{"keys as " + ct, req{method: "POST", path: "/api/v1/keys", key: tn.admin, raw: keyBody, ct: ct}, 415, "unsupported_media_type", "", true},
			badCase{"indicator as " + ct, req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, raw: candles, ct: ct}, 415, "unsupported_media_type", "", true},
		)
	}
	cases = append(cases,
		badCase{"quota add as text", req{method: "POST", path: "/api/v1/sessions/quota/add", key: tn.admin, raw: []byte(`{"sessions":3}`), ct: "text/plain"}, 415, "unsupported_media_type", "", true},
		badCase{"session start as text", req{method: "POST", path: "/api/v1/sessions", key: tn.write, raw: []byte(`{}`), ct: "text/plain"}, 415, "unsupported_media_type", "", true},
		badCase{"terminate as form", req{method: "POST", path: "/api/v1/sessions/" + sid + "/terminate", key: tn.write, raw: []byte(`a=b`), ct: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "", true},
		badCase{"rotate as xml", req{method: "POST", path: "/api/v1/keys/" + tn.readID + "/rotate", key: tn.admin, raw: []byte(`<a/>`), ct: "application/xml"}, 415, "unsupported_media_type", "", true},
		badCase{"batch as binary", req{method: "POST", path: "/api/v1/indicators/batch", key: tn.read, raw: []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0xfe}, ct: "application/octet-stream"}, 415, "unsupported_media_type", "", true},
		badCase{"JSON sent as CSV", req{method: "POST", path: "/api/v1/indicators/sma", key: tn.read, raw: candles, ct: "text/csv"}, 400, "invalid_request", "", true},
		badCase{"master: account as text", req{method: "POST", path: "/api/v1/accounts", key: a.MasterKey, raw: []byte(`{"name":"x"}`), ct: "text/plain"}, 415, "unsupported_media_type", "", false},
	)
	runBad(t, a, cases)
}

// Deeply nested and huge JSON is 400 invalid_request, quickly, without
// taking the function down, on every decoder.
func TestBadInputDeepAndHugeJSON(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "deep", 2)
	tn.active(t)
	deep := func(open, close string, n int) []byte {
		return append(bytes.Repeat([]byte(open), n), bytes.Repeat([]byte(close), n)...)
	}
	brackets := bytes.Repeat([]byte("["), 100_000)
	objects := append(bytes.Repeat([]byte(`{"a":`), 100_000), '1')
	zeros := append(append([]byte("["), bytes.Repeat([]byte("0,"), 1_000_000)...), '0', ']')
	many := &bytes.Buffer{}
	many.WriteString("{")
	for i := range 200_000 {
		fmt.Fprintf(many, `"k%d":0,`, i)
	}
	many.WriteString(`"name":"x"}`)
	hugeNumber := []byte(`{"candles":[{"t":1,"o":1` + strings.Repeat("1", 1<<20) + `,"h":1,"l":1,"c":1,"v":1}]}`)
	emptyRows := append(append([]byte(`{"candles":[`), bytes.Repeat([]byte("{},"), 200_000)...), []byte(`{}]}`)...)
	items := make([]any, 100_000)
	for i := range items {
		items[i] = map[string]any{"name": "sma"}
	}
	manyItems, _ := json.Marshal(map[string]any{"candles": candleRows(30), "indicators": items})
	longName, _ := json.Marshal(map[string]any{"name": strings.Repeat("n", 1<<20), "permission": "READ"})
	bigArrayField, _ := json.Marshal(map[string]any{"name": "x", "permission": "READ", "rate_limit_per_minute": make([]int, 500_000)})
	js := func(path, key string, body []byte) req {
		return req{method: "POST", path: path, key: key, raw: body, ct: "application/json"}
	}
	cases := []badCase{
		{"keys: 100k [", js("/api/v1/keys", tn.admin, brackets), 400, "invalid_request", "", true},
		{"keys: 10k nested arrays, closed", js("/api/v1/keys", tn.admin, deep("[", "]", 10_001)), 400, "invalid_request", "", true},
		{"keys: 100k nested objects", js("/api/v1/keys", tn.admin, objects), 400, "invalid_request", "", true},
		{"keys: a million-element array", js("/api/v1/keys", tn.admin, zeros), 400, "invalid_request", "", true},
		{"keys: 200k unknown fields", js("/api/v1/keys", tn.admin, many.Bytes()), 400, "invalid_request", "", true},
		{"keys: a 1 MiB name", js("/api/v1/keys", tn.admin, longName), 400, "invalid_request", "name", true},
		{"keys: an array for a number", js("/api/v1/keys", tn.admin, bigArrayField), 400, "invalid_request", "rate_limit_per_minute", true},
		{"keys: invalid UTF-8", js("/api/v1/keys", tn.admin, []byte("{\"name\":\"\xff\xfe\",\"permission\":\"READ\"}")), 400, "invalid_request", "body", true},
		{"keys: a stray ] after the object", js("/api/v1/keys", tn.admin, []byte(`{"name":"x","permission":"READ"}]`)), 400, "invalid_request", "body", true},
		{"keys: a stray } after the object", js("/api/v1/keys", tn.admin, []byte(`{"name":"x","permission":"READ"}}`)), 400, "invalid_request", "body", true},
		{"quota add: a second object", js("/api/v1/sessions/quota/add", tn.admin, []byte(`{"sessions":1} {"sessions":99}`)), 400, "invalid_request", "body", true},
		{"quota add: 100k [", js("/api/v1/sessions/quota/add", tn.admin, brackets), 400, "invalid_request", "", true},
		{"session start: 100k nested objects", js("/api/v1/sessions", tn.write, objects), 400, "invalid_request", "", true},
		{"rotate: deep", js("/api/v1/keys/"+tn.readID+"/rotate", tn.admin, deep("[", "]", 50_000)), 400, "invalid_request", "", true},
		{"indicator: 100k [", js("/api/v1/indicators/sma", tn.read, brackets), 400, "invalid_request", "", true},
		{"indicator: nested candles", js("/api/v1/indicators/sma", tn.read, append(append([]byte(`{"candles":`), deep("[", "]", 50_000)...), '}')), 400, "invalid_request", "", true},
		{"indicator: nested params", js("/api/v1/indicators/sma", tn.read, append(append([]byte(`{"candles":[],"params":`), objects...), '}')), 400, "invalid_request", "", true},
		{"indicator: a million zeros", js("/api/v1/indicators/sma", tn.read, zeros), 400, "invalid_request", "", true},
		{"indicator: 200k empty candles", js("/api/v1/indicators/sma", tn.read, emptyRows), 400, "invalid_request", "", true},
		{"indicator: a 1 MiB number", js("/api/v1/indicators/sma", tn.read, hugeNumber), 400, "invalid_request", "", true},
		{"batch: 100k indicators", js("/api/v1/indicators/batch", tn.read, manyItems), 400, "invalid_request", "", true},
		{"batch: 100k [", js("/api/v1/indicators/batch", tn.read, brackets), 400, "invalid_request", "", true},
		{"csv: 100k [ in the query", req{method: "POST", path: "/api/v1/indicators/batch?indicators=" + strings.Repeat("%5B", 20_000), key: tn.read,
			raw: []byte("time,open,high,low,close,volume\n1,1,1,1,1,1\n"), ct: "text/csv"}, 400, "invalid_request", "", true},
		{"master: accounts 100k [", js("/api/v1/accounts", a.MasterKey, brackets), 400, "invalid_request", "", false},
	}
	runBad(t, a, cases)
}

// rawExchange sends a hand-written request over TCP and returns the
// response; net/http would refuse to send most of these.
func rawExchange(t *testing.T, a *local.API, head string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", shorten(head), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// Keys with CR/LF, control characters, non-ASCII, folding or absurd
// length are 401 unauthorized (the authorizer refuses them; the valid key
// they may smuggle along is not used); requests that break HTTP itself
// are refused by the server before the gateway. None changes a table.
func TestBadInputHeaderInjectionInKeys(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "headers", 1)
	good := tn.admin
	before := snapshot(t, a)
	long := func(n int) string { return apikey.Scheme + strings.Repeat("A", n) }
	viaClient := map[string]map[string]string{
		"a 64 KiB key":            {"X-API-Key": long(64 << 10)},
		"a 900 KiB key":           {"X-API-Key": long(900 << 10)},
		"a 64 KiB bearer":         {"Authorization": "Bearer " + long(64<<10)},
		"non-ASCII key":           {"X-API-Key": "wk_" + strings.Repeat("ä", 43) + "ÄÖÜßé€"},
		"zero-width space":        {"X-API-Key": good + "\u200b"},
		"fullwidth key":           {"X-API-Key": strings.Map(func(r rune) rune { return r + 0xFEE0 }, good[3:])},
		"no-break space bearer":   {"Authorization": "Bearer\u00a0" + good},
		"encoded CRLF":            {"X-API-Key": good + "%0d%0aX-API-Key:%20" + good},
		"tab inside":              {"X-API-Key": good[:20] + "\t" + good[20:]},
		"key then junk":           {"X-API-Key": good + " extra"},
		"bearer then junk":        {"Authorization": "Bearer " + good + " " + good},
		"two keys in one header":  {"X-API-Key": good + "," + good},
		"quoted key":              {"X-API-Key": `"` + good + `"`},
		"key in X-Api-Key-Bypass": {"X-API-Key-Bypass": good},
	}
	names := make([]string, 0, len(viaClient))
	for n := range viaClient {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := do(t, a, req{method: "GET", path: "/api/v1/keys", hdr: viaClient[n]})
		if r.status != 401 || r.body["code"] != "unauthorized" {
			t.Errorf("%s: %d %s, want 401", n, r.status, shorten(string(r.raw)))
		}
	}
	// Raw requests: what net/http would never send.
	head := func(h string) string {
		return "GET /api/v1/keys HTTP/1.1\r\nHost: x\r\n" + h + "Connection: close\r\n\r\n"
	}
	for _, c := range []struct {
		name, head string
		status     int // 401 from the authorizer, 400 from the HTTP server
	}{
		{"CRLF smuggles a second key", head("X-API-Key: wk_junk\r\nX-API-Key: " + good + "\r\n"), 401},
		{"CRLF smuggles a bearer", head("X-API-Key: wk_junk\r\nAuthorization: Bearer " + good + "\r\n"), 401},
		{"bare LF smuggles a second key", head("X-API-Key: wk_junk\nX-API-Key: " + good + "\r\n"), 401},
		{"obs-fold splits the key", head("X-API-Key: " + good[:20] + "\r\n " + good[20:] + "\r\n"), 401},
		{"Latin-1 bytes", head("X-API-Key: wk_\xe9\xe8\xff" + good[6:] + "\r\n"), 401},
		{"bare CR in the key", head("X-API-Key: " + good[:20] + "\r" + good[20:] + "\r\n"), 400},
		{"NUL in the key", head("X-API-Key: " + good + "\x00\r\n"), 400},
		{"control character in the key", head("X-API-Key: " + good + "\x01\r\n"), 400},
		{"space before the colon", head("X-API-Key : " + good + "\r\n"), 400},
	} {
		resp, body := rawExchange(t, a, c.head)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %q, want %d", c.name, resp.StatusCode, shorten(string(body)), c.status)
			continue
		}
		if c.status == 401 {
			var p map[string]any
			if json.Unmarshal(body, &p) != nil || p["code"] != "unauthorized" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: %q", c.name, body)
			}
		}
	}
	compareSnapshots(t, before, snapshot(t, a), allowance{})
	// The server still serves, and the key they tried to smuggle still
	// works.
	expect(t, "after the injections", do(t, a, req{method: "GET", path: "/api/v1/keys", key: good}), 200, "")
}

// Very long paths and path tricks are 404 not_found problems from the
// gateway (unknown route) or the function (unknown id), never a crash.
func TestBadInputVeryLongPaths(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "paths", 1)
	tn.active(t)
	seg := func(n int) string { return strings.Repeat("a", n) }
	cases := []badCase{
		{"unknown 2 KiB path", req{method: "GET", path: "/api/v1/" + seg(2<<10)}, 404, "not_found", "", false},
		{"unknown 64 KiB path", req{method: "GET", path: "/api/v1/" + seg(64<<10), key: tn.read}, 404, "not_found", "", false},
		{"unknown 512 KiB path", req{method: "GET", path: "/" + seg(512<<10)}, 404, "not_found", "", false},
		{"10k segments", req{method: "GET", path: "/api/v1/keys" + strings.Repeat("/a", 10_000), key: tn.read}, 404, "not_found", "", false},
		{"dot segments", req{method: "GET", path: "/api/v1/sessions/../keys", key: tn.read}, 404, "not_found", "", false},
		{"encoded slashes", req{method: "GET", path: "/api/v1/keys/%2F..%2F..%2Fsessions", key: tn.read}, 404, "not_found", "", false},
		// A path parameter of "." or ".." reaches the function; it is no
		// object (404 problem), never ServeMux's bare redirect.
		{"key id ..", req{method: "GET", path: "/api/v1/keys/%2E%2E", key: tn.read}, 404, "not_found", "", false},
		{"key id .", req{method: "DELETE", path: "/api/v1/keys/%2E", key: tn.admin}, 404, "not_found", "", false},
		{"usage of key ..", req{method: "GET", path: "/api/v1/keys/%2E%2E/usage", key: tn.read}, 404, "not_found", "", false},
		{"terminate session ..", req{method: "POST", path: "/api/v1/sessions/%2E%2E/terminate", key: tn.write}, 404, "not_found", "", false},
		{"indicator named ..", req{method: "POST", path: "/api/v1/indicators/%2E%2E", key: tn.read, json: candleBody(30)}, 404, "not_found", "", false},
		{"a 64 KiB key id", req{method: "GET", path: "/api/v1/keys/" + seg(64<<10), key: tn.read}, 404, "not_found", "", true},
		{"a 64 KiB session id", req{method: "GET", path: "/api/v1/sessions/" + seg(64<<10), key: tn.read}, 404, "not_found", "", true},
		{"a 64 KiB id to revoke", req{method: "DELETE", path: "/api/v1/keys/key_" + seg(64<<10), key: tn.admin}, 404, "not_found", "", true},
		{"a 64 KiB id to terminate", req{method: "POST", path: "/api/v1/sessions/ses_" + seg(64<<10) + "/terminate", key: tn.write}, 404, "not_found", "", true},
		{"a 64 KiB indicator name", req{method: "POST", path: "/api/v1/indicators/" + seg(64<<10), key: tn.read, json: candleBody(30)}, 400, "invalid_request", "name", true},
		{"a 64 KiB query", req{method: "GET", path: "/api/v1/keys?next_token=" + seg(64<<10), key: tn.read}, 400, "invalid_request", "next_token", true},
	}
	runBad(t, a, cases)

	// Past net/http's 1 MiB header limit (plus its 4 KiB slack) the server itself answers 431
	// before the gateway runs (text/plain: the local gateway cannot
	// shape it). It is refused, and the server stays up.
	resp, _ := rawExchange(t, a, "GET /api/v1/"+seg(2<<20)+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge && resp.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("a 2 MiB path: %d", resp.StatusCode)
	}
	expect(t, "after the long paths", do(t, a, req{method: "GET", path: "/api/v1/health"}), 200, "")
}

// A CSV batch (and its quote) reads no indicator parameter from the
// query: ?period=3 next to the list, an unknown key or a list that is not
// the documented JSON array is 400 naming the query key, and the session
// is charged nothing (audit F8; the tables are compared whole).
func TestBadInputCSVBatchQuery(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "csv-batch-query", 1)
	sid := tn.active(t)
	sma := batchList("sma")
	csv := func(path, query string) req {
		return req{method: "POST", path: path + "?" + query, key: tn.read, raw: csvCandles(30), ct: "text/csv"}
	}
	var cases []badCase
	for _, path := range []string{"/api/v1/indicators/batch", "/api/v1/indicators/quote/batch"} {
		// The quote function has no store: its refusals are not counted.
		counted := !strings.Contains(path, "/quote/")
		cases = append(cases,
			badCase{path + " period", csv(path, "indicators="+sma+"&period=3&last=1"), 400, "invalid_request", "query.period", counted},
			badCase{path + " unknown key", csv(path, "indicators="+sma+"&zzz=3"), 400, "invalid_request", "query.zzz", counted},
			badCase{path + " period out of bounds", csv(path, "indicators="+sma+"&period=999999"), 400, "invalid_request", "query.period", counted},
			badCase{path + " not a number", csv(path, "indicators="+sma+"&foo=bar"), 400, "invalid_request", "query.foo", counted},
			badCase{path + " names, not JSON", csv(path, "indicators=sma,obv"), 400, "invalid_request", "query.indicators", counted},
			badCase{path + " list twice", csv(path, "indicators="+sma+"&indicators="+sma), 400, "invalid_request", "query.indicators", counted},
		)
	}
	runBad(t, a, cases)
	if used, requests := sessionFigures(t, tn, sid); used != 0 || requests != 0 {
		t.Fatalf("refused CSV batches were charged: tokens_used %d, requests %d", used, requests)
	}
	// The same batch, its parameters in the list, is computed and charged.
	r := do(t, a, csv("/api/v1/indicators/batch", "indicators="+url.QueryEscape(`[{"name":"sma","params":{"period":3}}]`)+"&last=1"))
	expect(t, "csv batch", r, 200, "")
	if p := r.body["results"].([]any)[0].(map[string]any)["params"].(map[string]any); p["period"] != 3.0 {
		t.Fatalf("csv batch params %v, want period 3", p)
	}
	if used, _ := sessionFigures(t, tn, sid); used == 0 {
		t.Fatal("the computed batch was not charged")
	}
}

// A point-and-figure box too small for the candles' prices (audit F10:
// 1e-310 and 5e-324 overflowed the chart to +Inf, a 500) is 400 naming
// params.box_size, in JSON and CSV, on the analysis and its quote, and
// the session is charged nothing.
func TestBadInputWyckoffBoxSize(t *testing.T) {
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "wyckoff-box", 1)
	sid := tn.active(t)
	rows := candleRows(40)
	var cases []badCase
	for _, path := range []string{"/api/v1/analysis/wyckoff", "/api/v1/analysis/quote/wyckoff"} {
		counted := !strings.Contains(path, "/quote/")
		for _, box := range []float64{1e-310, 5e-324} {
			cases = append(cases, badCase{fmt.Sprintf("%s box_size %g", path, box),
				req{method: "POST", path: path, key: tn.read, json: map[string]any{"candles": rows, "params": map[string]any{"box_size": box}}},
				400, "invalid_request", "params.box_size", counted})
		}
		cases = append(cases,
			badCase{path + " csv box_size 5e-324", req{method: "POST", path: path + "?box_size=5e-324", key: tn.read, raw: csvCandles(40), ct: "text/csv"},
				400, "invalid_request", "params.box_size", counted},
			badCase{path + " box_percent 5e-324", req{method: "POST", path: path, key: tn.read,
				json: map[string]any{"candles": rows, "params": map[string]any{"box_percent": 5e-324}}},
				400, "invalid_request", "params.box_percent", counted})
	}
	runBad(t, a, cases)
	if used, requests := sessionFigures(t, tn, sid); used != 0 || requests != 0 {
		t.Fatalf("refused analyses were charged: tokens_used %d, requests %d", used, requests)
	}
}
