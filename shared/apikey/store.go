package apikey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
)

// Errors the store returns; the handlers map them to problems.
var (
	ErrNotFound = errors.New("apikey: no such key")
	ErrRevoked  = errors.New("apikey: key is revoked")
	ErrExpired  = errors.New("apikey: key has expired")
)

// CapError refuses a key the account has no room for (DESIGN.md, "Keys
// per account"): the account already has config.MaxKeysPerAccount keys
// that are not revoked, or the new key's rate limit would take the sum of
// their limits past config.MaxAccountRateLimitPerMinute. Revoking a key
// makes room.
type CapError struct {
	Keys     int64 // the account's keys that are not revoked
	LimitSum int64 // the sum of their rate limits, a minute
	Asked    int   // the refused key's rate limit
}

func (e *CapError) Error() string {
	return fmt.Sprintf("apikey: the account has %d keys (at most %d) whose limits sum to %d a minute (at most %d); a key of %d does not fit",
		e.Keys, config.MaxKeysPerAccount, e.LimitSum, config.MaxAccountRateLimitPerMinute, e.Asked)
}

// TooMany reports whether the key count, rather than the sum of the
// limits, is what refused the key.
func (e *CapError) TooMany() bool { return e.Keys >= config.MaxKeysPerAccount }

// Key is a stored key, without its secret.
type Key struct {
	ID         string
	AccountID  string
	Name       string
	Prefix     string
	Permission caller.Permission
	RateLimit  int
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	RevokedAt  time.Time // zero: not revoked
	hash       string
}

// Expired reports whether the key has expired at now.
func (k Key) Expired(now time.Time) bool { return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) }

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Created is a new key with its secret, which is shown once and never
// stored.
type Created struct {
	Key
	Secret string
}

// Spec is what a new key is made of.
type Spec struct {
	Name       string
	Permission caller.Permission
	RateLimit  int
	ExpiresAt  time.Time // zero: never
}

// DB is the DynamoDB calls the store makes.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store keeps keys in the ApiKeysTable (DESIGN.md): a record per key under
// its account and a lookup item per key hash.
type Store struct {
	db      DB
	table   string
	limiter *ratelimit.Limiter
	refused *refusedKeys
}

// NewStore returns a store over the ApiKeysTable named table.
func NewStore(db DB, table string) *Store {
	return &Store{db: db, table: table, limiter: ratelimit.New(db, table), refused: newRefusedKeys()}
}

// WithClock has the store's rate limiter judge a refused take again as of
// clock's time (see ratelimit.Limiter.Clock); the authorizer gives it its
// own clock. It returns s.
func (s *Store) WithClock(clock func() time.Time) *Store {
	s.limiter.Clock = clock
	return s
}

// Attribute names.
const (
	attrPK         = "pk"
	attrSK         = "sk"
	attrAccount    = "account_id"
	attrKeyID      = "key_id"
	attrName       = "name"
	attrPrefix     = "prefix"
	attrPermission = "permission"
	attrRateLimit  = "rate_limit_per_minute"
	attrCreatedAt  = "created_at"
	attrExpiresAt  = "expires_at"
	attrRevokedAt  = "revoked_at"
	attrRevoked    = "revoked"
	attrKeyHash    = "key_hash"
	attrRotatedTo  = "rotated_to"
	attrKeyCount   = "key_count"
	attrLimitSum   = "rate_limit_sum"
)

func recordKey(accountID, keyID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: dynamo.S("ACCOUNT#" + accountID), attrSK: dynamo.S("KEY#" + keyID)}
}

// tallyKey is the account's key tally: key_count (keys not revoked) and
// rate_limit_sum (the sum of their rate limits). Creation adds to it and
// revocation takes away in the same transaction as the key's items, under
// conditions that keep it within the caps; rotation leaves it as it is.
func tallyKey(accountID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: dynamo.S("ACCOUNT#" + accountID), attrSK: dynamo.S("KEYS")}
}

func lookupKey(hash string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: dynamo.S("HASH#" + hash), attrSK: dynamo.S("HASH")}
}

