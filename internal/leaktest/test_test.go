package leaktest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeT records what the check of leaktest.Test reports; its cleanups run
// when the test calls end.
type fakeT struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Error(args ...any) { f.errors = append(f.errors, fmt.Sprint(args...)) }

// end runs the cleanups, last-registered first.
func (f *fakeT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func parkedDuring(stop <-chan struct{}) { <-stop }
func parkedBefore(stop <-chan struct{}) { <-stop }

func TestTestReportsAGoroutineStartedDuringTheTest(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	f := &fakeT{TB: t}
	leaktest.TestWithin(f, 20*time.Millisecond)
	go parkedDuring(stop)
	f.end()
	require.Len(t, f.errors, 1)
	assert.Contains(t, f.errors[0], "leaktest_test.parkedDuring")
}

func TestTestIgnoresGoroutinesRunningBefore(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go parkedBefore(stop)
	f := &fakeT{TB: t}
	leaktest.TestWithin(f, 20*time.Millisecond)
	f.end()
	assert.Empty(t, f.errors)
}

func TestTestWaitsForGoroutinesToExit(t *testing.T) {
	stop := make(chan struct{})
	f := &fakeT{TB: t}
	leaktest.TestWithin(f, 5*time.Second)
	go parkedDuring(stop)
	// Registered after the check, so it runs first: the goroutine exits
	// while the check waits for it.
	f.Cleanup(func() { close(stop) })
	f.end()
	assert.Empty(t, f.errors)
}
