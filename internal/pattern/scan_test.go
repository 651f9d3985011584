package pattern

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func machineOf(t *testing.T, pats ...string) *Machine {
	t.Helper()
	var es []Entry
	for i, p := range pats {
		parsed, err := Parse([]byte(p), DefaultLimits())
		require.NoError(t, err, "Parse(%s)", p)
		es = append(es, Entry{ID: strconv.Itoa(i), P: parsed})
	}
	return Build(es)
}

// TestEarlyStopExact checks that stopping early never changes a result: the
// fast and the strict scan agree on valid events, duplicates included.
func TestEarlyStopExact(t *testing.T) {
	m := machineOf(t,
		`{"properties":{"STREET":["A"]}}`,
		`{"properties":{"STREET":["B"]},"type":["F"]}`,
		`{"properties":{"X":[{"exists":false}]}}`,
	)
	events := []string{
		`{"type":"F","properties":{"STREET":"A","Y":1},"geometry":{"c":[[1,2],[3,4]]}}`,
		`{"type":"F","properties":{"STREET":"A"},"properties":{"STREET":"B"}}`,
		`{"properties":{"STREET":"A","STREET":"B"},"type":"F"}`,
		`{"properties":{"STREET":"A"},"x":"\"STREET\":\"B\""}`,
		`{"properties":{"STREET":"A"},"properties.STREET":"B"}`,
		`{"properties":{"STREET":"A","X":1}}`,
		`{"properties":{"STREET":"A"},"z":{"properties":{"X":1}}}`,
		`{"properties":{"STREET":"A"},"z":"\u0041"}`,
	}
	for _, ev := range events {
		fast, err1 := m.Match(nil, []byte(ev))
		strict, err2 := m.MatchStrict(nil, []byte(ev))
		require.NoError(t, err1, ev)
		require.NoError(t, err2, ev)
		assert.ElementsMatch(t, fast, strict, "%s: fast and strict", ev)
	}
	ids, _ := m.Match(nil, []byte(`{"type":"F","properties":{"STREET":"A"},"properties":{"STREET":"B"}}`))
	assert.ElementsMatch(t, []string{"1", "2"}, ids, "duplicate key: the last wins")
}

func TestStrictValidation(t *testing.T) {
	m := machineOf(t, `{"a":["x"]}`)
	bad := []string{
		`{"a":"x"} {}`, `{"a":"x","b":[1,]}`, `{"a":"x","b":01}`, `{"a":"x","b":"\q"}`, `{"a":"x","b":tru}`,
		`{"a":"x","b":{"c" 1}}`, "{\"a\":\"x\",\"b\":\"\x01\"}", `{"a":"x","b":[}`, `{"a":"x",}`, `{"a":"x"`,
	}
	for _, ev := range bad {
		_, err := m.MatchStrict(nil, []byte(ev))
		assert.ErrorIs(t, err, ErrNotObject, "MatchStrict(%s)", ev)
	}
	good := []string{`{"a":"x","b":[1,-2.5e+3,{"c":null}],"d":"\u00e9\n"}`, ` { "a" : "x" } `, `{"a":"x","n":1e999}`}
	for _, ev := range good {
		ids, err := m.MatchStrict(nil, []byte(ev))
		assert.NoError(t, err, "MatchStrict(%s)", ev)
		assert.Len(t, ids, 1, "MatchStrict(%s)", ev)
	}
	deep := `{"b":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"a":"x"}`
	_, err := m.MatchStrict(nil, []byte(deep))
	assert.Error(t, err, "MatchStrict accepted nesting beyond 10,000")
	ids, err := m.Match(nil, []byte(deep))
	assert.NoError(t, err, "Match on a deep skipped value")
	assert.Len(t, ids, 1, "Match on a deep skipped value")
}

func TestLimits(t *testing.T) {
	big := `{"a":["` + strings.Repeat("x", DefaultMaxSize) + `"]}`
	_, err := Parse([]byte(big), DefaultLimits())
	assert.Error(t, err, "oversized pattern accepted")
	_, err = Parse([]byte(big), Limits{MaxSize: 2 * DefaultMaxSize})
	assert.NoError(t, err, "configured size limit")
	deep := strings.Repeat(`{"a":`, DefaultMaxDepth+1) + `[1]` + strings.Repeat("}", DefaultMaxDepth+1)
	_, err = Parse([]byte(deep), DefaultLimits())
	assert.Error(t, err, "too deep pattern accepted")
	// 11 branches of 10 alternatives each: 10 × 10 × 11 = 1,100 > 1,000.
	or := func(prefix string, n int) string {
		var b []string
		for i := 0; i < n; i++ {
			b = append(b, `{"`+prefix+strconv.Itoa(i)+`":["x"]}`)
		}
		return `[` + strings.Join(b, ",") + `]`
	}
	p := `{"a":{"$or":` + or("a", 10) + `},"b":{"$or":` + or("b", 10) + `},"c":{"$or":` + or("c", 11) + `}}`
	_, err = Parse([]byte(p), Limits{MaxSize: 1 << 20})
	assert.ErrorContains(t, err, "1000", "$or combination limit")
	p = `{"a":{"$or":` + or("a", 10) + `},"b":{"$or":` + or("b", 10) + `},"c":{"$or":` + or("c", 10) + `}}`
	_, err = Parse([]byte(p), Limits{MaxSize: 1 << 20})
	assert.NoError(t, err, "1,000 combinations")
}

func TestManyPatternsShareWork(t *testing.T) {
	var pats []string
	for i := 0; i < 1000; i++ {
		pats = append(pats, `{"k":["v`+strconv.Itoa(i)+`"],"n":[{"numeric":[">",`+strconv.Itoa(i)+`]}]}`)
	}
	m := machineOf(t, pats...)
	ids, err := m.Match(nil, []byte(`{"k":"v500","n":600}`))
	assert.NoError(t, err)
	assert.Equal(t, []string{"500"}, ids)
	ids, _ = m.Match(nil, []byte(`{"k":"v700","n":600}`))
	assert.Empty(t, ids)
}