// NewKeyID returns a key id that sorts by creation time:
// "key_" + 12 hex digits of Unix milliseconds + 8 random hex digits.
func NewKeyID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("key_%012x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

// ValidKeyID reports whether s has the shape of a key id.
func ValidKeyID(s string) bool {
	if len(s) != 24 || !strings.HasPrefix(s, "key_") {
		return false
	}
	for _, c := range s[4:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// NewItems makes a key for accountID and returns it with the writes that
// store it, for the caller's transaction: the puts of its record and
// lookup item, then (index tallyIndex) the update of the account's key
// tally, conditional on the caps. It returns an error only when the
// random source fails.
func (s *Store) NewItems(accountID string, spec Spec, now time.Time) (Created, []types.TransactWriteItem, error) {
	c, items, err := s.newItems(accountID, spec, now)
	if err != nil {
		return Created{}, nil, err
	}
	return c, append(items, s.tallyAdd(accountID, spec.RateLimit)), nil
}

// tallyIndex is the place of the tally update among NewItems' writes.
const tallyIndex = 2

// tallyAdd counts one more key of limit a minute on the account's tally,
// on condition that the account has fewer than MaxKeysPerAccount keys and
// that the sum of the limits stays within MaxAccountRateLimitPerMinute.
// An absent tally is an account with no key yet. The old tally comes back
// with a failed condition.
func (s *Store) tallyAdd(accountID string, limit int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: tallyKey(accountID),
		UpdateExpression: aws.String("ADD key_count :one, rate_limit_sum :limit"),
		ConditionExpression: aws.String("(attribute_not_exists(key_count) OR key_count < :max_keys) AND " +
			"(attribute_not_exists(rate_limit_sum) OR rate_limit_sum <= :room)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": dynamo.N(1), ":limit": dynamo.N(int64(limit)),
			":max_keys": dynamo.N(config.MaxKeysPerAccount),
			":room":     dynamo.N(int64(config.MaxAccountRateLimitPerMinute - limit))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
}

// capRefusal returns the CapError of a transaction of NewItems' writes
// when the tally's condition is what cancelled it, or nil.
func capRefusal(err error, limit int) *CapError {
	reasons := dynamo.CancellationReasons(err)
	i := tallyIndex
	if !dynamo.ReasonIs(reasons, i, "ConditionalCheckFailed") {
		return nil
	}
	old := reasons[i].Item
	return &CapError{Keys: dynamo.Int(old, attrKeyCount), LimitSum: dynamo.Int(old, attrLimitSum), Asked: limit}
}

// newItems is NewItems without the tally: the record and the lookup item.
func (s *Store) newItems(accountID string, spec Spec, now time.Time) (Created, []types.TransactWriteItem, error) {
	secret, err := Generate()
	if err != nil {
		return Created{}, nil, fmt.Errorf("generate a key: %w", err)
	}
	k := Key{ID: NewKeyID(now), AccountID: accountID, Name: spec.Name, Prefix: Prefix(secret),
		Permission: spec.Permission, RateLimit: spec.RateLimit, CreatedAt: now.Truncate(time.Millisecond),
		ExpiresAt: spec.ExpiresAt.Truncate(time.Millisecond), hash: Hash(secret)}
	record := recordKey(accountID, k.ID)
	record[attrKeyID] = dynamo.S(k.ID)
	record[attrAccount] = dynamo.S(accountID)
	record[attrName] = dynamo.S(k.Name)
	record[attrPrefix] = dynamo.S(k.Prefix)
	record[attrPermission] = dynamo.S(string(k.Permission))
	record[attrRateLimit] = dynamo.N(int64(k.RateLimit))
	record[attrCreatedAt] = dynamo.N(k.CreatedAt.UnixMilli())
	record[attrExpiresAt] = dynamo.N(millis(k.ExpiresAt))
	record[attrKeyHash] = dynamo.S(k.hash)

	lookup := lookupKey(k.hash)
	lookup[attrAccount] = dynamo.S(accountID)
	lookup[attrKeyID] = dynamo.S(k.ID)
	lookup[attrPermission] = dynamo.S(string(k.Permission))
	lookup[attrRateLimit] = dynamo.N(int64(k.RateLimit))
	lookup[attrExpiresAt] = dynamo.N(millis(k.ExpiresAt))
	lookup[attrRevoked] = &types.AttributeValueMemberBOOL{Value: false}
	for name, v := range ratelimit.ParamsFor(k.RateLimit).Attributes() {
		lookup[name] = v
	}
	notThere := aws.String("attribute_not_exists(pk)")
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: record, ConditionExpression: notThere}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: lookup, ConditionExpression: notThere}},
	}
	return Created{Key: k, Secret: secret}, items, nil
}

