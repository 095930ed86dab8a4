package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
)

// stored counts what the table holds for an account: key records, lookup
// items that are not revoked, and the tally's figures.
type stored struct{ records, lookups, tallyKeys, tallySum int64 }

func storedFor(t *testing.T, db *dynamodb.Client, table, accountID string) stored {
	t.Helper()
	ctx := context.Background()
	var st stored
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start,
			ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			pk, sk := dynamo.String(it, "pk"), dynamo.String(it, "sk")
			switch {
			case pk == "ACCOUNT#"+accountID && sk == "KEYS":
				st.tallyKeys, st.tallySum = dynamo.Int(it, "key_count"), dynamo.Int(it, "rate_limit_sum")
			case pk == "ACCOUNT#"+accountID && len(sk) > 4 && sk[:4] == "KEY#":
				if _, revoked := it["revoked_at"]; !revoked {
					st.records++
				}
			case sk == "HASH" && dynamo.String(it, "account_id") == accountID && !dynamo.BoolOf(it, "revoked"):
				st.lookups++
			}
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return st
		}
	}
}

func (h *harness) stored(t *testing.T, a account) stored {
	return storedFor(t, fx.DB, fx.Tables.APIKeys, a.id)
}

// expectCap checks a 409 key_limit_reached with the account's figures.
func expectCap(t *testing.T, what string, r response, keys, sum int, field string) {
	t.Helper()
	if r.status != 409 || r.str("code") != "key_limit_reached" || r.num("keys") != float64(keys) ||
		r.num("rate_limit_sum") != float64(sum) || r.num("max_keys") != config.MaxKeysPerAccount ||
		r.num("max_rate_limit_sum") != config.MaxAccountRateLimitPerMinute || r.str("field") != field {
		t.Fatalf("%s: want 409 key_limit_reached with keys %d, sum %d, field %q; got %d %s", what, keys, sum, field, r.status, r.raw)
	}
}

// An account holds at most MaxKeysPerAccount keys that are not revoked:
// the next creation is refused and writes nothing; a rotation at the cap
// takes the old key's place; a revocation gives one place back, once.
func TestKeyCountCap(t *testing.T) {
	a := h.newAccount(t)
	var ids []string
	for range config.MaxKeysPerAccount - 1 {
		_, id := h.newKey(t, a, map[string]any{"permission": "READ"})
		ids = append(ids, id)
	}
	full := stored{records: config.MaxKeysPerAccount, lookups: config.MaxKeysPerAccount,
		tallyKeys: config.MaxKeysPerAccount, tallySum: 60 * config.MaxKeysPerAccount}
	if st := h.stored(t, a); st != full {
		t.Fatalf("after %d keys the table holds %+v, want %+v", config.MaxKeysPerAccount, st, full)
	}
	r := h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "one too many", "permission": "READ", "rate_limit_per_minute": 1})
	expectCap(t, "a key past the count", r, config.MaxKeysPerAccount, 60*config.MaxKeysPerAccount, "")
	if st := h.stored(t, a); st != full {
		t.Fatalf("a refused creation wrote: the table holds %+v, want %+v", st, full)
	}

	if r := h.do(t, "POST", "/api/v1/keys/"+ids[0]+"/rotate", a.admin, nil); r.status != 201 {
		t.Fatalf("rotation at the cap: %d %s", r.status, r.raw)
	}
	if st := h.stored(t, a); st != full {
		t.Fatalf("after a rotation at the cap the table holds %+v, want %+v", st, full)
	}

	victim := ids[1]
	if r := h.do(t, "DELETE", "/api/v1/keys/"+victim, a.admin, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	// Revoking it again changes nothing: the place is given back once.
	if r := h.do(t, "DELETE", "/api/v1/keys/"+victim, a.admin, nil); r.status != 204 {
		t.Fatalf("revoke again: %d %s", r.status, r.raw)
	}
	freed := stored{records: full.records - 1, lookups: full.lookups - 1, tallyKeys: full.tallyKeys - 1, tallySum: full.tallySum - 60}
	if st := h.stored(t, a); st != freed {
		t.Fatalf("after a revocation the table holds %+v, want %+v", st, freed)
	}
	h.newKey(t, a, map[string]any{"permission": "READ"})
	r = h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "again", "permission": "READ"})
	expectCap(t, "a key past the count after one revocation and one creation", r, config.MaxKeysPerAccount, 60*config.MaxKeysPerAccount, "")
}

