package wyckoff_test

import (
	"testing"

	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

func BenchmarkX(b *testing.B) {
	s := schematic.RandomWalk(50000, 1, true)
	in := s.Input()
	spec, _ := indicator.Lookup("rsi")
	rp, _ := spec.Resolve(map[string]float64{"period": 14})
	out := [][]float64{make([]float64, 50000)}
	b.Run("rsi", func(b *testing.B) {
		for b.Loop() {
			spec.Compute(indicator.Input{Close: in.Close}, rp, out)
		}
	})
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			wyckoff.Analyze(in, wyckoff.DefaultParams())
		}
	})
}
