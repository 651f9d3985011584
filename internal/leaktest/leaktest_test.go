package leaktest_test

import (
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/require"
)

func TestCheckReportsRunningGoroutinesUntilTheyExit(t *testing.T) {
	stop := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		<-stop
	}()
	err := leaktest.Check(20 * time.Millisecond)
	require.ErrorContains(t, err, "TestCheckReportsRunningGoroutinesUntilTheyExit", "Check reports the running goroutine")
	close(stop)
	<-exited
	require.NoError(t, leaktest.Check(5*time.Second), "Check after exit")
}
