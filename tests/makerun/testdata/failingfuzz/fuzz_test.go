// Package failingfuzz has a fuzz target that fails on inputs starting
// "hi": TestFuzzShowsTheFailure runs make fuzz on it.
package failingfuzz

import "testing"

func FuzzFails(f *testing.F) {
	f.Add([]byte("ok"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 2 && b[0] == 'h' && b[1] == 'i' {
			t.Fatalf("found %q", b)
		}
	})
}
