package candle

import (
	"math/big"
	"sync"
)

// pow10Table returns the powers of ten Schubfach needs: entry e-pow10Min
// is floor(10^e * 2^(127-floorLog2Pow10(e))) + 1 as {high, low}, the
// 128-bit upper approximation of 10^e with its top bit set. It computes
// them exactly with math/big once, on the first float written (about a
// millisecond), rather than keeping 9.9 KB of table in every binary that
// writes floats: the table pushed the indicator functions' data segment
// over a 64 KiB boundary of the file (tests/lambdasize).
func pow10Table() *[pow10Max - pow10Min + 1][2]uint64 {
	pow10Once.Do(buildPow10)
	return &pow10Tab
}

var (
	pow10Once sync.Once
	pow10Tab  [pow10Max - pow10Min + 1][2]uint64
)

// buildPow10 walks e upwards keeping 10^|e| as a running product.
func buildPow10() {
	ten := big.NewInt(10)
	one := big.NewInt(1)
	// 10^-e for the negative exponents, from 10^292 down to 10^1.
	neg := make([]*big.Int, -pow10Min+1)
	neg[0] = big.NewInt(1)
	for i := 1; i < len(neg); i++ {
		neg[i] = new(big.Int).Mul(neg[i-1], ten)
	}
	pos := big.NewInt(1)
	var num, den, g big.Int
	for e := pow10Min; e <= pow10Max; e++ {
		if e >= 0 {
			num.Set(pos)
			den.Set(one)
			pos.Mul(pos, ten)
		} else {
			num.Set(one)
			den.Set(neg[-e])
		}
		if s := 127 - floorLog2Pow10(e); s >= 0 {
			num.Lsh(&num, uint(s))
		} else {
			den.Lsh(&den, uint(-s))
		}
		g.Quo(&num, &den)
		g.Add(&g, one)
		words := g.Bits()
		// big.Word is 64 bits on every platform the functions are built for
		// (arm64) and tested on (amd64); the test holds every entry.
		pow10Tab[e-pow10Min] = [2]uint64{uint64(words[1]), uint64(words[0])}
	}
}
