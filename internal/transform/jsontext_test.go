package transform

import (
	"encoding/json"
	"testing"
)

func TestAppendEscapedIsValidJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s", "\x00\x01\x1f\t\n\r", "café 😀", "bad \xff utf8 \xc3", "<html>&"} {
		out := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		want := string([]rune(s)) // invalid bytes become U+FFFD, like encoding/json
		if back != want {
			t.Errorf("%q -> %s -> %q", s, out, back)
		}
	}
}

func TestAppendUnescapedMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`plain`, `a\"b`, `\\`, `\/`, `\b\f\n\r\t`, `\u00e9`, `\u00E9`, `\ud83d\ude00`, `x\u0041y`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+body+`"`), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(appendUnescaped(nil, body)); got != want {
			t.Errorf("%s: got %q, want %q", body, got, want)
		}
	}
	// Malformed escapes are copied, lone surrogates become U+FFFD.
	for body, want := range map[string]string{
		`\u12`:      `\u12`,
		`\uzzzz`:    `\uzzzz`,
		`\q`:        `\q`,
		`end\`:      `end\`,
		`\ud83d`:    "\ufffd",
		`\ud83dabc`: "\ufffdabc",
	} {
		if got := string(appendUnescaped(nil, body)); got != want {
			t.Errorf("%s: got %q, want %q", body, got, want)
		}
	}
}

func TestAppendCompact(t *testing.T) {
	for in, want := range map[string]string{
		"{ \"a b\" : [ 1 , \"x \\\" y\" ] }": `{"a b":[1,"x \" y"]}`,
		"[\n\t\"\\\\\" ,\r null ]":           `["\\",null]`,
		`{}`:                                 `{}`,
	} {
		if got := string(appendCompact(nil, in, false)); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
	if got := string(appendCompact(nil, `{ "a": "x \"q\" \\", "b": [ "c" ] }`, true)); got != `{a:x \"q\" \\,b:[c]}` {
		t.Errorf("strip quotes: got %s", got)
	}
}

func TestPathString(t *testing.T) {
	if s := mustPath(t, "$.detail['a b'][0]").String(); s != "$.detail['a b'][0]" {
		t.Fatalf("String() = %q", s)
	}
}
