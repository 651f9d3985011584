package pattern

import (
	"bufio"
	"compress/gzip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// Micro-benchmarks of the engine alone on the city-lots data; the root
// package's BenchmarkCityLots* are the published figures.

// benchLines reads the city-lots file named by the environment variable
// EDA_CITYLOTS (an absolute path; see BENCHMARKS.md), or returns nil.
var benchLines = sync.OnceValue(func() [][]byte {
	path := os.Getenv("EDA_CITYLOTS")
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	runtime.GC()
	return lines
})

func benchMachine(b *testing.B, rules []string) *Machine {
	var entries []Entry
	for i, r := range rules {
		p, err := Parse([]byte(r), DefaultLimits())
		require.NoError(b, err)
		entries = append(entries, Entry{ID: strconv.Itoa(i), P: p})
	}
	return Build(entries)
}

func prop(field, leaf string) string { return `{"properties":{"` + field + `":[` + leaf + `]}}` }

var benchSets = []struct {
	name  string
	rules []string
}{
	{"Exact", []string{prop("MAPBLKLOT", `"1430022"`), prop("MAPBLKLOT", `"2607117"`), prop("MAPBLKLOT", `"2607218"`), prop("MAPBLKLOT", `"3745012"`), prop("MAPBLKLOT", `"VACSTWIL"`)}},
	{"Prefix", []string{prop("STREET", `{"prefix":"AC"}`), prop("STREET", `{"prefix":"BL"}`), prop("STREET", `{"prefix":"DR"}`), prop("STREET", `{"prefix":"FU"}`), prop("STREET", `{"prefix":"RH"}`)}},
	{"Wildcard", []string{prop("MAPBLKLOT", `{"wildcard":"143*"}`), prop("MAPBLKLOT", `{"wildcard":"2*0*1*7"}`), prop("MAPBLKLOT", `{"wildcard":"*218"}`), prop("MAPBLKLOT", `{"wildcard":"3*5*2"}`), prop("MAPBLKLOT", `{"wildcard":"VA*IL"}`)}},
	{"EqualsIgnoreCase", []string{prop("STREET", `{"equals-ignore-case":"jefferson"}`), prop("STREET", `{"equals-ignore-case":"bEaCh"}`), prop("STREET", `{"equals-ignore-case":"HyDe"}`), prop("STREET", `{"equals-ignore-case":"CHESTNUT"}`), prop("ST_TYPE", `{"equals-ignore-case":"st"}`)}},
	{"AnythingBut", []string{prop("STREET", `{"anything-but":["FULTON"]}`), prop("STREET", `{"anything-but":["MASON"]}`), prop("ST_TYPE", `{"anything-but":["ST"]}`), `{"geometry":{"type":[{"anything-but":["Polygon"]}]}}`, prop("FROM_ST", `{"anything-but":["441"]}`)}},
	{"Geometry", []string{`{ "properties": { "STREET": [ "CRANLEIGH" ] } }`, `{ "properties": { "STREET": [ "17TH" ], "ODD_EVEN": [ "E"] } }`, `{ "geometry": { "coordinates": [ 37.807807921694092 ] } }`, `{ "properties": { "MAPBLKLOT": ["0011008"], "BLKLOT": ["0011008"]},  "geometry": { "coordinates": [ 37.807807921694092 ] } } `}},
	{"Numeric", []string{`{"geometry":{"coordinates":[{"numeric":["=",-122.427097025536]}]}}`, `{"geometry":{"coordinates":[{"numeric":[">=",37.8,"<",37.81]}]}}`, `{"geometry":{"coordinates":[{"numeric":["<",-122.5]}]}}`, `{"geometry":{"coordinates":[{"numeric":[">",-122.41600944012424,"<",0]}]}}`, `{"geometry":{"coordinates":[{"numeric":[">",37.7,"<=",37.71]}]}}`}},
}

func BenchmarkEngineCityLots(b *testing.B) {
	lines := benchLines()
	if lines == nil {
		b.Skip("city-lots data not present")
	}
	for _, set := range benchSets {
		b.Run(set.name, func(b *testing.B) {
			m := benchMachine(b, set.rules)
			dst := make([]string, 0, 16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if dst, err = m.Match(dst[:0], lines[i%len(lines)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkEngineHotLine(b *testing.B) {
	lines := benchLines()
	if lines == nil {
		b.Skip("city-lots data not present")
	}
	line := lines[1000]
	for _, set := range benchSets[:1] {
		b.Run(set.name, func(b *testing.B) {
			m := benchMachine(b, set.rules)
			dst := make([]string, 0, 16)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				dst, _ = m.Match(dst[:0], line)
			}
		})
	}
}

func BenchmarkEngineSkipOnly(b *testing.B) {
	lines := benchLines()
	if lines == nil {
		b.Skip("city-lots data not present")
	}
	line := lines[1000]
	m := Build(nil)
	st := newState()
	st.fit(m)
	b.SetBytes(int64(len(line)))
	for i := 0; i < b.N; i++ {
		sc := scanner{data: line, st: st}
		if _, err := sc.skipContainer(0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGJSONFloor calibrates a noisy machine: the peers' anchor figures
// give 229 ns for this lookup on a quiet one (BENCHMARKS.md).
func BenchmarkGJSONFloor(b *testing.B) {
	lines := benchLines()
	if lines == nil {
		b.Skip("city-lots data not present")
	}
	for i := 0; i < b.N; i++ {
		if !gjson.GetBytes(lines[i%len(lines)], "properties.STREET").Exists() {
			b.Fatal("missing")
		}
	}
}

// BenchmarkEngineScaling: cost per event with 1 to 100,000 distinct exact
// patterns on one field (the lines' own MAPBLKLOT values, so some match).
func BenchmarkEngineScaling(b *testing.B) {
	lines := benchLines()
	if lines == nil {
		b.Skip("city-lots data not present")
	}
	for _, n := range []int{1, 100, 10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rules := make([]string, n)
			for i := range rules {
				rules[i] = prop("MAPBLKLOT", strconv.Quote(strconv.Itoa(1000000+i*37)))
			}
			m := benchMachine(b, rules)
			dst := make([]string, 0, 16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst, _ = m.Match(dst[:0], lines[i%len(lines)])
			}
		})
	}
}

// BenchmarkEngineBuild100k: parse and compile 100,000 simple patterns.
func BenchmarkEngineBuild100k(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		entries := make([]Entry, 100000)
		for j := range entries {
			p, err := Parse([]byte(`{"detail":{"id":["`+strconv.Itoa(j)+`"]},"source":["app"]}`), DefaultLimits())
			if err != nil {
				b.Fatal(err)
			}
			entries[j] = Entry{ID: strconv.Itoa(j), P: p}
		}
		Build(entries)
	}
}
