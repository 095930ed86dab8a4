// Package load drives the local API (package infra/local) over loopback
// with a realistic mix from many accounts, keys and sessions, records
// every request's latency and status, and audits the tables afterwards:
// quota, session tokens, usage counters and per-key rate limits must add
// up exactly.
//
// `make test` runs a short version (TestLoad*); `make soak` runs the long
// one (cmd/soak) once against moto and once with the store calls answered
// from memory (package memdb), so the database's share of each request is
// separated from the project's own.
//
// Every run is bounded: a duration (at most MaxDuration), a request cap,
// and a worker cap; it stops by itself.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Op is a kind of request in the mix.
type Op uint8

// The mix.
const (
	OpIndicator Op = iota // POST /indicators/{name}, 500 candles (rows, columns or CSV)
	OpBatch               // POST /indicators/batch, 500 candles, 4 to 6 indicators
	OpCurrent             // GET /sessions/current
	OpSession             // GET /sessions/{id}
	OpQuota               // GET /sessions/quota
	OpKeys                // GET /keys
	OpStart               // POST /sessions, after the session was spent (not drawn)
	OpTerminate           // POST /sessions/{id}/terminate, after a 402 insufficient_tokens (not drawn)
	NumOps
)

var opNames = [NumOps]string{"indicator", "batch", "sessions/current", "sessions/{id}", "sessions/quota", "keys", "sessions start",
	"sessions terminate"}

func (o Op) String() string { return opNames[o] }

// Mix weighs the drawn operations.
type Mix [NumOps]int

// DefaultMix: 40% single indicators, 15% batches, 35% session reads, 10%
// key listing.
var DefaultMix = Mix{OpIndicator: 40, OpBatch: 15, OpCurrent: 15, OpSession: 10, OpQuota: 10, OpKeys: 10}

// Outcome classifies an answer.
type Outcome uint8

// Outcomes.
const (
	// OK: the expected success, checked.
	OK Outcome = iota
	// Refused: an expected refusal: 403 session_required once a session
	// is spent, 402 insufficient_tokens for an answer that does not fit
	// what the session has left, 409 for a start or a terminate that lost
	// the race to another, 404 for the current session between two.
	Refused
	// Limited: 429 with Retry-After (the audit checks that the key had
	// spent its limit).
	Limited
	// Failed: anything else (transport error, 5xx, an unexpected status,
	// a wrong header or figure).
	Failed
)

// Record is one request.
type Record struct {
	Start   time.Duration // sent, since the run began
	Latency time.Duration // until the whole answer was read
	Key     int32         // Fixture.Keys index
	Op      Op
	Status  int16 // 0: no answer
	Outcome Outcome
	Burst   bool // one of the limited key's opening burst
	// Reached: the answer came from a function with the authorizer's
	// context (it carries the RateLimit headers); an authorizer that
	// could not decide (503 from the gateway) has none.
	Reached bool
}

// Admitted reports whether the rate limit certainly let the request
// through: it reached its function, was not refused with 429, and was not
// refused for want of a session (those give their token back).
func (r Record) Admitted() bool {
	return r.Reached && r.Status != http.StatusTooManyRequests && !(r.Outcome == Refused && r.Status == http.StatusForbidden)
}

// Options bound and shape a run.
type Options struct {
	// Workers is the number of concurrent clients (closed loop: each
	// sends its next request when the last is answered). The load keys
	// are dealt out to the workers (AssignKeys); each worker takes its
	// keys in turn.
	Workers int
	// Duration is how long the workers send (at most MaxDuration).
	Duration time.Duration
	// MaxRequests caps the requests sent (0: 10 million).
	MaxRequests int64
	Mix         Mix
	// LimitedBurst is how many requests the limited key sends at once at
	// the start (default its limit + 10); it then sends one every
	// LimitedEvery (default a quarter of its emission interval).
	LimitedBurst int
	LimitedEvery time.Duration
	// Seed makes the draw repeatable.
	Seed uint64
	// Cover, when positive, keeps the workers sending past Duration (for
	// at most Overtime more) until the run has covered what a load run
	// is for: Cover successful requests, a success of every drawn
	// operation, and a session spent and started again. A slow machine
	// then takes longer instead of checking less.
	Cover    int64
	Overtime time.Duration
}

