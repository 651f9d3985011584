package pattern

import (
	"runtime"
	"testing"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompactJSON: compactJSON drops the whitespace between tokens and
// keeps every byte of strings, escapes included.
func TestCompactJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a":["x"]}`, `{"a":["x"]}`},
		{" {\n\t\"a\" : [ \"x\" , 1 ,\r\n true ] } ", `{"a":["x",1,true]}`},
		{`{ "a b" : [ " x\t y " ] }`, `{"a b":[" x\t y "]}`},
		{`{ "q" : [ "say \" hi \" ", "\\", "\\\" x" ] }`, `{"q":["say \" hi \" ","\\","\\\" x"]}`},
		{`{ "u" : [ "\u0022 \u005c" ] }`, `{"u":["\u0022 \u005c"]}`},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, compactJSON([]byte(c.in)), "compactJSON(%q)", c.in)
	}
}

// TestParsedKeepsCompactText: Parse and ParsePolicy record the pattern's
// text without whitespace and its dialect, and parsing that text again in
// that dialect gives the same conjunctions.
func TestParsedKeepsCompactText(t *testing.T) {
	p, err := Parse([]byte("{ \"a\" : {\n \"b\" : [ \"x y\" , { \"prefix\" : \"p\" } ] } }"), DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, `{"a":{"b":["x y",{"prefix":"p"}]}}`, p.src)
	assert.Equal(t, dialect{}, p.d)
	assert.Equal(t, p.Conjs, reparse(p.src, p.d).Conjs)

	pp, err := ParsePolicy([]byte(`{ "k" : [ { "exists" : true } ] }`), false, PolicyLimits{})
	require.NoError(t, err)
	assert.Equal(t, policyDialect(false), pp.d)
	assert.Equal(t, pp.Conjs, reparse(pp.src, pp.d).Conjs)

	assert.Empty(t, p.Only(p.Conjs[0]).src, "a Parsed made by Only has no text")
}

// TestApplyRemovesByText: a Machine parses a pattern again to remove it, in
// the dialect it was added in, and keeps the Parsed only for a pattern
// without text (Only); removing every pattern of each kind leaves an empty
// Machine with consistent bookkeeping.
func TestApplyRemovesByText(t *testing.T) {
	P := func(s string) *Parsed {
		p, err := Parse([]byte(s), DefaultLimits())
		require.NoError(t, err)
		return p
	}
	policy := func(s string, attrScope bool) *Parsed {
		p, err := ParsePolicy([]byte(s), attrScope, PolicyLimits{})
		require.NoError(t, err)
		return p
	}
	whole := P(`{"a":["1"],"b":[{"prefix":"x"}]}`)
	entries := []Entry{
		{ID: "spaced", P: P("{\n  \"a\" : [ \"1\" , 2 ],\n  \"o\" : { \"p\" : [ { \"suffix\" : \" z\" } ] }\n}")},
		{ID: "escaped", P: P(`{"a":["say \"hi\"", "back\\slash", "\u00e9"]}`)},
		// In a body-scope policy {"exists": true} is not the event
		// pattern's exists, and "$or" over strings is a plain key: parsed
		// as an event pattern, this text would fail or index other values.
		{ID: "body", P: policy(`{"k":[{"exists":true}],"$or":["v"]}`, false)},
		{ID: "attrs", P: policy(`{"k":[{"exists":true}]}`, true)},
		{ID: "only", P: whole.Only(whole.Conjs[0])},
	}
	ev := []byte(`{"a":"1","k":"","$or":"v","o":{"p":"a z"},"b":"xy"}`)
	m := Build(entries)
	checkMachine(t, m)
	require.Equal(t, []string{"attrs", "only", "spaced"}, sortedMatch(t, m, ev))
	require.Equal(t, 1, m.kept.len(), "only the pattern without text keeps its Parsed")

	for i, e := range entries {
		m = m.Apply(nil, []string{e.ID})
		checkMachine(t, m)
		require.Equal(t, len(entries)-i-1, m.Len())
	}
	require.Zero(t, m.kept.len())
	require.False(t, m.root.hasKids(), "trie not pruned")
	require.Empty(t, sortedMatch(t, m, ev))
}

// TestMachineDropsParsed: a Machine does not keep the Parsed of a pattern
// that has text; it keeps the text (patRec).
func TestMachineDropsParsed(t *testing.T) {
	p, err := Parse([]byte(`{"a":["1"]}`), DefaultLimits())
	require.NoError(t, err)
	w := weak.Make(p)
	m := Build([]Entry{{ID: "x", P: p}})
	p = nil
	runtime.GC()
	assert.Nil(t, w.Value(), "the Machine keeps the Parsed")
	require.Equal(t, []string{"x"}, sortedMatch(t, m, []byte(`{"a":"1"}`)))
}

// TestLeafKeySharesOperands: the operand text of an alternative whose
// canonical text ends with it (all but comparable numbers) lies in the bytes of the leaf's key, which a
// Machine keeps anyway; the key does not depend on the order of the list.
func TestLeafKeySharesOperands(t *testing.T) {
	p, err := Parse([]byte(`{"a":["xyz",{"prefix":"pq"},"10.0.0.1",5,1.00000000000000000001,{"exists":false}]}`), DefaultLimits())
	require.NoError(t, err)
	r := p.Conjs[0][0]
	key := unsafe.Slice(unsafe.StringData(r.key), len(r.key))
	within := func(s string) bool {
		d := unsafe.Pointer(unsafe.StringData(s))
		return uintptr(d) >= uintptr(unsafe.Pointer(&key[0])) && uintptr(d)+uintptr(len(s)) <= uintptr(unsafe.Pointer(&key[0]))+uintptr(len(key))
	}
	require.Len(t, r.alts, 5)
	for _, a := range r.alts {
		if a.kind == aNumber && a.cmp {
			// Its canonical text is its float64's bits, not its text.
			assert.Equal(t, "5", a.s)
		} else {
			assert.True(t, within(a.s), "operand %q of kind %d lies outside the key %q", a.s, a.kind, r.key)
		}
		assert.Empty(t, a.canonic)
	}

	q, err := Parse([]byte(`{"a":[{"exists":false},1.00000000000000000001,5,"10.0.0.1",{"prefix":"pq"},"xyz"]}`), DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, r.key, q.Conjs[0][0].key)
}
