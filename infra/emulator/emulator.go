// Package emulator does locally what AWS does on its own: DynamoDB's TTL
// removes expired items, the table's stream hands those removals to the
// subscribed functions (filtered, with partial-batch retries), and
// EventBridge runs the scheduled functions.
package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// Subscriber is a stream function and its event source mapping.
type Subscriber struct {
	Function string
	Mapping  samtemplate.Stream
	Handler  app.StreamHandler
}

// Scheduled is a scheduled function.
type Scheduled struct {
	Function string
	Schedule samtemplate.Schedule
	Every    time.Duration
	Handler  app.ScheduleHandler
}

// DB is the part of the DynamoDB client the emulator uses.
type DB interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Emulator runs the sweeper and the schedules.
type Emulator struct {
	db        DB
	tables    map[string]samtemplate.Table // physical name -> table
	subs      map[string][]Subscriber      // physical table name -> subscribers
	schedules []Scheduled
	logger    *slog.Logger
	now       func() time.Time
	seq       atomic.Int64
	mu        sync.Mutex // one sweep at a time
	statsMu   sync.Mutex
	delivered map[string]int
}

// Delivered returns how many stream records each function has handled
// (retries included), counted once its handler returned.
func (e *Emulator) Delivered() map[string]int {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	out := make(map[string]int, len(e.delivered))
	for k, v := range e.delivered {
		out[k] = v
	}
	return out
}

// Options configure the emulator.
type Options struct {
	DB         DB
	Template   *samtemplate.Template
	TableNames map[string]string // logical ID -> physical name
	Streams    map[string]app.StreamHandler
	Schedules  map[string]app.ScheduleHandler
	Logger     *slog.Logger
	Now        func() time.Time
}

// New wires the emulator from the template.
func New(o Options) (*Emulator, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Emulator{db: o.DB, tables: map[string]samtemplate.Table{}, subs: map[string][]Subscriber{},
		logger: o.Logger, now: o.Now, delivered: map[string]int{}}
	for id, t := range o.Template.Tables {
		e.tables[o.TableNames[id]] = t
	}
	for _, id := range o.Template.FunctionIDs() {
		f := o.Template.Functions[id]
		for _, s := range f.Streams {
			h, ok := o.Streams[id]
			if !ok {
				return nil, fmt.Errorf("no stream handler for %s", id)
			}
			tab, ok := o.Template.Tables[s.Table]
			if !ok || tab.StreamView == "" {
				return nil, fmt.Errorf("%s subscribes to %s, which has no stream", id, s.Table)
			}
			name := o.TableNames[s.Table]
			e.subs[name] = append(e.subs[name], Subscriber{Function: id, Mapping: s, Handler: h})
		}
		for _, s := range f.Schedules {
			h, ok := o.Schedules[id]
			if !ok {
				return nil, fmt.Errorf("no schedule handler for %s", id)
			}
			every, err := ParseRate(s.Expression)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			e.schedules = append(e.schedules, Scheduled{Function: id, Schedule: s, Every: every, Handler: h})
		}
	}
	return e, nil
}

var rateRE = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// ParseRate reads an EventBridge rate expression such as "rate(1 hour)".
func ParseRate(expr string) (time.Duration, error) {
	m := rateRE.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return 0, fmt.Errorf("unsupported schedule %q (want rate(N unit))", expr)
	}
	n, _ := strconv.Atoi(m[1])
	if n < 1 {
		return 0, fmt.Errorf("schedule %q: rate must be positive", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour,
		"hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

// Schedules returns the scheduled functions.
func (e *Emulator) Schedules() []Scheduled { return e.schedules }

// Run sweeps every sweepEvery and fires each schedule on its rate until
// ctx ends.
func (e *Emulator) Run(ctx context.Context, sweepEvery time.Duration) {
	var wg sync.WaitGroup
	for _, s := range e.schedules {
		wg.Add(1)
		go func(s Scheduled) {
			defer wg.Done()
			t := time.NewTicker(s.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := e.Fire(ctx, s.Function); err != nil {
						e.logger.Error("scheduled function failed", "function", s.Function, "error", err.Error())
					}
				}
			}
		}(s)
	}
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			if n, err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
				e.logger.Error("TTL sweep failed", "error", err.Error())
			} else if n > 0 {
				e.logger.Info("TTL sweep", "removed", n)
			}
		}
	}
}

// Fire runs a scheduled function now with an EventBridge scheduled event.
func (e *Emulator) Fire(ctx context.Context, function string) error {
	for _, s := range e.schedules {
		if s.Function != function {
			continue
		}
		ev := events.EventBridgeEvent{
			Version: "0", ID: fmt.Sprintf("local-%d", e.seq.Add(1)), DetailType: "Scheduled Event",
			Source: "aws.events", AccountID: "123456789012", Time: e.now().UTC(), Region: "us-east-1",
			Resources: []string{"arn:aws:events:us-east-1:123456789012:rule/" + function + "-" + s.Schedule.Name},
			Detail:    json.RawMessage(`{}`),
		}
		return s.Handler(ctx, ev)
	}
	return fmt.Errorf("no schedule for %s", function)
}

