package wyckoff_test

import (
	"testing"

	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

// BenchmarkWyckoff runs the whole analysis of 50,000 candles (random walk
// with schematics spliced in, so that ranges, events and counts are built)
// and RSI(14) of the same candles in the same run; both report ns/candle,
// and the analysis reports its ratio to the RSI (goal: <= 10).
func BenchmarkWyckoff(b *testing.B) {
	in := benchCandles(50000)
	n := float64(len(in.Close))
	spec, _ := indicator.Lookup("rsi")
	rp, _ := spec.Resolve(map[string]float64{"period": 14})
	out := [][]float64{make([]float64, len(in.Close))}
	var rsiNs float64
	b.Run("rsi14", func(b *testing.B) {
		for b.Loop() {
			if err := spec.Compute(indicator.Input{Close: in.Close}, rp, out); err != nil {
				b.Fatal(err)
			}
		}
		rsiNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(rsiNs, "ns/candle")
	})
	b.Run("analysis", func(b *testing.B) {
		p := wyckoff.DefaultParams()
		var events int
		for b.Loop() {
			r, err := wyckoff.Analyze(in, p)
			if err != nil {
				b.Fatal(err)
			}
			events = len(r.Events)
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(ns, "ns/candle")
		b.ReportMetric(float64(events), "events")
		if rsiNs > 0 {
			b.ReportMetric(ns/rsiNs, "x_rsi14")
		}
	})
}

// benchCandles joins planted schematics and random-walk stretches into n
// candles, prices chained so that each piece starts where the last ended.
func benchCandles(n int) wyckoff.Input {
	var in wyckoff.Input
	last := 100.0
	add := func(s schematic.Series) {
		k := last / s.Open[0]
		for i := range s.Close {
			in.Open = append(in.Open, s.Open[i]*k)
			in.High = append(in.High, s.High[i]*k)
			in.Low = append(in.Low, s.Low[i]*k)
			in.Close = append(in.Close, s.Close[i]*k)
			in.Volume = append(in.Volume, s.Volume[i]*1e5/s.Volume[0])
		}
		last = in.Close[len(in.Close)-1]
	}
	for seed := uint64(1); len(in.Close) < n; seed++ {
		add(schematic.Generate(schematic.Kind(seed%4), seed))
		add(schematic.RandomWalk(300, seed, seed%2 == 0))
	}
	in.Open, in.High, in.Low, in.Close, in.Volume = in.Open[:n], in.High[:n], in.Low[:n], in.Close[:n], in.Volume[:n]
	return in
}
