// Package quota holds an account's session quota: the figures on its hub
// item (purchased, used, remaining), the purchase ledger they come from
// (PURCHASE# items, one per purchase or grant, idempotent by
// idempotency_key), the quota endpoints, and the reconciler that
// recomputes the figures from the ledger and the sessions and ends
// sessions that are over but still marked active (DESIGN.md).
//
// Spending a quota is session.Store.Start's: one transaction with the new
// session, so quota and sessions never disagree and never go negative.
package quota

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/pricing"
	"github.com/waickoff/waickoff/shared/session"
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

// Errors of the store.
var (
	// ErrNoAccount: the account has no hub item.
	ErrNoAccount = errors.New("no such account")
	// ErrIdempotencyConflict: the idempotency key was used for a
	// different purchase.
	ErrIdempotencyConflict = errors.New("idempotency key used for a different purchase")
	// ErrBusy: the store kept refusing the transaction under contention.
	ErrBusy = errors.New("quota store busy")
)

// Store reads quotas and records purchases in the QuotasTable.
type Store struct {
	db      DB
	table   string
	metrics *telemetry.Metrics
}

// NewStore returns a store over the QuotasTable named table; metrics
// receives QuotaPurchased (nil emits nothing).
func NewStore(db DB, table string, metrics *telemetry.Metrics) *Store {
	return &Store{db: db, table: table, metrics: metrics}
}

// Quota is an account's session quota.
type Quota struct {
	AccountID string `json:"account_id"`
	Purchased int64  `json:"purchased"`
	Used      int64  `json:"used"`
	Remaining int64  `json:"remaining"`
	// ActiveSessionID is the session active at the time of reading.
	ActiveSessionID string `json:"active_session_id,omitempty"`
	// CreatedAt is when the account was created (zero if unknown).
	CreatedAt time.Time `json:"-"`
}

// Get returns the account's quota at now (one consistent read of the
// hub). It returns ErrNoAccount or the store's error.
func (s *Store) Get(ctx context.Context, accountID string, now time.Time) (Quota, error) {
	hub, err := s.hub(ctx, accountID)
	if err != nil {
		return Quota{}, err
	}
	q := Quota{AccountID: accountID, Purchased: dynamo.Int(hub, attrPurchased), Used: dynamo.Int(hub, attrUsed),
		Remaining: max(0, dynamo.Int(hub, attrRemaining)), ActiveSessionID: session.ActiveOf(hub, now)}
	if ms := dynamo.Int(hub, "created_at"); ms > 0 {
		q.CreatedAt = time.UnixMilli(ms).UTC()
	}
	return q, nil
}

// Exists reports whether the account exists. It returns the store's error.
func (s *Store) Exists(ctx context.Context, accountID string) (bool, error) {
	_, err := s.hub(ctx, accountID)
	if errors.Is(err, ErrNoAccount) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) hub(ctx context.Context, accountID string) (map[string]types.AttributeValue, error) {
	if accountID == "" {
		return nil, ErrNoAccount
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: session.HubKey(accountID),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read the quota of %s: %w", accountID, err)
	}
	if len(out.Item) == 0 {
		return nil, ErrNoAccount
	}
	return out.Item, nil
}

// PaymentPlaceholder is the payment status of every purchase until
// payments exist.
const PaymentPlaceholder = "placeholder"

// Purchase is one purchase (or operator grant) of sessions.
type Purchase struct {
	PurchaseID      string `json:"purchase_id"`
	AccountID       string `json:"account_id"`
	Sessions        int64  `json:"sessions"`
	UnitPriceCents  int64  `json:"unit_price_cents"`
	TotalPriceCents int64  `json:"total_price_cents"`
	DiscountPct     int    `json:"discount_pct"`
	Currency        string `json:"currency"`
	PaymentStatus   string `json:"payment_status"`
	IdempotencyKey  string `json:"idempotency_key,omitempty"`
	CreatedAt       string `json:"created_at"`
}

