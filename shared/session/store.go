package session

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// DB is the DynamoDB calls the store makes.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Errors of the store. Store failures are returned wrapped, as they are.
var (
	// ErrNotFound: no such session in the account.
	ErrNotFound = errors.New("session not found")
	// ErrNoAccount: the account has no hub item.
	ErrNoAccount = errors.New("no such account")
	// ErrNoQuota: the account has no session quota left.
	ErrNoQuota = errors.New("no session quota left")
	// ErrNotActive: the session has ended.
	ErrNotActive = errors.New("session not active")
	// ErrBusy: the store kept refusing the transaction under contention.
	ErrBusy = errors.New("session store busy")
	// ErrExpired: a charge came at or after the session's expires_at.
	ErrExpired = errors.New("session expired")
)

// ActiveError is returned by Start while a session is active.
type ActiveError struct{ SessionID string }

func (e *ActiveError) Error() string { return "session " + e.SessionID + " is active" }

// Options shape a store.
type Options struct {
	// TTL is how long a session lasts (SESSION_TTL).
	TTL time.Duration
	// TokenLimit is a new session's token_limit (SESSION_TOKEN_LIMIT).
	TokenLimit int64
	// Metrics receives SessionsStarted and SessionsEnded (by reason);
	// nil emits nothing.
	Metrics *telemetry.Metrics
}

// Store reads and writes sessions and the hub's session fields.
type Store struct {
	db     DB
	tables config.Tables
	o      Options
}

var _ authorizer.Sessions = (*Store)(nil)

// NewStore returns a store over the SessionsTable, the QuotasTable (hub)
// and the UsageTable (per-session usage and charge receipts) of tables.
func NewStore(db DB, tables config.Tables, o Options) *Store {
	return &Store{db: db, tables: tables, o: o}
}

// attempts bounds the retries of a transaction that lost a race.
const attempts = 8

