package wyckoffapi_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
	"github.com/waickoff/waickoff/shared/wyckoffapi"
)

// extremes are the values tried for a parameter: its bounds, the numbers
// next to them, the smallest subnormals and tiny normals (audit F10:
// box_size 1e-310 and 5e-324 overflowed the point-and-figure count to
// +Inf), and the default.
func extremes(s wyckoff.ParamSpec) []float64 {
	vs := []float64{s.Min, s.Max, s.Default, math.Nextafter(s.Min, math.Inf(1)), math.Nextafter(s.Max, math.Inf(-1)),
		5e-324, 1e-320, 1e-310, 1e-300, 2.2250738585072014e-308, 1e-18, 1e-9, 1e9, 1e18, math.MaxFloat64, -5e-324}
	if s.Type == "integer" {
		vs = append(vs, s.Min+1, s.Max-1)
	}
	return vs
}

// scaled returns s as a candle set with its prices times f.
func scaled(s schematic.Series, f float64) candle.Set {
	n := len(s.Close)
	set := candle.Set{Time: make([]int64, n), Volume: s.Volume}
	mul := func(v []float64) []float64 {
		out := make([]float64, n)
		for i := range v {
			out[i] = v[i] * f
		}
		return out
	}
	set.Open, set.High, set.Low, set.Close = mul(s.Open), mul(s.High), mul(s.Low), mul(s.Close)
	for i := range set.Time {
		set.Time[i] = 1700000000 + 60*int64(i)
	}
	return set
}

// TestExtremeParameters: every float parameter, alone and with each box
// method, at extreme values over planted schematics at prices from 1e-15
// to 1e15, is either refused with invalid_request naming
// params.<name> (or candles, too few for the warm-up) or analysed into JSON with finite numbers only (the JSON
// encoder refuses +Inf and NaN, which was a 500). Never anything else.
func TestExtremeParameters(t *testing.T) {
	var sets []candle.Set
	for _, k := range []schematic.Kind{schematic.Accumulation1, schematic.Distribution2} {
		s := schematic.Generate(k, 3)
		for _, f := range []float64{1, 1e-15, 1e15} {
			sets = append(sets, scaled(s, f))
		}
	}
	counts := 0
	for _, spec := range wyckoff.ParamSpecs() {
		for _, v := range extremes(spec) {
			raws := []map[string]float64{{spec.Name: v}}
			if spec.Name != "box_size" && spec.Name != "box_percent" {
				raws = append(raws, map[string]float64{spec.Name: v, "box_size": 1}, map[string]float64{spec.Name: v, "box_percent": 1e-4})
			}
			for _, raw := range raws {
				for _, set := range sets {
					res, _, err := wyckoffapi.Run(wyckoffapi.Request{Candles: set, Params: raw})
					if err != nil {
						var pe *problem.Error
						if !errors.As(err, &pe) || pe.Code != problem.InvalidRequest || pe.Field == "" {
							t.Fatalf("%v over prices near %g: %v, want invalid_request naming a field", raw, set.Close[0], err)
						}
						name, isParam := strings.CutPrefix(pe.Field, "params.")
						if _, ok := raw[name]; !(isParam && ok) && pe.Field != "candles" {
							t.Fatalf("%v over prices near %g: field %s, want one of the parameters sent (or candles: the warm-up)",
								raw, set.Close[0], pe.Field)
						}
						continue
					}
					if _, err := json.Marshal(res); err != nil {
						t.Fatalf("%v over prices near %g: %v", raw, set.Close[0], err)
					}
					for _, r := range res.Ranges {
						if r.Count != nil {
							counts++
						}
					}
				}
			}
		}
	}
	if counts == 0 {
		t.Error("no analysis had a point-and-figure count: the test exercises nothing")
	}
}
