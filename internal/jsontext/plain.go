package jsontext

// plainPrefix returns how many of the leading bytes of s stand for
// themselves inside a JSON string — ASCII from 0x20 but for the quote and
// the backslash — counted eight at a time: it stops at the first word of
// eight that holds another byte, so the count is a multiple of eight and
// the caller goes on byte by byte from there.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if SpecialBytes(w) != 0 {
			break
		}
	}
	return i
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// SpecialBytes flags (in bit 7 of each byte) the bytes of w that do not
// stand for themselves in a JSON string: a quote, a backslash, a byte below
// 0x20 or above 0x7F. The lowest flagged byte is always such a byte; a flag
// above it can be spurious (a borrow), so a caller reads the lowest flag
// only (loaded little endian, bits.TrailingZeros64(m)>>3 is its index). It
// returns 0 when all eight bytes are plain.
func SpecialBytes(w uint64) uint64 {
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b | (w-ones*0x20)&^w | w) & highs
}

// IsSpace reports whether c is JSON white space (RFC 8259): space, tab,
// line feed or carriage return.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