// Start starts a session for the account in one transaction: the hub
// spends one quota (remaining-1, used+1, never below zero) and points at
// the new session, only if its pointer is still what was read; a
// previous session that has logically ended but is still marked active
// is finalised; the session and its lease are put. Of concurrent starts
// exactly one succeeds. It returns ErrNoAccount, *ActiveError while a
// session is active, ErrNoQuota, ErrBusy or the store's error.
func (s *Store) Start(ctx context.Context, accountID string, now time.Time) (Session, error) {
	finalised := map[string]bool{} // previous sessions found already ended
	for try := 0; try < attempts; try++ {
		hub, err := s.hub(ctx, accountID)
		if err != nil {
			return Session{}, err
		}
		if hub == nil {
			return Session{}, ErrNoAccount
		}
		prev := hubActive(hub)
		if prev.ID != "" && prev.At(now).Status == Active {
			return Session{}, &ActiveError{SessionID: prev.ID}
		}
		if dynamo.Int(hub, attrRemaining) <= 0 {
			return Session{}, ErrNoQuota
		}
		started := now.UTC().Truncate(time.Millisecond)
		ses := Session{ID: NewID(started), AccountID: accountID, Status: Active, StartedAt: started,
			ExpiresAt: started.Add(s.o.TTL).Truncate(time.Millisecond), TokenLimit: s.o.TokenLimit}
		cond := "#remaining > :zero AND attribute_not_exists(#active)"
		vals := map[string]types.AttributeValue{":zero": dynamo.N(0), ":one": dynamo.N(1), ":id": dynamo.S(ses.ID),
			":exp": ms(ses.ExpiresAt), ":limit": dynamo.N(ses.TokenLimit)}
		if prev.ID != "" {
			cond = "#remaining > :zero AND #active = :prev"
			vals[":prev"] = dynamo.S(prev.ID)
		}
		items := []types.TransactWriteItem{
			{Update: &types.Update{TableName: &s.tables.Quotas, Key: HubKey(accountID),
				UpdateExpression: aws.String("SET #remaining = #remaining - :one, #used = if_not_exists(#used, :zero) + :one, " +
					"#active = :id, #aexp = :exp, #alimit = :limit, #aused = :zero"),
				ConditionExpression: aws.String(cond),
				ExpressionAttributeNames: map[string]string{"#remaining": attrRemaining, "#used": attrUsed,
					"#active": attrActiveID, "#aexp": attrActiveExpiresAt, "#alimit": attrActiveTokenLimit,
					"#aused": attrActiveTokensUsed},
				ExpressionAttributeValues: vals}},
			{Put: &types.Put{TableName: &s.tables.Sessions, Item: item(ses),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Put: &types.Put{TableName: &s.tables.Sessions, Item: leaseItem(ses),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		}
		var prevEnd Session
		if prev.ID != "" && !finalised[prev.ID] {
			prevEnd = prev.At(now)
			items = append(items, types.TransactWriteItem{Update: endUpdate(s.tables.Sessions, accountID, prevEnd)})
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			s.o.Metrics.Emit(nil, map[string]any{"account_id": accountID, "session_id": ses.ID},
				telemetry.Metric{Name: "SessionsStarted", Value: 1})
			if prevEnd.ID != "" {
				s.ended(ctx, prevEnd, "start")
			}
			return ses, nil
		}
		reasons := dynamo.CancellationReasons(err)
		switch {
		case reasons == nil:
			return Session{}, fmt.Errorf("start session for %s: %w", accountID, err)
		case dynamo.Transient(reasons):
			dynamo.Pause(ctx, try)
		case dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed"):
			// Another start (or an end) moved the pointer or spent
			// the last quota: read the hub again.
		case len(items) > 3 && dynamo.ReasonIs(reasons, 3, "ConditionalCheckFailed"):
			finalised[prev.ID] = true // already ended (or gone)
		case dynamo.ReasonIs(reasons, 1, "ConditionalCheckFailed"), dynamo.ReasonIs(reasons, 2, "ConditionalCheckFailed"):
			// An id collision: try again with a fresh id.
		default:
			return Session{}, fmt.Errorf("start session for %s: %w", accountID, err)
		}
	}
	return Session{}, fmt.Errorf("start session for %s: %w", accountID, ErrBusy)
}

func leaseItem(ses Session) map[string]types.AttributeValue {
	it := LeaseKey(ses.ID)
	it[attrAccountID] = dynamo.S(ses.AccountID)
	it[attrSessionID] = dynamo.S(ses.ID)
	it[attrExpiresAt] = ms(ses.ExpiresAt)
	// TTL never removes an item before its ttl, so round up: the lease
	// outlives expires_at by less than a second.
	it[attrTTL] = dynamo.N((ses.ExpiresAt.UnixMilli() + 999) / 1000)
	return it
}

// endUpdate marks the session ended with e's reason and time, only if the
// table still calls it active.
func endUpdate(table, accountID string, e Session) *types.Update {
	return &types.Update{TableName: aws.String(table), Key: Key(accountID, e.ID),
		UpdateExpression:         aws.String("SET #status = :ended, #reason = :reason, #endedAt = :endedAt"),
		ConditionExpression:      aws.String("#status = :active"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus, "#reason": attrEndReason, "#endedAt": attrEndedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ended": dynamo.S(string(Ended)), ":active": dynamo.S(string(Active)),
			":reason": dynamo.S(string(e.EndReason)), ":endedAt": ms(e.EndedAt)}}
}

// clearHub removes the hub's pointer if it still points at sessionID.
func clearHub(table, accountID, sessionID string) *types.Update {
	return &types.Update{TableName: aws.String(table), Key: HubKey(accountID),
		UpdateExpression:          aws.String(removeActive),
		ConditionExpression:       aws.String("#active = :id"),
		ExpressionAttributeNames:  map[string]string{"#active": attrActiveID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": dynamo.S(sessionID)}}
}

// ended logs and counts a session this process ended.
func (s *Store) ended(ctx context.Context, e Session, by string) {
	telemetry.Logger(ctx).Info("session ended", "account_id", e.AccountID, "session_id", e.ID,
		"end_reason", string(e.EndReason), "ended_by", by)
	s.o.Metrics.Emit(map[string]string{"reason": string(e.EndReason)},
		map[string]any{"account_id": e.AccountID, "session_id": e.ID}, telemetry.Metric{Name: "SessionsEnded", Value: 1})
}

func (s *Store) hub(ctx context.Context, accountID string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.tables.Quotas, Key: HubKey(accountID),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read the hub of %s: %w", accountID, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// hubActive is the session the hub points at, as far as the hub knows it
// (ID is empty when it points at none).
func hubActive(hub map[string]types.AttributeValue) Session {
	id := dynamo.String(hub, attrActiveID)
	if id == "" {
		return Session{}
	}
	return Session{ID: id, AccountID: strings.TrimPrefix(dynamo.String(hub, "pk"), "ACCOUNT#"), Status: Active,
		ExpiresAt: msAttr(hub, attrActiveExpiresAt), TokenLimit: dynamo.Int(hub, attrActiveTokenLimit),
		TokensUsed: dynamo.Int(hub, attrActiveTokensUsed)}
}

// ActiveOf returns the id of the session a hub item (as read from the
// QuotasTable) points at if that session is active at now, else "".
func ActiveOf(hub map[string]types.AttributeValue, now time.Time) string {
	a := hubActive(hub)
	if a.ID == "" || a.At(now).Status != Active {
		return ""
	}
	return a.ID
}

// Active is the authorizer's lookup (authorizer.Sessions): the account's
// active session from its hub item, in one consistent GetItem. ok is
// false when the hub points at no session, or at one past expires_at or
// out of tokens at now, or when the account does not exist. It returns
// the store's error.
func (s *Store) Active(ctx context.Context, accountID string, now time.Time) (authorizer.ActiveSession, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.tables.Quotas, Key: HubKey(accountID),
		ProjectionExpression: aws.String("pk, #a, #e, #l, #u"),
		ExpressionAttributeNames: map[string]string{"#a": attrActiveID, "#e": attrActiveExpiresAt,
			"#l": attrActiveTokenLimit, "#u": attrActiveTokensUsed},
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return authorizer.ActiveSession{}, false, fmt.Errorf("read the active session of %s: %w", accountID, err)
	}
	a := hubActive(out.Item)
	if a.ID == "" || a.At(now).Status != Active {
		return authorizer.ActiveSession{}, false, nil
	}
	return authorizer.ActiveSession{ID: a.ID, TokensUsed: a.TokensUsed, TokenLimit: a.TokenLimit, ExpiresAt: a.ExpiresAt}, true, nil
}

// Get returns one of the account's sessions as stored (see Session.At for
// the reader's view). It returns ErrNotFound or the store's error.
func (s *Store) Get(ctx context.Context, accountID, sessionID string) (Session, error) {
	if !ValidID(sessionID) {
		return Session{}, ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.tables.Sessions,
		Key: Key(accountID, sessionID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Session{}, fmt.Errorf("read session %s: %w", sessionID, err)
	}
	if len(out.Item) == 0 {
		return Session{}, ErrNotFound
	}
	return fromItem(out.Item)
}

// Current returns the account's active session at now. It returns
// ErrNotFound when there is none, ErrNoAccount, or the store's error.
func (s *Store) Current(ctx context.Context, accountID string, now time.Time) (Session, error) {
	hub, err := s.hub(ctx, accountID)
	if err != nil {
		return Session{}, err
	}
	if hub == nil {
		return Session{}, ErrNoAccount
	}
	a := hubActive(hub)
	if a.ID == "" || a.At(now).Status != Active {
		return Session{}, ErrNotFound
	}
	ses, err := s.Get(ctx, accountID, a.ID)
	if err != nil {
		return Session{}, err
	}
	if ses.At(now).Status != Active {
		return Session{}, ErrNotFound
	}
	return ses, nil
}

// ErrBadToken: a list cursor this store did not give out.
var ErrBadToken = errors.New("bad list cursor")

// List returns up to limit of the account's sessions, newest first, that
// have the given status at now ("" for all), starting after the cursor
// after ("" for the first page). next is the cursor of the following page,
// "" on the last one. It returns ErrBadToken or the store's error.
func (s *Store) List(ctx context.Context, accountID string, status Status, limit int, after string, now time.Time) (out []Session, next string, err error) {
	if after != "" && (!strings.HasPrefix(after, sessionPrefix) || !ValidID(strings.TrimPrefix(after, sessionPrefix))) {
		return nil, "", ErrBadToken
	}
	in := &dynamodb.QueryInput{TableName: &s.tables.Sessions,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": dynamo.S("ACCOUNT#" + accountID), ":prefix": dynamo.S(sessionPrefix)},
		ScanIndexForward:          aws.Bool(false), ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit + 1))}
	// The filter narrows what the table returns; Session.At decides.
	switch status {
	case Active:
		in.FilterExpression = aws.String("#status = :active AND #exp > :now AND #used < #limit")
	case Ended:
		in.FilterExpression = aws.String("#status <> :active OR #exp <= :now OR #used >= #limit")
	}
	if status != "" {
		in.ExpressionAttributeNames = map[string]string{"#status": attrStatus, "#exp": attrExpiresAt,
			"#used": attrTokensUsed, "#limit": attrTokenLimit}
		in.ExpressionAttributeValues[":active"] = dynamo.S(string(Active))
		in.ExpressionAttributeValues[":now"] = ms(now)
		in.Limit = aws.Int32(100)
	}
	if after != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + accountID), "sk": dynamo.S(after)}
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list sessions of %s: %w", accountID, err)
		}
		for _, it := range page.Items {
			ses, err := fromItem(it)
			if err != nil {
				return nil, "", err
			}
			if status != "" && ses.At(now).Status != status {
				continue
			}
			if len(out) == limit {
				return out, sessionPrefix + out[len(out)-1].ID, nil
			}
			out = append(out, ses)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, "", nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// EndpointUsage is a session's requests and tokens at one endpoint.
type EndpointUsage struct {
	Endpoint string `json:"endpoint"`
	Requests int64  `json:"requests"`
	Tokens   int64  `json:"tokens"`
}

// Usage returns the session's usage by endpoint (UsageTable items
// pk=SESSION#<id>), sorted by endpoint. It returns the store's error.
func (s *Store) Usage(ctx context.Context, sessionID string) ([]EndpointUsage, error) {
	in := &dynamodb.QueryInput{TableName: &s.tables.Usage, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": dynamo.S(usagePrefix + sessionID)}}
	out := []EndpointUsage{}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read usage of session %s: %w", sessionID, err)
		}
		for _, it := range page.Items {
			out = append(out, EndpointUsage{Endpoint: strings.TrimPrefix(dynamo.String(it, "sk"), "EP#"),
				Requests: dynamo.Int(it, attrRequests), Tokens: dynamo.Int(it, "tokens")})
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint < out[j].Endpoint })
	return out, nil
}

const usagePrefix = "SESSION#"

// Terminate ends the account's active session now, in one transaction
// with clearing the hub's pointer to it. It returns the ended session
// (read back, with the final counters so far), ErrNotFound, ErrNotActive
// when it has already ended (logically or in the table), or the store's
// error.
func (s *Store) Terminate(ctx context.Context, accountID, sessionID string, now time.Time) (Session, error) {
	ses, err := s.Get(ctx, accountID, sessionID)
	if err != nil {
		return Session{}, err
	}
	if ses.At(now).Status != Active {
		return Session{}, ErrNotActive
	}
	end := ses
	end.Status, end.EndReason, end.EndedAt = Ended, Terminated, now.UTC().Truncate(time.Millisecond)
	up := endUpdate(s.tables.Sessions, accountID, end)
	// Not past expires_at nor out of tokens, as of the write.
	up.ConditionExpression = aws.String("#status = :active AND #exp > :endedAt AND #used < #limit")
	up.ExpressionAttributeNames["#exp"] = attrExpiresAt
	up.ExpressionAttributeNames["#used"] = attrTokensUsed
	up.ExpressionAttributeNames["#limit"] = attrTokenLimit
	withHub := true
	for try := 0; ; try++ {
		items := []types.TransactWriteItem{{Update: up}}
		if withHub {
			items = append(items, types.TransactWriteItem{Update: clearHub(s.tables.Quotas, accountID, sessionID)})
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			break
		}
		reasons := dynamo.CancellationReasons(err)
		switch {
		case reasons == nil:
			return Session{}, fmt.Errorf("terminate session %s: %w", sessionID, err)
		case dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed"):
			return Session{}, ErrNotActive
		case try >= attempts:
			return Session{}, fmt.Errorf("terminate session %s: %w", sessionID, ErrBusy)
		case dynamo.Transient(reasons):
			dynamo.Pause(ctx, try)
		case withHub && dynamo.ReasonIs(reasons, 1, "ConditionalCheckFailed"):
			withHub = false // the hub no longer points at it
		default:
			return Session{}, fmt.Errorf("terminate session %s: %w", sessionID, err)
		}
	}
	s.ended(ctx, end, "terminate")
	final, err := s.Get(ctx, accountID, sessionID)
	if err != nil {
		return end, nil // ended; the read back is a nicety
	}
	return final, nil
}

// End finalises a session that has logically ended at at (expired, or
// exhausted) while the table still calls it active, and clears the hub's
// pointer if it still points at it. It is idempotent: a session already
// ended keeps its end (only a stale pointer is cleared), and a session
// still active at at is left alone. ended reports whether this call ended
// it. It returns ErrNotFound or the store's error.
func (s *Store) End(ctx context.Context, accountID, sessionID string, at time.Time) (ended bool, err error) {
	ses, err := s.Get(ctx, accountID, sessionID)
	if errors.Is(err, ErrNotFound) {
		// A pointer to a session that does not exist is cleared too.
		return false, errors.Join(ErrNotFound, s.clearPointer(ctx, accountID, sessionID))
	}
	if err != nil {
		return false, err
	}
	view := ses.At(at)
	if ses.Status == Active && view.Status == Active {
		return false, nil
	}
	if ses.Status == Ended {
		return false, s.clearPointer(ctx, accountID, sessionID)
	}
	withHub := true
	for try := 0; ; try++ {
		items := []types.TransactWriteItem{{Update: endUpdate(s.tables.Sessions, accountID, view)}}
		if withHub {
			items = append(items, types.TransactWriteItem{Update: clearHub(s.tables.Quotas, accountID, sessionID)})
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			s.ended(ctx, view, "finalise")
			return true, nil
		}
		reasons := dynamo.CancellationReasons(err)
		switch {
		case reasons == nil:
			return false, fmt.Errorf("end session %s: %w", sessionID, err)
		case try >= attempts:
			return false, fmt.Errorf("end session %s: %w", sessionID, ErrBusy)
		case dynamo.Transient(reasons):
			dynamo.Pause(ctx, try)
		case dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed"):
			// Someone else ended it first; their end stands.
			return false, s.clearPointer(ctx, accountID, sessionID)
		case withHub && dynamo.ReasonIs(reasons, 1, "ConditionalCheckFailed"):
			withHub = false
		default:
			return false, fmt.Errorf("end session %s: %w", sessionID, err)
		}
	}
}

// clearPointer removes the hub's pointer if it still points at sessionID.
func (s *Store) clearPointer(ctx context.Context, accountID, sessionID string) error {
	u := clearHub(s.tables.Quotas, accountID, sessionID)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key,
		UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues})
	if err != nil && !dynamo.IsConditionFailed(err) {
		return fmt.Errorf("clear the hub pointer of %s: %w", accountID, err)
	}
	return nil
}

