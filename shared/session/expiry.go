package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// Expiry handles the SessionsTable stream (SessionExpiryFunction): a
// lease removed by DynamoDB's TTL ends its session as expired (or as
// exhausted when it ran out of tokens first) and clears the hub's pointer
// to it, idempotently through Store.End.
type Expiry struct {
	store *Store
	now   func() time.Time
}

// NewExpiry returns the stream handler over store.
func NewExpiry(store *Store, now func() time.Time) *Expiry {
	return &Expiry{store: store, now: now}
}

// Handle processes a batch. Records that are not TTL removals of a lease
// (the template's filter should keep them away) or that are malformed are
// logged and skipped: retrying them cannot help. A record whose session
// could not be ended (the store failed) is reported in BatchItemFailures
// by its sequence number, so Lambda retries it; the others succeed. It
// never returns an error and never panics.
func (e *Expiry) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for i := range ev.Records {
		rec := &ev.Records[i]
		log := telemetry.Logger(ctx).With("event_id", rec.EventID, "sequence_number", rec.Change.SequenceNumber)
		if err := e.record(telemetry.WithLogger(ctx, log), rec); err != nil {
			log.Error("lease removal not processed; reported for retry", "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

func (e *Expiry) record(ctx context.Context, rec *events.DynamoDBEventRecord) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	log := telemetry.Logger(ctx)
	l, err := LeaseOf(rec)
	if err != nil {
		log.Warn("stream record skipped", "reason", err.Error(), "event_name", rec.EventName)
		return nil
	}
	// DynamoDB removes an item only after its ttl, so the session was
	// over by then even if this clock lags.
	at := e.now()
	if l.TTL.After(at) {
		at = l.TTL
	}
	ended, err := e.store.End(ctx, l.AccountID, l.SessionID, at)
	switch {
	case errors.Is(err, ErrNotFound):
		log.Warn("lease of an unknown session skipped", "account_id", l.AccountID, "session_id", l.SessionID)
		return nil
	case err != nil:
		return err
	}
	log.Info("lease expired", "account_id", l.AccountID, "session_id", l.SessionID, "ended_now", ended)
	return nil
}

// Lease is what a lease's TTL removal tells.
type Lease struct {
	AccountID string
	SessionID string
	TTL       time.Time
}

// LeaseOf validates a stream record as the TTL removal of a lease: a
// REMOVE by the service principal dynamodb.amazonaws.com, keys
// LEASE#<session_id>/LEASE, and an old image naming the account and the
// same session. It returns an error saying why the record is not one.
func LeaseOf(rec *events.DynamoDBEventRecord) (Lease, error) {
	if rec.EventName != "REMOVE" {
		return Lease{}, fmt.Errorf("event %q is not a removal", rec.EventName)
	}
	if u := rec.UserIdentity; u == nil || u.Type != "Service" || u.PrincipalID != "dynamodb.amazonaws.com" {
		return Lease{}, errors.New("not a TTL removal (no dynamodb.amazonaws.com service identity)")
	}
	keys, old := rec.Change.Keys, rec.Change.OldImage
	pk, sk := attrString(keys, "pk"), attrString(keys, "sk")
	if !strings.HasPrefix(pk, leasePrefix) || sk != "LEASE" {
		return Lease{}, fmt.Errorf("item %q/%q is not a lease", pk, sk)
	}
	l := Lease{AccountID: attrString(old, attrAccountID), SessionID: attrString(old, attrSessionID)}
	if l.SessionID != strings.TrimPrefix(pk, leasePrefix) || !ValidID(l.SessionID) || !account.ValidID(l.AccountID) {
		return Lease{}, errors.New("the old image does not name the lease's account and session")
	}
	if n, err := strconv.ParseInt(attrNumber(old, attrTTL), 10, 64); err == nil {
		l.TTL = time.Unix(n, 0).UTC()
	}
	return l, nil
}

func attrString(m map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := m[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

func attrNumber(m map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := m[name]
	if !ok || v.DataType() != events.DataTypeNumber {
		return ""
	}
	return v.Number()
}
