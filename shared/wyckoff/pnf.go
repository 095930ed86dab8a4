package wyckoff

import "math"

// Column is one point-and-figure column: X (rising) or O (falling), from
// box Low to box High (prices of the boxes), over bars Start..End.
type Column struct {
	Dir   string  `json:"dir"` // "X" or "O"
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	Boxes int     `json:"boxes"`
	Start int     `json:"start"`
	End   int     `json:"end"`
}

// Count is the Wyckoff horizontal count of a range: the point-and-figure
// columns from the climax (the left wall) to the LPS (LPSY), whose number
// times box times reversal is the cause, projected from the count line
// (aggressive target) and from the range's extreme box (conservative).
type Count struct {
	Box          float64  `json:"box"`
	BoxMethod    string   `json:"box_method"` // "atr", "percent" or "fixed"
	Reversal     int      `json:"reversal"`
	Line         float64  `json:"line"` // the count line: the LPS (LPSY) box
	From         int      `json:"from"` // first bar counted (the climax)
	To           int      `json:"to"`   // last bar counted (the LPS or LPSY)
	Columns      int      `json:"columns"`
	Conservative float64  `json:"conservative"`
	Aggressive   float64  `json:"aggressive"`
	Chart        []Column `json:"chart"`
}

// MaxBoxes bounds a point-and-figure box number. Boxes sit at multiples of
// the box from zero, so a price p is box p/box: beyond a million its
// rounding error (p/box x 1.1e-16) outgrows the 1e-9 box the chart allows
// for it, and far beyond p/box overflows to +Inf (a box_size of 5e-324
// did). A fixed box_size that would pass it is refused; a box from
// box_percent or box_atr that would gives no count.
const MaxBoxes = 1e6

// PointAndFigure builds the columns of high and low (the high/low method)
// with the given box and reversal. Boxes sit at multiples of box. The first
// column starts at the box nearest the first bar's close and takes the
// direction of the first move of one box; afterwards a bar first extends the
// current column (a new box beyond its end) and only when it does not may
// reverse it (reversal boxes back). Bars are numbered from first. A box <=
// 0, a reversal < 1 or no bars give no columns.
func PointAndFigure(high, low, close []float64, first int, box float64, reversal int) []Column {
	return appendPointAndFigure(nil, high, low, close, first, box, reversal)
}

// appendPointAndFigure appends the columns PointAndFigure returns to cols.
func appendPointAndFigure(cols []Column, high, low, close []float64, first int, box float64, reversal int) []Column {
	if box <= 0 || reversal < 1 || len(high) == 0 || len(high) != len(low) || len(high) != len(close) {
		return cols
	}
	up := func(x float64) float64 { return math.Floor(x/box + 1e-9) }  // highest box reached
	down := func(x float64) float64 { return math.Ceil(x/box - 1e-9) } // lowest box reached
	s := math.Round(close[0] / box)
	var lo, hi float64
	dir := ""
	start := first
	rev := float64(reversal)
	for k := range high {
		i := first + k
		// A bar's other end is measured only when the column does not
		// extend: a division saved on most bars.
		switch dir {
		case "":
			h, l := up(high[k]), down(low[k])
			rise, fall := h >= s+1, l <= s-1
			if rise && fall {
				rise = close[k] >= close[0]
				fall = !rise
			}
			if rise {
				dir, lo, hi, start = "X", s, h, first
			} else if fall {
				dir, lo, hi, start = "O", l, s, first
			}
		case "X":
			if h := up(high[k]); h > hi {
				hi = h
			} else if l := down(low[k]); l <= hi-rev {
				cols = append(cols, column(dir, lo, hi, box, start, i-1))
				dir, lo, hi, start = "O", l, hi-1, i
			}
		case "O":
			if l := down(low[k]); l < lo {
				lo = l
			} else if h := up(high[k]); h >= lo+rev {
				cols = append(cols, column(dir, lo, hi, box, start, i-1))
				dir, lo, hi, start = "X", lo+1, h, i
			}
		}
	}
	if dir != "" {
		cols = append(cols, column(dir, lo, hi, box, start, first+len(high)-1))
	}
	return cols
}

