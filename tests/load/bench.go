package load

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Scenario is one whole benchmark: the API on a backend, a population, a
// run and its audit.
type Scenario struct {
	Name    string
	Backend Backend
	Plan    Plan
	Run     Options
	// TokenLimit is SESSION_TOKEN_LIMIT: small enough that sessions are
	// spent and restarted during the run, so that session starts and the
	// exhausting charge are part of the load.
	TokenLimit int64
	Logs       io.Writer
}

// Report is a scenario's outcome.
type Report struct {
	Scenario Scenario
	Stats    Stats
	Audit    *Audit
	// DB is the API's DynamoDB calls during the run (count and time
	// spent inside them).
	DB DBTime
	// CPU is this process's CPU time during the run (API, load generator
	// and, with Memory, the store; not moto's).
	CPU    time.Duration
	Result *Result
	// Starts is the sessions started during the run.
	Starts int
}

// Failed reports whether the run had errors or the audit mismatches.
func (r *Report) Failed() bool {
	return r.Stats.Failed > 0 || r.Audit == nil || len(r.Audit.Mismatches) > 0
}

// DBPerRequest is the time spent inside DynamoDB calls per answered
// request.
func (r *Report) DBPerRequest() time.Duration {
	if r.Stats.All.Count == 0 {
		return 0
	}
	return r.DB.Total / time.Duration(r.Stats.All.Count)
}

// OwnPerRequest is the mean latency less the DynamoDB time per request:
// the time each request spends in the gateway, the authorizer, the
// functions and the SDK (and in the load generator's client).
func (r *Report) OwnPerRequest() time.Duration { return r.Stats.All.Mean - r.DBPerRequest() }

// CPUPerRequest is this process's CPU time per answered request.
func (r *Report) CPUPerRequest() time.Duration {
	if r.Stats.All.Count == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Stats.All.Count)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Bench runs a scenario from start to end: it boots the API, sets up the
// population through it, runs the load, audits the tables and stops the
// API. It returns an error when the scenario could not be run at all;
// failures of the run itself are in the report.
func Bench(ctx context.Context, sc Scenario) (*Report, error) {
	env := map[string]string{}
	if sc.TokenLimit > 0 {
		env["SESSION_TOKEN_LIMIT"] = strconv.FormatInt(sc.TokenLimit, 10)
	}
	t, err := StartTarget(ctx, TargetOptions{Backend: sc.Backend, Env: env, Logs: sc.Logs})
	if err != nil {
		return nil, fmt.Errorf("start the API on %s: %w", sc.Backend, err)
	}
	defer t.Stop()
	c, err := NewClient(t.API.URL, sc.Run.Workers+sc.Plan.LimitedKey+16)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	fx, err := Setup(ctx, c, t.API.MasterKey, sc.Plan)
	if err != nil {
		return nil, fmt.Errorf("set up the population: %w", err)
	}
	singles, batches := Bodies(candlesPerCall)
	before, cpu0 := t.Timer.Snapshot(), cpuTime()
	res, err := Run(ctx, c, fx, singles, batches, sc.Run)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	rep := &Report{Scenario: sc, Result: res, CPU: cpuTime() - cpu0, DB: t.Timer.Since(before), Stats: Summarize(res)}
	for _, s := range res.Starts {
		rep.Starts += len(s)
	}
	// The authorizer writes its tally of 429s at most once per key and
	// interval; write what it holds, as an instance about to stop would.
	if left := t.API.Flush(ctx); left > 0 {
		return rep, fmt.Errorf("audit: %d rate-limited requests could not be counted", left)
	}
	rep.Audit, err = AuditRun(ctx, t.DB, t.API.Config.Tables, res)
	if err != nil {
		return rep, fmt.Errorf("audit: %w", err)
	}
	return rep, nil
}

// String is the scenario's report.
func (r *Report) String() string {
	var b strings.Builder
	sc := r.Scenario
	limited := ""
	if sc.Plan.LimitedKey > 0 {
		limited = fmt.Sprintf(" + 1 key at %d/min", sc.Plan.LimitedKey)
	}
	fmt.Fprintf(&b, "%s — %s\n  %d workers for %s; %d accounts x %d keys at %d/min%s; session token limit %d\n",
		sc.Name, sc.Backend, sc.Run.Workers, sc.Run.Duration, sc.Plan.Accounts, sc.Plan.KeysPerAccount, sc.Plan.KeyLimit,
		limited, sc.TokenLimit)
	b.WriteString(r.Stats.String())
	if n := r.Stats.All.Count; n > 0 {
		fmt.Fprintf(&b, "  DynamoDB: %d calls (%.2f per request), %s inside them per request; ours (mean latency less that): %s per request\n",
			r.DB.Calls, float64(r.DB.Calls)/float64(n), ms(r.DBPerRequest()), ms(r.OwnPerRequest()))
		fmt.Fprintf(&b, "    %s\n", r.DB)
		fmt.Fprintf(&b, "  CPU of this process (API + load generator%s): %s per request\n",
			map[bool]string{true: " + memdb", false: ""}[sc.Backend == Memory], ms(r.CPUPerRequest()))
	}
	fmt.Fprintf(&b, "  sessions started during the run: %d; largest meta.tokens %d\n", r.Starts, r.Result.MaxTokens)
	for _, e := range r.Result.Errors {
		fmt.Fprintf(&b, "    ERROR %s\n", e)
	}
	if r.Audit != nil {
		b.WriteString(r.Audit.String())
	}
	return b.String()
}
