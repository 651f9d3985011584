//go:build race

package pattern

// raceEnabled reports whether the race detector is on. Under it sync.Pool
// drops a share of what is put into it on purpose, so allocation counts of
// matching are not meaningful.
const raceEnabled = true
