package memdb

import (
	"fmt"
	"testing"
	"time"
)

// tokenDB is a DB with one table and a clock the test moves.
func tokenDB(t testing.TB) (*DB, *time.Time) {
	t.Helper()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := New()
	db.now = func() time.Time { return clock }
	if _, e := db.call("CreateTable", []byte(`{"TableName":"t","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],`+
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`)); e != nil {
		t.Fatal(e)
	}
	return db, &clock
}

// put is one transaction under a client token.
func put(db *DB, token string, pk int) *apiError {
	_, e := db.call("TransactWriteItems", fmt.Appendf(nil,
		`{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"p%d"}}}}],"ClientRequestToken":%q}`, pk, token))
	return e
}

// Tokens are forgotten tokenLife after their transaction once 1<<16 are
// remembered, and not before: the same tokens as walking the whole map.
func TestTokensPruned(t *testing.T) {
	db, clock := tokenDB(t)
	const n = 1<<16 + 10
	for i := range n {
		if i == n/2 {
			*clock = clock.Add(time.Minute)
		}
		if e := put(db, fmt.Sprint("tok-", i), i); e != nil {
			t.Fatal(e)
		}
	}
	if len(db.tokens) != n {
		t.Fatalf("remembered %d tokens, want %d", len(db.tokens), n)
	}
	// Not yet expired: a repeat is still a no-op and a different request
	// under an old token is refused.
	*clock = clock.Add(tokenLife - time.Minute)
	if e := put(db, "tok-0", 0); e != nil {
		t.Fatalf("a repeat of the first transaction: %v", e)
	}
	if e := put(db, "tok-0", 1); e == nil || e.typ != errPrefix+"IdempotentParameterMismatchException" {
		t.Fatalf("a different request under the first token: %v", e)
	}
	// The first half is now older than tokenLife, the second half not.
	*clock = clock.Add(time.Second)
	if e := put(db, "tok-new", 0); e != nil {
		t.Fatal(e)
	}
	if want := n - n/2 + 1; len(db.tokens) != want {
		t.Fatalf("after the first half expired: %d tokens, want %d", len(db.tokens), want)
	}
	if e := put(db, "tok-0", 1); e != nil {
		t.Fatalf("an expired token is a new request: %v", e)
	}
	if e := put(db, fmt.Sprint("tok-", n-1), 0); e == nil || e.typ != errPrefix+"IdempotentParameterMismatchException" {
		t.Fatalf("a different request under a live token: %v", e)
	}
	if got := len(db.tokenLog) - db.tokenHead; got != len(db.tokens) {
		t.Fatalf("token log holds %d, map %d", got, len(db.tokens))
	}
	// Below 1<<16 nothing is pruned, however old.
	*clock = clock.Add(time.Hour)
	if e := put(db, "tok-0", 2); e == nil {
		t.Fatal("a token below the pruning threshold was forgotten")
	}
}

// A transaction's cost does not grow with the tokens remembered (it was a
// walk of the whole token map once there were 1<<16).
func BenchmarkTransactWithManyTokens(b *testing.B) {
	db, clock := tokenDB(b)
	for i := range 1<<16 + 1 {
		if e := put(db, fmt.Sprint("warm-", i), i); e != nil {
			b.Fatal(e)
		}
	}
	*clock = clock.Add(time.Second)
	b.ResetTimer()
	for i := range b.N {
		if e := put(db, fmt.Sprint("tok-", i), i); e != nil {
			b.Fatal(e)
		}
	}
}