// Sweep removes every item whose TTL attribute is at or before now, as
// DynamoDB's TTL does (later than the TTL, never earlier), and delivers
// each removal to the table's stream subscribers. It returns how many
// items it removed.
func (e *Emulator) Sweep(ctx context.Context) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.tables))
	for name := range e.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	removed := 0
	var errs []error
	for _, name := range names {
		tab := e.tables[name]
		if tab.TTLAttribute == "" {
			continue
		}
		recs, err := e.expire(ctx, name, tab)
		removed += len(recs)
		if err != nil {
			errs = append(errs, err)
		}
		if len(recs) > 0 {
			e.deliver(ctx, name, recs)
		}
	}
	return removed, errors.Join(errs...)
}

func (e *Emulator) expire(ctx context.Context, table string, tab samtemplate.Table) ([]events.DynamoDBEventRecord, error) {
	now := e.now()
	var recs []events.DynamoDBEventRecord
	var start map[string]types.AttributeValue
	for {
		out, err := e.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                 aws.String(table),
			FilterExpression:          aws.String("#ttl <= :now"),
			ExpressionAttributeNames:  map[string]string{"#ttl": tab.TTLAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return recs, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, item := range out.Items {
			key := map[string]types.AttributeValue{tab.HashKey: item[tab.HashKey]}
			if tab.RangeKey != "" {
				key[tab.RangeKey] = item[tab.RangeKey]
			}
			// Remove only if the TTL is still the one that expired.
			del, err := e.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName:                 aws.String(table),
				Key:                       key,
				ConditionExpression:       aws.String("#ttl = :ttl"),
				ExpressionAttributeNames:  map[string]string{"#ttl": tab.TTLAttribute},
				ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": item[tab.TTLAttribute]},
				ReturnValues:              types.ReturnValueAllOld,
			})
			if err != nil {
				if dynamo.IsConditionFailed(err) {
					continue
				}
				return recs, fmt.Errorf("expire item in %s: %w", table, err)
			}
			if tab.StreamView != "" && del.Attributes != nil {
				recs = append(recs, e.removal(table, tab, key, del.Attributes))
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return recs, nil
		}
		start = out.LastEvaluatedKey
	}
}

// removal builds the stream record DynamoDB writes for a TTL deletion.
func (e *Emulator) removal(table string, tab samtemplate.Table, key, old map[string]types.AttributeValue) events.DynamoDBEventRecord {
	seq := e.seq.Add(1)
	rec := events.DynamoDBEventRecord{
		AWSRegion:      "us-east-1",
		EventID:        fmt.Sprintf("local-%d", seq),
		EventName:      "REMOVE",
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: fmt.Sprintf("arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/local", table),
		UserIdentity:   &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"},
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: e.now()},
			Keys:                        ToEventImage(key),
			SequenceNumber:              fmt.Sprintf("%021d", seq),
			StreamViewType:              tab.StreamView,
		},
	}
	if tab.StreamView == "OLD_IMAGE" || tab.StreamView == "NEW_AND_OLD_IMAGES" {
		rec.Change.OldImage = ToEventImage(old)
	}
	raw, _ := json.Marshal(rec)
	rec.Change.SizeBytes = int64(len(raw))
	return rec
}

// deliver hands records to every subscriber whose filter matches, in
// batches, retrying the records a handler reports failed.
func (e *Emulator) deliver(ctx context.Context, table string, recs []events.DynamoDBEventRecord) {
	for _, sub := range e.subs[table] {
		var matched []events.DynamoDBEventRecord
		for _, r := range recs {
			ok, err := MatchesFilters(sub.Mapping.FilterPatterns, r)
			if err != nil {
				e.logger.Error("bad filter pattern", "function", sub.Function, "error", err.Error())
				continue
			}
			if ok {
				matched = append(matched, r)
			}
		}
		size := sub.Mapping.BatchSize
		if size <= 0 {
			size = 100
		}
		for len(matched) > 0 {
			n := min(size, len(matched))
			e.invoke(ctx, sub, matched[:n])
			matched = matched[n:]
		}
	}
}

func (e *Emulator) invoke(ctx context.Context, sub Subscriber, batch []events.DynamoDBEventRecord) {
	attempts := sub.Mapping.MaximumRetryAttempts + 1
	for try := 1; try <= attempts && len(batch) > 0; try++ {
		resp, err := callStream(ctx, sub.Handler, events.DynamoDBEvent{Records: batch})
		e.statsMu.Lock()
		e.delivered[sub.Function] += len(batch)
		e.statsMu.Unlock()
		if err != nil {
			e.logger.Error("stream handler failed", "function", sub.Function, "attempt", try, "error", err.Error())
			continue
		}
		if len(resp.BatchItemFailures) == 0 || !sub.Mapping.ReportBatchFailures {
			return
		}
		// Lambda retries from the first failed record on.
		first := len(batch)
		for _, f := range resp.BatchItemFailures {
			for i, r := range batch {
				if r.Change.SequenceNumber == f.ItemIdentifier && i < first {
					first = i
				}
			}
		}
		batch = batch[first:]
		e.logger.Warn("stream records failed; retrying", "function", sub.Function, "records", len(batch), "attempt", try)
	}
	if len(batch) > 0 {
		e.logger.Error("stream records dropped after retries", "function", sub.Function, "records", len(batch))
	}
}

func callStream(ctx context.Context, h app.StreamHandler, ev events.DynamoDBEvent) (resp events.DynamoDBEventResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("stream handler panicked: %v", p)
		}
	}()
	return h(ctx, ev)
}