// coverage is what a run has shown so far, across its workers.
type coverage struct {
	ok     atomic.Int64
	starts atomic.Int64
	ops    [NumOps]atomic.Int64
}

// covered reports whether the run has shown what Options.Cover asks.
func (c *coverage) covered(o *Options, mix Mix) bool {
	if c.ok.Load() < o.Cover || c.starts.Load() == 0 {
		return false
	}
	for op := Op(0); op < OpStart; op++ {
		if mix[op] > 0 && c.ops[op].Load() == 0 {
			return false
		}
	}
	return true
}

// Covered reports whether a finished run shows what o.Cover asks (see
// Options.Cover), and if not, what it lacks.
func (r *Result) Covered(s Stats) (missing []string) {
	if s.OK < r.Options.Cover {
		missing = append(missing, fmt.Sprintf("%d successful requests, want %d", s.OK, r.Options.Cover))
	}
	starts := 0
	for _, ids := range r.Starts {
		starts += len(ids)
	}
	if starts == 0 {
		missing = append(missing, "no session was spent and started again")
	}
	for op := Op(0); op < OpStart; op++ {
		if r.Options.Mix[op] > 0 && r.OK[op] == 0 {
			missing = append(missing, "no successful "+op.String()+" request")
		}
	}
	return missing
}

// Bounds on any run.
const (
	MaxDuration = 10 * time.Minute
	MaxWorkers  = 512
)

// SessionTally is what the clients saw of one session.
type SessionTally struct {
	Account  string
	Tokens   int64
	Requests int64
	// ByRequest is the tokens of each answered request by X-Request-Id.
	ByRequest map[string]int64
}

// KeyTally is what the clients saw of one key.
type KeyTally struct {
	// Responses are the answers that reached a function (which counts
	// them in the key's usage).
	Responses int64
	Limited   int64 // 429s
	Tokens    int64 // meta.tokens
}

// Result is a run's record.
type Result struct {
	Fixture *Fixture
	Options Options
	Elapsed time.Duration
	Records []Record
	// Sessions by id, Keys by Fixture.Keys index.
	Sessions map[string]*SessionTally
	Keys     []KeyTally
	// Starts are the sessions each account started during the run (201).
	Starts map[string][]string
	// Errors are the first failures, described.
	Errors []string
	// MaxTokens is the largest meta.tokens seen.
	MaxTokens int64
	// OK counts the successful requests of the load keys by operation.
	OK [NumOps]int64
}

// worker is one client's state.
type worker struct {
	c       *Client
	mine    []*Key // the keys this worker takes in turn
	turn    int
	key     *Key // the key of the request being sent
	o       *Options
	singles []Body
	batches []Body
	rng     *rand.Rand
	t0      time.Time

	session  map[string]string // each account's session as last seen
	spent    *Account          // a metered call found this account's session spent
	full     *Account          // a metered call did not fit what this account's session has left
	records  []Record
	sessions map[string]*SessionTally
	keys     []KeyTally
	starts   map[string][]string // by account
	errors   []string
	maxTok   int64
	cov      *coverage
}

func newWorker(c *Client, fx *Fixture, mine []*Key, o *Options, singles, batches []Body, t0 time.Time, stream uint64) *worker {
	w := &worker{c: c, mine: mine, key: mine[0], o: o, singles: singles, batches: batches, rng: rand.New(rand.NewPCG(o.Seed, stream)),
		t0: t0, session: map[string]string{}, sessions: map[string]*SessionTally{}, keys: make([]KeyTally, len(fx.Keys)),
		starts: map[string][]string{}}
	for _, a := range fx.Accounts {
		w.session[a.ID] = a.FirstSession
	}
	return w
}