func column(dir string, lo, hi, box float64, start, end int) Column {
	return Column{Dir: dir, Low: lo * box, High: hi * box, Boxes: int(hi-lo) + 1, Start: start, End: end}
}

// HorizontalCount projects the cause of the columns: n columns times box
// times reversal, added to the count line and to the lowest box
// (accumulation) or taken from the count line and the highest box
// (distribution). It returns the aggressive and the conservative target.
func HorizontalCount(cols []Column, line, box float64, reversal int, dist bool) (aggressive, conservative float64) {
	if len(cols) == 0 {
		return line, line
	}
	cause := float64(len(cols)) * box * float64(reversal)
	lo, hi := cols[0].Low, cols[0].High
	for _, c := range cols[1:] {
		lo, hi = math.Min(lo, c.Low), math.Max(hi, c.High)
	}
	if dist {
		return line - cause, hi - cause
	}
	return line + cause, lo + cause
}

// count builds the horizontal count of range k, when it has an LPS (LPSY),
// appending its chart's columns to cols; c.Chart is then the end of cols,
// valid until the next append.
func (e *engine) count(in Input, k int, cols []Column) (*Count, []Column) {
	r := &e.ranges[k]
	if !r.lpsSet || r.lps <= r.Start {
		return nil, cols
	}
	p := e.p
	c := &Count{Reversal: p.Reversal, From: r.Start, To: r.lps}
	switch {
	case p.BoxSize > 0:
		c.Box, c.BoxMethod = p.BoxSize, "fixed"
	case p.BoxPercent > 0:
		c.Box, c.BoxMethod = math.Abs(in.Close[r.lps])*p.BoxPercent/100, "percent"
	default:
		c.Box, c.BoxMethod = r.lpsATR*p.BoxATR, "atr"
	}
	a, b := r.Start, r.lps+1
	top := math.Abs(r.lpsPrice)
	for i := a; i < b; i++ {
		top = max(top, math.Abs(in.High[i]), math.Abs(in.Low[i]), math.Abs(in.Close[i]))
	}
	if !(c.Box > 0) || top/c.Box > MaxBoxes {
		return nil, cols
	}
	n := len(cols)
	cols = appendPointAndFigure(cols, in.High[a:b], in.Low[a:b], in.Close[a:b], a, c.Box, p.Reversal)
	if len(cols) > n {
		c.Chart = cols[n:]
	}
	c.Columns = len(c.Chart)
	dist := r.Kind == Distribution
	if dist {
		c.Line = math.Floor(r.lpsPrice/c.Box+1e-9) * c.Box
	} else {
		c.Line = math.Ceil(r.lpsPrice/c.Box-1e-9) * c.Box
	}
	c.Aggressive, c.Conservative = HorizontalCount(c.Chart, c.Line, c.Box, p.Reversal, dist)
	return c, cols
}

// counts sets the count of every range. The charts are built into one
// buffer (the engine's scratch), then copied into one array of their exact
// length and sliced, each to its own capacity: a chart of its own grew by
// doubling, and so would one array for all.
func (e *engine) counts(in Input, ranges []Range) {
	cols := e.sc.cols[:0]
	ends := make([]int, len(ranges))
	for k := range ranges {
		ranges[k].Count, cols = e.count(in, k, cols)
		ends[k] = len(cols)
	}
	all := make([]Column, len(cols))
	copy(all, cols)
	e.sc.cols = cols[:0] // its strings are the constants "X" and "O"
	start := 0
	for k := range ranges {
		if c := ranges[k].Count; c != nil && c.Chart != nil {
			c.Chart = all[start:ends[k]:ends[k]]
		}
		start = ends[k]
	}
}