// Create stores a new key for accountID, counted on the account's tally
// in the same transaction, so that no two creations can together pass
// the caps. It returns a *CapError when the account has no room for the
// key (nothing is written), or the store's error.
func (s *Store) Create(ctx context.Context, accountID string, spec Spec, now time.Time) (Created, error) {
	c, items, err := s.NewItems(accountID, spec, now)
	if err != nil {
		return Created{}, err
	}
	if err := s.transact(ctx, items); err != nil {
		if capErr := capRefusal(err, spec.RateLimit); capErr != nil {
			return Created{}, capErr
		}
		return Created{}, fmt.Errorf("create key for %s: %w", accountID, err)
	}
	return c, nil
}

// transactAttempts bounds the sends of a transaction that loses to
// others on the account's tally (TransactionConflict) or is throttled.
const transactAttempts = 8

// transact writes items in one transaction, sent again (after a pause)
// while it is cancelled only for passing reasons; a cancelled transaction
// applied nothing. It returns the last error.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	for try := 0; ; try++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil || try+1 >= transactAttempts || !dynamo.Transient(dynamo.CancellationReasons(err)) {
			return err
		}
		dynamo.Pause(ctx, try)
	}
}

var recordProjection = strings.Join([]string{attrKeyID, attrAccount, "#n", attrPrefix, "#perm", attrRateLimit,
	attrCreatedAt, attrExpiresAt, attrRevokedAt}, ", ")

// projectionNames escapes the reserved words NAME and PERMISSION.
var projectionNames = map[string]string{"#n": attrName, "#perm": attrPermission}

// Get returns the account's key keyID. It returns ErrNotFound when the
// account has no such key (whether or not another account has), or the
// store's error.
func (s *Store) Get(ctx context.Context, accountID, keyID string) (Key, error) {
	k, err := s.get(ctx, accountID, keyID, false)
	return k, err
}

func (s *Store) get(ctx context.Context, accountID, keyID string, withHash bool) (Key, error) {
	if !ValidKeyID(keyID) {
		return Key{}, ErrNotFound
	}
	in := &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: recordKey(accountID, keyID),
		ConsistentRead: aws.Bool(true)}
	if !withHash {
		in.ProjectionExpression = aws.String(recordProjection)
		in.ExpressionAttributeNames = projectionNames
	}
	out, err := s.db.GetItem(ctx, in)
	if err != nil {
		return Key{}, fmt.Errorf("get key %s: %w", keyID, err)
	}
	if len(out.Item) == 0 {
		return Key{}, ErrNotFound
	}
	return keyFromItem(out.Item)
}

// List returns a page of the account's keys, newest first, and the
// token of the next page (nil on the last). token is a previous page's
// next token or nil. It returns the store's error, or ErrBadToken.
func (s *Store) List(ctx context.Context, accountID string, limit int, token []byte) ([]Key, []byte, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("pk = :pk AND begins_with(sk, :key)"),
		ExpressionAttributeNames: projectionNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": dynamo.S("ACCOUNT#" + accountID), ":key": dynamo.S("KEY#")},
		ProjectionExpression: aws.String(recordProjection + ", sk"),
		ScanIndexForward:     aws.Bool(false),
		Limit:                aws.Int32(int32(limit + 1)),
		ConsistentRead:       aws.Bool(true),
	}
	if len(token) > 0 {
		sk := string(token)
		if !strings.HasPrefix(sk, "KEY#") || !ValidKeyID(strings.TrimPrefix(sk, "KEY#")) {
			return nil, nil, ErrBadToken
		}
		in.ExclusiveStartKey = recordKey(accountID, strings.TrimPrefix(sk, "KEY#"))
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, nil, fmt.Errorf("list keys of %s: %w", accountID, err)
	}
	var next []byte
	items := out.Items
	if len(items) > limit {
		items = items[:limit]
		next = []byte("KEY#" + dynamo.String(items[limit-1], attrKeyID))
	}
	keys := make([]Key, 0, len(items))
	for _, it := range items {
		k, err := keyFromItem(it)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
	}
	return keys, next, nil
}

// ErrBadToken is returned for a next token this API did not give out.
var ErrBadToken = errors.New("apikey: bad page token")

