// Package account creates accounts (the hub item in the QuotasTable, see
// DESIGN.md) together with their first ADMIN key, and tells whether an
// account exists.
package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// Account is a customer account.
type Account struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// DB is the DynamoDB calls the store makes.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store creates and finds accounts.
type Store struct {
	db    DB
	table string
	keys  *apikey.Store
}

var _ httpapi.Accounts = (*Store)(nil)

// NewStore returns a store over the QuotasTable named table; keys makes
// the admin key.
func NewStore(db DB, table string, keys *apikey.Store) *Store {
	return &Store{db: db, table: table, keys: keys}
}

// NewID returns a fresh account id: "acc_" + 16 random hex digits.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "acc_" + hex.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an account id.
func ValidID(s string) bool {
	if len(s) != 20 || s[:4] != "acc_" {
		return false
	}
	_, err := hex.DecodeString(s[4:])
	return err == nil
}

func hubKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + id},
		"sk": &types.AttributeValueMemberS{Value: "ACCOUNT"},
	}
}

// Create makes an account named name and its first key (admin, normally
// an ADMIN spec) in one transaction: the hub item (no quota yet) and the
// key's record and lookup item. It returns the store's error.
func (s *Store) Create(ctx context.Context, name string, admin apikey.Spec, now time.Time) (Account, apikey.Created, error) {
	a := Account{ID: NewID(), Name: name, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	key, items, err := s.keys.NewItems(a.ID, admin, now)
	if err != nil {
		return Account{}, apikey.Created{}, err
	}
	n := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	hub := hubKey(a.ID)
	hub["account_id"] = &types.AttributeValueMemberS{Value: a.ID}
	hub["name"] = &types.AttributeValueMemberS{Value: a.Name}
	hub["created_at"] = n(a.CreatedAt.UnixMilli())
	hub["purchased"], hub["used"], hub["remaining"] = n(0), n(0), n(0)
	hub["gsi1pk"] = &types.AttributeValueMemberS{Value: "ACCOUNT"}
	hub["gsi1sk"] = &types.AttributeValueMemberS{Value: a.ID}
	items = append([]types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: hub,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}}, items...)
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return Account{}, apikey.Created{}, fmt.Errorf("create account: %w", err)
	}
	return a, key, nil
}

// Exists reports whether the account exists. It returns the store's
// error.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	if !ValidID(id) {
		return false, nil
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: hubKey(id),
		ProjectionExpression: aws.String("pk"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("find account %s: %w", id, err)
	}
	return len(out.Item) > 0, nil
}

type createRequest struct {
	Name *string `json:"name"`
}

type createdView struct {
	AccountID string             `json:"account_id"`
	Name      string             `json:"name"`
	CreatedAt string             `json:"created_at"`
	AdminKey  apikey.CreatedView `json:"admin_key"`
}

// AdminKeyName names every account's first key.
const AdminKeyName = "admin"

// Handler is POST /api/v1/accounts (master key only): the account and
// its first ADMIN key, limited to rateLimit requests a minute.
func Handler(s *Store, rateLimit int, now func() time.Time) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req createRequest
		if err := httpapi.DecodeJSON(r, &req, false); err != nil {
			return err
		}
		if req.Name == nil {
			return problem.Invalid("name", "name is required")
		}
		if err := apikey.CheckName("name", *req.Name); err != nil {
			return err
		}
		a, key, err := s.Create(r.Context(), *req.Name, apikey.Spec{Name: AdminKeyName, Permission: caller.Admin,
			RateLimit: rateLimit}, now())
		if err != nil {
			return apikey.Problem(err)
		}
		return httpapi.WriteJSON(w, http.StatusCreated, createdView{AccountID: a.ID, Name: a.Name,
			CreatedAt: httpapi.Time(a.CreatedAt), AdminKey: apikey.CreatedViewOf(key)})
	}
}
