package logtest

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecorderKeepsRecordsByMessage(t *testing.T) {
	r := &Recorder{}
	l := slog.New(r).With("ignored", 1)
	l.Debug("a", "n", 1)
	l.Error("b", "err", errors.New("x"))
	l.Debug("a", "n", 2)
	got := r.WithMessage("a")
	require.Len(t, got, 2)
	assert.Equal(t, slog.LevelDebug, got[0].Level)
	assert.EqualValues(t, 1, got[0].Attrs["n"])
	assert.EqualValues(t, 2, got[1].Attrs["n"])
	assert.NotContains(t, got[0].Attrs, "ignored")
	b := r.WithMessage("b")
	require.Len(t, b, 1)
	assert.EqualError(t, b[0].Attrs["err"].(error), "x")
	assert.Empty(t, r.WithMessage("c"))
}
