package quota

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// Sessions is what the reconciler needs of the session store.
type Sessions interface {
	Census(ctx context.Context, accountID string) (session.Census, error)
	End(ctx context.Context, accountID, sessionID string, at time.Time) (bool, error)
}

var _ Sessions = (*session.Store)(nil)

// Reconciler is the scheduled repair (QuotaReconcileFunction).
type Reconciler struct {
	quotas   *Store
	sessions Sessions
	metrics  *telemetry.Metrics
	now      func() time.Time
	// Workers bounds how many accounts are reconciled at once.
	Workers int
	// Margin is how long before its context's deadline a run stops
	// taking accounts, to save its checkpoint and return in time.
	Margin time.Duration
	// PageSize is how many accounts one listing page holds; the
	// checkpoint is saved after each page.
	PageSize int32
	// wall is the time the deadline is checked against (time.Now).
	wall func() time.Time
}

// NewReconciler returns a reconciler over the quota and session stores.
func NewReconciler(quotas *Store, sessions Sessions, metrics *telemetry.Metrics, now func() time.Time) *Reconciler {
	return &Reconciler{quotas: quotas, sessions: sessions, metrics: metrics, now: now, Workers: 8,
		Margin: 30 * time.Second, PageSize: 100, wall: time.Now}
}

// Report is what one run did.
type Report struct {
	Accounts      int `json:"accounts"`
	QuotaRepairs  int `json:"quota_repairs"`
	SessionsEnded int `json:"sessions_ended"`
	Failed        int `json:"failed"`
	// Cycle is the pass over every account the run worked on; Complete
	// says it finished that pass (the next run starts the next one).
	Cycle    int64 `json:"cycle"`
	Complete bool  `json:"complete"`
}

// Handle runs the reconciler for an EventBridge scheduled event. Any other
// event is logged and ignored. It returns an error when some account could
// not be reconciled (so the run is retried; every repair is conditional
// and every end idempotent, so runs may overlap or repeat).
func (r *Reconciler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := telemetry.Logger(ctx).With("event_id", ev.ID)
	if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" {
		log.Warn("event ignored: not a scheduled event", "detail_type", ev.DetailType, "source", ev.Source)
		return nil
	}
	rep, err := r.Run(telemetry.WithLogger(ctx, log))
	log.Info("reconcile done", "accounts", rep.Accounts, "quota_repairs", rep.QuotaRepairs,
		"sessions_ended", rep.SessionsEnded, "failed", rep.Failed, "cycle", rep.Cycle, "complete", rep.Complete)
	return err
}

// Run reconciles the accounts (listed from gsi1, gsi1pk=ACCOUNT, in
// account id order) from where the last run stopped, a page at a time,
// until every account is done or its context's deadline is Margin away:
// then it saves the last account it reconciled in the checkpoint item and
// returns, and the next run goes on from there, so a pass over any number
// of accounts (a cycle) finishes over as many runs as it takes, each
// account once. The checkpoint is written only if it is still what the
// run read: a run that finds another one moved it stops.
//
// For each account the hub's purchased is recomputed from the purchase
// ledger, used from the sessions started, remaining as their difference
// (never below zero), and any drift is repaired with an update
// conditional on the figures read (a start or purchase in between makes
// it fail, and the next cycle looks again). Sessions still marked active
// but past expires_at or out of tokens are ended, and a hub pointer to an
// ended or missing session is cleared. An account that fails is counted
// and left to the next cycle. It returns the report and the errors
// joined.
func (r *Reconciler) Run(ctx context.Context) (Report, error) {
	return r.sweep(ctx, r.account)
}

