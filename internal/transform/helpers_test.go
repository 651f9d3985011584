package transform

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustCompile(t *testing.T, paths map[string]string, template string) *Transformer {
	t.Helper()
	tr, err := Compile(paths, template)
	require.NoError(t, err, "Compile(%v, %q)", paths, template)
	return tr
}

func mustPath(t *testing.T, path string) *Path {
	t.Helper()
	p, err := CompilePath(path)
	require.NoError(t, err, "CompilePath(%q)", path)
	return p
}

// wantError checks that err is a compile error for field whose reason
// contains every fragment.
func wantError(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	require.Error(t, err, "want an error for %s", field)
	assert.ErrorIs(t, err, ErrInvalid)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, field, e.Field, "Field (error: %v)", err)
	for _, f := range fragments {
		assert.Contains(t, e.Reason, f, "Reason")
	}
}
