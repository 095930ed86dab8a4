package load

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Latency is a distribution's summary.
type Latency struct {
	Count              int
	P50, P90, P99, Max time.Duration
	Mean               time.Duration
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	q := func(p float64) time.Duration {
		// Nearest rank.
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return Latency{Count: len(ds), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ds[len(ds)-1],
		Mean: sum / time.Duration(len(ds))}
}

// Stats are a run's figures.
type Stats struct {
	Requests int64
	OK       int64
	Refused  int64
	Limited  int64
	Failed   int64
	Elapsed  time.Duration
	// RPS is answered requests a second over the run.
	RPS float64
	// All is every answered request's latency; ByOp by operation (the
	// limited key's requests left out of ByOp).
	All      Latency
	ByOp     [NumOps]Latency
	Statuses map[int]int64
	// Timeline is the run in slices (by send time): whether the rate held.
	Timeline []Slice
}

// Slice is a part of the run.
type Slice struct {
	From, To time.Duration
	RPS      float64
	P99      time.Duration
	Failed   int64
}

// Summarize computes the run's figures.
func Summarize(res *Result) Stats {
	s := Stats{Elapsed: res.Elapsed, Statuses: map[int]int64{}}
	var all []time.Duration
	var byOp [NumOps][]time.Duration
	limited := int32(-1)
	if res.Fixture.Limited != nil {
		limited = int32(res.Fixture.Limited.Index)
	}
	for _, r := range res.Records {
		s.Requests++
		s.Statuses[int(r.Status)]++
		switch r.Outcome {
		case OK:
			s.OK++
		case Refused:
			s.Refused++
		case Limited:
			s.Limited++
		case Failed:
			s.Failed++
		}
		if r.Status == 0 {
			continue
		}
		all = append(all, r.Latency)
		if r.Key != limited {
			byOp[r.Op] = append(byOp[r.Op], r.Latency)
		}
	}
	s.All = summarize(all)
	for i := range byOp {
		s.ByOp[i] = summarize(byOp[i])
	}
	if res.Elapsed > 0 {
		s.RPS = float64(len(all)) / res.Elapsed.Seconds()
	}
	s.Timeline = timeline(res.Records, res.Options.Duration)
	return s
}

// timeline cuts the run into six slices (at least a second each) by send
// time; requests sent after the duration (none, but the paced key's last)
// fall in the last.
func timeline(recs []Record, d time.Duration) []Slice {
	step, n := d/6, 6
	if step < time.Second {
		step, n = time.Second, int((d+time.Second-1)/time.Second)
	}
	if n == 0 {
		return nil
	}
	lat := make([][]time.Duration, n)
	failed := make([]int64, n)
	for _, r := range recs {
		i := min(int(r.Start/step), n-1)
		if r.Outcome == Failed {
			failed[i]++
		}
		if r.Status != 0 {
			lat[i] = append(lat[i], r.Latency)
		}
	}
	out := make([]Slice, n)
	for i := range out {
		from, to := time.Duration(i)*step, min(time.Duration(i+1)*step, d)
		if i == n-1 {
			to = d
		}
		out[i] = Slice{From: from, To: to, RPS: float64(len(lat[i])) / (to - from).Seconds(), P99: summarize(lat[i]).P99, Failed: failed[i]}
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

// String is the report's table.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %d requests in %.1f s = %.1f req/s; ok %d, expected refusals %d, 429 %d, errors %d\n",
		s.Requests, s.Elapsed.Seconds(), s.RPS, s.OK, s.Refused, s.Limited, s.Failed)
	fmt.Fprintf(&b, "  latency: p50 %s, p90 %s, p99 %s, max %s, mean %s\n", ms(s.All.P50), ms(s.All.P90), ms(s.All.P99), ms(s.All.Max), ms(s.All.Mean))
	for op := Op(0); op < NumOps; op++ {
		l := s.ByOp[op]
		if l.Count == 0 {
			continue
		}
		fmt.Fprintf(&b, "    %-17s %7d  p50 %9s  p99 %9s\n", op, l.Count, ms(l.P50), ms(l.P99))
	}
	if len(s.Timeline) > 1 {
		b.WriteString("  timeline (by send time):")
		for _, sl := range s.Timeline {
			fmt.Fprintf(&b, " [%s-%s %.1f req/s p99 %s]", sl.From.Round(time.Second), sl.To.Round(time.Second), sl.RPS, ms(sl.P99))
		}
		b.WriteString("\n")
	}
	codes := make([]int, 0, len(s.Statuses))
	for c := range s.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	b.WriteString("  statuses:")
	for _, c := range codes {
		fmt.Fprintf(&b, " %d x%d", c, s.Statuses[c])
	}
	b.WriteString("\n")
	return b.String()
}
