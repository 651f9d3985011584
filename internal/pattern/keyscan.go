package pattern

// keyScan returns the index of the first byte of s that is a backslash, or is
// a, b or c right after a quote (so never s[0]), or -1. It reads s once,
// 32 bytes per step, if hasKeyScan: the early stop's pass over the unread
// rest of the event (inert), which must find any backslash and any `"key`.
func keyScan(s []byte, a, b, c byte) int {
	n := len(s) &^ (keyScanBlock - 1)
	if n > 0 {
		if j := keyScanBlocks(s[:n], a, b, c); j >= 0 {
			return j
		}
	}
	return keyScanFrom(s, n, a, b, c)
}

// keyScanFrom is keyScan from s[from] on, a byte at a time.
func keyScanFrom(s []byte, from int, a, b, c byte) int {
	for i := from; i < len(s); i++ {
		x := s[i]
		if x == '\\' || i > 0 && s[i-1] == '"' && (x == a || x == b || x == c) {
			return i
		}
	}
	return -1
}
