package wyckoff_test

import (
	"reflect"
	"testing"

	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

// The charts below are worked by hand, box 1 and reversal 3 unless said.
//
// Chart A (bars: high/low/close):
//
//	0: 10.2/ 9.8/10.0  start box round(10.0) = 10, no move of one box yet
//	1: 11.5/10.1/11.2  floor(11.5) = 11 >= 10+1: first column X 10..11
//	2: 13.3/11.0/13.0  13 > 11: X extends to 13
//	3: 12.5/10.9/11.5  no new high; ceil(10.9) = 11 > 13-3: nothing
//	4: 12.0/ 9.6/ 9.8  no new high; ceil(9.6) = 10 <= 10: O column 12..10
//	5: 10.5/ 8.2/ 8.5  ceil(8.2) = 9 < 10: O extends to 9
//	6: 12.4/ 9.5/12.0  no new low; floor(12.4) = 12 >= 9+3: X column 10..12
//	7: 12.9/11.0/11.5  floor 12 not above 12, ceil 11 > 12-3: nothing
//
//	13 X
//	12 X O X
//	11 X O X
//	10 X O X
//	 9   O
//
// Three columns; the count is 3 x 1 x 3 = 9 boxes of price.
var chartA = struct{ h, l, c []float64 }{
	h: []float64{10.2, 11.5, 13.3, 12.5, 12.0, 10.5, 12.4, 12.9},
	l: []float64{9.8, 10.1, 11.0, 10.9, 9.6, 8.2, 9.5, 11.0},
	c: []float64{10.0, 11.2, 13.0, 11.5, 9.8, 8.5, 12.0, 11.5},
}

func TestPointAndFigureByHand(t *testing.T) {
	tests := []struct {
		name     string
		h, l, c  []float64
		first    int
		box      float64
		reversal int
		want     []wyckoff.Column
	}{
		{"chart A", chartA.h, chartA.l, chartA.c, 0, 1, 3, []wyckoff.Column{
			{Dir: "X", Low: 10, High: 13, Boxes: 4, Start: 0, End: 3},
			{Dir: "O", Low: 9, High: 12, Boxes: 4, Start: 4, End: 5},
			{Dir: "X", Low: 10, High: 12, Boxes: 3, Start: 6, End: 7},
		}},
		// Chart A with a one-box reversal: bar 3 (ceil 10.9 = 11 <= 13-1)
		// reverses to O 12..11, bar 4 extends it to 10, bar 5 to 9, bar 6
		// (floor 12.4 = 12 >= 9+1) reverses to X 10..12, bar 7 (no new
		// high; ceil 11.0 = 11 <= 12-1) reverses to O 11..11.
		{"chart A, reversal 1", chartA.h, chartA.l, chartA.c, 0, 1, 1, []wyckoff.Column{
			{Dir: "X", Low: 10, High: 13, Boxes: 4, Start: 0, End: 2},
			{Dir: "O", Low: 9, High: 12, Boxes: 4, Start: 3, End: 5},
			{Dir: "X", Low: 10, High: 12, Boxes: 3, Start: 6, End: 6},
			{Dir: "O", Low: 11, High: 11, Boxes: 1, Start: 7, End: 7},
		}},
		// Chart B, box 0.5, bars numbered from 100, boxes counted in
		// halves: start box round(20.0/0.5) = 40. Bar 1: low 19.4/0.5 =
		// 38.8, ceil 39 <= 40-1: first column O 40..39. Bar 2: 37.2 -> 38,
		// O extends to 38. Bar 3: low 38 no new low, high 39.2 -> 39 < 38+3.
		// Bar 4: low 38.6 -> 39, high 40.2 -> 40 < 41. Bar 5: high 41.2 ->
		// 41 >= 41: X 39..41. In prices: O 20..19, X 19.5..20.5.
		{"chart B, box 0.5", []float64{20.1, 20.1, 19.2, 19.6, 20.1, 20.6},
			[]float64{19.9, 19.4, 18.6, 19.0, 19.3, 20.0},
			[]float64{20.0, 19.5, 18.8, 19.5, 20.0, 20.5}, 100, 0.5, 3, []wyckoff.Column{
				{Dir: "O", Low: 19, High: 20, Boxes: 3, Start: 100, End: 104},
				{Dir: "X", Low: 19.5, High: 20.5, Boxes: 3, Start: 105, End: 105},
			}},
		{"no move of one box", []float64{10.2, 10.4}, []float64{9.8, 9.7}, []float64{10, 10}, 0, 1, 3, nil},
		{"zero box", chartA.h, chartA.l, chartA.c, 0, 0, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wyckoff.PointAndFigure(tt.h, tt.l, tt.c, tt.first, tt.box, tt.reversal)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("columns\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHorizontalCountByHand(t *testing.T) {
	cols := wyckoff.PointAndFigure(chartA.h, chartA.l, chartA.c, 0, 1, 3)
	// Accumulation, count line at the LPS box 10: cause 3 columns x 1 x 3
	// = 9; aggressive 10 + 9 = 19, conservative from the lowest box 9: 18.
	agg, cons := wyckoff.HorizontalCount(cols, 10, 1, 3, false)
	if agg != 19 || cons != 18 {
		t.Errorf("accumulation targets %v, %v; want 19, 18", agg, cons)
	}
	// Distribution, count line at the LPSY box 12: aggressive 12 - 9 = 3,
	// conservative from the highest box 13: 4.
	agg, cons = wyckoff.HorizontalCount(cols, 12, 1, 3, true)
	if agg != 3 || cons != 4 {
		t.Errorf("distribution targets %v, %v; want 3, 4", agg, cons)
	}
	if agg, cons = wyckoff.HorizontalCount(nil, 7, 1, 3, false); agg != 7 || cons != 7 {
		t.Errorf("no columns: %v, %v; want the line", agg, cons)
	}
}

// A box that would number more than MaxBoxes boxes from zero to a price of
// the count gives no count, however it was derived (audit F10: box numbers
// past a million are inexact, and past 1.8e308 +Inf); the same chart
// lifted so that it stays within the bound keeps its count.
func TestCountBoxBound(t *testing.T) {
	s := schematic.Generate(schematic.Accumulation1, 3)
	lift := func(by float64) wyckoff.Input {
		up := func(v []float64) []float64 {
			out := make([]float64, len(v))
			for i := range v {
				out[i] = v[i] + by
			}
			return out
		}
		return wyckoff.Input{Open: up(s.Open), High: up(s.High), Low: up(s.Low), Close: up(s.Close), Volume: s.Volume}
	}
	counts := func(in wyckoff.Input, p wyckoff.Params) int {
		res, err := wyckoff.Analyze(in, p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range res.Ranges {
			if r.Count != nil {
				n++
			}
		}
		return n
	}
	p := wyckoff.DefaultParams()
	p.BoxATR = 0.01 // a box of about 0.01 (the ATR is about 1)
	if counts(lift(0), p) == 0 || counts(lift(1e3), p) == 0 {
		t.Fatal("no count within the bound")
	}
	if n := counts(lift(1e5), p); n != 0 {
		t.Errorf("box_atr 0.01 at prices near 1e5 (about 1e7 boxes): %d counts, want none", n)
	}
	p = wyckoff.DefaultParams()
	p.BoxPercent = 100 / wyckoff.MaxBoxes // a million boxes to the close, more to the range's highs
	if n := counts(lift(0), p); n != 0 {
		t.Errorf("box_percent %g: %d counts, want none", p.BoxPercent, n)
	}
}
