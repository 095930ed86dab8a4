// Package apikey holds API keys: their format, their storage (the
// per-account key records and the lookup items the authorizer reads), the
// check that admits a key and takes its rate-limit token in one call, and
// the keys endpoints.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
)

// Key format: "wk_" + 43 base64url characters (32 bytes from crypto/rand,
// 256 bits) + 6 base62 characters of the CRC-32 of everything before them.
// The checksum lets a mistyped or truncated key be refused without a
// database call, and gives secret scanners a way to tell a real key from a
// random string, as GitHub's token format does.
const (
	// Scheme starts every key.
	Scheme = "wk_"
	// PrefixLen is the length of a key's displayed prefix.
	PrefixLen   = 12
	secretBytes = 32
	bodyLen     = 43 // base64url of 32 bytes, unpadded
	checkLen    = 6  // base62 of a uint32 (62^6 > 2^32)
	// KeyLen is the length of every key.
	KeyLen = len(Scheme) + bodyLen + checkLen
)

// ErrMalformed is returned for a string that is not a well-formed key.
var ErrMalformed = errors.New("apikey: malformed key")

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Generate returns a new key. It returns an error only when the system's
// random source fails.
func Generate() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	head := Scheme + base64.RawURLEncoding.EncodeToString(b[:])
	return head + checksum(head), nil
}

func checksum(head string) string {
	v := crc32.ChecksumIEEE([]byte(head))
	var out [checkLen]byte
	for i := checkLen - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out[:])
}

// Check reports whether s is a well-formed key (scheme, length, alphabet
// and checksum) without any database call. It returns ErrMalformed
// otherwise.
func Check(s string) error {
	if len(s) != KeyLen || s[:len(Scheme)] != Scheme {
		return ErrMalformed
	}
	body := s[len(Scheme) : len(Scheme)+bodyLen]
	for i := 0; i < len(body); i++ {
		if !urlSafe(body[i]) {
			return ErrMalformed
		}
	}
	// The last body character carries only 4 bits; a canonical encoding
	// has the other 2 clear, so each key has exactly one spelling.
	if _, err := base64.RawURLEncoding.Strict().DecodeString(body); err != nil {
		return ErrMalformed
	}
	head := s[:len(Scheme)+bodyLen]
	if s[len(head):] != checksum(head) {
		return ErrMalformed
	}
	return nil
}

func urlSafe(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Hash is the lookup hash of a key: the hex SHA-256 of the whole key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Prefix is the key's first PrefixLen characters, shown to tell keys apart.
func Prefix(key string) string {
	if len(key) < PrefixLen {
		return key
	}
	return key[:PrefixLen]
}
