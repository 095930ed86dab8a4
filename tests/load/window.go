package load

import (
	"fmt"
	"sort"
	"time"

	"github.com/waickoff/waickoff/shared/ratelimit"
)

// Interval is when a request was sent and when its answer was in: the
// server admitted it somewhere inside (client and API share the clock of
// one process).
type Interval struct {
	Send, Recv time.Duration
}

// LimitCheck is what the admissions of one key show about its limit.
type LimitCheck struct {
	Limit    int
	Admitted int
	// MaxInMinute is the most requests certainly admitted within one
	// 60-second window (their whole intervals inside it).
	MaxInMinute int
	// Violation describes the worst window in which more requests were
	// certainly admitted than the limit allows: a limit of N a minute
	// (GCRA, emission interval T = ceil(60 s / N), burst N) admits at
	// most N + floor(w/T) requests in any window of length w. Empty when
	// none.
	Violation string
}

// CheckLimit checks a key's admissions against a limit of n a minute.
// It reports only what is certain from the intervals: a window counts the
// requests sent at or after its start and answered by its end.
func CheckLimit(adm []Interval, n int) LimitCheck {
	lc := LimitCheck{Limit: n, Admitted: len(adm)}
	if len(adm) == 0 {
		return lc
	}
	period := time.Duration(ratelimit.ParamsFor(n).Period) * time.Microsecond
	xs := append([]Interval(nil), adm...)
	sort.Slice(xs, func(i, j int) bool { return xs[i].Send < xs[j].Send })
	// Walk the window starts from the last request back, keeping the
	// answer times of the requests sent since, sorted.
	var recvs []time.Duration
	worst := 0
	for i := len(xs) - 1; i >= 0; i-- {
		r := xs[i].Recv
		j := sort.Search(len(recvs), func(j int) bool { return recvs[j] >= r })
		recvs = append(recvs, 0)
		copy(recvs[j+1:], recvs[j:])
		recvs[j] = r
		from := xs[i].Send
		for m, end := range recvs {
			if end-from >= time.Minute {
				break
			}
			lc.MaxInMinute = max(lc.MaxInMinute, m+1)
		}
		if len(recvs) <= n {
			continue // no window can hold more than n
		}
		for m, end := range recvs {
			allowed := n + int((end-from)/period)
			if excess := m + 1 - allowed; excess > worst {
				worst = excess
				lc.Violation = fmt.Sprintf("%d requests certainly admitted within %s (from %s): at most %d allowed",
					m+1, (end - from).Round(time.Millisecond), from.Round(time.Millisecond), allowed)
			}
		}
	}
	return lc
}

// BurstCheck is the limited key's opening burst.
type BurstCheck struct {
	Limit, Sent, Admitted int
	// Window is from the first send to the last answer.
	Window time.Duration
	// Problem is empty when the burst let exactly what GCRA allows
	// through: at least N (a standing start holds N tokens) and at most N
	// + floor(Window/T); exactly N when the burst took less than T.
	Problem string
}

// CheckBurst checks the burst records of a key limited to n a minute.
func CheckBurst(burst []Record, n int) BurstCheck {
	bc := BurstCheck{Limit: n, Sent: len(burst)}
	if len(burst) == 0 {
		return bc
	}
	first, last := burst[0].Start, time.Duration(0)
	for _, r := range burst {
		first = min(first, r.Start)
		last = max(last, r.Start+r.Latency)
		if r.Admitted() {
			bc.Admitted++
		}
	}
	bc.Window = last - first
	period := time.Duration(ratelimit.ParamsFor(n).Period) * time.Microsecond
	hi := n + int(bc.Window/period)
	lo := min(n, len(burst))
	for _, r := range burst {
		if !r.Reached {
			lo-- // a request the authorizer did not answer may have been one of the N
		}
	}
	if bc.Admitted < lo || bc.Admitted > hi {
		bc.Problem = fmt.Sprintf("a burst of %d from a standing start let %d through in %s; want %d to %d",
			len(burst), bc.Admitted, bc.Window.Round(time.Millisecond), lo, hi)
	}
	return bc
}

// EarlyRefusals counts the 429s of one key's records that came before the
// key could have spent its limit of n: GCRA refuses only once some window
// holds more than n-1 admissions, so a refusal answered when fewer than n
// of the key's other requests had even been sent is certainly wrong.
// (Refusals later than that are not checked: whether they were due
// depends on exactly when each request was admitted.)
func EarlyRefusals(recs []Record, n int) int {
	var sent []time.Duration // sends of requests that may have been admitted
	for _, r := range recs {
		if r.Status != 429 {
			sent = append(sent, r.Start)
		}
	}
	sort.Slice(sent, func(i, j int) bool { return sent[i] < sent[j] })
	early := 0
	for _, r := range recs {
		if r.Status != 429 {
			continue
		}
		before := sort.Search(len(sent), func(i int) bool { return sent[i] > r.Start+r.Latency })
		if before < n {
			early++
		}
	}
	return early
}
