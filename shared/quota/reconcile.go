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
}

// NewReconciler returns a reconciler over the quota and session stores.
func NewReconciler(quotas *Store, sessions Sessions, metrics *telemetry.Metrics, now func() time.Time) *Reconciler {
	return &Reconciler{quotas: quotas, sessions: sessions, metrics: metrics, now: now, Workers: 8}
}

// Report is what one run did.
type Report struct {
	Accounts      int `json:"accounts"`
	QuotaRepairs  int `json:"quota_repairs"`
	SessionsEnded int `json:"sessions_ended"`
	Failed        int `json:"failed"`
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
		"sessions_ended", rep.SessionsEnded, "failed", rep.Failed)
	return err
}

// Run reconciles every account (listed from gsi1, gsi1pk=ACCOUNT): the
// hub's purchased is recomputed from the purchase ledger, used from the
// sessions started, remaining as their difference (never below zero),
// and any drift is repaired with an update conditional on the figures read
// (a start or purchase in between makes it fail, and the next run looks
// again). Sessions still marked active but past expires_at or out of
// tokens are ended, and a hub pointer to an ended or missing session is
// cleared. It returns the report and the accounts' errors joined.
func (r *Reconciler) Run(ctx context.Context) (Report, error) {
	var (
		rep  Report
		errs []error
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	ids := make(chan string)
	workers := max(1, r.Workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				repaired, ended, err := r.account(ctx, id)
				mu.Lock()
				rep.Accounts++
				if repaired {
					rep.QuotaRepairs++
				}
				rep.SessionsEnded += ended
				if err != nil {
					rep.Failed++
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	listErr := r.quotas.accounts(ctx, func(id string) {
		ids <- id
	})
	close(ids)
	wg.Wait()
	if listErr != nil {
		errs = append(errs, listErr)
	}
	r.metrics.Emit(nil, nil,
		telemetry.Metric{Name: "ReconciledAccounts", Value: float64(rep.Accounts)},
		telemetry.Metric{Name: "QuotaRepairs", Value: float64(rep.QuotaRepairs)},
		telemetry.Metric{Name: "ReconcileFailures", Value: float64(rep.Failed)})
	return rep, errors.Join(errs...)
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

// accounts lists every account id from gsi1 (gsi1pk=ACCOUNT).
func (s *Store) accounts(ctx context.Context, each func(id string)) error {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :acc"),
		ProjectionExpression:      aws.String("gsi1sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":acc": dynamo.S("ACCOUNT")}}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("list accounts: %w", err)
		}
		for _, it := range page.Items {
			if id := dynamo.String(it, "gsi1sk"); id != "" {
				each(id)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
