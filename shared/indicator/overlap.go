package indicator

// sma writes TA-Lib's SMA of x over p into out, with TA-Lib's running sum
// operation for operation (add the entering value, keep the sum, subtract
// the leaving value). The order matters beyond rounding: a running sum keeps
// the rounding residue of every value that has passed through it, and after
// a price collapse of several orders of magnitude that residue is a visible
// fraction of the window's sum; only the same sequence of operations leaves
// TA-Lib's residue. The kept sum is multiplied by 1/p instead of divided by
// p (at most an ulp apart, not accumulated).
func sma(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	fillNaN(out[:p-1])
	inv := 1 / float64(p)
	total := 0.0
	for _, v := range x[:p-1] {
		total += v
	}
	lead := x[p-1 : n]
	trail := x[:len(lead)]
	o := out[p-1 : n]
	o = o[:len(lead)]
	for j, v := range lead {
		t := total + v
		total = t - trail[j]
		o[j] = t * inv
	}
}

// emaSeed returns TA-Lib's EMA seed: the sum of x[:p] accumulated in order,
// divided by p.
func emaSeed(x []float64, p int) float64 {
	sum := 0.0
	for _, v := range x[:p] {
		sum += v
	}
	return sum / float64(p)
}

// ema writes TA-Lib's EMA (k = 2/(p+1), seeded at index p-1 with the SMA of
// the first p values) into out. TA-Lib's recursion prev + k*(x-prev) is
// evaluated as prev*(1-k) + k*x, four steps at a time: with a = 1-k,
// e4 = a^4*e0 + (a^3*k*x1 + a^2*k*x2 + a*k*x3 + k*x4), so the loop-carried
// path is one multiply-add per four outputs and e1..e3 are computed from e0
// off that path. The rounding differs from TA-Lib's by a few ulps and does
// not accumulate (the recursion is contracting). Plain multiply-adds are
// used rather than math.FMA: the compiler fuses them where FMA is always
// available (arm64), and math.FMA's fallback call on amd64 would force every
// variable of the loop onto the stack.
func ema(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	fillNaN(out[:p-1])
	k := 2.0 / (float64(p) + 1.0)
	prev := emaSeed(x, p)
	out[p-1] = prev
	emaRun(x[p:n], out[p:n], prev, k)
}

// emaRun continues an EMA from prev over x into out (same length).
func emaRun(x, out []float64, prev, k float64) {
	a := 1 - k
	a2 := a * a
	a3 := a2 * a
	a4 := a2 * a2
	k1, k2, k3 := a*k, a2*k, a3*k
	m := len(x)
	out = out[:m]
	j := 0
	for ; j+3 < m; j += 4 {
		x1, x2, x3, x4 := x[j], x[j+1], x[j+2], x[j+3]
		t1 := k * x1
		t2 := k1*x1 + k*x2
		t3 := k2*x1 + k1*x2 + k*x3
		t4 := k3*x1 + k2*x2 + k1*x3 + k*x4
		out[j] = prev*a + t1
		out[j+1] = prev*a2 + t2
		out[j+2] = prev*a3 + t3
		prev = prev*a4 + t4
		out[j+3] = prev
	}
	for ; j < m; j++ {
		prev = prev*a + k*x[j]
		out[j] = prev
	}
}

// wma is TA-Lib's WMA, operation for operation.
func wma(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	fillNaN(out[:p-1])
	divider := float64((p * (p + 1)) >> 1)
	fp := float64(p)
	periodSum, periodSub := 0.0, 0.0
	for i := 0; i < p-1; i++ {
		v := x[i]
		periodSub += v
		periodSum += float64(v * float64(i+1))
	}
	trailingValue := 0.0
	trail := 0
	for i := p - 1; i < n; i++ {
		v := x[i]
		periodSub += v
		periodSub -= trailingValue
		periodSum += float64(v * fp)
		trailingValue = x[trail]
		trail++
		out[i] = periodSum / divider
		periodSum -= periodSub
	}
}

// dema is TA-Lib's DEMA in one pass: EMA1 of x, EMA2 of EMA1 seeded with the
// SMA of EMA1's first p values, output 2*EMA1 - EMA2 from index 2*(p-1).
// TA-Lib's EMA arithmetic ((x-prev)*k + prev) is kept exactly; the explicit
// float64 conversions stop the compiler from fusing products into FMAs on
// platforms where it would (arm64), which would change the rounding.
func dema(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	lb := 2 * (p - 1)
	fillNaN(out[:lb])
	k := 2.0 / (float64(p) + 1.0)
	fp := float64(p)
	e1 := emaSeed(x, p)
	s2 := e1
	i := p
	for ; i <= lb; i++ {
		e1 = float64((x[i]-e1)*k) + e1
		s2 += e1
	}
	e2 := s2 / fp
	out[lb] = 2.0*e1 - e2
	for ; i < n; i++ {
		e1 = float64((x[i]-e1)*k) + e1
		e2 = float64((e1-e2)*k) + e2
		out[i] = 2.0*e1 - e2
	}
}

// tema is TA-Lib's TEMA in one pass: three chained EMAs, each seeded with the
// SMA of the first p values of the previous one, output
// EMA3 + (3*EMA1 - 3*EMA2) from index 3*(p-1).
func tema(x, out []float64, p int) {
	n := len(x)
	out = out[:n]
	lb := 3 * (p - 1)
	fillNaN(out[:lb])
	k := 2.0 / (float64(p) + 1.0)
	fp := float64(p)
	e1 := emaSeed(x, p)
	s2 := e1
	i := p
	for ; i <= 2*(p-1); i++ {
		e1 = float64((x[i]-e1)*k) + e1
		s2 += e1
	}
	e2 := s2 / fp
	s3 := e2
	for ; i <= lb; i++ {
		e1 = float64((x[i]-e1)*k) + e1
		e2 = float64((e1-e2)*k) + e2
		s3 += e2
	}
	e3 := s3 / fp
	out[lb] = e3 + (float64(3.0*e1) - float64(3.0*e2))
	for ; i < n; i++ {
		e1 = float64((x[i]-e1)*k) + e1
		e2 = float64((e1-e2)*k) + e2
		e3 = float64((e2-e3)*k) + e3
		out[i] = e3 + (float64(3.0*e1) - float64(3.0*e2))
	}
}
