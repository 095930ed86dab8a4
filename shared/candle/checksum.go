package candle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"unsafe"
)

// Checksum returns "sha256:" and the lowercase hex SHA-256 of the Set's
// canonical binary form: the Time column as little-endian int64s, then the
// Open, High, Low, Close and Volume columns as the little-endian bits of
// their float64s, each column whole and in that order (column-major, no
// header). A client reproduces it with, for example, numpy:
//
//	sha256(t.astype("<i8").tobytes() + o.astype("<f8").tobytes() + ... + v.astype("<f8").tobytes())
//
// Equal checksums mean bit-identical input; -0 and 0 differ.
func (s Set) Checksum() string {
	h := sha256.New()
	writeInts(h, s.Time)
	for _, col := range [...][]float64{s.Open, s.High, s.Low, s.Close, s.Volume} {
		writeFloats(h, col)
	}
	var sum [sha256.Size]byte
	out := make([]byte, 0, len("sha256:")+2*sha256.Size)
	out = append(out, "sha256:"...)
	return string(hex.AppendEncode(out, h.Sum(sum[:0])))
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func writeInts(h hash.Hash, v []int64) {
	if len(v) == 0 {
		return
	}
	if littleEndian {
		// The memory already is the canonical form: hash it in place.
		h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v)))
		return
	}
	var buf [512]byte
	for len(v) > 0 {
		n := min(len(v), len(buf)/8)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint64(buf[8*i:], uint64(x))
		}
		h.Write(buf[:8*n])
		v = v[n:]
	}
}

func writeFloats(h hash.Hash, v []float64) {
	if len(v) == 0 {
		return
	}
	if littleEndian {
		h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v)))
		return
	}
	var buf [512]byte
	for len(v) > 0 {
		n := min(len(v), len(buf)/8)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(x))
		}
		h.Write(buf[:8*n])
		v = v[n:]
	}
}
