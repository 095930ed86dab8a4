package load

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// short is the make test version of the soak: a few seconds, modest
// concurrency, every check of the long one. tokenLimit is small enough
// that sessions are spent and restarted within the run at the backend's
// pace.
func short(b Backend, d time.Duration, tokenLimit int64) Scenario {
	return Scenario{
		Name: "short load (" + d.String() + ")", Backend: b, Plan: DefaultPlan(),
		// However slow the machine, the run goes on (a minute more at
		// most) until it has covered the mix and a session restart.
		Run:        Options{Workers: 8, Duration: d, Seed: 1, Cover: 100, Overtime: time.Minute},
		TokenLimit: tokenLimit,
	}
}

func runShort(t *testing.T, sc Scenario) *Report {
	t.Helper()
	rep, err := Bench(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	s := rep.Stats
	if s.Failed > 0 {
		t.Errorf("%d requests failed", s.Failed)
	}
	if n := len(rep.Audit.Mismatches); n > 0 {
		t.Errorf("%d mismatches in the audit", n)
	}
	if s.Limited == 0 {
		t.Error("the limited key was never limited")
	}
	// The authorizer rewrites a key's lookup item on every request; it
	// must not grow with the key's traffic (one write unit a take).
	if rep.Audit.LookupItem > 1024 {
		t.Errorf("a key lookup item is %d bytes (admitted %.1f/s): more than one write unit a request",
			rep.Audit.LookupItem, rep.Audit.LookupItemRate)
	}
	// The run goes on until it has covered the mix (Options.Cover), so
	// these hold on a slow machine too.
	for _, m := range rep.Result.Covered(s) {
		t.Errorf("the run did not cover the load: %s", m)
	}
	return rep
}

// The API holds under load on moto: no errors, every figure adds up.
func TestLoadOnMoto(t *testing.T) {
	runShort(t, short(Moto, 8*time.Second, 60_000))
}

// The same under the store's contention mode (infra/moto/server.py,
// MOTO_CONTENTION): transactions on an item written within the last 20 ms
// conflict, and each item takes 50 write units a second, scaled down from
// DynamoDB's 1,000 so that this machine's load reaches it. Every figure
// still adds up: conflicts and throttling are retried, never half-applied.
func TestLoadOnMotoUnderContention(t *testing.T) {
	t.Setenv("MOTO_CONTENTION", "conflict_ms=20,wcu=50")
	runShort(t, short(Moto, 8*time.Second, 60_000))
}

func TestCheckLimit(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	at := func(ts ...int) []Interval {
		var out []Interval
		for _, x := range ts {
			out = append(out, Interval{Send: ms(x), Recv: ms(x + 5)})
		}
		return out
	}
	repeat := func(x, n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = x
		}
		return out
	}
	// A limit of 6 a minute: T = 10 s.
	tests := []struct {
		name      string
		adm       []Interval
		violation bool
		minute    int
	}{
		{"a burst of N", at(repeat(0, 6)...), false, 6},
		{"a burst of N+1", at(repeat(0, 7)...), true, 7},
		{"N, then one per T", at(append(repeat(0, 6), 10_000, 20_000, 30_000)...), false, 9},
		{"N, then one a little early", at(append(repeat(0, 6), 9_000)...), true, 7},
		// GCRA lets 2N-1 through in the first minute from a standing
		// start; the limit holds as a rate, not per sliding window.
		{"a full first minute", at(append(repeat(0, 6), 10_000, 20_000, 30_000, 40_000, 50_000)...), false, 11},
		{"two bursts a minute apart", at(append(repeat(0, 6), repeat(60_100, 6)...)...), false, 6},
		{"two bursts 50 s apart", at(append(repeat(0, 6), repeat(50_000, 6)...)...), true, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lc := CheckLimit(tc.adm, 6)
			if (lc.Violation != "") != tc.violation || lc.MaxInMinute != tc.minute {
				t.Fatalf("violation %q, max in a minute %d; want violation %v, %d", lc.Violation, lc.MaxInMinute, tc.violation, tc.minute)
			}
		})
	}
	// Uncertain intervals never make a violation: requests answered a
	// while after the window could have been admitted after it.
	slow := []Interval{}
	for i := 0; i < 8; i++ {
		slow = append(slow, Interval{Send: 0, Recv: ms(20_000 * i)})
	}
	if lc := CheckLimit(slow, 6); lc.Violation != "" {
		t.Fatalf("slow answers: %s", lc.Violation)
	}
}