// The sum of an account's rate limits is at most
// MaxAccountRateLimitPerMinute: a key that fills it exactly is created,
// one more request a minute is not; revoking gives the room back.
func TestKeyRateSumCap(t *testing.T) {
	a := h.newAccount(t)
	room := config.MaxAccountRateLimitPerMinute - 60
	_, big := h.newKey(t, a, map[string]any{"permission": "READ", "rate_limit_per_minute": room})
	r := h.do(t, "POST", "/api/v1/keys", a.admin, map[string]any{"name": "one more", "permission": "READ", "rate_limit_per_minute": 1})
	expectCap(t, "one request a minute past the sum", r, 2, config.MaxAccountRateLimitPerMinute, "rate_limit_per_minute")
	want := stored{records: 2, lookups: 2, tallyKeys: 2, tallySum: config.MaxAccountRateLimitPerMinute}
	if st := h.stored(t, a); st != want {
		t.Fatalf("a refused creation wrote: the table holds %+v, want %+v", st, want)
	}
	if r := h.do(t, "DELETE", "/api/v1/keys/"+big, a.admin, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	h.newKey(t, a, map[string]any{"permission": "READ", "rate_limit_per_minute": room})
}

// Concurrent creations never pass either cap, on moto as it is (one
// request at a time) and under the contention mode (DynamoDB's
// TransactionConflict on the tally): exactly as many keys as fit are
// created, whatever the interleaving, and the tally matches the table.
func TestConcurrentCreationsNeverPassTheCaps(t *testing.T) {
	backends := []struct {
		name  string
		db    func(t *testing.T) (*dynamodb.Client, string)
		tries int
	}{
		{"moto", func(*testing.T) (*dynamodb.Client, string) { return fx.DB, fx.Tables.APIKeys }, 1},
		{"contention", contentionStore, 20},
	}
	cases := []struct {
		name  string
		limit int
		want  int
	}{
		{"count", 60, config.MaxKeysPerAccount},
		{"sum", 1500, config.MaxAccountRateLimitPerMinute / 1500},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db, table := b.db(t)
			keys := apikey.NewStore(db, table)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					accountID := "acc_" + newID()
					const tries = 30
					var (
						wg              sync.WaitGroup
						mu              sync.Mutex
						created, capped int
						failed          []error
					)
					for i := range tries {
						wg.Add(1)
						go func() {
							defer wg.Done()
							spec := apikey.Spec{Name: fmt.Sprintf("k%d", i), Permission: caller.Read, RateLimit: tc.limit}
							var err error
							// A client sends a creation the store could
							// not finish again, as it would a 503.
							for try := 0; try < b.tries; try++ {
								if _, err = keys.Create(context.Background(), accountID, spec, time.Now()); err == nil || errors.As(err, new(*apikey.CapError)) {
									break
								}
							}
							mu.Lock()
							defer mu.Unlock()
							switch {
							case err == nil:
								created++
							case errors.As(err, new(*apikey.CapError)):
								capped++
							default:
								failed = append(failed, err)
							}
						}()
					}
					wg.Wait()
					if len(failed) > 0 {
						t.Fatalf("%d creations failed: %v", len(failed), failed[0])
					}
					want := stored{records: int64(tc.want), lookups: int64(tc.want), tallyKeys: int64(tc.want), tallySum: int64(tc.want * tc.limit)}
					if st := storedFor(t, db, table, accountID); created != tc.want || capped != tries-tc.want || st != want {
						t.Fatalf("%d concurrent creations of %d a minute: %d created, %d refused; the table holds %+v; want %d created, %+v",
							tries, tc.limit, created, capped, st, tc.want, want)
					}
				})
			}
		})
	}
}

// contentionStore starts a moto of its own in the contention mode (as
// DynamoDB: a transaction on an item another one wrote within 20 ms is
// cancelled TransactionConflict) with an ApiKeysTable.
func contentionStore(t *testing.T) (*dynamodb.Client, string) {
	t.Setenv("MOTO_CONTENTION", "conflict_ms=20,wcu=1000")
	ctx := context.Background()
	srv, err := localdb.Start(ctx, fx.Root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	sends := dynamo.NewCounter()
	t.Cleanup(func() { t.Logf("%d round trips to the contention store", sends.Count()) })
	db, err := dynamo.NewClient(ctx, dynamo.Options{Region: "us-east-1", Endpoint: srv.Endpoint, HTTPClient: sends})
	if err != nil {
		t.Fatal(err)
	}
	const table = "keys-contention"
	if err := localdb.CreateTables(ctx, db, fx.Template, localdb.TableNames{"ApiKeysTable": table}); err != nil {
		t.Fatal(err)
	}
	return db, table
}

// Concurrent revocations of one key give its room back once: each reads
// the key unrevoked, and only one's condition holds at the write.
func TestConcurrentRevocationsGiveRoomBackOnce(t *testing.T) {
	keys := apikey.NewStore(fx.DB, fx.Tables.APIKeys)
	ctx := context.Background()
	accountID := "acc_" + newID()
	var ids []string
	for i := range 2 {
		c, err := keys.Create(ctx, accountID, apikey.Spec{Name: fmt.Sprintf("k%d", i), Permission: caller.Read, RateLimit: 100}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- keys.Revoke(ctx, accountID, ids[0], time.Now())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
	}
	want := stored{records: 1, lookups: 1, tallyKeys: 1, tallySum: 100}
	if st := storedFor(t, fx.DB, fx.Tables.APIKeys, accountID); st != want {
		t.Fatalf("after 10 concurrent revocations of one of 2 keys the table holds %+v, want %+v", st, want)
	}
}

// A key the tally does not hold (an account from before tallies) is
// still revoked at once, and the tally never goes below zero.
func TestRevokeWithoutTally(t *testing.T) {
	keys := apikey.NewStore(fx.DB, fx.Tables.APIKeys)
	ctx := context.Background()
	accountID := "acc_" + newID()
	c, err := keys.Create(ctx, accountID, apikey.Spec{Name: "old", Permission: caller.Read, RateLimit: 100}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(fx.Tables.APIKeys),
		Key: dynamo.Key("ACCOUNT#"+accountID, "KEYS")}); err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, accountID, c.ID, time.Now()); err != nil {
		t.Fatalf("revoke a key no tally holds: %v", err)
	}
	if st := storedFor(t, fx.DB, fx.Tables.APIKeys, accountID); st != (stored{}) {
		t.Fatalf("after revoking the account's only key the table holds %+v, want nothing counted", st)
	}
}
