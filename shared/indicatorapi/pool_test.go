package indicatorapi

import (
	"bytes"
	"testing"
)

// TestPooled holds the answer buffer pool to its two promises: the answer
// is a copy (a later answer does not change an earlier one), and a buffer
// larger than any answer Lambda can send is not kept.
func TestPooled(t *testing.T) {
	first := pooled(func(b []byte) []byte { return append(b, "first"...) })
	pooled(func(b []byte) []byte { return append(b, "second"...) })
	if string(first) != "first" {
		t.Errorf("first answer = %q after a second one, want %q", first, "first")
	}
	huge := pooled(func(b []byte) []byte { return append(b, bytes.Repeat([]byte{'x'}, maxPooled+1)...) })
	if len(huge) != maxPooled+1 {
		t.Fatalf("huge answer has %d bytes, want %d", len(huge), maxPooled+1)
	}
	for range 4 {
		if bp := bufPool.Get().(*[]byte); cap(*bp) > maxPooled {
			t.Fatalf("the pool kept a buffer of %d bytes, over %d", cap(*bp), maxPooled)
		}
	}
}
