package eda

import (
	crand "crypto/rand"
	"math/rand/v2"
	"sync"

	"github.com/google/uuid"
)

// idSource makes event ids: random (version 4) UUIDs in their usual text
// form, built by github.com/google/uuid from random bytes that the source
// supplies itself. Those bytes come from ChaCha8 generators seeded by
// crypto/rand — a cryptographically strong stream, without a system call
// per id — kept in a pool of the source's own, so that concurrent PutEvents
// calls do not contend. The uuid package's global random pool
// (uuid.EnableRandPool) is left as the program set it: eda changes no
// package-level setting. The zero value is ready to use.
type idSource struct {
	pool sync.Pool // of *rand.ChaCha8
}

// newID returns a new version 4 UUID, e.g. "6a7e8feb-b491-4cf7-a9f1-bf3703467718".
func (s *idSource) newID() string {
	g, _ := s.pool.Get().(*rand.ChaCha8)
	if g == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // never fails (crypto/rand panics rather than return an error)
		g = rand.NewChaCha8(seed)
	}
	// ChaCha8.Read fills the whole buffer and never fails, so neither does
	// NewRandomFromReader.
	u, _ := uuid.NewRandomFromReader(g)
	s.pool.Put(g)
	return u.String()
}