// Revoke revokes the account's key keyID: the record gets revoked_at, the
// lookup item revoked=true and the account's tally gives the key's room
// back, in one transaction, so the authorizer refuses the key from the
// next request on. Revoking a revoked key changes nothing. It returns
// ErrNotFound or the store's error.
func (s *Store) Revoke(ctx context.Context, accountID, keyID string, now time.Time) error {
	k, err := s.get(ctx, accountID, keyID, true)
	if err != nil || k.Revoked() {
		return err
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String(s.table), Key: recordKey(accountID, keyID),
			UpdateExpression:          aws.String("SET revoked_at = :now"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(revoked_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": dynamo.N(now.UnixMilli())}}},
		{Update: &types.Update{TableName: aws.String(s.table), Key: lookupKey(k.hash),
			UpdateExpression:          aws.String("SET revoked = :true"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}}}},
		// The tally never goes below what it counts. One that does not
		// hold the key (written before tallies existed) is left alone:
		// a revocation never waits on the caps.
		{Update: &types.Update{TableName: aws.String(s.table), Key: tallyKey(accountID),
			UpdateExpression:    aws.String("ADD key_count :minus_one, rate_limit_sum :minus_limit"),
			ConditionExpression: aws.String("key_count >= :one AND rate_limit_sum >= :limit"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus_one": dynamo.N(-1), ":one": dynamo.N(1),
				":minus_limit": dynamo.N(-int64(k.RateLimit)), ":limit": dynamo.N(int64(k.RateLimit))}}},
	}
	err = s.transact(ctx, items)
	if reasons := dynamo.CancellationReasons(err); dynamo.ReasonIs(reasons, 2, "ConditionalCheckFailed") &&
		!dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed") {
		err = s.transact(ctx, items[:2])
	}
	if err != nil {
		if reasons := dynamo.CancellationReasons(err); dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed") {
			// Gone, or revoked (or rotated) meanwhile: revoked either way
			// when it still exists.
			if _, err := s.get(ctx, accountID, keyID, false); err != nil {
				return err
			}
			return nil
		}
		return fmt.Errorf("revoke key %s: %w", keyID, err)
	}
	return nil
}

// Rotate replaces the account's key keyID with a new key of the same
// name, permission, rate limit and expiry, and revokes the old one, in one
// transaction. It returns the new key; ErrNotFound; ErrRevoked when the key
// is revoked (or another rotation or revocation won the race); ErrExpired;
// or the store's error.
func (s *Store) Rotate(ctx context.Context, accountID, keyID string, now time.Time) (Created, error) {
	old, err := s.get(ctx, accountID, keyID, true)
	if err != nil {
		return Created{}, err
	}
	switch {
	case old.Revoked():
		return Created{}, ErrRevoked
	case old.Expired(now):
		return Created{}, ErrExpired
	}
	// The new key takes the old one's place on the tally: no change.
	c, items, err := s.newItems(accountID, Spec{Name: old.Name, Permission: old.Permission,
		RateLimit: old.RateLimit, ExpiresAt: old.ExpiresAt}, now)
	if err != nil {
		return Created{}, err
	}
	items = append(items,
		types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: recordKey(accountID, keyID),
			UpdateExpression:    aws.String("SET revoked_at = :now, rotated_to = :new"),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(revoked_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now": dynamo.N(now.UnixMilli()), ":new": dynamo.S(c.ID)}}},
		types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: lookupKey(old.hash),
			UpdateExpression:          aws.String("SET revoked = :true"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}}}},
	)
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		if reasons := dynamo.CancellationReasons(err); reasons != nil && dynamo.ReasonIs(reasons, 2, "ConditionalCheckFailed") {
			return Created{}, ErrRevoked
		}
		return Created{}, fmt.Errorf("rotate key %s: %w", keyID, err)
	}
	return c, nil
}

func keyFromItem(it map[string]types.AttributeValue) (Key, error) {
	k := Key{
		ID:         dynamo.String(it, attrKeyID),
		AccountID:  dynamo.String(it, attrAccount),
		Name:       dynamo.String(it, attrName),
		Prefix:     dynamo.String(it, attrPrefix),
		Permission: caller.Permission(dynamo.String(it, attrPermission)),
		RateLimit:  int(dynamo.Int(it, attrRateLimit)),
		CreatedAt:  fromMillis(dynamo.Int(it, attrCreatedAt)),
		ExpiresAt:  fromMillis(dynamo.Int(it, attrExpiresAt)),
		RevokedAt:  fromMillis(dynamo.Int(it, attrRevokedAt)),
		hash:       dynamo.String(it, attrKeyHash),
	}
	if k.ID == "" || k.AccountID == "" || !k.Permission.Valid() {
		return Key{}, fmt.Errorf("apikey: malformed key record %q", k.ID)
	}
	return k, nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
