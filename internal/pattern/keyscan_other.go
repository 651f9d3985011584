//go:build !amd64

package pattern

const keyScanBlock = 32

// hasKeyScan says whether keyScanBlocks can run here: not without assembly
// (inert then makes a pass per key).
var hasKeyScan = false

func keyScanBlocks(s []byte, a, b, c byte) int { return keyScanFrom(s, 0, a, b, c) }
