package mcpapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
)

// slot is what fills a placeholder of the SDK's response.
type slot int

const (
	slotMeta slot = iota // _meta's object
	slotText             // content[0].text (a JSON string)
	slotData             // structuredContent (a JSON object)
)

// parts is the SDK's response cut at its placeholders: rest[i] precedes
// slots[i], and rest has one more element than slots.
type parts struct {
	rest  [][]byte
	slots []slot
}

// split cuts resp at the placeholders the tool handler returned: the
// _meta object, the text and, for a success, the structured content.
func split(resp []byte, nonce string, withData bool) (parts, error) {
	type hit struct {
		at, n int
		s     slot
	}
	want := []struct {
		ph string
		s  slot
	}{
		{`{"` + metaKey + `":"` + nonce + `-meta"}`, slotMeta},
		{`"` + nonce + `-text"`, slotText},
	}
	if withData {
		want = append(want, struct {
			ph string
			s  slot
		}{`"` + nonce + `-data"`, slotData})
	}
	var hits []hit
	for _, w := range want {
		at := bytes.Index(resp, []byte(w.ph))
		if at < 0 || bytes.Index(resp[at+len(w.ph):], []byte(w.ph)) >= 0 {
			return parts{}, errors.New("mcpapi: the SDK's tool result lost a placeholder")
		}
		hits = append(hits, hit{at, len(w.ph), w.s})
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].at < hits[j].at })
	var p parts
	from := 0
	for _, h := range hits {
		p.rest = append(p.rest, resp[from:h.at])
		p.slots = append(p.slots, h.s)
		from = h.at + h.n
	}
	p.rest = append(p.rest, resp[from:])
	return p, nil
}

// response is an answer ready to write: the SDK's response with its slots
// filled, kept in pieces so that megabytes of text and data are written
// once, straight to the client, rather than copied into one buffer.
type response struct {
	p          parts
	text, data []byte
	ts         textScan
	meta       []byte
	size       int   // bytes of the body
	invoke     int   // bytes of the Lambda invoke response (answer.InvokeSize)
	tokens     int64 // what the answer costs (0 when not charged)
}

// render fills the slots with text (the raw text, written as a JSON
// string), data and the _meta figures, and measures the answer with
// headers h. A charged answer states its own cost in _meta, so its tokens
// are found by a fixed point (answer.Fit); an uncharged one costs 0.
func (p parts) render(text, data []byte, c caller.Caller, charged bool, reqBytes int64, h http.Header) response {
	ts, ds := scan(text), textScan{plain: true}
	if len(data) > 0 {
		ds = ts
		if len(data) != len(text) || &data[0] != &text[0] { // a success's text is its data
			ds = scan(data)
		}
	}
	size := ts.stringLen() + len(data)
	for _, r := range p.rest {
		size += len(r)
	}
	res := response{p: p, text: text, data: data, ts: ts, meta: meta(c, 0, false)}
	if charged {
		res.meta, res.tokens = answer.Fit(reqBytes, int64(size), func(t int64) []byte { return meta(c, t, true) })
	}
	res.size = size + len(res.meta)
	if !ts.plain || !ds.plain {
		res.invoke = answer.InvokeSize(http.StatusOK, h, res.body())
		return res
	}
	// The skeleton (the answer with an empty text and no data) measured,
	// and what the scans say text and data take added: an empty text is
	// `""`, 4 bytes escaped.
	skeleton := response{p: p, ts: textScan{plain: true}, meta: res.meta}
	res.invoke = answer.InvokeSize(http.StatusOK, h, skeleton.body()) - 4 + ts.invokeStringLen() + ds.invokeLen()
	return res
}

// writeTo writes the answer to w.
func (r response) writeTo(w io.Writer) error {
	var err error
	write := func(b []byte) {
		if err == nil && len(b) > 0 {
			_, err = w.Write(b)
		}
	}
	for i, s := range r.p.rest[:len(r.p.slots)] {
		write(s)
		switch r.p.slots[i] {
		case slotMeta:
			write(r.meta)
		case slotText:
			if r.ts.plain {
				write([]byte{'"'})
				writePlain(r.text, write)
				write([]byte{'"'})
			} else {
				write(r.ts.appendString(nil, r.text))
			}
		case slotData:
			write(r.data)
		}
	}
	write(r.p.rest[len(r.p.rest)-1])
	return err
}

// body returns the answer as one buffer.
func (r response) body() []byte {
	var b bytes.Buffer
	b.Grow(r.size)
	_ = r.writeTo(&b) // a bytes.Buffer does not fail
	return b.Bytes()
}

