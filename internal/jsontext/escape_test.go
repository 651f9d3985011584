package jsontext

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendStringRoundTrips(t *testing.T) {
	for _, s := range []string{
		"", "plain", `a "quoted" \ back`, "tab\tnew\nline\r\x00\x1f", "<tag>&amp;",
		"ünï©ødé 😀", "line\u2028sep\u2029", "bad \xff utf8 \xe2\x82",
	} {
		out := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, out, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD, as in the output
		}
		if got != want {
			t.Errorf("%q: round trip gave %q", s, got)
		}
	}
	if got := string(AppendString(nil, "<a&b>")); got != `"<a&b>"` {
		t.Errorf("HTML characters escaped: %s", got)
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("hello \"world\"\n\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, out, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("%q: round trip gave %q", s, got)
		}
	})
}

func TestAppendUnescapedMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`plain`, `a\"b`, `\\`, `\/`, `\b\f\n\r\t`, `\u00e9`, `\u00E9`, `\ud83d\ude00`, `x\u0041y`, `\ud83d`, `\udc00x`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+body+`"`), &want); err != nil {
			t.Fatal(err)
		}
		got, ok := AppendUnescaped(nil, body)
		if !ok || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", body, got, ok, want)
		}
		if gotb, ok := AppendUnescaped(nil, []byte(body)); !ok || string(gotb) != want {
			t.Errorf("%s as bytes: got %q, %v; want %q", body, gotb, ok, want)
		}
	}
	for _, bad := range []string{`\u12`, `\uzzzz`, `\q`, `end\`} {
		if _, ok := AppendUnescaped(nil, bad); ok {
			t.Errorf("%s: malformed escape accepted", bad)
		}
	}
}
