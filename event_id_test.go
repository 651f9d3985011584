package eda

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenReader fails every read.
type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("broken random source") }

// TestEventIDsIgnoreUUIDGlobals: event ids come from the idSource's own
// random stream, not from the uuid package's global source, so a program's
// uuid.SetRand (or uuid.EnableRandPool) neither affects eda nor is made by it.
func TestEventIDsIgnoreUUIDGlobals(t *testing.T) {
	uuid.SetRand(brokenReader{})
	t.Cleanup(func() { uuid.SetRand(nil) })
	_, err := uuid.NewRandom()
	require.Error(t, err, "the global source should be broken for this test")

	var src idSource
	id := src.newID()
	assert.Regexp(t, uuidV4, id)
	u, err := uuid.Parse(id)
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(4), u.Version())
	assert.Equal(t, uuid.RFC4122, u.Variant())
}

// TestEventIDAllocations pins the cost of an id: the 36-byte string and the
// 16-byte array uuid.NewRandomFromReader fills, nothing per call beyond.
func TestEventIDAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	var src idSource
	src.newID()
	assert.LessOrEqual(t, testing.AllocsPerRun(1000, func() { _ = src.newID() }), 2.0)
}
