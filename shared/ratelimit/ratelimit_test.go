package ratelimit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

// base is a fixed instant.
var base = time.Date(2026, 3, 1, 12, 0, 3, 0, time.UTC)

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newItem stores an item limited to n a minute and returns its key.
func newItem(t *testing.T, n int) map[string]types.AttributeValue {
	t.Helper()
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "RL#" + newID()},
		"sk": &types.AttributeValueMemberS{Value: "HASH"},
	}
	item := ratelimit.ParamsFor(n).Attributes()
	for k, v := range key {
		item[k] = v
	}
	item["open"] = &types.AttributeValueMemberBOOL{Value: true}
	if _, err := fx.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(fx.Tables.APIKeys), Item: item}); err != nil {
		t.Fatal(err)
	}
	return key
}

// open is a guard on the item's "open" flag.
var open = ratelimit.Guard{
	Expr:   "#g_open = :g_true",
	Names:  map[string]string{"#g_open": "open"},
	Values: map[string]types.AttributeValue{":g_true": &types.AttributeValueMemberBOOL{Value: true}},
	Holds: func(it map[string]types.AttributeValue) bool {
		v, ok := it["open"].(*types.AttributeValueMemberBOOL)
		return ok && v.Value
	},
}

// A request whose clock was read before an admission the store applied
// first is judged again as of its answer, when the limiter has a clock:
// the N-th request of a burst is not refused for reading its clock a
// moment early.
func TestStaleClockJudgedAtTheAnswer(t *testing.T) {
	const skew = 10 * time.Millisecond
	for name, tc := range map[string]struct {
		answered time.Duration // when the stale take's answer comes, after base
		noClock  bool
		want     ratelimit.Outcome
	}{
		"answer after the first admission": {answered: 2 * skew, want: ratelimit.Admitted},
		"answer exactly at it":             {answered: skew, want: ratelimit.Admitted},
		"answer still before it":           {answered: skew / 2, want: ratelimit.Limited},
		"no clock":                         {answered: 2 * skew, noClock: true, want: ratelimit.Limited},
	} {
		t.Run(name, func(t *testing.T) {
			key := newItem(t, 2)
			first := take(t, ratelimit.New(fx.DB, fx.Tables.APIKeys), key, base.Add(skew))
			if first.Outcome != ratelimit.Admitted {
				t.Fatalf("first request: %v", first.Outcome)
			}
			l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
			if !tc.noClock {
				l.Clock = func() time.Time { return base.Add(tc.answered) }
			}
			// The second of two: its clock was read skew before the first's.
			r := take(t, l, key, base)
			if r.Outcome != tc.want {
				t.Fatalf("the stale second request: %v, want %v", r.Outcome, tc.want)
			}
			if tc.want == ratelimit.Admitted {
				if r.Remaining != 0 {
					t.Errorf("remaining %d after the second of two", r.Remaining)
				}
				if third := take(t, l, key, base.Add(tc.answered)); third.Outcome != ratelimit.Limited {
					t.Errorf("a third request within the period: %v, want limited", third.Outcome)
				}
			}
		})
	}
}

func take(t *testing.T, l *ratelimit.Limiter, key map[string]types.AttributeValue, at time.Time) ratelimit.Result {
	t.Helper()
	r, err := l.Take(context.Background(), key, open, "req-"+newID(), at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParams(t *testing.T) {
	tests := []struct {
		n      int
		period int64
	}{{1, 60_000_000}, {60, 1_000_000}, {37, 1_621_622}, {7, 8_571_429}, {100000, 600}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			p := ratelimit.ParamsFor(tc.n)
			if p.Period != tc.period || p.Limit != tc.n {
				t.Fatalf("ParamsFor(%d) = %+v, want period %d", tc.n, p, tc.period)
			}
			if p.Period*int64(tc.n) < 60_000_000 {
				t.Errorf("%d periods of %dus are under a minute: the limit would be exceeded", tc.n, p.Period)
			}
			a := p.Attributes()
			if got := a[ratelimit.AttrIdleGate].(*types.AttributeValueMemberN).Value; got != fmt.Sprint(2*p.Period-int64(tc.n)*p.Period) {
				t.Errorf("idle gate %s", got)
			}
		})
	}
}

