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
	if n == len(s) {
		return -1
	}
	// The tail, and the byte before it (a quote there counts), scanned as
	// one block padded with zeros, which are neither quotes nor backslashes;
	// the byte before was scanned already and cannot be a find.
	from := max(n-1, 0)
	var block [keyScanBlock]byte
	copy(block[:], s[from:])
	if j := keyScanBlocks(block[:], a, b, c); j >= 0 && from+j < len(s) {
		return from + j
	}
	return -1
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
