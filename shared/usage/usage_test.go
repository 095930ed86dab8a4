package usage_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/usage"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

var metered = []string{"POST /api/v1/indicators/{name}", "POST /api/v1/indicators/batch"}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

var (
	day1 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	day2 = time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC)
	day3 = time.Date(2026, 3, 3, 0, 1, 0, 0, time.UTC)
)

func TestRecordAndReports(t *testing.T) {
	ctx := context.Background()
	s := usage.New(fx.DB, fx.Tables.Usage, metered)
	acc, k1, k2 := newID("acc_"), newID("key_"), newID("key_")
	c1 := caller.Caller{AccountID: acc, KeyID: k1, Permission: caller.Read}
	c2 := caller.Caller{AccountID: acc, KeyID: k2, Permission: caller.Admin}
	limited := c1
	limited.Refusal = "rate_limited"
	ev := func(endpoint string, status int, at time.Time) httpapi.Event {
		return httpapi.Event{RequestID: newID("r"), Pattern: endpoint, Endpoint: endpoint, Status: status, At: at}
	}
	rsi := func(status int, at time.Time) httpapi.Event {
		return httpapi.Event{RequestID: newID("r"), Pattern: "POST /api/v1/indicators/{name}", Endpoint: "indicators/rsi", Status: status, At: at}
	}
	events := []struct {
		c caller.Caller
		e httpapi.Event
	}{
		{c1, ev("GET /api/v1/keys", 200, day1)},
		{c1, ev("GET /api/v1/keys", 200, day1)},
		{c1, ev("GET /api/v1/keys/{key_id}", 404, day2)},
		{limited, ev("GET /api/v1/keys", 429, day2)},
		{c2, ev("POST /api/v1/keys", 201, day2)},
		// A successful metered request is the metering's to count.
		{c1, rsi(200, day2)},
		// A refused one is the recorder's, under the same name.
		{limited, rsi(429, day3)},
		// The master key has no usage.
		{caller.Caller{Permission: caller.Master}, ev("GET /api/v1/keys", 200, day1)},
	}
	for _, ev := range events {
		if err := s.Record(ctx, ev.c, ev.e); err != nil {
			t.Fatal(err)
		}
	}
	// A metered charge, in a transaction with the metering's receipt.
	items := s.ChargeItems(acc, k1, "indicators/rsi", "r-charge", 250, day3)
	items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(fx.Tables.Usage),
		Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REQ#r-charge-" + acc},
			"sk": &types.AttributeValueMemberS{Value: "REQ"}}, ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	if _, err := fx.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}

	rep, err := s.AccountUsage(ctx, acc, day1, day3)
	if err != nil {
		t.Fatal(err)
	}
	c := func(r, tok, l, e int64) usage.Counters {
		return usage.Counters{Requests: r, Tokens: tok, RateLimited: l, Errors: e}
	}
	if rep.Counters != c(7, 250, 2, 3) {
		t.Errorf("totals %+v", rep.Counters)
	}
	wantDays := []usage.DayCounters{{Day: "2026-03-01", Counters: c(2, 0, 0, 0)}, {Day: "2026-03-02", Counters: c(3, 0, 1, 2)},
		{Day: "2026-03-03", Counters: c(2, 250, 1, 1)}}
	if !reflect.DeepEqual(rep.ByDay, wantDays) {
		t.Errorf("by day %+v", rep.ByDay)
	}
	wantEPs := []usage.EndpointCounters{
		{Endpoint: "GET /api/v1/keys", Counters: c(3, 0, 1, 1)},
		{Endpoint: "GET /api/v1/keys/{key_id}", Counters: c(1, 0, 0, 1)},
		{Endpoint: "POST /api/v1/keys", Counters: c(1, 0, 0, 0)},
		{Endpoint: "indicators/rsi", Counters: c(2, 250, 1, 1)},
	}
	if !reflect.DeepEqual(rep.ByEndpoint, wantEPs) {
		t.Errorf("by endpoint %+v", rep.ByEndpoint)
	}
	if len(rep.ByKey) != 2 {
		t.Errorf("by key %+v", rep.ByKey)
	}
	// One day only.
	one, err := s.AccountUsage(ctx, acc, day2, day2)
	if err != nil {
		t.Fatal(err)
	}
	if one.Counters != c(3, 0, 1, 2) || len(one.ByDay) != 1 {
		t.Errorf("day 2 alone: %+v", one)
	}
	// One key.
	kr, err := s.KeyUsage(ctx, acc, k1, day1, day3)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Counters != c(6, 250, 2, 3) || len(kr.ByKey) != 1 || kr.ByKey[0].KeyID != k1 {
		t.Errorf("key 1: %+v", kr)
	}
	sum, err := s.KeySummary(ctx, k1)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 6 || sum.Tokens != 250 || sum.RateLimited != 2 || sum.LastUsedAt == "" {
		t.Errorf("key 1 summary %+v", sum)
	}
	none, err := s.KeySummary(ctx, newID("key_"))
	if err != nil || none != (usage.Summary{}) {
		t.Errorf("unused key summary %+v %v", none, err)
	}
}

// The same request recorded again (an SDK or Lambda retry), even
// concurrently, counts once.
func TestRecordIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := usage.New(fx.DB, fx.Tables.Usage, metered)
	acc, key := newID("acc_"), newID("key_")
	c := caller.Caller{AccountID: acc, KeyID: key, Permission: caller.Read}
	ev := httpapi.Event{RequestID: newID("r"), Endpoint: "GET /api/v1/keys", Status: 200, At: day1}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Record(ctx, c, ev); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sum, err := s.KeySummary(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 1 {
		t.Fatalf("one request recorded 10 times counts %d", sum.Requests)
	}
}

func TestEndpoint(t *testing.T) {
	named := usage.Namer(indicator.Known)
	tests := []struct {
		pattern, path, want string
		namer               func(string, *http.Request) string
	}{
		{"POST /api/v1/indicators/{name}", "/api/v1/indicators/rsi", "indicators/rsi", named},
		{"POST /api/v1/indicators/{name}", "/api/v1/indicators/rsi", "POST /api/v1/indicators/{name}", usage.Endpoint},
		{"POST /api/v1/analysis/wyckoff", "/api/v1/analysis/wyckoff", "analysis/wyckoff", usage.Endpoint},
		{"POST /api/v1/indicators/batch", "/api/v1/indicators/batch", "indicators/batch", named},
		{"POST /api/v1/indicators/{name}", "/api/v1/indicators/nope", "POST /api/v1/indicators/{name}", named},
		{"POST /api/v1/indicators/{name}", "/api/v1/indicators/RSI", "POST /api/v1/indicators/{name}", named},
		{"POST /api/v1/indicators/{name}", "/api/v1/indicators/" + strings.Repeat("a", 64<<10), "POST /api/v1/indicators/{name}", named},
		{"GET /api/v1/keys", "/api/v1/keys", "GET /api/v1/keys", named},
		{"GET /api/v1/keys/{key_id}", "/api/v1/keys/key_1", "GET /api/v1/keys/{key_id}", named},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			var got string
			mux := http.NewServeMux()
			mux.HandleFunc(tc.pattern, func(_ http.ResponseWriter, r *http.Request) { got = tc.namer(tc.pattern, r) })
			method, _, _ := strings.Cut(tc.pattern, " ")
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, tc.path, nil))
			if got != tc.want {
				t.Fatalf("Endpoint(%q) for %s = %q", tc.pattern, tc.path, got)
			}
		})
	}
}
