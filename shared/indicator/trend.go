package indicator

// sar is TA-Lib's SAR, operation for operation. The first bar is consumed:
// the initial direction is short when TA-Lib's one-bar -DM between bars 0
// and 1 is positive (the low fell more than the high rose), long otherwise;
// the first SAR (index 1) is bar 0's low when long, its high when short. An
// acceleration above the maximum is lowered to the maximum, as TA-Lib does.
func sar(high, low, out []float64, accel, maximum float64) {
	n := len(high)
	high, low, out = high[:n], low[:n], out[:n]
	fillNaN(out[:1])
	if accel > maximum {
		accel = maximum
	}
	af := accel
	// TA_MINUS_DM over bars 0..1 with period 1.
	diffP := high[1] - high[0]
	diffM := low[0] - low[1]
	isLong := !(diffM > 0 && diffP < diffM)

	var ep, s float64
	if isLong {
		ep = high[1]
		s = low[0]
	} else {
		ep = low[1]
		s = high[0]
	}
	newLow, newHigh := low[1], high[1]
	for i := 1; i < n; i++ {
		prevLow, prevHigh := newLow, newHigh
		newLow, newHigh = low[i], high[i]
		if isLong {
			if newLow <= s {
				// Switch to short; the SAR becomes the extreme point.
				isLong = false
				s = ep
				s = max(s, prevHigh, newHigh)
				out[i] = s
				af = accel
				ep = newLow
				s = s + float64(af*(ep-s))
				s = max(s, prevHigh, newHigh)
			} else {
				out[i] = s
				if newHigh > ep {
					ep = newHigh
					af += accel
					if af > maximum {
						af = maximum
					}
				}
				s = s + float64(af*(ep-s))
				s = min(s, prevLow, newLow)
			}
		} else if newHigh >= s {
			// Switch to long.
			isLong = true
			s = ep
			s = min(s, prevLow, newLow)
			out[i] = s
			af = accel
			ep = newHigh
			s = s + float64(af*(ep-s))
			s = min(s, prevLow, newLow)
		} else {
			out[i] = s
			if newLow < ep {
				ep = newLow
				af += accel
				if af > maximum {
					af = maximum
				}
			}
			s = s + float64(af*(ep-s))
			s = max(s, prevHigh, newHigh)
		}
	}
}
