package jsontext

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// plainPrefixByBytes is PlainPrefix byte by byte, from the table.
func plainPrefixByBytes(s []byte) int {
	n := 0
	for n < len(s) && plain[s[n]] {
		n++
	}
	return n - n%8
}

func TestPlainPrefixAgreesWithTheTable(t *testing.T) {
	// Every byte value at every place of a word, and random words mixing
	// plain bytes with the bytes next to each boundary.
	for c := range 256 {
		for at := range 8 {
			b := []byte("abcdefghabcdefgh")
			b[8+at] = byte(c)
			require.Equal(t, plainPrefixByBytes(b), plainPrefix(string(b)), "byte %#x at %d", c, at)
		}
	}
	edges := []byte{0x00, 0x1F, 0x20, 0x21, '"', '#', '[', '\\', ']', 0x7E, 0x7F, 0x80, 0xFF, 'a'}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = edges[r.IntN(len(edges))]
			} else {
				b[i] = byte(0x20 + r.IntN(0x5F))
			}
		}
		require.Equal(t, plainPrefixByBytes(b), plainPrefix(string(b)), "%q", b)
	}
}
