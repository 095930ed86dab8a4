package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/emulator"
	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/app"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

type recorder struct {
	mu      sync.Mutex
	batches [][]events.DynamoDBEventRecord
	fail    map[string]int // sequence number -> times left to fail
}

func (r *recorder) handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, ev.Records)
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if r.fail[rec.Change.SequenceNumber] > 0 {
			r.fail[rec.Change.SequenceNumber]--
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

func newEmulator(t *testing.T, rec *recorder, now func() time.Time, fired *[]events.EventBridgeEvent) *emulator.Emulator {
	t.Helper()
	names := map[string]string{"ApiKeysTable": fx.Tables.APIKeys, "SessionsTable": fx.Tables.Sessions,
		"UsageTable": fx.Tables.Usage, "QuotasTable": fx.Tables.Quotas}
	e, err := emulator.New(emulator.Options{DB: fx.DB, Template: fx.Template, TableNames: names,
		Streams: map[string]app.StreamHandler{"SessionExpiryFunction": rec.handle},
		Schedules: map[string]app.ScheduleHandler{"QuotaReconcileFunction": func(ctx context.Context, ev events.EventBridgeEvent) error {
			*fired = append(*fired, ev)
			return nil
		}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func putLease(t *testing.T, id string, ttl int64) {
	t.Helper()
	_, err := fx.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(fx.Tables.Sessions),
		Item: map[string]types.AttributeValue{
			"pk":         &types.AttributeValueMemberS{Value: "LEASE#" + id},
			"sk":         &types.AttributeValueMemberS{Value: "LEASE"},
			"session_id": &types.AttributeValueMemberS{Value: id},
			"ttl":        &types.AttributeValueMemberN{Value: strconv.FormatInt(ttl, 10)},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, id string) bool {
	t.Helper()
	out, err := fx.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(fx.Tables.Sessions), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEASE#" + id}, "sk": &types.AttributeValueMemberS{Value: "LEASE"}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

// An expired item is removed and its removal reaches the stream function
// as a TTL REMOVE record with the old image; a live one stays.
func TestSweepDeliversTTLRemovals(t *testing.T) {
	now := time.Now()
	rec := &recorder{fail: map[string]int{}}
	var fired []events.EventBridgeEvent
	e := newEmulator(t, rec, func() time.Time { return now }, &fired)
	putLease(t, "ses_old", now.Add(-time.Second).Unix())
	putLease(t, "ses_live", now.Add(time.Hour).Unix())
	n, err := e.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || exists(t, "ses_old") || !exists(t, "ses_live") {
		t.Fatalf("removed %d; old exists %v, live exists %v", n, exists(t, "ses_old"), exists(t, "ses_live"))
	}
	if len(rec.batches) != 1 || len(rec.batches[0]) != 1 {
		t.Fatalf("batches %v", rec.batches)
	}
	r := rec.batches[0][0]
	if r.EventName != "REMOVE" || r.UserIdentity == nil || r.UserIdentity.Type != "Service" ||
		r.UserIdentity.PrincipalID != "dynamodb.amazonaws.com" || r.Change.OldImage["session_id"].String() != "ses_old" {
		t.Fatalf("record %+v", r)
	}
	// A second sweep finds nothing more.
	if n, _ := e.Sweep(context.Background()); n != 0 {
		t.Fatalf("second sweep removed %d", n)
	}
}

// Records the handler reports failed are delivered again, from the first
// failure on, as Lambda does with ReportBatchItemFailures.
func TestSweepRetriesReportedFailures(t *testing.T) {
	now := time.Now()
	rec := &recorder{fail: map[string]int{}}
	var fired []events.EventBridgeEvent
	e := newEmulator(t, rec, func() time.Time { return now }, &fired)
	putLease(t, "ses_a", now.Add(-time.Minute).Unix())
	// The next sequence number the emulator hands out fails once.
	rec.fail[fmt.Sprintf("%021d", 1)] = 1
	if _, err := e.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.batches) != 2 || len(rec.batches[1]) != 1 {
		t.Fatalf("want the failed record delivered twice, got batches %d", len(rec.batches))
	}
	if got := e.Delivered()["SessionExpiryFunction"]; got != 2 {
		t.Fatalf("Delivered = %d, want 2", got)
	}
}

func TestFireSchedule(t *testing.T) {
	rec := &recorder{}
	var fired []events.EventBridgeEvent
	e := newEmulator(t, rec, time.Now, &fired)
	if err := e.Fire(context.Background(), "QuotaReconcileFunction"); err != nil {
		t.Fatal(err)
	}
	if len(fired) != 1 || fired[0].DetailType != "Scheduled Event" || fired[0].Source != "aws.events" {
		t.Fatalf("fired %+v", fired)
	}
	if s := e.Schedules(); len(s) != 1 || s[0].Every != time.Hour {
		t.Fatalf("schedules %+v, want the template's hourly reconcile", s)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"rate(1 hour)", time.Hour, true},
		{"rate(5 minutes)", 5 * time.Minute, true},
		{"rate(2 days)", 48 * time.Hour, true},
		{"rate(0 hours)", 0, false},
		{"cron(0 * * * ? *)", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := emulator.ParseRate(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseRate(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

func TestMatchesTemplateFilter(t *testing.T) {
	pattern := fx.Template.Functions["SessionExpiryFunction"].Streams[0].FilterPatterns
	ttl := events.DynamoDBEventRecord{EventName: "REMOVE", UserIdentity: &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}}
	user := events.DynamoDBEventRecord{EventName: "REMOVE"}
	modify := events.DynamoDBEventRecord{EventName: "MODIFY", UserIdentity: ttl.UserIdentity}
	for name, tc := range map[string]struct {
		rec  events.DynamoDBEventRecord
		want bool
	}{"ttl removal": {ttl, true}, "user delete": {user, false}, "modify": {modify, false}} {
		t.Run(name, func(t *testing.T) {
			got, err := emulator.MatchesFilters(pattern, tc.rec)
			if err != nil || got != tc.want {
				t.Fatalf("MatchesFilters = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	raw, _ := json.Marshal(ttl)
	if len(raw) == 0 {
		t.Fatal("record does not marshal")
	}
}
