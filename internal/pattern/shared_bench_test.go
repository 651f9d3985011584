package pattern

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkSharedPredicates: Bus-style rules that all share two conditions
// (source and detail-type) and differ in a third. The cost per event must
// depend on the hits of the selective condition, not on how many rules
// share the common ones (each subrule has one anchor predicate, match.go).
//
//	go test -run '^$' -bench BenchmarkSharedPredicates -benchmem ./internal/pattern
func BenchmarkSharedPredicates(b *testing.B) {
	const shape = `{"source":["shop"],"detail-type":["Order"],"detail":{"customer":["c-%d"]}}`
	events := map[string][]byte{
		"match":   []byte(`{"version":"0","id":"6a7e8feb","detail-type":"Order","source":"shop","account":"1","time":"2026-11-25T18:00:00Z","region":"eu-west-1","resources":[],"detail":{"orderId":"o-1","customer":"c-1","total":100.5}}`),
		"nomatch": []byte(`{"version":"0","id":"6a7e8feb","detail-type":"Order","source":"shop","account":"1","time":"2026-11-25T18:00:00Z","region":"eu-west-1","resources":[],"detail":{"orderId":"o-1","customer":"z-1","total":100.5}}`),
	}
	for _, n := range []int{1, 100, 1000, 10000, 100000} {
		rules := make([]string, n)
		for i := range rules {
			rules[i] = fmt.Sprintf(shape, i+1)
		}
		var m *Machine
		for _, name := range []string{"match", "nomatch"} {
			b.Run("rules="+strconv.Itoa(n)+"/"+name, func(b *testing.B) {
				if m == nil {
					m = benchMachine(b, rules)
				}
				ev := events[name]
				dst := make([]string, 0, 4)
				want := 0
				if name == "match" {
					want = 1
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					dst, _ = m.Match(dst[:0], ev)
				}
				require.Len(b, dst, want, "matched patterns")
			})
		}
	}
}
