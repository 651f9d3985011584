package transform

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendEscapedIsValidJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s", "\x00\x01\x1f\t\n\r", "café 😀", "bad \xff utf8 \xc3", "<html>&"} {
		out := appendJSONString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(out, &back), "%q -> %s", s, out)
		want := string([]rune(s)) // invalid bytes become U+FFFD, like encoding/json
		assert.Equal(t, want, back, "%q -> %s", s, out)
	}
}

func TestAppendUnescapedMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`plain`, `a\"b`, `\\`, `\/`, `\b\f\n\r\t`, `\u00e9`, `\u00E9`, `\ud83d\ude00`, `x\u0041y`,
	} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(`"`+body+`"`), &want))
		assert.Equal(t, want, string(appendUnescaped(nil, body)), body)
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
		assert.Equal(t, want, string(appendUnescaped(nil, body)), body)
	}
}

func TestAppendCompact(t *testing.T) {
	for in, want := range map[string]string{
		"{ \"a b\" : [ 1 , \"x \\\" y\" ] }": `{"a b":[1,"x \" y"]}`,
		"[\n\t\"\\\\\" ,\r null ]":           `["\\",null]`,
		`{}`:                                 `{}`,
	} {
		assert.Equal(t, want, string(appendCompact(nil, in, false)), "%q", in)
	}
	assert.Equal(t, `{a:x \"q\" \\,b:[c]}`, string(appendCompact(nil, `{ "a": "x \"q\" \\", "b": [ "c" ] }`, true)), "strip quotes")
}

func TestPathString(t *testing.T) {
	require.Equal(t, "$.detail['a b'][0]", mustPath(t, "$.detail['a b'][0]").String())
}
