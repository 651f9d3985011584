package pattern

import (
	"runtime"
	"testing"
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
