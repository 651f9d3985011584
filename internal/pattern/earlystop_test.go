package pattern

import (
	"slices"
	"testing"
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
	if !slices.Equal(got, []string{"properties"}) {
		t.Errorf("root stop keys %q, want [properties]", got)
	}
	props := m.root.child([]byte("properties"))
	got = got[:0]
	for _, k := range props.stopKeys {
		got = append(got, string(k))
	}
	slices.Sort(got)
	// "ST" prefixes "STREET"; MAPBLKLOT is a key of its own.
	if !slices.Equal(got, []string{"MAPBLKLOT", "ST"}) {
		t.Errorf("properties stop keys %q, want [MAPBLKLOT ST]", got)
	}
	if props.direct != 3 {
		t.Errorf("properties direct = %d, want 3", props.direct)
	}
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
			slices.Sort(got)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%s(%s) = %v, %v; want %v", name, c.ev, got, err, c.want)
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
	if got, err := m.Match(nil, ev); err != nil || len(got) != 2 {
		t.Errorf("Match = %v, %v; want both patterns (early stop)", got, err)
	}
	if _, err := m.MatchStrict(nil, ev); err == nil {
		t.Error("MatchStrict accepted a broken rest")
	}
}
