package answer

import "bytes"

// Fit finds the tokens t of a response that states its own cost: the
// response is fixed bytes plus meta(t), and t = Tokens(req, fixed +
// len(meta(t))). meta must render a JSON object whose length does not
// shrink as t grows except through figures derived from it (a remaining
// count); when the lengths would oscillate the larger t is kept and the
// object is padded with spaces before its closing brace (valid JSON
// whitespace) to the length that costs exactly t. It returns the meta
// bytes and t.
func Fit(req, fixed int64, meta func(tokens int64) []byte) ([]byte, int64) {
	size := func(m []byte) int64 { return fixed + int64(len(m)) }
	t := Tokens(req, size(meta(0)))
	for {
		m := meta(t)
		n := Tokens(req, size(m))
		if n > t {
			t = n
			continue
		}
		if n < t {
			// req + size < 4(t-1)+1: pad up to it, which costs t.
			pad := 4*(t-1) + 1 - req - size(m)
			m = append(m[:len(m)-1:len(m)-1], append(bytes.Repeat([]byte{' '}, int(pad)), '}')...)
		}
		return m, t
	}
}
