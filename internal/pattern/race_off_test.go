//go:build !race

package pattern

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