// From a standing start exactly N pass, the figures count down, and the
// next one is told when to retry.
func TestBurstFromStandingStart(t *testing.T) {
	for _, n := range []int{1, 2, 5, 37} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			key := newItem(t, n)
			l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
			for i := 1; i <= n; i++ {
				r := take(t, l, key, base)
				if r.Outcome != ratelimit.Admitted {
					t.Fatalf("request %d of %d: %v", i, n, r.Outcome)
				}
				if r.Limit != n || r.Remaining != n-i {
					t.Fatalf("request %d: limit %d remaining %d, want %d and %d", i, r.Limit, r.Remaining, n, n-i)
				}
			}
			r := take(t, l, key, base)
			p := ratelimit.ParamsFor(n)
			if r.Outcome != ratelimit.Limited || r.Remaining != 0 {
				t.Fatalf("request %d: %v remaining %d, want limited", n+1, r.Outcome, r.Remaining)
			}
			if want := int((p.Period + 999_999) / 1_000_000); r.RetryAfter != want {
				t.Errorf("Retry-After %d, want %d", r.RetryAfter, want)
			}
			if want := int((int64(n)*p.Period + 999_999) / 1_000_000); r.Reset != want {
				t.Errorf("Reset %d, want %d", r.Reset, want)
			}
		})
	}
}

// After a burst one request passes per period, however many were refused
// in between: refused requests do not count.
func TestRefillIgnoresRefused(t *testing.T) {
	const n = 4
	key := newItem(t, n)
	p := ratelimit.ParamsFor(n)
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	for range n {
		take(t, l, key, base)
	}
	at := base
	for round := 1; round <= 3; round++ {
		for range 10 {
			if r := take(t, l, key, at); r.Outcome != ratelimit.Limited {
				t.Fatalf("round %d: a refused request passed: %v", round, r.Outcome)
			}
		}
		at = at.Add(time.Duration(p.Period) * time.Microsecond)
		if r := take(t, l, key, at); r.Outcome != ratelimit.Admitted {
			t.Fatalf("round %d: one period later the request was %v", round, r.Outcome)
		}
		if r := take(t, l, key, at); r.Outcome != ratelimit.Limited {
			t.Fatalf("round %d: a second request in one period passed", round)
		}
	}
	// After a full idle minute the whole burst is back.
	at = at.Add(time.Minute)
	for i := range n {
		if r := take(t, l, key, at); r.Outcome != ratelimit.Admitted {
			t.Fatalf("after a minute, request %d: %v", i+1, r.Outcome)
		}
	}
	if r := take(t, l, key, at); r.Outcome != ratelimit.Limited {
		t.Fatalf("after a minute, request %d passed", n+1)
	}
}

// Over a long steady run no more than N a minute pass.
func TestLongRunRate(t *testing.T) {
	const n = 6
	key := newItem(t, n)
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	admitted := 0
	// A request every 2 seconds for 3 minutes, 4 times the allowed rate
	// of one per 10 s.
	for s := 0; s < 180; s += 2 {
		if take(t, l, key, base.Add(time.Duration(s)*time.Second)).Outcome == ratelimit.Admitted {
			admitted++
		}
	}
	// The burst of 6 plus one per 10 s over 178 s: 6 + 17.
	if admitted != n+17 {
		t.Fatalf("admitted %d in 3 minutes, want %d", admitted, n+17)
	}
}

