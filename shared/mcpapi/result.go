package mcpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/metering"
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

// render fills the slots, text (the raw text, written as a JSON string)
// and data, and returns the response and its tokens. A charged answer
// states its own cost in _meta, so its tokens are found by a fixed point
// (metering.Fit); an uncharged one costs 0.
func (p parts) render(text, data []byte, c caller.Caller, charged bool, reqBytes int64) ([]byte, int64) {
	size := stringLen(text) + len(data)
	for _, r := range p.rest {
		size += len(r)
	}
	if !charged {
		return p.fill(text, data, meta(c, 0, false), size), 0
	}
	m, tokens := metering.Fit(reqBytes, int64(size), func(t int64) []byte { return meta(c, t, true) })
	return p.fill(text, data, m, size), tokens
}

func (p parts) fill(text, data, meta []byte, size int) []byte {
	out := make([]byte, 0, size+len(meta))
	for i, s := range p.slots {
		out = append(out, p.rest[i]...)
		switch s {
		case slotMeta:
			out = append(out, meta...)
		case slotText:
			out = appendString(out, text)
		case slotData:
			out = append(out, data...)
		}
	}
	return append(out, p.rest[len(p.rest)-1]...)
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
	b := metering.AppendSessionFigures(make([]byte, 0, 160), c.SessionID, tokens, used, c.SessionTokenLimit)
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

// stringLen is the length of b written as a JSON string (appendString).
func stringLen(b []byte) int {
	if !utf8.Valid(b) {
		out, _ := json.Marshal(string(b))
		return len(out)
	}
	n := len(b) + 2
	for _, c := range b {
		if e := escapes[c]; e != "" {
			n += len(e) - 1
		}
	}
	return n
}

// appendString appends b as a JSON string literal; invalid UTF-8 is
// replaced as encoding/json replaces it.
func appendString(dst, b []byte) []byte {
	if !utf8.Valid(b) {
		out, _ := json.Marshal(string(b))
		return append(dst, out...)
	}
	dst = append(dst, '"')
	from := 0
	for i, c := range b {
		if e := escapes[c]; e != "" {
			dst = append(append(dst, b[from:i]...), e...)
			from = i + 1
		}
	}
	return append(append(dst, b[from:]...), '"')
}
