package eda

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkMatchParallel matches generated events against 100 generated
// rules on one shared Matcher from GOMAXPROCS goroutines. Run it with
// -cpu 1,2 (or more) and compare ns/op: with per-goroutine scratch state the
// time per event should fall in proportion to the cores.
func BenchmarkMatchParallel(b *testing.B) {
	events := syntheticEvents(1000, rand.New(rand.NewPCG(7, 7)))
	m := NewMatcher()
	for i, r := range syntheticRules(100, rand.New(rand.NewPCG(1, 100))) {
		require.NoError(b, m.Add(strconv.Itoa(i), r), "%s", r)
	}
	_, err := m.Match(events[0])
	require.NoError(b, err)
	var next atomic.Uint32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		buf := make([]string, 0, 64)
		for pb.Next() {
			buf, _ = m.MatchAppend(buf[:0], events[i%len(events)])
			i++
		}
	})
}