// Concurrent takes from many instances (separate limiters) admit exactly
// the limit: no lost update lets an extra request in. This also catches a
// DynamoDB-protocol server that does not serialise conditional updates
// (stock moto_server).
func TestConcurrentBurstIsExact(t *testing.T) {
	const n = 37
	for _, workers := range []int{50, 200} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			key := newItem(t, n)
			// A client that waits as long as it takes: 200 requests at
			// once queue at the single-threaded server, and on a loaded
			// machine the last wait longer than the SDK's usual 5 s (its
			// retries would be exact too, but a shared client runs out of
			// retry quota).
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 256
			db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: fx.Endpoint,
				HTTPClient: &http.Client{Transport: tr, Timeout: 2 * time.Minute}})
			if err != nil {
				t.Fatal(err)
			}
			var admitted, limited, dups atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for i := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := ratelimit.New(db, fx.Tables.APIKeys)
					r, err := l.Take(context.Background(), key, open, fmt.Sprintf("req-%d", i), base)
					if err != nil {
						errs <- err
						return
					}
					switch r.Outcome {
					case ratelimit.Admitted:
						admitted.Add(1)
						if r.Duplicate {
							dups.Add(1)
						}
					case ratelimit.Limited:
						limited.Add(1)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if admitted.Load() != n || limited.Load() != int64(workers-n) {
				t.Fatalf("%d concurrent: admitted %d limited %d, want exactly %d admitted", workers, admitted.Load(), limited.Load(), n)
			}
			t.Logf("%d concurrent, limit %d: admitted %d (%d after a retried call), limited %d", workers, n,
				admitted.Load(), dups.Load(), limited.Load())
		})
	}
}

// dupClient sends every UpdateItem twice and answers with the second
// response: DynamoDB applied the first attempt, its answer was lost, and
// the SDK retried.
type dupClient struct {
	next aws.HTTPClient
	dups atomic.Int64
}

func (c *dupClient) Do(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Target") != "DynamoDB_20120810.UpdateItem" {
		return c.next.Do(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	first := req.Clone(req.Context())
	first.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := c.next.Do(first)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.dups.Add(1)
	second := req.Clone(req.Context())
	second.Body = io.NopCloser(bytes.NewReader(body))
	return c.next.Do(second)
}

// A retried call whose first attempt was applied does not take a second
// token.
func TestRetriedCallCountsOnce(t *testing.T) {
	const n = 5
	dup := &dupClient{next: http.DefaultClient}
	db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: fx.Endpoint, HTTPClient: dup})
	if err != nil {
		t.Fatal(err)
	}
	key := newItem(t, n)
	l := ratelimit.New(db, fx.Tables.APIKeys)
	for i := 1; i <= n; i++ {
		r := take(t, l, key, base)
		if r.Outcome != ratelimit.Admitted || !r.Duplicate || r.Remaining != n-i {
			t.Fatalf("request %d: %v duplicate=%v remaining %d, want admitted once with %d left", i, r.Outcome, r.Duplicate, r.Remaining, n-i)
		}
	}
	if r := take(t, l, key, base); r.Outcome != ratelimit.Limited {
		t.Fatalf("request %d: %v, want limited", n+1, r.Outcome)
	}
	if dup.dups.Load() < n {
		t.Fatalf("the client duplicated %d calls", dup.dups.Load())
	}
	// The same request id again (a retried invocation) is admitted without
	// a token; a new one is limited.
	fresh := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	key2 := newItem(t, 2)
	r1, _ := fresh.Take(context.Background(), key2, open, "same", base)
	r2, _ := fresh.Take(context.Background(), key2, open, "same", base)
	if r1.Outcome != ratelimit.Admitted || r2.Outcome != ratelimit.Admitted || !r2.Duplicate || r2.Remaining != 1 {
		t.Fatalf("repeat of one request: %+v then %+v", r1, r2)
	}
}

