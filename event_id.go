package eda

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"
)

// idSource makes event ids: random (version 4) UUIDs in their usual text
// form. It draws from ChaCha8 generators seeded by crypto/rand — a
// cryptographically strong stream, without a system call per id — kept in
// a pool so that concurrent PutEvents calls do not contend. The zero value
// is ready to use.
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
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], g.Uint64())
	binary.LittleEndian.PutUint64(u[8:], g.Uint64())
	s.pool.Put(g)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	var out [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(out[:])
}
