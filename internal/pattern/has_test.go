package pattern

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMachineHas(t *testing.T) {
	p, err := Parse([]byte(`{"a":["x"]}`), Limits{})
	require.NoError(t, err)
	var m *Machine
	assert.False(t, m.Has("r1"), "a nil machine holds nothing")
	m = m.Apply([]Entry{{ID: "r1", P: p}, {ID: "r2", P: p}}, nil)
	assert.True(t, m.Has("r1"))
	assert.True(t, m.Has("r2"))
	assert.False(t, m.Has("r3"))
	m2 := m.Apply(nil, []string{"r1"})
	assert.False(t, m2.Has("r1"))
	assert.True(t, m.Has("r1"), "the machine it was derived from is unchanged")
}
