// Package refusals counts the requests the authorizer refuses for the
// rate limit, so that a 429 costs no write of its own. API Gateway
// answers those requests itself (no function runs, so no usage recorder
// counts them); the authorizer adds each one to a per-instance tally and
// writes a key's tally to the usage counters at most once per interval:
// the first refusal of a key at once, later ones when the interval since
// the key's last write has passed, on the key's next request (refused or
// let through: Seen). A flood of N refusals of one key over
// T seconds on one instance costs at most 1 + T/interval writes instead
// of N.
//
// What it gives up: the figure lags by up to the interval, and the tally
// of an instance that Lambda reclaims before its next write is lost (at
// most one interval of refusals per instance). The exact count is in the
// stage's access log (status 429 with the key id) and the RateLimited
// metric each write emits sums what was written.
package refusals

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/waickoff/waickoff/shared/telemetry"
)

// Writer adds n refused requests of a key at an endpoint to the usage
// counters (usage.Store.AddRateLimited); a write repeated with the same
// token is applied once.
type Writer interface {
	AddRateLimited(ctx context.Context, accountID, keyID, endpoint string, n int64, at time.Time, token string) error
}

// DefaultInterval is how often at most a key's tally is written.
const DefaultInterval = 10 * time.Second

// maxKeys bounds the keys an instance tallies at once; past it the
// oldest tallies are written before new keys are taken in.
const maxKeys = 1024

type slot struct{ accountID, keyID, endpoint string }

type tally struct {
	pending map[slot]int64
	written time.Time // last write of this key; zero if never
	last    time.Time // the latest refusal
}

// batch is one write: a slot's count, and the token that makes a repeat
// of a write whose answer was lost count once.
type batch struct {
	slot
	n     int64
	at    time.Time
	token string
}

// Counter is one authorizer instance's tally.
type Counter struct {
	w        Writer
	interval time.Duration
	log      *slog.Logger
	metrics  *telemetry.Metrics

	mu     sync.Mutex
	keys   map[string]*tally
	failed []batch // writes to repeat as they were
}

// New returns a counter writing through w at most once per interval and
// key (DefaultInterval when interval <= 0). metrics may be nil.
func New(w Writer, interval time.Duration, log *slog.Logger, metrics *telemetry.Metrics) *Counter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if log == nil {
		log = slog.Default()
	}
	return &Counter{w: w, interval: interval, log: log, metrics: metrics, keys: map[string]*tally{}}
}

// Add counts one refused request at now and writes every tally that is
// due (this key's, and any other key's whose interval has passed). A
// failed write keeps its counts for the next one.
func (c *Counter) Add(ctx context.Context, accountID, keyID, endpoint string, now time.Time) {
	c.mu.Lock()
	t := c.keys[keyID]
	if t == nil {
		if len(c.keys) >= maxKeys {
			c.mu.Unlock()
			c.flush(ctx, now, true)
			c.mu.Lock()
		}
		t = &tally{pending: map[slot]int64{}}
		c.keys[keyID] = t
	}
	t.pending[slot{accountID, keyID, endpoint}]++
	t.last = now
	c.mu.Unlock()
	c.flush(ctx, now, false)
}

// Seen is told of a request of keyID the authorizer let through: when the
// key has refusals counted and the interval since its last write has
// passed, the due tallies are written now, so that a burst's later
// refusals do not wait for the key's next refusal. A key that is not seen
// again keeps its tally until the next write of any.
func (c *Counter) Seen(ctx context.Context, keyID string, now time.Time) {
	c.mu.Lock()
	t := c.keys[keyID]
	due := t != nil && len(t.pending) > 0 && now.Sub(t.written) >= c.interval
	c.mu.Unlock()
	if due {
		c.flush(ctx, now, false)
	}
}

// Flush writes every tally, due or not (tests, and an instance that knows
// it is about to stop), trying a failed write (a conflict, a throttled
// item) a few times more with a growing pause.
func (c *Counter) Flush(ctx context.Context, now time.Time) {
	c.flush(ctx, now, true)
	for try := 0; try < 6 && c.Pending() > 0 && ctx.Err() == nil; try++ {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(25<<try) * time.Millisecond):
		}
		c.flush(ctx, now, true)
	}
}

// Pending returns the refusals counted but not yet written.
func (c *Counter) Pending() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, t := range c.keys {
		for _, v := range t.pending {
			n += v
		}
	}
	for _, b := range c.failed {
		n += b.n
	}
	return n
}

func (c *Counter) flush(ctx context.Context, now time.Time, all bool) {
	c.mu.Lock()
	out := c.failed
	c.failed = nil
	for id, t := range c.keys {
		if !all && !t.written.IsZero() && now.Sub(t.written) < c.interval {
			continue
		}
		for s, n := range t.pending {
			out = append(out, batch{slot: s, n: n, at: t.last, token: newToken()})
		}
		if len(t.pending) == 0 {
			// Nothing refused for a whole interval: forget the key.
			delete(c.keys, id)
			continue
		}
		t.pending, t.written = map[slot]int64{}, now
	}
	c.mu.Unlock()
	for _, b := range out {
		if err := c.w.AddRateLimited(ctx, b.accountID, b.keyID, b.endpoint, b.n, b.at, b.token); err != nil {
			// It may have been applied all the same (a lost answer): it
			// is repeated as it was, with its token.
			c.log.Warn("rate-limited count not written; kept for the next write", "key_id", b.keyID,
				"endpoint", b.endpoint, "count", b.n, "error", err.Error())
			c.mu.Lock()
			c.failed = append(c.failed, b)
			c.mu.Unlock()
			continue
		}
		c.metrics.Emit(nil, map[string]any{"account_id": b.accountID, "key_id": b.keyID, "endpoint": b.endpoint},
			telemetry.Metric{Name: "RateLimited", Value: float64(b.n)})
	}
}

// newToken is a ClientRequestToken (at most 36 characters).
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
