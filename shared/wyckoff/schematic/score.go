package schematic

import (
	"fmt"
	"io"
	"sort"

	"github.com/waickoff/waickoff/shared/wyckoff"
)

// Tolerance is how far, in bars, a detected event may lie from the planted
// one and still count.
const Tolerance = 2

// Goals the engine is held to (issue 13): recall of the key events,
// precision, and false events on random walks.
var (
	KeyEvents       = []string{"SC", "AR", "Spring", "SOS", "BC", "UTAD", "SOW"}
	MinRecall       = 0.9
	MinPrecision    = 0.8
	MaxFalsePer1000 = 2.0
)

// Count is the tally of one event type.
type Count struct {
	Planted, Found     int // planted events, and how many were detected
	Detected, Matching int // detected events, and how many match a planted one
}

// Recall is Found/Planted (1 when nothing was planted).
func (c Count) Recall() float64 {
	if c.Planted == 0 {
		return 1
	}
	return float64(c.Found) / float64(c.Planted)
}

// Precision is Matching/Detected (1 when nothing was detected).
func (c Count) Precision() float64 {
	if c.Detected == 0 {
		return 1
	}
	return float64(c.Matching) / float64(c.Detected)
}

// Report is the outcome of an evaluation.
type Report struct {
	Series      int
	Bars        int
	ByType      map[string]*Count
	WalkBars    int
	WalkEvents  int
	WalkByType  map[string]int
	PhaseBars   int // bars of phases B..D planted
	PhaseAgreed int // of those, bars whose phase the engine gave alike
}

// FalsePer1000 is the number of events found on random walks per 1,000 bars.
func (r *Report) FalsePer1000() float64 {
	if r.WalkBars == 0 {
		return 0
	}
	return 1000 * float64(r.WalkEvents) / float64(r.WalkBars)
}

// Add scores one analysed schematic.
func (r *Report) Add(s Series, res wyckoff.Result) {
	if r.ByType == nil {
		r.ByType = map[string]*Count{}
	}
	r.Series++
	r.Bars += len(s.Close)
	get := func(t string) *Count {
		if r.ByType[t] == nil {
			r.ByType[t] = &Count{}
		}
		return r.ByType[t]
	}
	for _, p := range s.Events {
		get(p.Type).Planted++
	}
	for _, e := range res.Events {
		get(e.Type).Detected++
	}
	used := make([]bool, len(res.Events))
	for _, p := range s.Events {
		for k, e := range res.Events {
			if !used[k] && e.Type == p.Type && abs(e.Bar-p.Bar) <= Tolerance {
				used[k] = true
				get(p.Type).Found++
				get(p.Type).Matching++
				break
			}
		}
	}
	// Detected events that match a planted event already matched (a
	// duplicate) stay unmatched: they are false.
	_ = used
	r.scorePhases(s, res)
}

func (r *Report) scorePhases(s Series, res wyckoff.Result) {
	if len(res.Ranges) == 0 {
		r.PhaseBars += s.Phases[4] - s.Phases[1]
		return
	}
	// The range that covers the planted phase B start.
	var rg *wyckoff.Range
	for k := range res.Ranges {
		g := &res.Ranges[k]
		if g.Start <= s.Phases[1] && (g.End < 0 || g.End >= s.Phases[1]) {
			rg = g
		}
	}
	for i := s.Phases[1]; i < s.Phases[4]; i++ {
		r.PhaseBars++
		want := "B"
		if i >= s.Phases[3] {
			want = "D"
		} else if i >= s.Phases[2] && (s.Kind == Accumulation1 || s.Kind == Distribution1) {
			want = "C"
		}
		if rg != nil && phaseAt(rg, i) == want {
			r.PhaseAgreed++
		}
	}
}

func phaseAt(g *wyckoff.Range, i int) string {
	ph := ""
	for _, p := range g.Phases {
		if p.Start <= i {
			ph = p.Phase
		}
	}
	return ph
}

// AddWalk scores one analysed random walk: every event is false.
func (r *Report) AddWalk(s Series, res wyckoff.Result) {
	if r.WalkByType == nil {
		r.WalkByType = map[string]int{}
	}
	r.WalkBars += len(s.Close)
	r.WalkEvents += len(res.Events)
	for _, e := range res.Events {
		r.WalkByType[e.Type]++
	}
}

// Failures lists the goals the report misses.
func (r *Report) Failures() []string {
	var out []string
	for _, t := range KeyEvents {
		c := r.ByType[t]
		if c == nil {
			out = append(out, t+": never planted")
			continue
		}
		if c.Recall() < MinRecall {
			out = append(out, fmt.Sprintf("%s recall %.3f < %.2f", t, c.Recall(), MinRecall))
		}
		if c.Precision() < MinPrecision {
			out = append(out, fmt.Sprintf("%s precision %.3f < %.2f", t, c.Precision(), MinPrecision))
		}
	}
	if f := r.FalsePer1000(); f > MaxFalsePer1000 {
		out = append(out, fmt.Sprintf("%.2f false events per 1,000 random-walk bars > %.1f", f, MaxFalsePer1000))
	}
	return out
}

// Write prints the report as a Markdown table.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%d schematics (%d bars), tolerance +-%d bars\n\n", r.Series, r.Bars, Tolerance)
	fmt.Fprintln(w, "| event | planted | found | recall | detected | precision | goal |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | --- |")
	var types []string
	for t := range r.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		c := r.ByType[t]
		goal := ""
		for _, k := range KeyEvents {
			if k == t {
				goal = "key"
			}
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.3f | %d | %.3f | %s |\n", t, c.Planted, c.Found, c.Recall(), c.Detected, c.Precision(), goal)
	}
	if r.PhaseBars > 0 {
		fmt.Fprintf(w, "\nphase B-D agreement: %.3f of %d bars\n", float64(r.PhaseAgreed)/float64(r.PhaseBars), r.PhaseBars)
	}
	fmt.Fprintf(w, "random walks: %d bars, %d events, %.2f false events per 1,000 bars", r.WalkBars, r.WalkEvents, r.FalsePer1000())
	if len(r.WalkByType) > 0 {
		fmt.Fprintf(w, " %v", r.WalkByType)
	}
	fmt.Fprintln(w)
}

// Evaluate analyses n schematics of each kind (seeds from seed on) and
// random walks of walkBars bars in all (half with volume that grows with the
// move), with parameters p.
func Evaluate(n int, walkBars int, seed uint64, p wyckoff.Params) (*Report, error) {
	r := &Report{}
	for k := Accumulation1; k <= Distribution2; k++ {
		for j := 0; j < n; j++ {
			s := Generate(k, seed+uint64(j))
			res, err := wyckoff.Analyze(s.Input(), p)
			if err != nil {
				return nil, fmt.Errorf("analyse %v seed %d: %w", k, seed+uint64(j), err)
			}
			r.Add(s, res)
		}
	}
	const chunk = 5000
	for j := 0; j*chunk < walkBars; j++ {
		s := RandomWalk(min(chunk, walkBars-j*chunk), seed+uint64(j), j%2 == 1)
		res, err := wyckoff.Analyze(s.Input(), p)
		if err != nil {
			return nil, fmt.Errorf("analyse random walk %d: %w", j, err)
		}
		r.AddWalk(s, res)
	}
	return r, nil
}

// Input returns the series as the engine's input.
func (s Series) Input() wyckoff.Input {
	return wyckoff.Input{Open: s.Open, High: s.High, Low: s.Low, Close: s.Close, Volume: s.Volume}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
