package quota_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/quota"
)

// putAccounts batch-writes n account hubs (as account creation writes
// them) into table and returns their ids.
func putAccounts(t *testing.T, table string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var reqs []types.WriteRequest
	for i := range ids {
		var b [8]byte
		_, _ = rand.Read(b[:])
		ids[i] = "acc_" + hex.EncodeToString(b[:])
		s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
		zero := &types.AttributeValueMemberN{Value: "0"}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": s("ACCOUNT#" + ids[i]), "sk": s("ACCOUNT"), "gsi1pk": s("ACCOUNT"), "gsi1sk": s(ids[i]),
			"account_id": s(ids[i]), "name": s("bulk"), "purchased": zero, "used": zero, "remaining": zero}}})
	}
	for len(reqs) > 0 {
		batch := reqs[:min(25, len(reqs))]
		reqs = reqs[len(batch):]
		for len(batch) > 0 {
			out, err := fx.DB.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{table: batch}})
			if err != nil {
				t.Fatal(err)
			}
			batch = out.UnprocessedItems[table]
		}
	}
	return ids
}

// The reconciler finishes at any number of accounts within its timeout:
// over 10,000 accounts, runs whose time allows about 3,000 accounts each
// stop there, save where they stopped, the next one goes on from there,
// and when the cycle is complete every account was taken exactly once,
// none skipped; the next cycle starts again from the first account. The
// runs' clock moves a millisecond an account, not with moto's pace (a GSI
// page costs moto time proportional to the whole table, 1 to 4 s here,
// varying with the machine's load), so where they stop is exact;
// TestReconcileStopsWithinAPage runs against the real clock.
func TestReconcileSweepsTenThousandAccountsAcrossRuns(t *testing.T) {
	e := newEnv(t, nil)
	ids := putAccounts(t, e.d.Config.Tables.Quotas, 10_000)
	sort.Strings(ids)
	r := quota.NewReconciler(e.d.Quotas(), e.d.Sessions(), e.d.Metrics, e.d.Now)
	r.PageSize = 2500
	const perRun = 3000 // accounts, at a millisecond each
	var (
		mu    sync.Mutex
		now   time.Time
		seen  = map[string]int{}
		order []string
	)
	r.SetWallClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	count := func(ctx context.Context, id string) (bool, int, error) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		seen[id]++
		order = append(order, id)
		return false, 0, nil
	}
	run := func(cycle int64, accounts int) quota.Report {
		t.Helper()
		// The deadline is the real one, far off: the margin leaves the
		// run `accounts` milliseconds of its clock.
		r.Margin = time.Hour - time.Duration(accounts)*time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		mu.Lock()
		now = time.Now()
		mu.Unlock()
		rep, err := r.SweepWith(ctx, count)
		if err != nil || rep.Cycle != cycle {
			t.Fatalf("run: %+v %v, want cycle %d", rep, err, cycle)
		}
		if !rep.Complete && (rep.Accounts < accounts || rep.Accounts > accounts+r.Workers) {
			t.Fatalf("a run with time for %d accounts stopped after %d", accounts, rep.Accounts)
		}
		return rep
	}
	runs := 0
	for done := false; !done; {
		if runs++; runs > 10 {
			t.Fatalf("no end after %d runs: %d accounts seen", runs, len(seen))
		}
		done = run(1, perRun).Complete
	}
	if runs < 4 {
		t.Fatalf("10,000 accounts in %d runs of %d", runs, perRun)
	}
	if len(seen) != len(ids) {
		t.Fatalf("cycle 1: %d accounts taken, %d exist", len(seen), len(ids))
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("cycle 1: account %s taken %d times", id, seen[id])
		}
	}
	// The next run starts cycle 2 from the first account.
	order = nil
	rep := run(2, 100)
	if rep.Complete {
		t.Fatalf("cycle 2's first run: %+v", rep)
	}
	sort.Strings(order)
	for i, id := range order {
		if id != ids[i] || seen[id] != 2 {
			t.Fatalf("cycle 2's first run took %s (seen %d) as its account %d, want %s", id, seen[id], i, ids[i])
		}
	}
}

