package pattern

import (
	"bytes"
	"strconv"
)

// DefaultMaxWildcardStars bounds the number of '*' in one wildcard operand
// (Limits.MaxWildcardStars). Matching is linear-time per segment regardless
// (no backtracking), so the bound exists to reject patterns EventBridge
// would call too complex, not to protect us.
const DefaultMaxWildcardStars = 25

// wildcard is a compiled wildcard operand: literal segments separated by '*'.
// A pattern with k stars has k+1 segments (the first and last may be empty).
type wildcard struct {
	segs [][]byte
}

// parseWildcard validates a wildcard operand as EventBridge does: '*' matches
// any run of characters, `\*` is a literal star and `\\` a literal backslash;
// any other escape, a trailing backslash and two consecutive stars are
// rejected. It returns a reason on failure.
// maxStars bounds the stars (0: DefaultMaxWildcardStars; negative: none).
func parseWildcard(s string, maxStars int) (*wildcard, string) {
	if maxStars == 0 {
		maxStars = DefaultMaxWildcardStars
	}
	w := &wildcard{}
	var cur []byte
	stars := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return nil, "wildcard: consecutive '*' characters at position " + strconv.Itoa(i)
			}
			stars++
			w.segs = append(w.segs, cur)
			cur = nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur = append(cur, s[i+1])
				i++
				continue
			}
			return nil, "wildcard: invalid escape at position " + strconv.Itoa(i) + ` (only \* and \\ are allowed)`
		default:
			cur = append(cur, c)
		}
	}
	if maxStars > 0 && stars > maxStars {
		return nil, "wildcard: too complex: " + strconv.Itoa(stars) + " '*' characters (at most " + strconv.Itoa(maxStars) + ")"
	}
	w.segs = append(w.segs, cur)
	return w, ""
}

// match reports whether v matches the wildcard. Greedy leftmost placement of
// the middle segments is correct for '*'-only globs, so this runs in
// O(len(v)·len(segment)) at worst, never exponentially.
func (w *wildcard) match(v []byte) bool {
	segs := w.segs
	if len(segs) == 1 {
		return bytes.Equal(v, segs[0])
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(first)+len(last) > len(v) || !bytes.HasPrefix(v, first) || !bytes.HasSuffix(v, last) {
		return false
	}
	mid := v[len(first) : len(v)-len(last)]
	for _, s := range segs[1 : len(segs)-1] {
		j := bytes.Index(mid, s)
		if j < 0 {
			return false
		}
		mid = mid[j+len(s):]
	}
	return true
}
