package eda

// Match counts on the San Francisco city-lots data (../shared/data, relative
// to the module root; the tests skip when it is absent). The rule sets are
// those of event-ruler's citylots benchmark as listed in ANCHORS.md, quamina's
// TestCityLots patterns (GEOMETRY), and sets only event-ruler supports.
// Counts marked ANCHORS are event-ruler's, copied from ../shared/ANCHORS.md;
// counts marked "reference" were computed by the reference interpreter of
// pattern_reference_test.go (TestCityLotsReference recomputes all of them).

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"testing"
)

const cityLotsPath = "../shared/data/citylots.jlines.gz"

type cityRuleSet struct {
	name   string
	source string
	rules  []string
	want   []int
}

func cityProp(field, leaf string) string {
	return `{"properties":{"` + field + `":[` + leaf + `]}}`
}

var cityRuleSets = []cityRuleSet{
	{"EXACT", "ANCHORS (event-ruler counts)", []string{
		cityProp("MAPBLKLOT", `"1430022"`),
		cityProp("MAPBLKLOT", `"2607117"`),
		cityProp("MAPBLKLOT", `"2607218"`),
		cityProp("MAPBLKLOT", `"3745012"`),
		cityProp("MAPBLKLOT", `"VACSTWIL"`),
	}, []int{1, 101, 35, 655, 1}},
	{"PREFIX", "ANCHORS (event-ruler counts)", []string{
		cityProp("STREET", `{"prefix":"AC"}`),
		cityProp("STREET", `{"prefix":"BL"}`),
		cityProp("STREET", `{"prefix":"DR"}`),
		cityProp("STREET", `{"prefix":"FU"}`),
		cityProp("STREET", `{"prefix":"RH"}`),
	}, []int{22, 373, 37, 1145, 322}},
	{"WILDCARD", "ANCHORS (event-ruler counts)", []string{
		cityProp("MAPBLKLOT", `{"wildcard":"143*"}`),
		cityProp("MAPBLKLOT", `{"wildcard":"2*0*1*7"}`),
		cityProp("MAPBLKLOT", `{"wildcard":"*218"}`),
		cityProp("MAPBLKLOT", `{"wildcard":"3*5*2"}`),
		cityProp("MAPBLKLOT", `{"wildcard":"VA*IL"}`),
	}, []int{484, 715, 42, 2475, 1}},
	{"EQUALS-IGNORE-CASE", "ANCHORS (event-ruler counts)", []string{
		cityProp("STREET", `{"equals-ignore-case":"jefferson"}`),
		cityProp("STREET", `{"equals-ignore-case":"bEaCh"}`),
		cityProp("STREET", `{"equals-ignore-case":"HyDe"}`),
		cityProp("STREET", `{"equals-ignore-case":"CHESTNUT"}`),
		cityProp("ST_TYPE", `{"equals-ignore-case":"st"}`),
	}, []int{129, 208, 1550, 740, 110224}},
	{"ANYTHING-BUT", "ANCHORS (event-ruler counts)", []string{
		cityProp("STREET", `{"anything-but":["FULTON"]}`),
		cityProp("STREET", `{"anything-but":["MASON"]}`),
		cityProp("ST_TYPE", `{"anything-but":["ST"]}`),
		`{"geometry":{"type":[{"anything-but":["Polygon"]}]}}`,
		cityProp("FROM_ST", `{"anything-but":["441"]}`),
	}, []int{205887, 203909, 96336, 120, 204109}},
	{"GEOMETRY", "ANCHORS (quamina TestCityLots patterns; event-ruler agrees)", []string{
		`{ "properties": { "STREET": [ "CRANLEIGH" ] } }`,
		`{ "properties": { "STREET": [ "17TH" ], "ODD_EVEN": [ "E"] } }`,
		`{ "geometry": { "coordinates": [ 37.807807921694092 ] } }`,
		`{ "properties": { "MAPBLKLOT": ["0011008"], "BLKLOT": ["0011008"]},  "geometry": { "coordinates": [ 37.807807921694092 ] } } `,
	}, []int{7, 836, 2, 1}},
	{"SUFFIX", "reference (rules of event-ruler's SUFFIX benchmark)", []string{
		cityProp("STREET", `{"suffix":"ON"}`),
		cityProp("STREET", `{"suffix":"KE"}`),
		cityProp("STREET", `{"suffix":"MM"}`),
		cityProp("STREET", `{"suffix":"ING"}`),
		cityProp("STREET", `{"suffix":"GO"}`),
	}, []int{15980, 861, 13, 1959, 679}},
	{"PREFIX-IGNORE-CASE", "reference", []string{
		cityProp("STREET", `{"prefix":{"equals-ignore-case":"ac"}}`),
		cityProp("STREET", `{"prefix":{"equals-ignore-case":"bL"}}`),
		cityProp("STREET", `{"prefix":{"equals-ignore-case":"Dr"}}`),
		cityProp("STREET", `{"prefix":{"equals-ignore-case":"fu"}}`),
		cityProp("STREET", `{"prefix":{"equals-ignore-case":"RH"}}`),
	}, []int{22, 373, 37, 1145, 322}},
	{"SUFFIX-IGNORE-CASE", "reference", []string{
		cityProp("STREET", `{"suffix":{"equals-ignore-case":"on"}}`),
		cityProp("STREET", `{"suffix":{"equals-ignore-case":"Ke"}}`),
		cityProp("STREET", `{"suffix":{"equals-ignore-case":"mM"}}`),
		cityProp("STREET", `{"suffix":{"equals-ignore-case":"ing"}}`),
		cityProp("STREET", `{"suffix":{"equals-ignore-case":"gO"}}`),
	}, []int{15980, 861, 13, 1959, 679}},
	{"ANYTHING-BUT-VARIANTS", "reference", []string{
		cityProp("STREET", `{"anything-but":{"prefix":"FU"}}`),
		cityProp("STREET", `{"anything-but":{"suffix":"ON"}}`),
		cityProp("MAPBLKLOT", `{"anything-but":{"wildcard":"*218"}}`),
		cityProp("ST_TYPE", `{"anything-but":["ST","AVE"]}`),
		cityProp("STREET", `{"anything-but":{"equals-ignore-case":"mason"}}`),
	}, []int{205415, 190580, 206518, 33045, 203909}},
	{"ANYTHING-BUT-LISTS", "reference", []string{
		cityProp("STREET", `{"anything-but":{"equals-ignore-case":["fulton","Mason","HYDE"]}}`),
		cityProp("MAPBLKLOT", `{"anything-but":{"wildcard":["143*","VA*IL","*218"]}}`),
		cityProp("STREET", `"FULTON",{"anything-but":["FULTON","MASON"]}`),
		cityProp("ODD_EVEN", `{"anything-but":"E"}`),
		cityProp("BLOCK_NUM", `{"anything-but":{"prefix":"0"}}`),
	}, []int{201686, 206033, 203909, 107614, 167448}},
	{"NUMERIC", "reference (geometry.coordinates, nested arrays of numbers)", []string{
		`{"geometry":{"coordinates":[{"numeric":["=",-122.427097025536]}]}}`,
		`{"geometry":{"coordinates":[{"numeric":[">=",37.8,"<",37.81]}]}}`,
		`{"geometry":{"coordinates":[{"numeric":["<",-122.5]}]}}`,
		`{"geometry":{"coordinates":[{"numeric":[">",-122.41600944012424,"<",0]}]}}`,
		`{"geometry":{"coordinates":[{"numeric":[">",37.7,"<=",37.71]}]}}`,
	}, []int{13, 7896, 3431, 29327, 3388}},
	{"MIXED", "reference", []string{
		`{"properties":{"STREET":["FULTON"],"ODD_EVEN":["O"]}}`,
		`{"properties":{"$or":[{"STREET":[{"prefix":"JEFF"}]},{"ST_TYPE":["AVE"]}]}}`,
		`{"properties":{"ST_TYPE":[null],"MISSING_FIELD":[{"exists":false}],"BLKLOT":[{"exists":true}]}}`,
		`{"geometry":{"type":["MultiPolygon"]},"properties":{"STREET":[{"anything-but":{"prefix":"A"}}]}}`,
		`{"type":["Feature"],"$or":[{"properties":{"FROM_ST":["0"]}},{"geometry":{"type":[{"anything-but":"Polygon"}]}}]}`,
	}, []int{190, 63420, 14118, 119, 2152}},
}