// sweep is Run with each account reconciled by do.
func (r *Reconciler) sweep(ctx context.Context, do func(ctx context.Context, accountID string) (bool, int, error)) (Report, error) {
	var (
		rep  Report
		errs []error
	)
	stopAt, bounded := ctx.Deadline()
	stopAt = stopAt.Add(-r.Margin)
	late := func() bool { return bounded && !r.wall().Before(stopAt) }
	cp, err := r.quotas.checkpoint(ctx)
	if err != nil {
		return rep, err
	}
	rep.Cycle = cp.Cycle
	for !late() {
		ids, more, err := r.quotas.accountPage(ctx, cp.After, max(1, r.PageSize))
		if err != nil {
			errs = append(errs, err)
			break
		}
		// A run takes at least one account, so that runs always get
		// somewhere (the margin covers one account and the save).
		n := r.page(ctx, ids, late, rep.Accounts == 0, do, &rep, &errs)
		next := cp
		if n > 0 {
			next.After = ids[n-1]
		}
		// An empty page ends the listing whatever it says (nothing
		// would move the cursor).
		rep.Complete = n == len(ids) && (!more || len(ids) == 0)
		if rep.Complete {
			next = Checkpoint{Cycle: cp.Cycle + 1}
		}
		moved, err := r.quotas.saveCheckpoint(ctx, cp, next)
		if err != nil {
			errs = append(errs, err)
			break
		}
		if moved {
			telemetry.Logger(ctx).Info("reconcile checkpoint moved by another run; stopping", "cycle", cp.Cycle, "after", cp.After)
			rep.Complete = false
			break
		}
		cp = next
		if rep.Complete || n < len(ids) {
			break
		}
	}
	r.metrics.Emit(nil, nil,
		telemetry.Metric{Name: "ReconciledAccounts", Value: float64(rep.Accounts)},
		telemetry.Metric{Name: "QuotaRepairs", Value: float64(rep.QuotaRepairs)},
		telemetry.Metric{Name: "ReconcileFailures", Value: float64(rep.Failed)})
	return rep, errors.Join(errs...)
}

