package pattern

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func machineOf(t *testing.T, pats ...string) *Machine {
	t.Helper()
	var es []Entry
	for i, p := range pats {
		parsed, err := Parse([]byte(p), DefaultLimits())
		if err != nil {
			t.Fatalf("Parse(%s): %v", p, err)
		}
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
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", ev, err1, err2)
		}
		slices.Sort(fast)
		slices.Sort(strict)
		if !slices.Equal(fast, strict) {
			t.Errorf("%s: fast %v, strict %v", ev, fast, strict)
		}
	}
	ids, _ := m.Match(nil, []byte(`{"type":"F","properties":{"STREET":"A"},"properties":{"STREET":"B"}}`))
	if !slices.Equal(ids, []string{"1", "2"}) && !slices.Equal(ids, []string{"2", "1"}) {
		t.Errorf("duplicate key: last must win, got %v", ids)
	}
}

func TestStrictValidation(t *testing.T) {
	m := machineOf(t, `{"a":["x"]}`)
	bad := []string{
		`{"a":"x"} {}`, `{"a":"x","b":[1,]}`, `{"a":"x","b":01}`, `{"a":"x","b":"\q"}`, `{"a":"x","b":tru}`,
		`{"a":"x","b":{"c" 1}}`, "{\"a\":\"x\",\"b\":\"\x01\"}", `{"a":"x","b":[}`, `{"a":"x",}`, `{"a":"x"`,
	}
	for _, ev := range bad {
		if _, err := m.MatchStrict(nil, []byte(ev)); !errors.Is(err, ErrNotObject) {
			t.Errorf("MatchStrict(%s) = %v, want ErrNotObject", ev, err)
		}
	}
	good := []string{`{"a":"x","b":[1,-2.5e+3,{"c":null}],"d":"\u00e9\n"}`, ` { "a" : "x" } `, `{"a":"x","n":1e999}`}
	for _, ev := range good {
		if ids, err := m.MatchStrict(nil, []byte(ev)); err != nil || len(ids) != 1 {
			t.Errorf("MatchStrict(%s) = %v, %v", ev, ids, err)
		}
	}
	deep := `{"b":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"a":"x"}`
	if _, err := m.MatchStrict(nil, []byte(deep)); err == nil {
		t.Error("MatchStrict accepted nesting beyond 10,000")
	}
	if ids, err := m.Match(nil, []byte(deep)); err != nil || len(ids) != 1 {
		t.Errorf("Match on deep skipped value = %v, %v", ids, err)
	}
}

func TestLimits(t *testing.T) {
	big := `{"a":["` + strings.Repeat("x", DefaultMaxSize) + `"]}`
	if _, err := Parse([]byte(big), DefaultLimits()); err == nil {
		t.Error("oversized pattern accepted")
	}
	if _, err := Parse([]byte(big), Limits{MaxSize: 2 * DefaultMaxSize}); err != nil {
		t.Errorf("configured size limit: %v", err)
	}
	deep := strings.Repeat(`{"a":`, DefaultMaxDepth+1) + `[1]` + strings.Repeat("}", DefaultMaxDepth+1)
	if _, err := Parse([]byte(deep), DefaultLimits()); err == nil {
		t.Error("too deep pattern accepted")
	}
	// 11 branches of 10 alternatives each: 10 × 10 × 11 = 1,100 > 1,000.
	or := func(prefix string, n int) string {
		var b []string
		for i := 0; i < n; i++ {
			b = append(b, `{"`+prefix+strconv.Itoa(i)+`":["x"]}`)
		}
		return `[` + strings.Join(b, ",") + `]`
	}
	p := `{"a":{"$or":` + or("a", 10) + `},"b":{"$or":` + or("b", 10) + `},"c":{"$or":` + or("c", 11) + `}}`
	if _, err := Parse([]byte(p), Limits{MaxSize: 1 << 20}); err == nil || !strings.Contains(err.Error(), "1000") {
		t.Errorf("$or combination limit: %v", err)
	}
	p = `{"a":{"$or":` + or("a", 10) + `},"b":{"$or":` + or("b", 10) + `},"c":{"$or":` + or("c", 10) + `}}`
	if _, err := Parse([]byte(p), Limits{MaxSize: 1 << 20}); err != nil {
		t.Errorf("1,000 combinations rejected: %v", err)
	}
}

func TestManyPatternsShareWork(t *testing.T) {
	var pats []string
	for i := 0; i < 1000; i++ {
		pats = append(pats, `{"k":["v`+strconv.Itoa(i)+`"],"n":[{"numeric":[">",`+strconv.Itoa(i)+`]}]}`)
	}
	m := machineOf(t, pats...)
	ids, err := m.Match(nil, []byte(`{"k":"v500","n":600}`))
	if err != nil || !slices.Equal(ids, []string{"500"}) {
		t.Errorf("got %v, %v", ids, err)
	}
	ids, _ = m.Match(nil, []byte(`{"k":"v700","n":600}`))
	if len(ids) != 0 {
		t.Errorf("got %v", ids)
	}
}
