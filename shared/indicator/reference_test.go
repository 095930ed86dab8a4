package indicator

// Straightforward reference implementations transcribed from TA-Lib 0.6's C
// source, for the functions where go-talib departs from TA-Lib. They follow
// the C code's structure (separate EMA passes, circular buffers), not the
// single-pass structure of the package, so they check it independently.

// refIntEMA is TA-Lib's TA_INT_EMA over in[startIdx:]: it returns the EMA
// values for bars startIdx.., the first being the SMA of the period values
// ending at startIdx (startIdx >= period-1).
func refIntEMA(in []float64, startIdx, period int, k float64) []float64 {
	today := startIdx - (period - 1)
	tempReal := 0.0
	for i := period; i > 0; i-- {
		tempReal += in[today]
		today++
	}
	prevMA := tempReal / float64(period)
	out := []float64{prevMA}
	for today < len(in) {
		prevMA = float64((in[today]-prevMA)*k) + prevMA
		today++
		out = append(out, prevMA)
	}
	return out
}

// refMACD is TA-Lib's TA_INT_MACD (default compatibility) over the whole
// series: it returns full-length outputs (zero before begin) and begin.
func refMACD(in []float64, fast, slow, signal int) (macdOut, sigOut, histOut []float64, begin int) {
	if slow < fast {
		slow, fast = fast, slow
	}
	k1 := 2.0 / (float64(slow) + 1.0)
	k2 := 2.0 / (float64(fast) + 1.0)
	lookbackSignal := signal - 1
	lookbackTotal := lookbackSignal + (slow - 1)
	startIdx := lookbackTotal
	n := len(in)
	macdOut, sigOut, histOut = make([]float64, n), make([]float64, n), make([]float64, n)
	if startIdx >= n {
		return macdOut, sigOut, histOut, startIdx
	}
	tempInteger := startIdx - lookbackSignal // the first MACD-line bar
	fastEMA := refIntEMA(in, tempInteger, fast, k2)
	slowEMA := refIntEMA(in, tempInteger, slow, k1)
	for i := range fastEMA {
		fastEMA[i] -= slowEMA[i]
	}
	sig := refIntEMA(fastEMA, lookbackSignal, signal, 2.0/(float64(signal)+1.0))
	for j := range sig {
		i := startIdx + j
		macdOut[i] = fastEMA[lookbackSignal+j]
		sigOut[i] = sig[j]
		histOut[i] = macdOut[i] - sigOut[i]
	}
	return macdOut, sigOut, histOut, startIdx
}

// refMFI is TA-Lib 0.6's TA_MFI with its circular buffer of money flows and
// its "total below 1.0 gives 0" rule, over the whole series.
func refMFI(high, low, close, volume []float64, period int) ([]float64, int) {
	type moneyFlow struct{ positive, negative float64 }
	n := len(close)
	out := make([]float64, n)
	lookbackTotal := period
	startIdx := lookbackTotal
	if startIdx >= n {
		return out, startIdx
	}
	mflow := make([]moneyFlow, period)
	idx := 0
	next := func() {
		idx++
		if idx > period-1 {
			idx = 0
		}
	}
	today := startIdx - lookbackTotal
	prevValue := (high[today] + low[today] + close[today]) / 3.0
	posSumMF, negSumMF := 0.0, 0.0
	today++
	for i := period; i > 0; i-- {
		tempValue1 := (high[today] + low[today] + close[today]) / 3.0
		tempValue2 := tempValue1 - prevValue
		prevValue = tempValue1
		tempValue1 = float64(tempValue1 * volume[today])
		today++
		switch {
		case tempValue2 < 0:
			mflow[idx] = moneyFlow{0, tempValue1}
			negSumMF += tempValue1
		case tempValue2 > 0:
			mflow[idx] = moneyFlow{tempValue1, 0}
			posSumMF += tempValue1
		default:
			mflow[idx] = moneyFlow{}
		}
		next()
	}
	outIdx := startIdx
	emit := func() {
		tempValue1 := posSumMF + negSumMF
		if tempValue1 < 1.0 {
			out[outIdx] = 0.0
		} else {
			out[outIdx] = 100.0 * (posSumMF / tempValue1)
		}
		outIdx++
	}
	if today > startIdx {
		emit()
	}
	for today < n {
		posSumMF -= mflow[idx].positive
		negSumMF -= mflow[idx].negative
		tempValue1 := (high[today] + low[today] + close[today]) / 3.0
		tempValue2 := tempValue1 - prevValue
		prevValue = tempValue1
		tempValue1 = float64(tempValue1 * volume[today])
		today++
		switch {
		case tempValue2 < 0:
			mflow[idx] = moneyFlow{0, tempValue1}
			negSumMF += tempValue1
		case tempValue2 > 0:
			mflow[idx] = moneyFlow{tempValue1, 0}
			posSumMF += tempValue1
		default:
			mflow[idx] = moneyFlow{}
		}
		emit()
		next()
	}
	return out, startIdx
}