// meta renders a result's _meta: {session_id, tokens, tokens_used,
// tokens_remaining, session_expires_at}; outside a session (the master
// key, or a caller without one) all but tokens are null. tokens_used is
// the session's count when the call was admitted plus this call's tokens.
func meta(c caller.Caller, tokens int64, charged bool) []byte {
	used := c.SessionTokensUsed
	if charged {
		used += tokens
	}
	b := answer.AppendSessionFigures(make([]byte, 0, 160), c.SessionID, tokens, used, c.SessionTokenLimit)
	if c.SessionID == "" {
		return append(b, `,"session_expires_at":null}`...)
	}
	b = append(b, `,"session_expires_at":"`...)
	b = append(b, httpapi.Time(time.UnixMilli(c.SessionExpiresAt))...)
	return append(b, `"}`...)
}

// escapes holds the escape of each byte that needs one in a JSON string.
var escapes = func() [256]string {
	var e [256]string
	for c := range 0x20 {
		e[c] = `\u00` + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
	}
	e['\n'], e['\r'], e['\t'], e['"'], e['\\'] = `\n`, `\r`, `\t`, `\"`, `\\`
	return e
}()

// textScan is what one fast pass learns of a text: whether it is plain
// (printable ASCII: no control character, nothing to validate as UTF-8)
// and, if so, how many quotes and backslashes it holds, the only bytes a
// JSON string escapes in it.
type textScan struct {
	b     []byte
	n     int // len(b)
	plain bool
	q     int // quotes and backslashes, when plain
}

func scan(b []byte) textScan {
	ts := textScan{b: b, n: len(b), plain: plainASCII(b)}
	if ts.plain {
		ts.q = bytes.Count(b, []byte{'"'}) + bytes.Count(b, []byte{'\\'})
	}
	return ts
}

// plainASCII reports whether every byte of b is in [0x20, 0x7f], eight
// bytes a step.
func plainASCII(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte >= 0x80, or a byte < 0x20 (w - 0x20 borrows into its top bit).
		if (w|(w-0x20*lo)&^w)&hi != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 || b[i] >= 0x80 {
			return false
		}
	}
	return true
}

// stringLen is the length of the text written as a JSON string
// (appendString).
func (ts textScan) stringLen() int {
	if ts.plain {
		return ts.n + 2 + ts.q
	}
	if !utf8.Valid(ts.b) {
		out, _ := json.Marshal(string(ts.b))
		return len(out)
	}
	n := ts.n + 2
	for _, c := range ts.b {
		if e := escapes[c]; e != "" {
			n += len(e) - 1
		}
	}
	return n
}

// invokeStringLen is what the text written as a JSON string takes in the
// invoke response, where the body is itself a JSON string: each quote
// and backslash escaped twice (4 bytes), the quotes around it escaped
// once. Only for a plain text.
func (ts textScan) invokeStringLen() int { return ts.n + 3*ts.q + 4 }

// invokeLen is what the text as it is takes in the invoke response. Only
// for a plain text.
func (ts textScan) invokeLen() int { return ts.n + ts.q }

// appendString appends the text as a JSON string literal; invalid UTF-8
// is replaced as encoding/json replaces it.
func (ts textScan) appendString(dst, b []byte) []byte {
	if !ts.plain && !utf8.Valid(b) {
		out, _ := json.Marshal(string(b))
		return append(dst, out...)
	}
	dst = append(dst, '"')
	if ts.plain {
		writePlain(b, func(run []byte) { dst = append(dst, run...) })
		return append(dst, '"')
	}
	from := 0
	for i, c := range b {
		if e := escapes[c]; e != "" {
			dst = append(append(dst, b[from:i]...), e...)
			from = i + 1
		}
	}
	return append(append(dst, b[from:]...), '"')
}

// writePlain writes b, plain, with its quotes and backslashes escaped:
// the runs between them as they are.
func writePlain(b []byte, write func([]byte)) {
	nextQ, nextB := -1, -1 // the next quote and backslash at or after from; len(b) when none
	for from := 0; ; {
		if nextQ < from {
			if nextQ = bytes.IndexByte(b[from:], '"'); nextQ < 0 {
				nextQ = len(b)
			} else {
				nextQ += from
			}
		}
		if nextB < from {
			if nextB = bytes.IndexByte(b[from:], '\\'); nextB < 0 {
				nextB = len(b)
			} else {
				nextB += from
			}
		}
		i := min(nextQ, nextB)
		write(b[from:i])
		if i == len(b) {
			return
		}
		write(escapePair[b[i]])
		from = i + 1
	}
}

var escapePair = map[byte][]byte{'"': []byte(`\"`), '\\': []byte(`\\`)}

// stringLen is the length of b written as a JSON string (appendString).
func stringLen(b []byte) int { return scan(b).stringLen() }

// appendString appends b as a JSON string literal.
func appendString(dst, b []byte) []byte { return scan(b).appendString(dst, b) }