// NewPurchaseID returns a purchase id that sorts by time: "pur_", Unix
// milliseconds as 12 hex digits, 8 random hex digits.
func NewPurchaseID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("pur_%012x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

// Item attribute names and key prefixes.
const (
	attrPurchased   = "purchased"
	attrUsed        = "used"
	attrRemaining   = "remaining"
	attrSessions    = "sessions"
	attrPurchaseID  = "purchase_id"
	purchasePrefix  = "PURCHASE#"
	idempotencyPref = "IDEM#"
)

// Add records a purchase of q.Sessions sessions at q's prices and raises
// the account's quota by as much, in one transaction: the ledger item,
// the idempotency item (when key is not empty) and the hub's purchased and
// remaining. With a key already used for the same number of sessions it
// adds nothing and returns the earlier purchase with replayed set, even
// when both calls race. It returns ErrNoAccount, ErrIdempotencyConflict
// when the key was used for a different number of sessions, ErrBusy, or
// the store's error.
func (s *Store) Add(ctx context.Context, accountID string, q pricing.Quote, key string, now time.Time) (p Purchase, replayed bool, err error) {
	created := now.UTC().Truncate(time.Millisecond)
	p = Purchase{PurchaseID: NewPurchaseID(created), AccountID: accountID, Sessions: q.Sessions,
		UnitPriceCents: q.UnitPriceCents, TotalPriceCents: q.TotalCents, DiscountPct: q.DiscountPct,
		Currency: q.Currency, PaymentStatus: PaymentPlaceholder, IdempotencyKey: key,
		CreatedAt: httpapi.Time(created)}
	ledger := purchaseItem(p, created)
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: session.HubKey(accountID),
			UpdateExpression:          aws.String("ADD #purchased :n, #remaining :n"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeNames:  map[string]string{"#purchased": attrPurchased, "#remaining": attrRemaining},
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": dynamo.N(q.Sessions)}}},
		{Put: &types.Put{TableName: &s.table, Item: ledger, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	if key != "" {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table,
			Item: map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + accountID), "sk": dynamo.S(idempotencyPref + key),
				attrPurchaseID: dynamo.S(p.PurchaseID), attrSessions: dynamo.N(q.Sessions), "created_at": dynamo.N(created.UnixMilli())},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	for try := 0; try < 8; try++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			s.metrics.Emit(nil, map[string]any{"account_id": accountID, "purchase_id": p.PurchaseID},
				telemetry.Metric{Name: "QuotaPurchased", Value: float64(q.Sessions)})
			return p, false, nil
		}
		reasons := dynamo.CancellationReasons(err)
		switch {
		case reasons == nil:
			return Purchase{}, false, fmt.Errorf("add quota to %s: %w", accountID, err)
		case dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed"):
			return Purchase{}, false, ErrNoAccount
		case key != "" && dynamo.ReasonIs(reasons, 2, "ConditionalCheckFailed"):
			return s.replay(ctx, accountID, key, q.Sessions)
		case dynamo.Transient(reasons), dynamo.ReasonIs(reasons, 1, "ConditionalCheckFailed"):
			// Lost a race (or, vanishingly, an id collision): again.
			p.PurchaseID = NewPurchaseID(created)
			ledger = purchaseItem(p, created)
			items[1].Put.Item = ledger
			if key != "" {
				items[2].Put.Item[attrPurchaseID] = dynamo.S(p.PurchaseID)
			}
			time.Sleep(time.Duration(5*(try+1)) * time.Millisecond)
		default:
			return Purchase{}, false, fmt.Errorf("add quota to %s: %w", accountID, err)
		}
	}
	return Purchase{}, false, fmt.Errorf("add quota to %s: %w", accountID, ErrBusy)
}

// replay returns the purchase recorded under the idempotency key.
func (s *Store) replay(ctx context.Context, accountID, key string, sessions int64) (Purchase, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + accountID), "sk": dynamo.S(idempotencyPref + key)}})
	if err != nil {
		return Purchase{}, false, fmt.Errorf("read idempotency key of %s: %w", accountID, err)
	}
	if dynamo.Int(out.Item, attrSessions) != sessions {
		return Purchase{}, false, ErrIdempotencyConflict
	}
	id := dynamo.String(out.Item, attrPurchaseID)
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + accountID), "sk": dynamo.S(purchasePrefix + id)}})
	if err != nil {
		return Purchase{}, false, fmt.Errorf("read purchase %s: %w", id, err)
	}
	if len(got.Item) == 0 {
		return Purchase{}, false, fmt.Errorf("purchase %s of idempotency key is missing", id)
	}
	return purchaseOf(got.Item), true, nil
}

func purchaseItem(p Purchase, created time.Time) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		"pk": dynamo.S("ACCOUNT#" + p.AccountID), "sk": dynamo.S(purchasePrefix + p.PurchaseID),
		attrPurchaseID: dynamo.S(p.PurchaseID), "account_id": dynamo.S(p.AccountID), attrSessions: dynamo.N(p.Sessions),
		"unit_price_cents": dynamo.N(p.UnitPriceCents), "total_price_cents": dynamo.N(p.TotalPriceCents),
		"discount_pct": dynamo.N(int64(p.DiscountPct)), "currency": dynamo.S(p.Currency),
		"payment_status": dynamo.S(p.PaymentStatus), "created_at": dynamo.N(created.UnixMilli()),
	}
	if p.IdempotencyKey != "" {
		it["idempotency_key"] = dynamo.S(p.IdempotencyKey)
	}
	return it
}

func purchaseOf(it map[string]types.AttributeValue) Purchase {
	return Purchase{PurchaseID: dynamo.String(it, attrPurchaseID), AccountID: dynamo.String(it, "account_id"),
		Sessions: dynamo.Int(it, attrSessions), UnitPriceCents: dynamo.Int(it, "unit_price_cents"),
		TotalPriceCents: dynamo.Int(it, "total_price_cents"), DiscountPct: int(dynamo.Int(it, "discount_pct")),
		Currency: dynamo.String(it, "currency"), PaymentStatus: dynamo.String(it, "payment_status"),
		IdempotencyKey: dynamo.String(it, "idempotency_key"),
		CreatedAt:      httpapi.Time(time.UnixMilli(dynamo.Int(it, "created_at")))}
}

// Ledger returns the sessions the account's purchase ledger adds up to,
// in consistent reads. It returns the store's error.
func (s *Store) Ledger(ctx context.Context, accountID string) (int64, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ProjectionExpression:      aws.String("#sessions"),
		ExpressionAttributeNames:  map[string]string{"#sessions": attrSessions},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": dynamo.S("ACCOUNT#" + accountID), ":prefix": dynamo.S(purchasePrefix)}}
	var total int64
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("read the ledger of %s: %w", accountID, err)
		}
		for _, it := range page.Items {
			total += dynamo.Int(it, attrSessions)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return total, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