// Census is what the reconciler learns of an account's sessions.
type Census struct {
	// Count is how many sessions the account ever started.
	Count int64
	// Active are the sessions the table still calls active.
	Active []Session
}

// Census counts the account's sessions and returns those the table still
// calls active, in consistent reads. It returns the store's error.
func (s *Store) Census(ctx context.Context, accountID string) (Census, error) {
	in := &dynamodb.QueryInput{TableName: &s.tables.Sessions,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		FilterExpression:          aws.String("#status = :active"),
		ExpressionAttributeNames:  map[string]string{"#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": dynamo.S("ACCOUNT#" + accountID), ":prefix": dynamo.S(sessionPrefix), ":active": dynamo.S(string(Active))},
		ConsistentRead:            aws.Bool(true)}
	var c Census
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return Census{}, fmt.Errorf("count sessions of %s: %w", accountID, err)
		}
		c.Count += int64(page.ScannedCount)
		for _, it := range page.Items {
			ses, err := fromItem(it)
			if err != nil {
				return Census{}, err
			}
			c.Active = append(c.Active, ses)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return c, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Pointer returns the session the account's hub points at ("" for none).
// It returns ErrNoAccount or the store's error.
func (s *Store) Pointer(ctx context.Context, accountID string) (string, error) {
	hub, err := s.hub(ctx, accountID)
	if err != nil {
		return "", err
	}
	if hub == nil {
		return "", ErrNoAccount
	}
	return dynamo.String(hub, attrActiveID), nil
}
