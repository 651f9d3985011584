package pattern

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNumberValue(t *testing.T) {
	cases := []struct {
		text string
		f    float64
		cmp  bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"0.000e10", 0, true}, {"5", 5, true}, {"5.0", 5, true},
		{"50e-1", 5, true}, {"5e0", 5, true}, {"0.1", 0.1, true}, {"-122.42200352825247", -122.42200352825247, true},
		{"-122.422003528252475", 0, false}, // 18 significant digits (as in the city-lots data)
		{"37.807807921694092", 0, false},
		{"1e400", 0, false}, {"1e-400", 0, false},
		// Java writes the smallest subnormals with two digits where two are
		// closer than one: 4.9e-324, not 5e-324; 9.9e-324, not 1e-323.
		{"5e-324", 0, false}, {"4.9e-324", 5e-324, true}, {"-4.90e-324", -5e-324, true}, {"-5e-324", 0, false},
		{"1e-323", 0, false}, {"9.9e-324", 1e-323, true}, {"1e-320", 1e-320, true}, {"1.0e-320", 1e-320, true},
		{"9007199254740993", 0, false}, {"9007199254740992", 9007199254740992, true},
		{"1.7976931348623157e308", 1.7976931348623157e308, true},
		{"0.30000000000000004", 0.30000000000000004, true}, {"0.3000000000000000", 0.3, true},
	}
	for _, c := range cases {
		f, cmp := numberString(c.text)
		if assert.Equal(t, c.cmp, cmp, "numberValue(%s): comparable", c.text) && cmp {
			assert.Equal(t, c.f, f, "numberValue(%s)", c.text)
		}
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true}, {"a*c", "ac", true},
		{"a*c", "ab", false}, {"a*b*c", "abbbc", true}, {"a*b*c", "acb", false}, {"ab*ba", "aba", false},
		{`a\*b`, "a*b", true}, {`a\*b`, "axb", false}, {`a\\*`, `a\xyz`, true}, {"2*0*1*7", "2607117", true},
		{"*218", "2607218", true}, {"3*5*2", "3745012", true}, {"3*5*2", "3745021", false}, {"", "", true}, {"", "x", false},
	}
	for _, c := range cases {
		w, reason := parseWildcard(c.pat, 0)
		require.NotNil(t, w, "parseWildcard(%q): %s", c.pat, reason)
		assert.Equal(t, c.want, w.match([]byte(c.s)), "wildcard %q on %q", c.pat, c.s)
	}
	for _, bad := range []string{"a**b", `a\b`, `a\`, strings.Repeat("*a", DefaultMaxWildcardStars+1)} {
		w, _ := parseWildcard(bad, 0)
		assert.Nil(t, w, "parseWildcard(%q) accepted", bad)
	}
}

func TestFoldKeys(t *testing.T) {
	assert.Equal(t, string(foldKey(nil, []byte("Straße K"))), string(foldKey(nil, []byte("STRASSE k"))), "foldKey: ß and SS")
	assert.Equal(t, string(foldKey(nil, []byte("s"))), string(foldKey(nil, []byte("ſ"))), "foldKey: s and long s")
	assert.Equal(t, string(foldKey(nil, []byte("ı"))), string(foldKey(nil, []byte("I"))), "foldKey: dotless i and its upper case I")
}

// TestFoldKeyCoversFoldMatch: whatever foldMatch accepts has the operand's
// fold key (the hash index must never hide a match), for every code point's
// lower- and upper-case forms.
func TestFoldKeyCoversFoldMatch(t *testing.T) {
	var lo, up [utf8.UTFMax]byte
	for r := rune(0); r < 0x20000; r++ { // no code point above has a case mapping
		if r >= 0xD800 && r < 0xE000 || r == 0x130 {
			continue // surrogates; U+0130 lower-cases to i + U+0307 (see fold.go)
		}
		p := string(r)
		lower, upper := caseForms(r, &lo, &up)
		for _, v := range [][]byte{lower, upper} {
			require.True(t, foldMatch(p, v, false), "foldMatch(%q, %q)", p, v)
			require.Equal(t, string(foldKey(nil, []byte(p))), string(foldKey(nil, v)), "foldKey(%q) and foldKey(%q)", v, p)
		}
	}
}

// TestFoldMatch: event-ruler's per-character rule (EqualsIgnoreCaseParser:
// each operand character matches its lower or its upper case).
func TestFoldMatch(t *testing.T) {
	cases := []struct {
		p, v   string
		prefix bool
		want   bool
	}{
		{"straße", "STRASSE", false, true},
		{"straße", "straße", false, true},
		{"straße", "STRAßE", false, true},
		{"STRASSE", "straße", false, false},
		{"ss", "ß", false, false},
		{"ß", "ss", false, false},
		{"ß", "SS", false, true},
		{"ﬁx", "FIX", false, true},
		{"k", "K", false, false},
		{"K", "k", false, true},
		{"😀OK", "😀ok", false, true},
		{"😀OK", "😁ok", false, false},
		{"abc", "ABCD", false, false},
		{"abc", "ABCD", true, true},
		{"ß", "SSx", true, true},
		{"", "", false, true},
		{"", "x", true, true},
		{"x", "", true, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, foldMatch(c.p, []byte(c.v), c.prefix), "foldMatch(%q, %q, %v)", c.p, c.v, c.prefix)
	}
	for _, c := range []struct {
		p, v string
		want bool
	}{
		{"ße", "xSSE", true}, {"ße", "xsse", false}, {"😀K", "x😀k", true}, {"abc", "ab", false}, {"", "x", true},
	} {
		assert.Equal(t, c.want, foldMatchSuffix(c.p, []byte(c.v)), "foldMatchSuffix(%q, %q)", c.p, c.v)
	}
}