// page reconciles ids with Workers at once, in order, taking no more
// once late says so (but the first when takeOne is set); it returns how
// many it took (all of them done: the ids done are always a prefix of
// ids).
func (r *Reconciler) page(ctx context.Context, ids []string, late func() bool, takeOne bool,
	do func(ctx context.Context, accountID string) (bool, int, error), rep *Report, errs *[]error) int {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	work := make(chan string)
	for range max(1, r.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				repaired, ended, err := do(ctx, id)
				mu.Lock()
				rep.Accounts++
				if repaired {
					rep.QuotaRepairs++
				}
				rep.SessionsEnded += ended
				if err != nil {
					rep.Failed++
					*errs = append(*errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	n := 0
	for _, id := range ids {
		if late() && !(takeOne && n == 0) {
			break
		}
		work <- id
		n++
	}
	close(work)
	wg.Wait()
	return n
}

// account reconciles one account.
func (r *Reconciler) account(ctx context.Context, accountID string) (repaired bool, ended int, err error) {
	log := telemetry.Logger(ctx).With("account_id", accountID)
	ctx = telemetry.WithLogger(ctx, log)
	now := r.now()
	// The hub first, then the ledger and the sessions: a purchase or a
	// start that lands in between changes the hub, so the conditional
	// repair below fails rather than undoing it.
	hub, err := r.quotas.hub(ctx, accountID)
	if errors.Is(err, ErrNoAccount) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	purchased, err := r.quotas.Ledger(ctx, accountID)
	if err != nil {
		return false, 0, err
	}
	census, err := r.sessions.Census(ctx, accountID)
	if err != nil {
		return false, 0, err
	}
	var errs []error
	have := figures{dynamo.Int(hub, attrPurchased), dynamo.Int(hub, attrUsed), dynamo.Int(hub, attrRemaining)}
	want := figures{purchased, census.Count, max(0, purchased-census.Count)}
	if have != want {
		if purchased < census.Count {
			log.Warn("more sessions than purchased", "purchased", purchased, "sessions", census.Count)
		}
		ok, err := r.quotas.repair(ctx, accountID, have, want, hub)
		switch {
		case err != nil:
			errs = append(errs, err)
		case ok:
			repaired = true
			log.Info("quota repaired",
				"before", map[string]int64{"purchased": have.purchased, "used": have.used, "remaining": have.remaining},
				"after", map[string]int64{"purchased": want.purchased, "used": want.used, "remaining": want.remaining})
		default:
			log.Info("quota changed while reconciling; left for the next run")
		}
	}
	pointer := dynamo.String(hub, "active_session_id")
	seen := false
	for _, s := range census.Active {
		seen = seen || s.ID == pointer
		if s.At(now).Status == session.Active {
			continue
		}
		done, err := r.sessions.End(ctx, accountID, s.ID, now)
		if err != nil {
			errs = append(errs, err)
		}
		if done {
			ended++
			log.Info("overdue session ended", "session_id", s.ID)
		}
	}
	if pointer != "" && !seen {
		// The hub points at a session the table does not call active.
		if _, err := r.sessions.End(ctx, accountID, pointer, now); err != nil && !errors.Is(err, session.ErrNotFound) {
			errs = append(errs, err)
		} else {
			log.Info("stale active-session pointer checked", "session_id", pointer)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return repaired, ended, fmt.Errorf("reconcile %s: %w", accountID, err)
	}
	return repaired, ended, nil
}

type figures struct{ purchased, used, remaining int64 }

// repair sets the hub's figures to want if they are still have. ok is
// false when they changed in the meantime.
func (s *Store) repair(ctx context.Context, accountID string, have, want figures, hub map[string]types.AttributeValue) (bool, error) {
	names := map[string]string{"#p": attrPurchased, "#u": attrUsed, "#r": attrRemaining}
	vals := map[string]types.AttributeValue{":p": dynamo.N(want.purchased), ":u": dynamo.N(want.used), ":r": dynamo.N(want.remaining)}
	cond := "attribute_exists(pk)"
	for name, v := range map[string]int64{"#p": have.purchased, "#u": have.used, "#r": have.remaining} {
		attr := names[name]
		if _, present := hub[attr]; present {
			cond += fmt.Sprintf(" AND %s = :was%s", name, attr)
			vals[":was"+attr] = dynamo.N(v)
		} else {
			cond += fmt.Sprintf(" AND attribute_not_exists(%s)", name)
		}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: session.HubKey(accountID),
		UpdateExpression:    aws.String("SET #p = :p, #u = :u, #r = :r"),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
	if dynamo.IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("repair the quota of %s: %w", accountID, err)
	}
	return true, nil
}

// Checkpoint is where the reconciler's pass over the accounts stands:
// its cycle and the last account id reconciled in it ("" at its start).
type Checkpoint struct {
	Cycle int64
	After string
}

// checkpointKey is the reconciler's checkpoint item in QuotasTable (no
// gsi1 attributes: it is not an account).
func checkpointKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": dynamo.S("RECONCILE"), "sk": dynamo.S("CHECKPOINT")}
}

// checkpoint reads the checkpoint (cycle 1 from the start when there is
// none yet). It returns the read's error, wrapped.
func (s *Store) checkpoint(ctx context.Context) (Checkpoint, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: checkpointKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("read the reconcile checkpoint: %w", err)
	}
	if len(out.Item) == 0 {
		return Checkpoint{Cycle: 1}, nil
	}
	return Checkpoint{Cycle: dynamo.Int(out.Item, "cycle"), After: dynamo.String(out.Item, "after")}, nil
}

// saveCheckpoint replaces the checkpoint was (as read) by next; moved is
// true, and nothing written, when it is no longer was (another run moved
// it). It returns the write's error, wrapped.
func (s *Store) saveCheckpoint(ctx context.Context, was, next Checkpoint) (moved bool, err error) {
	cond := "(attribute_not_exists(pk) AND :wascycle = :one) OR (#cycle = :wascycle AND #after = :wasafter)"
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: checkpointKey(),
		UpdateExpression:         aws.String("SET #cycle = :cycle, #after = :after, updated_at = :now"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#cycle": "cycle", "#after": "after"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":cycle": dynamo.N(next.Cycle), ":after": dynamo.S(next.After),
			":wascycle": dynamo.N(was.Cycle), ":wasafter": dynamo.S(was.After), ":one": dynamo.N(1),
			":now": dynamo.N(time.Now().UnixMilli())}})
	if dynamo.IsConditionFailed(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("save the reconcile checkpoint: %w", err)
	}
	return false, nil
}

// accountPage lists up to limit account ids from gsi1 (gsi1pk=ACCOUNT)
// that sort after after ("" from the first); more is false when the
// listing is known to end with them. It returns the query's error,
// wrapped.
func (s *Store) accountPage(ctx context.Context, after string, limit int32) (ids []string, more bool, err error) {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :acc"),
		ProjectionExpression:      aws.String("gsi1sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":acc": dynamo.S("ACCOUNT")},
		Limit:                     aws.Int32(limit)}
	if after != "" {
		in.ExclusiveStartKey = session.HubKey(after)
		in.ExclusiveStartKey["gsi1pk"], in.ExclusiveStartKey["gsi1sk"] = dynamo.S("ACCOUNT"), dynamo.S(after)
	}
	page, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("list accounts after %q: %w", after, err)
	}
	for _, it := range page.Items {
		if id := dynamo.String(it, "gsi1sk"); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, len(page.LastEvaluatedKey) > 0, nil
}
