//go:build !race

package eda

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
