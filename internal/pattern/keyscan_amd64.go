package pattern

// keyScanBlock is the size of keyScanBlocks's step.
const keyScanBlock = 32

// hasKeyScan says whether keyScanBlocks can run here (it needs AVX2).
var hasKeyScan = cpuAVX2()

// keyScanBlocks is keyScan over len(s) bytes, a multiple of keyScanBlock
// (keyscan_amd64.s).
//
//go:noescape
func keyScanBlocks(s []byte, a, b, c byte) int

// cpuAVX2 reports whether the processor and the OS support AVX2.
func cpuAVX2() bool
