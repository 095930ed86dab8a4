package refusals_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/refusals"
)

type write struct {
	key, endpoint string
	n             int64
}

type writer struct {
	writes    []write
	fail      bool
	tokens    []string // of failed writes
	retokened bool     // a failed write was repeated under another token
}

func (w *writer) AddRateLimited(_ context.Context, _, keyID, endpoint string, n int64, _ time.Time, token string) error {
	if w.fail {
		w.tokens = append(w.tokens, token)
		return errors.New("store down")
	}
	if len(w.tokens) > 0 && token != w.tokens[len(w.tokens)-1] {
		w.retokened = true
	}
	w.writes = append(w.writes, write{keyID, endpoint, n})
	return nil
}

func (w *writer) total() int64 {
	var n int64
	for _, x := range w.writes {
		n += x.n
	}
	return n
}

// A key's first refusal is written at once, the rest at most once per
// interval; nothing is lost, and a failed write is kept for the next.
func TestCounterWritesAtMostOncePerInterval(t *testing.T) {
	ctx := context.Background()
	w := &writer{}
	c := refusals.New(w, 10*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	t0 := time.Unix(1_700_000_000, 0)
	c.Add(ctx, "acc", "k1", "GET /x", t0)
	if len(w.writes) != 1 || w.writes[0] != (write{"k1", "GET /x", 1}) {
		t.Fatalf("first refusal: %+v", w.writes)
	}
	for i := range 1000 {
		c.Add(ctx, "acc", "k1", "GET /x", t0.Add(time.Duration(i)*time.Millisecond*9))
	}
	if len(w.writes) != 1 || c.Pending() != 1000 {
		t.Fatalf("within the interval: %d writes, %d pending", len(w.writes), c.Pending())
	}
	c.Add(ctx, "acc", "k1", "POST /y", t0.Add(10*time.Second))
	if len(w.writes) != 3 || w.total() != 1002 || c.Pending() != 0 {
		t.Fatalf("after the interval: %+v, %d pending", w.writes, c.Pending())
	}
	// Another key is written on its own first refusal.
	c.Add(ctx, "acc", "k2", "GET /x", t0.Add(11*time.Second))
	if len(w.writes) != 4 || w.writes[3] != (write{"k2", "GET /x", 1}) {
		t.Fatalf("second key: %+v", w.writes)
	}
	w.fail = true
	c.Add(ctx, "acc", "k1", "GET /x", t0.Add(30*time.Second))
	if c.Pending() != 1 {
		t.Fatalf("a failed write lost its count: %d pending", c.Pending())
	}
	w.fail = false
	c.Flush(ctx, t0.Add(31*time.Second))
	if c.Pending() != 0 || w.total() != 1004 || w.retokened {
		t.Fatalf("after the flush: %d pending, %d written, retokened %v", c.Pending(), w.total(), w.retokened)
	}
}

// After a burst, the refusals counted within the interval are written on
// the key's next request let through once the interval has passed, not
// only on its next refusal.
func TestSeenWritesADueTally(t *testing.T) {
	ctx := context.Background()
	w := &writer{}
	c := refusals.New(w, 10*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		c.Add(ctx, "acc", "k1", "GET /x", t0.Add(time.Duration(i)*time.Millisecond))
	}
	for _, tc := range []struct {
		key     string
		at      time.Duration
		written int64
	}{
		{"k1", 5 * time.Second, 1},   // not due yet
		{"k2", 11 * time.Second, 1},  // another key's request
		{"k1", 11 * time.Second, 10}, // due: the burst is written
		{"k1", 30 * time.Second, 10}, // nothing pending
	} {
		c.Seen(ctx, tc.key, t0.Add(tc.at))
		if w.total() != tc.written || c.Pending() != 10-tc.written {
			t.Fatalf("seen %s at +%v: %d written, %d pending; want %d written", tc.key, tc.at, w.total(), c.Pending(), tc.written)
		}
	}
}
