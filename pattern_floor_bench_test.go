package eda

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// BenchmarkCityLotsFloor measures the JSON-reading floor that the peers'
// anchor figures quote for their machine (gjson.GetBytes of
// properties.STREET: 229 ns/event there; see BENCHMARKS.md). Running it in the same command as
// BenchmarkCityLots calibrates this machine against the anchors' one:
// BENCHMARKS.md scales the peers' events/s by the ratio of the two floors.
func BenchmarkCityLotsFloor(b *testing.B) {
	lines := loadCityLots(b)
	b.Run("gjson-GetBytes-properties.STREET", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			if gjson.GetBytes(lines[i%len(lines)], "properties.STREET").Exists() {
				n++
			}
		}
		require.NotZero(b, n, "lines with properties.STREET")
		reportEventsPerSecond(b)
	})
}
