package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/caller"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

func TestValidID(t *testing.T) {
	tests := map[string]bool{account.NewID(): true, "acc_0123456789abcdef": true, "acc_0123456789ABCDEF": true,
		"acc_0123": false, "key_0123456789abcdef": false, "acc_0123456789abcdeg": false, "": false}
	for id, want := range tests {
		t.Run(id, func(t *testing.T) {
			if got := account.ValidID(id); got != want {
				t.Fatalf("ValidID(%q) = %v", id, got)
			}
		})
	}
}

// Create writes the hub, the key record and the lookup item in one
// transaction (one round trip); Exists finds the account.
func TestCreate(t *testing.T) {
	ctx := context.Background()
	keys := apikey.NewStore(fx.DB, fx.Tables.APIKeys)
	s := account.NewStore(fx.DB, fx.Tables.Quotas, keys)
	before := fx.Counter.Count()
	a, k, err := s.Create(ctx, "Acme", apikey.Spec{Name: "admin", Permission: caller.Admin, RateLimit: 60}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := fx.Counter.Count() - before; n != 1 {
		t.Errorf("%d round trips to create an account", n)
	}
	if k.AccountID != a.ID || k.Permission != caller.Admin || apikey.Check(k.Secret) != nil {
		t.Fatalf("admin key %+v", k.Key)
	}
	got, err := keys.Get(ctx, a.ID, k.ID)
	if err != nil || got.Name != "admin" {
		t.Fatalf("key record: %+v %v", got, err)
	}
	lookup, err := fx.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(fx.Tables.APIKeys),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "HASH#" + apikey.Hash(k.Secret)},
			"sk": &types.AttributeValueMemberS{Value: "HASH"}}})
	if err != nil || len(lookup.Item) == 0 {
		t.Fatalf("lookup item: %v", err)
	}
	for _, attr := range []string{"account_id", "key_id", "permission", "rate_limit_per_minute", "expires_at", "revoked", "rl_period"} {
		if _, ok := lookup.Item[attr]; !ok {
			t.Errorf("lookup item lacks %s", attr)
		}
	}
	for id, want := range map[string]bool{a.ID: true, account.NewID(): false, "nonsense": false} {
		ok, err := s.Exists(ctx, id)
		if err != nil || ok != want {
			t.Errorf("Exists(%s) = %v, %v", id, ok, err)
		}
	}
}