// readCityLots reads up to limit lines (all when limit <= 0) of the data file.
func readCityLots(limit int) ([][]byte, error) {
	f, err := os.Open(cityLotsPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() && (limit <= 0 || len(lines) < limit) {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines, sc.Err()
}

// cityLots reads the whole file once per test binary; cityLotsHead its first
// 30,000 lines, enough for the sampled cross-checks (decompressing the whole
// file is slow under -race).
var (
	cityLots     = sync.OnceValues(func() ([][]byte, error) { return readCityLots(0) })
	cityLotsHead = sync.OnceValues(func() ([][]byte, error) { return readCityLots(30000) })
)

// loadCityLots returns the lines of the data file, skipping when it is absent.
func loadCityLots(tb testing.TB) [][]byte {
	tb.Helper()
	return skipOrLines(tb, cityLots)
}

// loadCityLotsHead returns the first 30,000 lines, skipping when absent.
func loadCityLotsHead(tb testing.TB) [][]byte {
	tb.Helper()
	return skipOrLines(tb, cityLotsHead)
}

func skipOrLines(tb testing.TB, load func() ([][]byte, error)) [][]byte {
	tb.Helper()
	lines, err := load()
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("%s not present", cityLotsPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return lines
}

// cityMatcher compiles one rule set into a Matcher with ids "0", "1", ...
func cityMatcher(tb testing.TB, rs cityRuleSet) *Matcher {
	tb.Helper()
	m := NewMatcher()
	for i, r := range rs.rules {
		if err := m.Add(strconv.Itoa(i), []byte(r)); err != nil {
			tb.Fatalf("%s rule %d: %v", rs.name, i, err)
		}
	}
	return m
}

// TestCityLotsCounts asserts the per-rule match counts of every rule set,
// with all rule sets compiled into one Matcher and one pass over the data
// (about 4 s; 35 s or more with -race, most of it decompressing and scanning
// 190 MB; skipped with -short).
func TestCityLotsCounts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("one pass over 190 MB of events; skipped with -short")
	}
	lines := loadCityLots(t)
	if len(lines) != 206560 {
		t.Fatalf("%d lines, want 206,560", len(lines))
	}
	m := NewMatcher()
	got := map[string]int{}
	for _, rs := range cityRuleSets {
		for i, r := range rs.rules {
			id := rs.name + "/" + strconv.Itoa(i)
			if err := m.Add(id, []byte(r)); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			got[id] = 0
		}
	}
	var buf []string
	for _, line := range lines {
		var err error
		buf, err = m.MatchAppend(buf[:0], line)
		if err != nil {
			t.Fatalf("MatchAppend: %v", err)
		}
		for _, id := range buf {
			if _, ok := got[id]; !ok {
				t.Fatalf("unknown id %q", id)
			}
			got[id]++
		}
	}
	for _, rs := range cityRuleSets {
		counts := make([]int, len(rs.rules))
		for i := range rs.rules {
			counts[i] = got[rs.name+"/"+strconv.Itoa(i)]
		}
		if fmt.Sprint(counts) != fmt.Sprint(rs.want) {
			t.Errorf("%s: counts %v, want %v (%s)", rs.name, counts, rs.want, rs.source)
		}
	}
}

// TestCityLotsPatternMatch checks that Pattern.Match agrees with the Matcher
// on a sample of the data (the whole file is covered by TestCityLotsCounts).
func TestCityLotsPatternMatch(t *testing.T) {
	t.Parallel()
	lines := loadCityLotsHead(t)
	var sample [][]byte
	for i := 0; i < len(lines); i += 29 {
		if len(lines[i]) < 4096 {
			sample = append(sample, lines[i])
		}
	}
	for _, rs := range cityRuleSets {
		m := cityMatcher(t, rs)
		for i, r := range rs.rules {
			p, err := ParsePattern([]byte(r))
			if err != nil {
				t.Fatalf("%s rule %d: %v", rs.name, i, err)
			}
			id := strconv.Itoa(i)
			var buf []string
			for n, line := range sample {
				ok, err := p.Match(line)
				if err != nil {
					t.Fatalf("Match: %v", err)
				}
				buf, _ = m.MatchAppend(buf[:0], line)
				if inIDs(buf, id) != ok {
					t.Fatalf("%s rule %d line %d: Pattern.Match = %v, Matcher = %v", rs.name, i, n, ok, buf)
				}
			}
		}
	}
}

func inIDs(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// cityReferenceCounts counts the matches of every rule with the reference
// interpreter over lines; result[set][rule].
func cityReferenceCounts(t *testing.T, lines [][]byte) [][]int {
	t.Helper()
	rules := make([][]refPattern, len(cityRuleSets))
	counts := make([][]int, len(cityRuleSets))
	for i, rs := range cityRuleSets {
		for _, r := range rs.rules {
			p, err := refDecode([]byte(r))
			if err != nil {
				t.Fatal(err)
			}
			rules[i] = append(rules[i], refCompile(p.(map[string]any)))
		}
		counts[i] = make([]int, len(rs.rules))
	}
	for _, line := range lines {
		v, err := refDecode(line)
		if err != nil {
			t.Fatal(err)
		}
		ev := v.(map[string]any)
		for i := range rules {
			for j, p := range rules[i] {
				if p.match(ev) {
					counts[i][j]++
				}
			}
		}
	}
	return counts
}

// TestCityLotsReferenceSample compares the Matcher's counts with the
// reference's on every 10th of the first 30,000 lines.
func TestCityLotsReferenceSample(t *testing.T) {
	t.Parallel()
	lines := loadCityLotsHead(t)
	var sample [][]byte
	for i := 0; i < len(lines); i += 10 {
		sample = append(sample, lines[i])
	}
	want := cityReferenceCounts(t, sample)
	for i, rs := range cityRuleSets {
		m := cityMatcher(t, rs)
		got := make([]int, len(rs.rules))
		var buf []string
		for _, line := range sample {
			var err error
			buf, err = m.MatchAppend(buf[:0], line)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range buf {
				n, _ := strconv.Atoi(id)
				got[n]++
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("%s on %d sampled lines: Matcher %v, reference %v", rs.name, len(sample), got, want[i])
		}
	}
}

// TestCityLotsReference recomputes every hard-coded count with the reference
// interpreter over the whole file, which checks both the "reference" counts
// and the reference's semantics against event-ruler's ANCHORS counts. It
// takes about 25 s, so it runs only with EDA_CITYLOTS_REFERENCE=1.
func TestCityLotsReference(t *testing.T) {
	if os.Getenv("EDA_CITYLOTS_REFERENCE") == "" {
		t.Skip("set EDA_CITYLOTS_REFERENCE=1 to recount the whole file with the reference (about 25 s)")
	}
	counts := cityReferenceCounts(t, loadCityLots(t))
	for i, rs := range cityRuleSets {
		if fmt.Sprint(counts[i]) != fmt.Sprint(rs.want) {
			t.Errorf("%s: reference counts %v, want %v (%s)", rs.name, counts[i], rs.want, rs.source)
		}
	}
}
