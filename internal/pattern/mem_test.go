package pattern

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		require.NoError(t, err)
		entries[j] = Entry{ID: "rule-" + strconv.Itoa(j), P: p}
	}
	m := Build(entries)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("retained %.0f bytes per rule", per)
	assert.LessOrEqual(t, per, 1024.0, "bytes retained per rule")
	runtime.KeepAlive(entries)
	runtime.KeepAlive(m)
}