// A run stops within a page when its time is up: the accounts it took
// are a prefix of the page, the checkpoint names the last of them, and
// the next run takes the rest, each account once.
func TestReconcileStopsWithinAPage(t *testing.T) {
	e := newEnv(t, nil)
	ids := putAccounts(t, e.d.Config.Tables.Quotas, 40)
	sort.Strings(ids)
	r := quota.NewReconciler(e.d.Quotas(), e.d.Sessions(), e.d.Metrics, e.d.Now)
	r.Workers, r.Margin = 2, time.Second // a margin ample for the save on a busy machine
	var (
		mu    sync.Mutex
		order []string
	)
	slow := func(ctx context.Context, id string) (bool, int, error) {
		time.Sleep(40 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		order = append(order, id)
		return false, 0, nil
	}
	var runs []quota.Report
	for len(runs) == 0 || !runs[len(runs)-1].Complete {
		if len(runs) > 100 {
			t.Fatalf("no end after %d runs", len(runs))
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.Margin+400*time.Millisecond)
		rep, err := r.SweepWith(ctx, slow)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, rep)
	}
	if len(runs) < 2 || runs[0].Accounts == 0 || runs[0].Accounts >= len(ids) {
		t.Fatalf("runs %+v: the first did not stop within its one page of %d", runs, len(ids))
	}
	taken := append([]string(nil), order...)
	sort.Strings(taken)
	if len(taken) != len(ids) {
		t.Fatalf("%d accounts taken, %d exist", len(taken), len(ids))
	}
	for i := range ids {
		if taken[i] != ids[i] {
			t.Fatalf("account %d taken: %s, want %s (each once)", i, taken[i], ids[i])
		}
	}
	first := append([]string(nil), order[:runs[0].Accounts]...)
	sort.Strings(first)
	if !slices.Equal(first, ids[:runs[0].Accounts]) {
		t.Fatalf("the first run took %v, not the first %d accounts", first, runs[0].Accounts)
	}
}

// A run whose checkpoint another run moved meanwhile stops without
// writing over it: the other run's progress stands.
func TestReconcileLeavesAMovedCheckpoint(t *testing.T) {
	e := newEnv(t, nil)
	putAccounts(t, e.d.Config.Tables.Quotas, 10)
	r := quota.NewReconciler(e.d.Quotas(), e.d.Sessions(), e.d.Metrics, e.d.Now)
	r.PageSize = 5
	release, started := make(chan struct{}), make(chan struct{})
	var once sync.Once
	held := func(ctx context.Context, id string) (bool, int, error) {
		once.Do(func() { close(started); <-release })
		return false, 0, nil
	}
	type result struct {
		rep quota.Report
		err error
	}
	slow := make(chan result)
	go func() {
		rep, err := r.SweepWith(context.Background(), held)
		slow <- result{rep, err}
	}()
	<-started
	fast, err := r.SweepWith(context.Background(), func(context.Context, string) (bool, int, error) { return false, 0, nil })
	if err != nil || !fast.Complete || fast.Accounts != 10 {
		t.Fatalf("the other run: %+v %v", fast, err)
	}
	close(release)
	res := <-slow
	if res.err != nil || res.rep.Complete || res.rep.Accounts != 5 {
		t.Fatalf("the held run: %+v %v, want it stopped after its first page", res.rep, res.err)
	}
	got, err := fx.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.d.Config.Tables.Quotas),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "RECONCILE"},
			"sk": &types.AttributeValueMemberS{Value: "CHECKPOINT"}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := got.Item["cycle"].(*types.AttributeValueMemberN); c == nil || c.Value != "2" {
		t.Fatalf("checkpoint %v, want the finished cycle's (cycle 2 from the start)", got.Item)
	}
	if a, _ := got.Item["after"].(*types.AttributeValueMemberS); a == nil || a.Value != "" {
		t.Fatalf("checkpoint %v, want the finished cycle's (cycle 2 from the start)", got.Item)
	}
}
