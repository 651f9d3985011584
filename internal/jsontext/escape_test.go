package jsontext

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendStringRoundTrips(t *testing.T) {
	for _, s := range []string{
		"", "plain", `a "quoted" \ back`, "tab\tnew\nline\r\x00\x1f", "<tag>&amp;",
		"ünï©ødé 😀", "line\u2028sep\u2029", "bad \xff utf8 \xe2\x82",
	} {
		out := AppendString(nil, s)
		var got string
		require.NoError(t, json.Unmarshal(out, &got), "%q gave invalid JSON %s", s, out)
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD, as in the output
		}
		assert.Equal(t, want, got, "%q: round trip", s)
	}
	assert.Equal(t, `"<a&b>"`, string(AppendString(nil, "<a&b>")), "HTML characters are not escaped")
}

func FuzzAppendString(f *testing.F) {
	f.Add("hello \"world\"\n\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		var got string
		require.NoError(t, json.Unmarshal(out, &got), "%q gave invalid JSON %s", s, out)
		if utf8.ValidString(s) {
			require.Equal(t, s, got, "round trip")
		}
	})
}

func TestAppendUnescapedMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`plain`, `a\"b`, `\\`, `\/`, `\b\f\n\r\t`, `\u00e9`, `\u00E9`, `\ud83d\ude00`, `x\u0041y`, `\ud83d`, `\udc00x`,
	} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(`"`+body+`"`), &want))
		got, ok := AppendUnescaped(nil, body)
		if assert.True(t, ok, body) {
			assert.Equal(t, want, string(got), body)
		}
		gotb, ok := AppendUnescaped(nil, []byte(body))
		if assert.True(t, ok, "%s as bytes", body) {
			assert.Equal(t, want, string(gotb), "%s as bytes", body)
		}
	}
	for _, bad := range []string{`\u12`, `\uzzzz`, `\q`, `end\`} {
		_, ok := AppendUnescaped(nil, bad)
		assert.False(t, ok, "%s: malformed escape accepted", bad)
	}
}
