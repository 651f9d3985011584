package edatest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoSleep checks that neither edatest nor its tests sleep: every wait
// wakes on the event it waits for.
func TestNoSleep(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sleep := "time." + "Sleep"
	for _, name := range files {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		require.False(t, strings.Contains(string(src), sleep), "%s calls %s", name, sleep)
	}
}