// AssignKeys deals the load keys out to n workers: with fewer workers
// than keys each takes several (so every key is used), with more each
// key has several workers.
func AssignKeys(load []*Key, n int) [][]*Key {
	out := make([][]*Key, n)
	for i := range out {
		out[i] = append(out[i], load[i%len(load)])
	}
	for j := n; j < len(load); j++ {
		out[j%n] = append(out[j%n], load[j])
	}
	return out
}

// Run drives the fixture's keys with o's mix until o.Duration has passed
// or o.MaxRequests were sent; requests in flight at the end are awaited
// (for a minute at most; those cut off count as failures). It returns an
// error only for bad options or a cancelled ctx.
func Run(ctx context.Context, c *Client, fx *Fixture, singles, batches []Body, o Options) (*Result, error) {
	if o.Workers < 1 || o.Workers > MaxWorkers {
		return nil, fmt.Errorf("load: workers must be 1 to %d", MaxWorkers)
	}
	if o.Duration <= 0 || o.Duration > MaxDuration {
		return nil, fmt.Errorf("load: duration must be positive and at most %s", MaxDuration)
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 10_000_000
	}
	if o.Mix == (Mix{}) {
		o.Mix = DefaultMix
	}
	var load []*Key
	for _, k := range fx.Keys {
		if !k.Limited {
			load = append(load, k)
		}
	}
	if len(load) == 0 || len(singles) == 0 || len(batches) == 0 {
		return nil, errors.New("load: nothing to send")
	}
	t0 := time.Now()
	deadline := t0.Add(o.Duration)
	last := deadline
	cov := &coverage{}
	if o.Cover > 0 {
		last = deadline.Add(o.Overtime)
	}
	// Requests in flight at the deadline may take a while to complete;
	// past this they are cut off (and counted as failures).
	parent := ctx
	ctx, cancel := context.WithDeadline(ctx, last.Add(60*time.Second))
	defer cancel()
	var sent atomic.Int64
	more := func() bool {
		now := time.Now()
		inTime := now.Before(deadline) || (now.Before(last) && !cov.covered(&o, o.Mix))
		return inTime && sent.Add(1) <= o.MaxRequests && ctx.Err() == nil
	}

	ws := make([]*worker, o.Workers)
	for i, mine := range AssignKeys(load, o.Workers) {
		ws[i] = newWorker(c, fx, mine, &o, singles, batches, t0, uint64(i)+1)
		ws[i].cov = cov
	}
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			for more() {
				w.step(ctx)
			}
		}(w)
	}
	if lk := fx.Limited; lk != nil {
		burst := o.LimitedBurst
		if burst <= 0 {
			burst = lk.Limit + 10
		}
		every := o.LimitedEvery
		if every <= 0 {
			every = time.Duration(60e9/float64(lk.Limit)) / 4
		}
		// The opening burst: one worker per request, all at once.
		bs := make([]*worker, burst)
		var ready sync.WaitGroup
		gate := make(chan struct{})
		for i := range bs {
			bs[i] = newWorker(c, fx, []*Key{lk}, &o, singles, batches, t0, uint64(MaxWorkers+1+i))
			ready.Add(1)
			wg.Add(1)
			go func(w *worker) {
				defer wg.Done()
				ready.Done()
				<-gate
				w.do(ctx, OpQuota, true)
			}(bs[i])
		}
		ready.Wait()
		close(gate)
		ws = append(ws, bs...)
		paced := newWorker(c, fx, []*Key{lk}, &o, singles, batches, t0, 0)
		ws = append(ws, paced)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			ops := []Op{OpQuota, OpKeys, OpIndicator, OpCurrent}
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if !more() {
					return
				}
				paced.do(ctx, ops[i%len(ops)], false)
			}
		}()
	}
	wg.Wait()
	res := &Result{Fixture: fx, Options: o, Elapsed: time.Since(t0), Sessions: map[string]*SessionTally{},
		Keys: make([]KeyTally, len(fx.Keys)), Starts: map[string][]string{}}
	for _, w := range ws {
		res.Records = append(res.Records, w.records...)
		for id, s := range w.sessions {
			t := res.Sessions[id]
			if t == nil {
				t = &SessionTally{Account: s.Account, ByRequest: map[string]int64{}}
				res.Sessions[id] = t
			}
			t.Tokens += s.Tokens
			t.Requests += s.Requests
			for r, n := range s.ByRequest {
				t.ByRequest[r] = n
			}
		}
		for i, k := range w.keys {
			res.Keys[i].Responses += k.Responses
			res.Keys[i].Limited += k.Limited
			res.Keys[i].Tokens += k.Tokens
		}
		for acc, ids := range w.starts {
			res.Starts[acc] = append(res.Starts[acc], ids...)
		}
		for _, e := range w.errors {
			if len(res.Errors) < 20 {
				res.Errors = append(res.Errors, e)
			}
		}
		res.MaxTokens = max(res.MaxTokens, w.maxTok)
	}
	for op := range res.OK {
		res.OK[op] = cov.ops[op].Load()
	}
	return res, parent.Err()
}