// A refund gives one token back, once, however often it is repeated.
func TestRefund(t *testing.T) {
	const n = 3
	key := newItem(t, n)
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	var last ratelimit.Result
	for range n {
		last = take(t, l, key, base)
	}
	back, err := l.Refund(context.Background(), last)
	if err != nil {
		t.Fatal(err)
	}
	if back.Remaining != 1 {
		t.Fatalf("after a refund remaining %d, want 1", back.Remaining)
	}
	for range 3 {
		if _, err := l.Refund(context.Background(), last); err != nil {
			t.Fatal(err)
		}
	}
	if r := take(t, l, key, base); r.Outcome != ratelimit.Admitted {
		t.Fatalf("the refunded token was not there: %v", r.Outcome)
	}
	if r := take(t, l, key, base); r.Outcome != ratelimit.Limited {
		t.Fatalf("a repeated refund gave back more than one token")
	}
}

func TestMissingAndGuard(t *testing.T) {
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	missing := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "RL#missing-" + newID()},
		"sk": &types.AttributeValueMemberS{Value: "HASH"},
	}
	if r := take(t, l, missing, base); r.Outcome != ratelimit.Missing || r.Calls != 1 {
		t.Fatalf("missing item: %v after %d calls", r.Outcome, r.Calls)
	}
	out, err := fx.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(fx.Tables.APIKeys), Key: missing})
	if err != nil || len(out.Item) != 0 {
		t.Fatalf("a take on a missing item created it: %v %v", out.Item, err)
	}
	key := newItem(t, 5)
	_, err = fx.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(fx.Tables.APIKeys), Key: key,
		UpdateExpression:          aws.String("SET #o = :f"),
		ExpressionAttributeNames:  map[string]string{"#o": "open"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := take(t, l, key, base); r.Outcome != ratelimit.Refused || r.Calls != 1 {
		t.Fatalf("guard false: %v after %d calls", r.Outcome, r.Calls)
	}
}

// A busy item does not grow with its traffic: the marker ring keeps the
// last RingSize admissions, newest first, and a take stays one write
// unit. (DynamoDB bills an update by the larger of the item's sizes before
// and after, a write unit per KB, and caps one item at 1,000 write units a
// second: markers kept by time made a key used at 100 requests a second
// carry 12-24 KB and throttled it below its own limit.)
func TestItemStaysSmall(t *testing.T) {
	const limit, rate = 6000, 100 // a minute; a second (the limit's own rate)
	key := newItem(t, limit)
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	var last ratelimit.Result
	var ids []string
	for i := range 2 * rate { // two seconds at the key's rate
		ids = append(ids, fmt.Sprintf("req-%s-%d", newID(), i))
		r, err := l.Take(context.Background(), key, open, ids[i], base.Add(time.Duration(i)*time.Second/rate))
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != ratelimit.Admitted || r.Duplicate {
			t.Fatalf("take %d: %v duplicate=%v", i, r.Outcome, r.Duplicate)
		}
		last = r
	}
	size := dynamo.ItemSize(last.Item)
	t.Logf("after %d takes in 2 s: item %d bytes, %d write unit(s) a take", 2*rate, size, (size+1023)/1024)
	if size > 1024 {
		t.Errorf("item is %d bytes after %d takes: it grows with traffic", size, 2*rate)
	}
	for k := range ratelimit.RingSize {
		name := fmt.Sprintf("rl_m%d", k)
		want := ratelimit.Marker(ids[len(ids)-1-k])
		if got := dynamo.String(last.Item, name); got != want {
			t.Fatalf("%s = %q, want the marker of take %d (%q)", name, got, len(ids)-1-k, want)
		}
	}
	slots := 0
	for name := range last.Item {
		if _, err := strconv.Atoi(strings.TrimPrefix(name, "rl_m")); err == nil {
			slots++
		}
	}
	if slots != ratelimit.RingSize {
		t.Fatalf("%d marker slots on the item, want %d", slots, ratelimit.RingSize)
	}
}

