package candle

import (
	"fmt"
	"math/big"
	"testing"
)

// pow10Want computes entry e of the table on its own, as an exact
// rational: floor(10^e * 2^(127 - floor(e*log2(10)))) + 1.
func pow10Want(e int) (hi, lo uint64) {
	s := 127 - floorLog2Pow10(e)
	num := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(e, 0))), nil)
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(-e, 0))), nil)
	if s >= 0 {
		num.Lsh(num, uint(s))
	} else {
		den.Lsh(den, uint(-s))
	}
	g := new(big.Int).Quo(num, den)
	g.Add(g, big.NewInt(1))
	if g.BitLen() != 128 {
		panic(fmt.Sprintf("pow10 %d: %d bits", e, g.BitLen()))
	}
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	return new(big.Int).Rsh(g, 64).Uint64(), new(big.Int).And(g, mask).Uint64()
}

// TestPow10Table holds every entry of the table the encoder computes to
// math/big's exact value, computed entry by entry another way.
func TestPow10Table(t *testing.T) {
	tab := pow10Table()
	for e := pow10Min; e <= pow10Max; e++ {
		hi, lo := pow10Want(e)
		if got := tab[e-pow10Min]; got != [2]uint64{hi, lo} {
			t.Fatalf("1e%d: got {%#x, %#x}, want {%#x, %#x}", e, got[0], got[1], hi, lo)
		}
	}
	// Two entries known by heart: 10^0 is 2^127 (+1), 10^1 is 5*2^125 (+1).
	if tab[-pow10Min] != [2]uint64{1 << 63, 1} || tab[1-pow10Min] != [2]uint64{0xa << 60, 1} {
		t.Fatalf("1e0 %#x, 1e1 %#x", tab[-pow10Min], tab[1-pow10Min])
	}
}
