package eda

import (
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"sync"

	"github.com/google/uuid"
)

// idSource makes event ids: random (version 4) UUIDs of
// github.com/google/uuid's type, in their usual text form, from random
// bytes that the source supplies itself. Those bytes come from ChaCha8
// generators seeded by crypto/rand — a cryptographically strong stream,
// without a system call per id — kept in a pool of the source's own, so
// that concurrent PutEvents calls do not contend. The uuid package's global
// random pool (uuid.EnableRandPool) is left as the program set it: eda
// changes no package-level setting. The zero value is ready to use.
type idSource struct {
	pool sync.Pool // of *rand.ChaCha8
}

// uuidTextLen is the length of a UUID's text form.
const uuidTextLen = 36

// newUUID returns a new version 4 UUID.
//
// uuid.NewRandomFromReader would do the same from the generator, but it
// reads through an io.Reader, which moves the UUID to the heap: an
// allocation per event. Here the generator's own Read fills the UUID on the
// stack, and the version and variant bits are set as RFC 9562 (section
// 5.4) has them, as NewRandomFromReader sets them; the tests check the
// result with uuid.Parse, Version and Variant.
func (s *idSource) newUUID() uuid.UUID {
	g, _ := s.pool.Get().(*rand.ChaCha8)
	if g == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // never fails (crypto/rand panics rather than return an error)
		g = rand.NewChaCha8(seed)
	}
	var u uuid.UUID
	_, _ = g.Read(u[:]) // ChaCha8.Read fills the whole buffer and never fails
	s.pool.Put(g)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10 (RFC 4122 / RFC 9562)
	return u
}

// newID returns a new version 4 UUID as text, e.g.
// "6a7e8feb-b491-4cf7-a9f1-bf3703467718".
func (s *idSource) newID() string { return s.newUUID().String() }

// appendID appends a new version 4 UUID's text form (uuidTextLen bytes,
// as uuid.UUID.String writes it) to dst, without allocating when dst has
// room.
func (s *idSource) appendID(dst []byte) []byte {
	u := s.newUUID()
	dst = hex.AppendEncode(dst, u[0:4])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, u[4:6])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, u[6:8])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, u[8:10])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, u[10:16])
}