// A retried request is recognised while fewer than RingSize other
// admissions came between its attempts, however much time passed.
func TestRetryRecognisedWithinRing(t *testing.T) {
	const n = 100
	key := newItem(t, n)
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	first, err := l.Take(context.Background(), key, open, "the-retried-one", base)
	if err != nil || first.Outcome != ratelimit.Admitted {
		t.Fatalf("first attempt: %v %v", first.Outcome, err)
	}
	for i := range ratelimit.RingSize - 1 {
		take(t, l, key, base.Add(time.Duration(i+1)*time.Millisecond))
	}
	// A new instance (nothing cached) retries at a later time.
	again, err := ratelimit.New(fx.DB, fx.Tables.APIKeys).Take(context.Background(), key, open, "the-retried-one", base.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != ratelimit.Admitted || !again.Duplicate {
		t.Fatalf("retry after %d other admissions: %v duplicate=%v, want recognised", ratelimit.RingSize-1, again.Outcome, again.Duplicate)
	}
	if want := n - ratelimit.RingSize; again.Remaining < want || again.Remaining > want+1 {
		t.Fatalf("remaining %d after %d admissions and a retry, want %d (+1 refilled)", again.Remaining, ratelimit.RingSize, want)
	}
}

// The limiter guesses the case from the last state it saw: a steady
// stream of takes costs one call each.
func TestOneCallPerTakeWhenWarm(t *testing.T) {
	key := newItem(t, 1000)
	l := ratelimit.New(fx.DB, fx.Tables.APIKeys)
	calls := 0
	for i := range 20 {
		r := take(t, l, key, base.Add(time.Duration(i)*time.Millisecond))
		calls += r.Calls
	}
	// The first take guesses idle, the second busy from what the first
	// returned, and so on: 20 calls.
	if calls != 20 {
		t.Fatalf("%d calls for 20 takes", calls)
	}
	// A cold instance on a busy item: 2 calls.
	if r := take(t, ratelimit.New(fx.DB, fx.Tables.APIKeys), key, base.Add(21*time.Millisecond)); r.Calls != 2 {
		t.Fatalf("cold take on a busy item: %d calls", r.Calls)
	}
}

// conflicting answers TransactionConflict to the first n takes, as
// DynamoDB does while a transaction on the item is in flight, then
// passes calls on.
type conflicting struct {
	ratelimit.DB
	n     int
	calls int
}

func (c *conflicting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.calls++
	if c.calls <= c.n {
		return nil, &types.TransactionConflictException{Message: aws.String("Transaction is ongoing for the item")}
	}
	return c.DB.UpdateItem(ctx, in, opts...)
}

// A take that meets a transaction in flight on its item (a key just
// created, rotated or revoked) tries again: the conflict is transient.
// One that keeps meeting it gives up with ErrContended, having taken
// nothing.
func TestTransactionConflictIsRetried(t *testing.T) {
	for _, tc := range []struct {
		conflicts int
		admitted  bool
		calls     int
	}{{0, true, 1}, {1, true, 2}, {5, true, 6}, {6, false, 6}} {
		t.Run(fmt.Sprintf("%d conflicts", tc.conflicts), func(t *testing.T) {
			key := newItem(t, 3)
			db := &conflicting{DB: fx.DB, n: tc.conflicts}
			r, err := ratelimit.New(db, fx.Tables.APIKeys).Take(context.Background(), key, open, newID(), base)
			if tc.admitted != (err == nil && r.Outcome == ratelimit.Admitted) || db.calls != tc.calls ||
				(!tc.admitted && !errors.Is(err, ratelimit.ErrContended)) {
				t.Fatalf("%+v %v after %d calls", r, err, db.calls)
			}
			// What a take gave up on took nothing.
			next := take(t, ratelimit.New(fx.DB, fx.Tables.APIKeys), key, base)
			if want := 3 - 1 - map[bool]int{true: 1}[tc.admitted]; next.Remaining != want {
				t.Fatalf("the next take leaves %d, want %d", next.Remaining, want)
			}
		})
	}
}