// step sends the worker's next request: a new session if the last
// metered call found the old one spent, else a draw from the mix.
func (w *worker) step(ctx context.Context) {
	if a := w.full; a != nil {
		// As a client would: end the session that is too full for
		// its requests, then start another.
		w.full, w.spent = nil, a
		w.key = a.Keys[0]
		w.do(ctx, OpTerminate, false)
		return
	}
	if a := w.spent; a != nil {
		w.spent = nil
		w.key = a.Keys[0] // the account's WRITE key
		w.do(ctx, OpStart, false)
		return
	}
	w.key = w.mine[w.turn%len(w.mine)]
	w.turn++
	total := 0
	for _, n := range w.o.Mix[:OpStart] {
		total += n
	}
	x := w.rng.IntN(total)
	op := Op(0)
	for ; op < OpStart; op++ {
		if x < w.o.Mix[op] {
			break
		}
		x -= w.o.Mix[op]
	}
	w.do(ctx, op, false)
}

func (w *worker) fail(format string, args ...any) Outcome {
	if len(w.errors) < 20 {
		w.errors = append(w.errors, fmt.Sprintf("key %s: ", w.key.ID)+fmt.Sprintf(format, args...))
	}
	return Failed
}

// problemCode is the code of a problem+json body ("" when it is not one).
func problemCode(r Response) string {
	if r.Header.Get("Content-Type") != "application/problem+json" {
		return ""
	}
	var p struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	if json.Unmarshal(r.Body, &p) != nil || p.Status != r.Status || p.Title == "" {
		return ""
	}
	return p.Code
}

// do sends one request of op and records it.
func (w *worker) do(ctx context.Context, op Op, burst bool) {
	k := w.key
	var method, path, ct string
	var body []byte
	switch op {
	case OpIndicator:
		b := w.singles[w.rng.IntN(len(w.singles))]
		method, path, ct, body = "POST", b.Path, b.ContentType, b.Data
	case OpBatch:
		b := w.batches[w.rng.IntN(len(w.batches))]
		method, path, ct, body = "POST", b.Path, b.ContentType, b.Data
	case OpCurrent:
		method, path = "GET", "/api/v1/sessions/current"
	case OpSession:
		method, path = "GET", "/api/v1/sessions/"+w.session[k.Account.ID]
	case OpQuota:
		method, path = "GET", "/api/v1/sessions/quota"
	case OpKeys:
		method, path = "GET", "/api/v1/keys?limit=10"
	case OpStart:
		method, path = "POST", "/api/v1/sessions"
	case OpTerminate:
		method, path = "POST", "/api/v1/sessions/"+w.session[k.Account.ID]+"/terminate"
	}
	start := time.Since(w.t0)
	r, err := w.c.Do(ctx, method, path, k.Secret, w.rng.IntN(2) == 0, ct, body)
	rec := Record{Start: start, Latency: time.Since(w.t0) - start, Key: int32(k.Index), Op: op, Burst: burst}
	if err != nil {
		rec.Outcome = w.fail("%s %s: %v", method, path, err)
		w.records = append(w.records, rec)
		return
	}
	rec.Status = int16(r.Status)
	rec.Reached = r.Header.Get("RateLimit-Limit") != ""
	rec.Outcome = w.check(op, k, body, r)
	if rec.Outcome == OK && w.cov != nil && !k.Limited {
		w.cov.ok.Add(1)
		w.cov.ops[op].Add(1)
		if op == OpStart {
			w.cov.starts.Add(1)
		}
	}
	kt := &w.keys[k.Index]
	if rec.Reached {
		kt.Responses++
	}
	if r.Status == http.StatusTooManyRequests {
		kt.Limited++
	}
	w.records = append(w.records, rec)
}

