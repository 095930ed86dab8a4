package mcpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReadEnvelope(t *testing.T) {
	tests := []struct {
		name, body   string
		ok, batch    bool
		method, tool string
		args         string // "" when not lifted
	}{
		{"call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rsi","arguments":{"a":[1,{"b":"}"}]}}}`,
			true, false, "tools/call", "rsi", `{"a":[1,{"b":"}"}]}`},
		{"arguments first, spaces", ` { "params" : { "arguments" : { "x" : "\"{" } , "name" : "t\u0031" } , "method" : "tools\/call" , "id" : "a" } `,
			true, false, "tools/call", "t1", `{ "x" : "\"{" }`},
		{"no arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, true, false, "tools/list", "", ""},
		{"arguments not an object", `{"method":"tools/call","params":{"name":"x","arguments":[1]}}`, true, false, "tools/call", "x", ""},
		{"batch", `[{"method":"ping"}]`, true, true, "", "", ""},
		{"method twice", `{"method":"ping","method":"tools/call"}`, false, false, "", "", ""},
		{"arguments twice", `{"method":"tools/call","params":{"arguments":{},"arguments":{}}}`, false, false, "", "", ""},
		{"brackets crossed in arguments", `{"method":"tools/call","params":{"arguments":{"a":[1}]}}`, false, false, "", "", ""},
		{"string cut short", `{"method":"tools/call","params":{"arguments":{"a":"x}}}`, false, false, "", "", ""},
		{"trailing data", `{"method":"ping"} x`, false, false, "", "", ""},
		{"bad envelope number", `{"id":01,"method":"ping"}`, false, false, "", "", ""},
		{"not JSON", `{nope`, false, false, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, ok := readEnvelope([]byte(tc.body))
			if ok != tc.ok || env.batch != tc.batch || env.method != tc.method || env.tool != tc.tool {
				t.Fatalf("got ok=%v %+v", ok, env)
			}
			got := ""
			if env.argStart >= 0 {
				got = tc.body[env.argStart:env.argEnd]
				if string(env.args.Raw) != got {
					t.Fatalf("args %q, span %q", env.args.Raw, got)
				}
			}
			if got != tc.args {
				t.Fatalf("arguments %q, want %q", got, tc.args)
			}
		})
	}
}

func TestArgsWithout(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"indicator":"rsi","candles":[1]}`, `{"candles":[1]}`},
		{`{"candles":[1], "indicator" : "rsi" }`, `{"candles":[1]}`},
		{`{"indicator":"rsi"}`, `{}`},
		{`{"a":1,"indicator":"rsi","b":2}`, `{"a":1,"b":2}`},
	}
	for _, tc := range tests {
		a, err := ParseArgs([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		got := a.without([]string{"indicator"})
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s -> %q: %v", tc.in, got, err)
		}
		_ = json.Unmarshal([]byte(tc.want), &w)
		if len(got) != len(tc.in) || strings.ReplaceAll(string(got), " ", "") != tc.want {
			t.Errorf("%s -> %q, want %s (blanked in place)", tc.in, got, tc.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{``, `plain`, `{"a":"b\c"}`, "tab\tnew\nline\x01\x1f", "é ü \u2028", "bad \xff utf8"} {
		got := appendString(nil, []byte(s))
		if len(got) != stringLen([]byte(s)) {
			t.Errorf("%q: stringLen %d, written %d", s, stringLen([]byte(s)), len(got))
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if back != w {
			t.Errorf("%q came back as %q", s, back)
		}
	}
}

// skipLight ends a well-formed value where the strict skipValue does,
// whatever the offsets of its brackets and strings (it steps four bytes
// at a time over what lies between).
func TestSkipLightEndsValues(t *testing.T) {
	values := []string{
		`[{"t":1,"o":2.5,"h":3,"l":1,"c":2,"v":0},{"t":2,"o":2.5,"h":3e2,"l":1,"c":2,"v":10}]`,
		`[1,22,333,4444,55555,666666,7777777,88888888,-1.5e-3]`,
		`{"a":"]}","bb":"\"[","ccc":["\\",{"d":"x\\\"y"}],"e":[[[]]],"f":{}}`,
		`{"":"","x":""}`,
		`"a string"`, `123.5`, `true`,
	}
	for _, v := range values {
		for pad := range 9 {
			b := []byte(strings.Repeat(" ", pad) + v + ` , "next"`)
			want, ok := skipValue(b, pad, 0)
			if !ok {
				t.Fatalf("%s is not valid", v)
			}
			if got, ok := skipLight(b, pad, 0); !ok || got != want {
				t.Errorf("%s at %d: skipLight ends at %d (%v), skipValue at %d", v, pad, got, ok, want)
			}
		}
	}
}
