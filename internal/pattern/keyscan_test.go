package pattern

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// naiveKeyScan is keyScan's definition, a byte at a time.
func naiveKeyScan(s []byte, a, b, c byte) int {
	for i, x := range s {
		if x == '\\' {
			return i
		}
		if i > 0 && s[i-1] == '"' && (x == a || x == b || x == c) {
			return i
		}
	}
	return -1
}

// randomJSONish returns n bytes mostly from the few that matter to keyScan,
// so that finds fall at every position of a block and across blocks.
func randomJSONish(r *rand.Rand, n int) []byte {
	const alphabet = `"\abcx 1,[`
	out := make([]byte, n)
	for i := range out {
		if r.IntN(4) == 0 {
			out[i] = alphabet[r.IntN(len(alphabet))]
		} else {
			out[i] = ' ' + byte(r.IntN(8))
		}
	}
	return out
}

// TestKeyScan checks keyScan (the assembly where hasKeyScan) and its
// portable loop against the definition, on random text of every length up to
// a few blocks and every alignment, including a quote that ends one block
// before a key byte that starts the next.
func TestKeyScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 400)
	for range 20000 {
		n := r.IntN(200)
		off := r.IntN(64)
		s := buf[off : off+n]
		copy(s, randomJSONish(r, n))
		a, b, c := "abcx"[r.IntN(4)], "abcx"[r.IntN(4)], "abcx"[r.IntN(4)]
		want := naiveKeyScan(s, a, b, c)
		require.Equal(t, want, keyScan(s, a, b, c), "keyScan(%q, %c%c%c)", s, a, b, c)
		require.Equal(t, want, keyScanFrom(s, 0, a, b, c), "keyScanFrom(%q, %c%c%c)", s, a, b, c)
	}
	for at := 1; at < 100; at++ {
		s := []byte(strings.Repeat(" ", at-1) + `"a` + strings.Repeat(" ", 100))
		assert.Equal(t, at, keyScan(s, 'a', 'a', 'a'), "key byte at %d", at)
		s = []byte(strings.Repeat(" ", at) + `a\` + strings.Repeat(" ", 100))
		assert.Equal(t, at+1, keyScan(s, 'a', 'a', 'a'), "no quote before the key byte at %d", at)
	}
}

// TestInertAgreesPerKey checks that inert's one pass answers as a pass per
// key does (inertPerKey, the definition of the early stop's text check) for
// random rests and random stop keys: empty keys, keys that start with a quote
// or a backslash, more first bytes than one pass takes, keys at the end.
func TestInertAgreesPerKey(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := []string{"a", "ab", "abc", "b", "bx", "c", "x", "xa", "", `"a`, `\a`, "1", " "}
	for range 20000 {
		var frames []frame
		for range 1 + r.IntN(3) {
			var sk [][]byte
			for range 1 + r.IntN(3) {
				sk = append(sk, []byte(keys[r.IntN(len(keys))]))
			}
			frames = append(frames, frame{node: &pathNode{stopKeys: sk}})
		}
		rest := randomJSONish(r, r.IntN(150))
		if r.IntN(2) == 0 { // mostly without backslashes, so keys decide
			rest = []byte(strings.ReplaceAll(string(rest), `\`, " "))
		}
		want := inertPerKey(rest, frames)
		require.Equal(t, want, inert(rest, frames), "inert(%q, %v)", rest, frames)
	}
}

// TestEarlyStopLongRest checks the early stop against the strict scan when
// what forbids it (a later duplicate of the key, an escaped duplicate, a
// duplicate inside the object it stopped in) comes after a stretch of
// coordinates of every length, so that it falls at every position of the
// pass's blocks; and that an event the stop leaves unread still gets its
// early answer.
func TestEarlyStopLongRest(t *testing.T) {
	m := machineOf(t,
		`{"properties":{"MAPBLKLOT":["A"]}}`,
		`{"properties":{"MAPBLKLOT":["B"]}}`,
	)
	for pad := range 100 {
		coords := `"c":[` + strings.Repeat("1", pad) + `]`
		for _, c := range []struct {
			ev   string
			want []string
		}{
			{`{"properties":{"MAPBLKLOT":"A","x":1},` + coords + `}`, []string{"0"}},
			{`{"properties":{"MAPBLKLOT":"A"},` + coords + `,"properties":{"MAPBLKLOT":"B"}}`, []string{"1"}},
			{`{"properties":{"MAPBLKLOT":"A"},` + coords + `,"prop\u0065rties":{"MAPBLKLOT":"B"}}`, []string{"1"}},
			{`{"properties":{"MAPBLKLOT":"A",` + coords + `,"MAPBLKLOT":"B"}}`, []string{"1"}},
			{`{"properties":{"MAPBLKLOT":"A",` + coords + `,"MAPBLKLO\u0054":"B"}}`, []string{"1"}},
			{`{"properties":{"MAPBLKLOT":"A",` + coords + `,"M":"MAPBLKLOT"}}`, []string{"0"}},
		} {
			for name, match := range map[string]func([]string, []byte) ([]string, error){
				"Match": m.Match, "MatchStrict": m.MatchStrict,
			} {
				got, err := match(nil, []byte(c.ev))
				require.NoError(t, err, "%s(%s)", name, c.ev)
				require.ElementsMatch(t, c.want, got, "%s(%s)", name, c.ev)
			}
		}
		// a truncated event is caught even with a long rest
		_, err := m.Match(nil, []byte(`{"properties":{"MAPBLKLOT":"A"},`+coords))
		require.Error(t, err, "truncated event, pad %d", pad)
		// the rest is not read as JSON once the stop is proven
		got, err := m.Match(nil, []byte(`{"properties":{"MAPBLKLOT":"A"},`+coords+`,]}`))
		require.NoError(t, err, "early stop, pad %d", pad)
		assert.Equal(t, []string{"0"}, got, "early stop, pad %d", pad)
	}
}

// TestEarlyStopManyKeys checks the early stop when the named keys have more
// first bytes than one pass of inert takes: a later duplicate of the key
// whose first byte falls in the last pass still forbids the stop.
func TestEarlyStopManyKeys(t *testing.T) {
	m := machineOf(t, `{"properties":{"MAPBLKLOT":["A"],"BLKLOT":["A"],"STREET":["A"],"ODD":["A"]}}`)
	front := `{"properties":{"MAPBLKLOT":"A","BLKLOT":"A","STREET":"A","ODD":"A",` +
		`"c":[` + strings.Repeat("1.5,", 40) + `1]`
	for _, c := range []struct {
		ev   string
		want []string
	}{
		{front + `}}`, []string{"0"}},
		{front + `,"ODD":"B"}}`, nil},
		{front + `,"MAPBLKLOT":"B"}}`, nil},
		{front + `},"properties":{"ODD":"A"}}`, nil},
	} {
		for name, match := range map[string]func([]string, []byte) ([]string, error){
			"Match": m.Match, "MatchStrict": m.MatchStrict,
		} {
			got, err := match(nil, []byte(c.ev))
			require.NoError(t, err, "%s(%s)", name, c.ev)
			assert.ElementsMatch(t, c.want, got, "%s(%s)", name, c.ev)
		}
	}
	got, err := m.Match(nil, []byte(front+`},"x":[}`))
	require.NoError(t, err, "the early stop leaves the rest unread")
	assert.Equal(t, []string{"0"}, got)
}