func TestCheckBurst(t *testing.T) {
	rec := func(start, lat int, status int16) Record {
		return Record{Start: time.Duration(start) * time.Millisecond, Latency: time.Duration(lat) * time.Millisecond, Status: status, Reached: true}
	}
	burst := func(admitted int) []Record {
		var out []Record
		for i := 0; i < 30; i++ {
			st := int16(200)
			if i >= admitted {
				st = 429
			}
			out = append(out, rec(i, 50, st))
		}
		return out
	}
	exact, over, under := burst(20), burst(21), burst(19)
	if bc := CheckBurst(exact, 20); bc.Problem != "" || bc.Admitted != 20 {
		t.Fatalf("exact burst: %+v", bc)
	}
	if bc := CheckBurst(over, 20); bc.Problem == "" {
		t.Fatalf("21 of a burst passed a limit of 20: %+v", bc)
	}
	if bc := CheckBurst(under, 20); bc.Problem == "" {
		t.Fatalf("19 of a burst passed a limit of 20: %+v", bc)
	}
}

func TestClientStaysOnLoopback(t *testing.T) {
	for _, base := range []string{"http://localhost:3000", "http://10.0.0.1:80", "https://127.0.0.1:443", "http://127.0.0.1", "ftp://127.0.0.1:21"} {
		if _, err := NewClient(base, 1); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: %v", base, err)
		}
	}
	c, err := NewClient("http://127.0.0.1:1", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Even a redirect-free request to another host is refused at the
	// dialer.
	c.base = "http://192.0.2.1:80"
	if _, err := c.Do(context.Background(), http.MethodGet, "/", "", false, "", nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("dialled a non-loopback address: %v", err)
	}
}

func TestRunRefusesUnboundedOptions(t *testing.T) {
	fx := &Fixture{Keys: []*Key{{Account: &Account{}}}}
	b := []Body{{}}
	for _, o := range []Options{{Workers: 0, Duration: time.Second}, {Workers: MaxWorkers + 1, Duration: time.Second},
		{Workers: 1, Duration: 0}, {Workers: 1, Duration: MaxDuration + time.Second}} {
		if _, err := Run(context.Background(), nil, fx, b, b, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestEarlyRefusals(t *testing.T) {
	rec := func(start int, status int16) Record {
		return Record{Start: time.Duration(start) * time.Millisecond, Latency: time.Millisecond, Status: status, Reached: true}
	}
	var recs []Record
	for i := 0; i < 5; i++ {
		recs = append(recs, rec(i, 200))
	}
	recs = append(recs, rec(10, 429))
	if n := EarlyRefusals(recs, 6); n != 1 {
		t.Fatalf("a 429 after 5 requests under a limit of 6: %d early", n)
	}
	recs = append(recs[:5], rec(6, 200), rec(10, 429))
	if n := EarlyRefusals(recs, 6); n != 0 {
		t.Fatalf("a 429 after 6 requests under a limit of 6: %d early", n)
	}
}

func TestAssignKeys(t *testing.T) {
	var keys []*Key
	for i := 0; i < 24; i++ {
		keys = append(keys, &Key{Index: i})
	}
	for _, n := range []int{1, 4, 8, 24, 30} {
		used := map[int]int{}
		for _, mine := range AssignKeys(keys, n) {
			if len(mine) == 0 {
				t.Fatalf("%d workers: a worker without keys", n)
			}
			for _, k := range mine {
				used[k.Index]++
			}
		}
		if len(used) != 24 {
			t.Errorf("%d workers use %d of 24 keys", n, len(used))
		}
	}
}
