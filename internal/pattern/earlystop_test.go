package pattern

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStopKeysDropCoveredKeys checks that a node's stop keys leave out the
// keys that another sibling key prefixes (every dotted continuation), so the
// early stop makes one pass per key text that can matter.
func TestStopKeysDropCoveredKeys(t *testing.T) {
	m := machineOf(t,
		`{"properties":{"STREET":["A"],"ST":["B"]}}`,
		`{"properties.MAPBLKLOT":["C"]}`,
	)
	var got []string
	for _, k := range m.root.stopKeys {
		got = append(got, string(k))
	}
	assert.Equal(t, []string{"properties"}, got, "root stop keys")
	props := m.root.child([]byte("properties"))
	got = got[:0]
	for _, k := range props.stopKeys {
		got = append(got, string(k))
	}
	slices.Sort(got)
	// "ST" prefixes "STREET"; MAPBLKLOT is a key of its own.
	assert.Equal(t, []string{"MAPBLKLOT", "ST"}, got, "properties stop keys")
	assert.Equal(t, 3, int(props.direct), "properties direct")
}

// TestEarlyStopDottedDuplicates checks that stopping early gives the strict
// answer when a later key names the field again: the same key (the last
// wins), or a dotted key (a second leaf of the same path), written plainly,
// with an escape splitting its text, or after a string value that holds the
// key's text (a key text inside a value must not break the result).
func TestEarlyStopDottedDuplicates(t *testing.T) {
	m := machineOf(t,
		`{"properties":{"STREET":["A"]}}`,
		`{"properties":{"STREET":["B"]}}`,
	)
	cases := []struct {
		ev   string
		want []string
	}{
		{`{"properties":{"STREET":"A"},"geometry":{"c":[[1,2]]}}`, []string{"0"}},
		{`{"properties":{"STREET":"A"},"properties":{"STREET":"B"}}`, []string{"1"}},
		{`{"properties":{"STREET":"A"},"g":1,"prop\u0065rties":{"STREET":"B"}}`, []string{"1"}},
		{`{"properties":{"STREET":"A","x":"STREET","STR\u0045ET":"B"}}`, []string{"1"}},
		{`{"properties":{"STREET":"A","x":"properties"},"properties":{"STREET":"B"}}`, []string{"1"}},
		{`{"properties":{"STREET":"A","x":"properties.STREET"}}`, []string{"0"}},
		{`{"properties":{"STREET":"A"},"properties.STREETX":"B"}`, []string{"0"}},
		{`{"properties":{"STREET":"A"},"g":1,"properties.STREET":"B"}`, []string{"0", "1"}},
		{`{"properties":{"STREET":"A"},"g":1,"properties.STR\u0045ET":"B"}`, []string{"0", "1"}},
		{`{"properties":{"STREET":"A","x":"properties.STREET"},"properties.STREET":"B"}`, []string{"0", "1"}},
	}
	for _, c := range cases {
		for name, match := range map[string]func([]string, []byte) ([]string, error){
			"Match": m.Match, "MatchStrict": m.MatchStrict,
		} {
			got, err := match(nil, []byte(c.ev))
			if assert.NoError(t, err, "%s(%s)", name, c.ev) {
				assert.ElementsMatch(t, c.want, got, "%s(%s)", name, c.ev)
			}
		}
	}
}

// TestEarlyStopStillStops checks that the early stop happens with dotted
// continuations in the trie: the unread rest is not validated, so Match
// accepts a broken array after the last named key that MatchStrict rejects.
func TestEarlyStopStillStops(t *testing.T) {
	m := machineOf(t, `{"properties":{"STREET":["A"]}}`, `{"properties.STREET":["A"]}`)
	ev := []byte(`{"properties":{"STREET":"A"},"geometry":[1,2,}`)
	got, err := m.Match(nil, ev)
	assert.NoError(t, err, "Match (early stop)")
	assert.Len(t, got, 2, "Match: both patterns (early stop)")
	_, err = m.MatchStrict(nil, ev)
	assert.Error(t, err, "MatchStrict accepted a broken rest")
}

// TestEarlyStopLongRest checks the early stop against the strict scan when
// what forbids it (a later duplicate of the key, an escaped duplicate, a
// duplicate inside the object it stopped in) comes after a stretch of
// coordinates of every length, so that it falls at every position of any
// word or block a search of the rest may step by; that a truncated event is
// still an error; and that an event the stop leaves unread still gets its
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

// TestEarlyStopManyKeys checks the early stop when one object names several
// keys: a later duplicate of any of them, in the object or in a later
// duplicate of the object, forbids the stop, and without one the stop still
// leaves the rest unread.
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
