package leaktest

import (
	"testing"
	"time"
)

// TestIf is [Test] whose check runs only if check reports true when the
// test's cleanups reach it: edatest skips it while routers of parallel
// tests are open, whose goroutines it would count.
func TestIf(t testing.TB, check func() bool) {
	t.Helper()
	testIf(t, TestTimeout, check)
}

// testIf is TestIf with the given timeout; a nil check always checks.
func testIf(t testing.TB, timeout time.Duration, check func() bool) {
	t.Helper()
	old := map[uint64]bool{}
	for _, g := range stacks() {
		old[goroutineID(g)] = true
	}
	t.Cleanup(func() {
		if check != nil && !check() {
			return
		}
		if err := wait(timeout, old); err != nil {
			t.Error(err)
		}
	})
}