// check validates an answer and keeps the tallies.
func (w *worker) check(op Op, k *Key, reqBody []byte, r Response) Outcome {
	if r.Header.Get("X-Request-Id") == "" {
		return w.fail("%s: no X-Request-Id", op)
	}
	if r.Status >= 500 {
		where := "from its function"
		if r.Header.Get("RateLimit-Limit") == "" {
			where = "from the gateway (the authorizer could not decide)"
		}
		return w.fail("%s: status %d %s %s", op, r.Status, problemCode(r), where)
	}
	if r.Header.Get("RateLimit-Limit") != strconv.Itoa(k.Limit) || r.Header.Get("RateLimit-Remaining") == "" || r.Header.Get("RateLimit-Reset") == "" {
		return w.fail("%s: RateLimit headers %q %q %q for a limit of %d", op, r.Header.Get("RateLimit-Limit"),
			r.Header.Get("RateLimit-Remaining"), r.Header.Get("RateLimit-Reset"), k.Limit)
	}
	if r.Status >= 400 {
		code := problemCode(r)
		if code == "" {
			return w.fail("%s: status %d without a problem body: %.200s", op, r.Status, r.Body)
		}
		switch {
		case r.Status == http.StatusTooManyRequests && code == "rate_limited":
			if r.Header.Get("Retry-After") == "" {
				return w.fail("%s: 429 without Retry-After", op)
			}
			return Limited
		case r.Status == http.StatusForbidden && code == "session_required" && (op == OpIndicator || op == OpBatch):
			w.spent = k.Account
			return Refused
		case r.Status == http.StatusPaymentRequired && code == "insufficient_tokens" && (op == OpIndicator || op == OpBatch):
			w.full = k.Account
			return Refused
		case r.Status == http.StatusConflict && op == OpTerminate:
			return Refused // another client ended it first
		case r.Status == http.StatusConflict && op == OpStart:
			var p struct {
				Active string `json:"active_session_id"`
			}
			if json.Unmarshal(r.Body, &p) == nil && p.Active != "" {
				w.session[k.Account.ID] = p.Active
			}
			return Refused
		case r.Status == http.StatusNotFound && op == OpCurrent && code == "not_found":
			return Refused
		}
		return w.fail("%s: status %d %s: %.200s", op, r.Status, code, r.Body)
	}
	if bytes.Contains(r.Body, []byte(k.Secret)) {
		return w.fail("%s: the answer shows the key", op)
	}
	switch op {
	case OpIndicator, OpBatch:
		if r.Status != http.StatusOK {
			return w.fail("%s: status %d", op, r.Status)
		}
		var m struct {
			Count int `json:"count"`
			Meta  struct {
				SessionID       string `json:"session_id"`
				Tokens          int64  `json:"tokens"`
				TokensRemaining *int64 `json:"tokens_remaining"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(r.Body, &m); err != nil {
			return w.fail("%s: %v", op, err)
		}
		want := (int64(len(reqBody)+len(r.Body)) + 3) / 4
		switch {
		case m.Meta.SessionID == "" || r.Header.Get("X-Session-Id") != m.Meta.SessionID:
			return w.fail("%s: session %q, header %q", op, m.Meta.SessionID, r.Header.Get("X-Session-Id"))
		case m.Meta.Tokens != want:
			return w.fail("%s: meta.tokens %d, want ceil((%d+%d)/4) = %d", op, m.Meta.Tokens, len(reqBody), len(r.Body), want)
		case m.Meta.TokensRemaining == nil || r.Header.Get("X-Session-Tokens-Used") == "":
			return w.fail("%s: no token figures", op)
		case op == OpIndicator && m.Count != candlesPerCall:
			return w.fail("%s: count %d", op, m.Count)
		}
		t := w.sessions[m.Meta.SessionID]
		if t == nil {
			t = &SessionTally{Account: k.Account.ID, ByRequest: map[string]int64{}}
			w.sessions[m.Meta.SessionID] = t
		}
		t.Tokens += m.Meta.Tokens
		t.Requests++
		t.ByRequest[r.Header.Get("X-Request-Id")] = m.Meta.Tokens
		w.keys[k.Index].Tokens += m.Meta.Tokens
		w.session[k.Account.ID] = m.Meta.SessionID
		w.maxTok = max(w.maxTok, m.Meta.Tokens)
	case OpCurrent, OpSession:
		var s struct {
			SessionID string `json:"session_id"`
			AccountID string `json:"account_id"`
			Status    string `json:"status"`
		}
		if err := json.Unmarshal(r.Body, &s); err != nil || r.Status != http.StatusOK {
			return w.fail("%s: %d %.200s", op, r.Status, r.Body)
		}
		if s.AccountID != k.Account.ID || (op == OpSession && s.SessionID != w.session[k.Account.ID]) || (op == OpCurrent && s.Status != "active") {
			return w.fail("%s: got %.200s", op, r.Body)
		}
		if op == OpCurrent {
			w.session[k.Account.ID] = s.SessionID
		}
	case OpQuota:
		var q struct {
			AccountID string `json:"account_id"`
			Purchased int64  `json:"purchased"`
			Used      int64  `json:"used"`
			Remaining int64  `json:"remaining"`
		}
		if err := json.Unmarshal(r.Body, &q); err != nil || r.Status != http.StatusOK {
			return w.fail("%s: %d %.200s", op, r.Status, r.Body)
		}
		if q.AccountID != k.Account.ID || q.Purchased != k.Account.Purchased || q.Remaining+q.Used != q.Purchased {
			return w.fail("%s: got %.200s, bought %d", op, r.Body, k.Account.Purchased)
		}
	case OpKeys:
		var l struct {
			Items []struct {
				KeyID string `json:"key_id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(r.Body, &l); err != nil || r.Status != http.StatusOK || len(l.Items) == 0 {
			return w.fail("%s: %d %.200s", op, r.Status, r.Body)
		}
	case OpStart:
		var s struct {
			SessionID string `json:"session_id"`
		}
		if err := json.Unmarshal(r.Body, &s); err != nil || r.Status != http.StatusCreated || s.SessionID == "" {
			return w.fail("%s: %d %.200s", op, r.Status, r.Body)
		}
		w.session[k.Account.ID] = s.SessionID
		w.starts[k.Account.ID] = append(w.starts[k.Account.ID], s.SessionID)
	case OpTerminate:
		var s struct {
			Status    string `json:"status"`
			EndReason string `json:"end_reason"`
		}
		if err := json.Unmarshal(r.Body, &s); err != nil || r.Status != http.StatusOK || s.Status != "ended" || s.EndReason != "terminated" {
			return w.fail("%s: %d %.200s", op, r.Status, r.Body)
		}
	}
	return OK
}

// candlesPerCall is the candles in every metered body of the mix.
const candlesPerCall = 500
