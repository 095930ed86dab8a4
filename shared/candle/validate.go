package candle

import (
	"strconv"
)

// Validate checks s against the package's rules (see the package
// documentation) and returns nil or a *FieldError naming the first
// offending value with column names ("high[12]"). Limits are not applied.
func (s Set) Validate() error {
	cols := [6]int{len(s.Time), len(s.Open), len(s.High), len(s.Low), len(s.Close), len(s.Volume)}
	for k := 1; k < 6; k++ {
		if cols[k] != cols[0] {
			return &FieldError{Field: colNames[k], Index: -1,
				Reason: "has " + strconv.Itoa(cols[k]) + " values but time has " + strconv.Itoa(cols[0])}
		}
	}
	if cols[0] == 0 {
		return &FieldError{Field: "candles", Index: -1, Reason: "at least 1 candle is required"}
	}
	if fe := validate(&s, false, 0); fe != nil {
		return fe
	}
	return nil
}

// validate checks the candles of s, whose columns have equal lengths. rows
// selects the names of row bodies ("candles[3].h") over column names
// ("high[3]"); firstLine > 0 marks a CSV body whose candle 0 is on that line.
func validate(s *Set, rows bool, firstLine int) *FieldError {
	t := s.Time
	n := len(t)
	o, h, l, c, v := s.Open[:n], s.High[:n], s.Low[:n], s.Close[:n], s.Volume[:n]
	for i := range n {
		oi, hi, li, ci, vi := o[i], h[i], l[i], c[i], v[i]
		// x-x is 0 for a finite x and NaN for ±Inf and NaN.
		if (oi-oi)+(hi-hi)+(li-li)+(ci-ci)+(vi-vi) != 0 {
			for k, x := range [...]float64{fO: oi, fH: hi, fL: li, fC: ci, fV: vi} {
				if k > 0 && x-x != 0 {
					return candleErr(rows, firstLine, k, i, "must be a finite number")
				}
			}
		}
		if i > 0 && t[i] <= t[i-1] {
			return candleErr(rows, firstLine, fT, i, "must be after the previous candle's time "+
				strconv.FormatInt(t[i-1], 10)+" (times must strictly increase)")
		}
		if hi < li {
			return candleErr(rows, firstLine, fH, i, "high "+fmtNum(hi)+" is below low "+fmtNum(li))
		}
		if oi < li || oi > hi {
			return candleErr(rows, firstLine, fO, i, "open "+fmtNum(oi)+" is outside [low, high] = ["+fmtNum(li)+", "+fmtNum(hi)+"]")
		}
		if ci < li || ci > hi {
			return candleErr(rows, firstLine, fC, i, "close "+fmtNum(ci)+" is outside [low, high] = ["+fmtNum(li)+", "+fmtNum(hi)+"]")
		}
		if vi < 0 {
			return candleErr(rows, firstLine, fV, i, "volume "+fmtNum(vi)+" is negative")
		}
	}
	return nil
}

func candleErr(rows bool, firstLine, k, i int, reason string) *FieldError {
	e := &FieldError{Field: fieldAt(rows, k, i), Index: i, Reason: reason}
	if firstLine > 0 {
		e.Line = firstLine + i
	}
	return e
}

func fmtNum(f float64) string { return string(AppendFloat(nil, f)) }
