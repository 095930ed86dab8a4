package apikey_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/apikey"
)

// The contract's shape, and the OpenAPI document's pattern.
var keyShape = regexp.MustCompile(`^wk_[A-Za-z0-9_-]{40,}$`)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		k, err := apikey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != apikey.KeyLen || !keyShape.MatchString(k) {
			t.Fatalf("key %q does not have the contract's shape", k)
		}
		if err := apikey.Check(k); err != nil {
			t.Fatalf("a generated key fails its own check: %v", err)
		}
		if seen[k] {
			t.Fatal("the same key twice")
		}
		seen[k] = true
		if p := apikey.Prefix(k); len(p) != 12 || !strings.HasPrefix(k, p) {
			t.Fatalf("prefix %q", p)
		}
		if h := apikey.Hash(k); len(h) != 64 || strings.Contains(h, k) {
			t.Fatalf("hash %q", h)
		}
	}
}

// Every single-character typo, truncation or extension is refused without
// a database call.
func TestCheckRefusesTypos(t *testing.T) {
	k, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(k); i++ {
		for _, c := range []byte(alphabet) {
			if c == k[i] {
				continue
			}
			typo := k[:i] + string(c) + k[i+1:]
			if apikey.Check(typo) == nil {
				// A CRC-32 catches every single-character change; only the
				// non-canonical last base64 character could slip, and Check
				// refuses those too.
				t.Fatalf("typo at %d (%q -> %q) accepted", i, k[i], c)
			}
		}
	}
	tests := map[string]string{
		"empty":      "",
		"scheme":     "wx_" + k[3:],
		"upper":      strings.ToUpper(k[:3]) + k[3:],
		"truncated":  k[:len(k)-1],
		"extended":   k + "A",
		"padding":    k[:len(k)-1] + "=",
		"space":      " " + k[1:],
		"master-ish": "wk_" + strings.Repeat("A", 43),
		"swapped":    swap(k),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			if apikey.Check(s) == nil {
				t.Fatalf("%q accepted", s)
			}
		})
	}
}

// swap exchanges the first two different neighbours after the scheme.
func swap(k string) string {
	for i := 3; i+1 < len(k); i++ {
		if k[i] != k[i+1] {
			return k[:i] + k[i+1:i+2] + k[i:i+1] + k[i+2:]
		}
	}
	return ""
}

// FuzzParseKey: Check never panics, and accepts only strings of the exact
// shape whose checksum holds; generated keys always pass.
func FuzzParseKey(f *testing.F) {
	k, _ := apikey.Generate()
	f.Add(k)
	f.Add("")
	f.Add("wk_")
	f.Add(k[:len(k)-1])
	f.Add("wk_" + strings.Repeat("_", 49))
	f.Add("Bearer " + k)
	f.Fuzz(func(t *testing.T, s string) {
		err := apikey.Check(s)
		if err != nil {
			return
		}
		if len(s) != apikey.KeyLen || !keyShape.MatchString(s) {
			t.Fatalf("Check accepted %q", s)
		}
		if apikey.Check(s) != nil {
			t.Fatal("an accepted key is refused the second time")
		}
		// Its lookup hash is the hex SHA-256 of the whole key (DESIGN.md:
		// the authorizer finds the key by it, so keys that differ in any
		// character must not share it).
		sum := sha256.Sum256([]byte(s))
		if got := apikey.Hash(s); got != hex.EncodeToString(sum[:]) {
			t.Fatalf("Hash(%q) = %q, not the hex SHA-256 of the key", s, got)
		}
		// Changing its last character breaks it.
		last := s[len(s)-1]
		repl := byte('A')
		if last == 'A' {
			repl = 'B'
		}
		if apikey.Check(s[:len(s)-1]+string(repl)) == nil {
			t.Fatalf("%q and its last-character variant both pass", s)
		}
	})
}

// BenchmarkCheckAndHash is the per-request key work before any database
// call: the format and checksum check and the SHA-256 for the lookup.
func BenchmarkCheckAndHash(b *testing.B) {
	k, _ := apikey.Generate()
	b.ReportAllocs()
	for b.Loop() {
		if apikey.Check(k) != nil {
			b.Fatal("refused")
		}
		_ = apikey.Hash(k)
	}
}
