package tests

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/refusals"
)

// refused is how many refused requests TestRefusalCost sends of each
// kind; `go test -run TestRefusalCost -refusals 1000 -v ./tests/` gives
// the figures of issue 12 (make test sends fewer).
var refused = flag.Int("refusals", 200, "refused requests of each kind in TestRefusalCost")

// cost is what a stretch of traffic cost: Lambda invocations and
// DynamoDB calls, all functions together.
type cost struct {
	functions, authorizer int64
	writes, reads         int64
	byOp                  map[string]int64
}

// writeOps are the DynamoDB calls billed as writes (a conditional write
// whose condition fails is billed too).
var writeOps = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true,
	"TransactWriteItems": true, "BatchWriteItem": true}

func costOf(a *local.API) cost {
	fns, auth := a.Gateway.Invocations()
	c := cost{authorizer: auth, byOp: map[string]int64{}}
	for _, n := range fns {
		c.functions += n
	}
	for _, ops := range a.StoreCalls() {
		for op, n := range ops {
			c.byOp[op] += n
			if writeOps[op] {
				c.writes += n
			} else {
				c.reads += n
			}
		}
	}
	return c
}

func (c cost) minus(o cost) cost {
	d := cost{functions: c.functions - o.functions, authorizer: c.authorizer - o.authorizer,
		writes: c.writes - o.writes, reads: c.reads - o.reads, byOp: map[string]int64{}}
	for op, n := range c.byOp {
		if n -= o.byOp[op]; n != 0 {
			d.byOp[op] = n
		}
	}
	return d
}

func (c cost) String() string {
	ops := make([]string, 0, len(c.byOp))
	for op, n := range c.byOp {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(ops)
	return fmt.Sprintf("%d function invocations, %d authorizer invocations, %d DynamoDB writes, %d reads (%s)",
		c.functions, c.authorizer, c.writes, c.reads, strings.Join(ops, ", "))
}

// clients is how many requests flood keeps in flight.
const clients = 8

// flood sends n requests from clients concurrent clients; key(i) is the i-th request's
// key. It returns the answers' statuses by count.
func flood(t *testing.T, a *local.API, n int, path string, key func(i int) string, check func(r response)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	next := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := do(t, a, req{method: "GET", path: path, key: key(i)})
				check(r)
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return statuses
}

// What refused requests cost (issue 12): a key over its rate limit is
// answered 429 by the gateway without invoking any API function, and its
// refusals are counted at most once per key and flush interval rather
// than with a write each; unknown keys reach no function either.
func TestRefusalCost(t *testing.T) {
	n := *refused
	a := startAPIAt(t, nil)
	tn := newTenant(t, a, "cost", 0)
	slow, _ := tn.key(t, "READ", map[string]any{"rate_limit_per_minute": 1})
	expect(t, "the one request a minute", do(t, a, req{method: "GET", path: "/api/v1/sessions/quota", key: slow}), 200, "")

	t.Run("rate limited", func(t *testing.T) {
		before, start := costOf(a), time.Now()
		st := flood(t, a, n, "/api/v1/sessions/quota", func(int) string { return slow }, func(r response) {
			if r.status != 429 || r.body["code"] != "rate_limited" || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("over the limit: %d %s", r.status, r.raw)
				return
			}
			if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
			if r.header.Get("RateLimit-Limit") != "1" || r.header.Get("RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Reset") == "" ||
				r.header.Get("X-Request-Id") == "" {
				t.Errorf("429 headers %v", r.header)
			}
		})
		c := costOf(a).minus(before)
		t.Logf("%d rate-limited requests (%v) in %s: %s", n, st, time.Since(start).Round(time.Millisecond), c)
		if c.functions != 0 {
			t.Errorf("%d rate-limited requests invoked %d API functions, want none", n, c.functions)
		}
		// The authorizer's conditional take for the requests in flight
		// before it first saw the key limited (one instance here: the 8
		// clients' first requests), then none until the gate passes; and
		// one write of the key's tally a flush interval at most (the first
		// 429 is written at once).
		if bound := int64(clients) + 1 + int64(time.Since(start)/refusals.DefaultInterval); c.writes > bound {
			t.Errorf("%d rate-limited requests cost %d writes, want at most %d", n, c.writes, bound)
		}
	})

	t.Run("unknown key, repeated", func(t *testing.T) {
		ghost, err := apikey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		before := costOf(a)
		st := flood(t, a, n, "/api/v1/sessions/quota", func(int) string { return ghost }, func(r response) {
			if r.status != 401 {
				t.Errorf("unknown key: %d %s", r.status, r.raw)
			}
		})
		c := costOf(a).minus(before)
		t.Logf("%d requests with one unknown key (%v): %s", n, st, c)
		if c.functions != 0 || c.writes > clients {
			t.Errorf("%d requests of one unknown key cost %s; want no function and a store call per request in flight at first at most", n, c)
		}
	})

	t.Run("unknown keys, all different", func(t *testing.T) {
		ghosts := make([]string, n)
		for i := range ghosts {
			k, err := apikey.Generate()
			if err != nil {
				t.Fatal(err)
			}
			ghosts[i] = k
		}
		before := costOf(a)
		st := flood(t, a, n, "/api/v1/sessions/quota", func(i int) string { return ghosts[i] }, func(r response) {
			if r.status != 401 {
				t.Errorf("unknown key: %d %s", r.status, r.raw)
			}
		})
		c := costOf(a).minus(before)
		t.Logf("%d requests with %d different unknown keys (%v): %s", n, n, st, c)
		if c.functions != 0 || c.writes > int64(n) {
			t.Errorf("%d unknown keys cost %s; want no function and one store call each at most", n, c)
		}
	})
}
