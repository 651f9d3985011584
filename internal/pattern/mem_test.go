package pattern

import (
	"runtime"
	"strconv"
	"testing"
)

// TestMemoryPerRule checks the retained memory of simple rules (parsed form
// plus compiled machine, as a Matcher keeps them) stays under 1 KB each.
func TestMemoryPerRule(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 20,000 rules")
	}
	const n = 20000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	entries := make([]Entry, n)
	for j := range entries {
		p, err := Parse([]byte(`{"source":["app.orders"],"detail":{"id":["`+strconv.Itoa(j)+`"]}}`), DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		entries[j] = Entry{ID: "rule-" + strconv.Itoa(j), P: p}
	}
	m := Build(entries)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("retained %.0f bytes per rule", per)
	if per > 1024 {
		t.Errorf("retained %.0f bytes per rule, want under 1024", per)
	}
	runtime.KeepAlive(entries)
	runtime.KeepAlive(m)
}
