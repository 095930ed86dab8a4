package usage_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/usage"
)

// contended cancels the first n transactions it is sent with reason, as
// DynamoDB does while another transaction holds one of their items or
// the item is throttled, and passes the rest to the fixture's store.
type contended struct {
	usage.DB
	n      int64
	reason string
	sent   atomic.Int64
}

func (c *contended) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if c.sent.Add(1) <= c.n {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[len(reasons)-1].Code = aws.String(c.reason)
		return nil, &types.TransactionCanceledException{Message: aws.String("cancelled"), CancellationReasons: reasons}
	}
	return c.DB.TransactWriteItems(ctx, in, opts...)
}

// A count that keeps losing to others on a hot item is sent again for
// longer than the old eight sends (a burst on one key queues its counters
// for as long as the burst lasts), and counted once; a cancellation for
// any other reason stops it, and the request's end cuts its pauses short.
func TestRecordOutlastsContention(t *testing.T) {
	for name, tc := range map[string]struct {
		cancelled int64
		reason    string
		deadline  time.Duration // 0: none
		counted   bool
	}{
		"conflicts past the old eight sends": {cancelled: 12, reason: "TransactionConflict", counted: true},
		"throttled past the old eight sends": {cancelled: 12, reason: "ThrottlingError", counted: true},
		"another reason is not retried":      {cancelled: 1, reason: "ValidationError", counted: false},
		"the request's end cuts it short":    {cancelled: 1 << 40, reason: "TransactionConflict", deadline: 300 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			db := &contended{DB: fx.DB, n: tc.cancelled, reason: tc.reason}
			s := usage.New(db, fx.Tables.Usage, metered)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			c := caller.Caller{AccountID: newID("acc_"), KeyID: newID("key_"), Permission: caller.Read}
			start := time.Now()
			err := s.Record(ctx, c, httpapi.Event{RequestID: newID("r"), Pattern: "GET /api/v1/keys", Endpoint: "GET /api/v1/keys", Status: 200, At: day1})
			if tc.counted != (err == nil) {
				t.Fatalf("Record after %d sends: %v", db.sent.Load(), err)
			}
			if tc.deadline > 0 && time.Since(start) > tc.deadline+time.Second {
				t.Errorf("Record went on %s past the request's end", time.Since(start)-tc.deadline)
			}
			sum, err := usage.New(fx.DB, fx.Tables.Usage, metered).KeySummary(context.Background(), c.KeyID)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int64{true: 1, false: 0}[tc.counted]; sum.Requests != want {
				t.Fatalf("the key counts %d requests after %d sends, want %d", sum.Requests, db.sent.Load(), want)
			}
		})
	}
}
