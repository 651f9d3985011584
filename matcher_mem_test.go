package eda

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMatcherMemoryPerRule: the heap a Matcher keeps per simple exact rule,
// added one by one, stays within issue 12's budget of 487 bytes (what it
// was before changes became incremental). BenchmarkMatcherAdd reports the
// same figure for 50,000 rules.
func TestMatcherMemoryPerRule(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 20,000 rules")
	}
	const n = 20_000
	ids := make([]string, n)
	pats := make([][]byte, n)
	for i := range n {
		ids[i] = "rule-" + strconv.Itoa(i)
		pats[i] = []byte(fmt.Sprintf(`{"detail":{"key":["v%07d"]}}`, i))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := NewMatcher()
	for i := range n {
		require.NoError(t, m.Add(ids[i], pats[i]))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%.0f bytes per rule", per)
	assert.LessOrEqual(t, per, 487.0, "bytes kept per rule")
	runtime.KeepAlive(m)
	runtime.KeepAlive(ids)
	runtime.KeepAlive(pats)
}
