// Package leaktest finds goroutines that tests left running.
package leaktest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Module is the import path prefix whose goroutines Check looks for.
const Module = "github.com/edakit/eda"

// Leaked returns the stacks of the goroutines, other than the caller's,
// that run code of the module (outside leaktest and test functions'
// own frames are included: a test's stray goroutine is a leak too).
func Leaked() []string { return leaked(nil) }

// stacks returns the stack of every goroutine, the caller's first.
func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Split(string(buf), "\n\n")
}

// goroutineID returns the id in a stack's "goroutine 12 [running]:" header,
// or 0 if it has none.
func goroutineID(stack string) uint64 {
	rest, ok := strings.CutPrefix(stack, "goroutine ")
	if !ok {
		return 0
	}
	id, _, _ := strings.Cut(rest, " ")
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// leaked is Leaked without the goroutines whose ids are in old.
func leaked(old map[uint64]bool) []string {
	var out []string
	for i, g := range stacks() {
		if i == 0 { // the calling goroutine
			continue
		}
		if !strings.Contains(g, Module+"/") && !strings.Contains(g, Module+".") {
			continue
		}
		if strings.Contains(g, Module+"/internal/leaktest.") || old[goroutineID(g)] {
			continue
		}
		out = append(out, g)
	}
	return out
}

// Check waits up to timeout for the module's goroutines to exit and
// returns an error listing those that did not.
func Check(timeout time.Duration) error { return wait(timeout, nil) }

// wait waits up to timeout for the module's goroutines, other than those
// whose ids are in old, to exit, and returns an error listing those that
// did not.
func wait(timeout time.Duration, old map[uint64]bool) error {
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		left := leaked(old)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaktest: %d goroutines still running:\n\n%s",
				len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// TestTimeout is how long the check of [Test] waits for the goroutines a
// test started to exit.
const TestTimeout = 5 * time.Second

// Test fails t if goroutines started during the test still run code of the
// module [TestTimeout] after it ended. The goroutines running when Test is
// called are not looked at, so call it first in the test: its check is a
// cleanup, and cleanups run last-registered first, so it runs after those
// that close what the test opened. Tests that call it must not run in
// parallel with others, whose goroutines it would count.
func Test(t testing.TB) { test(t, TestTimeout) }

// test is Test with the given timeout.
func test(t testing.TB, timeout time.Duration) {
	t.Helper()
	testIf(t, timeout, nil)
}

// Main runs the tests and then, if they passed, fails the run when
// goroutines of the module are still running 5 seconds later. Call it from
// TestMain: func TestMain(m *testing.M) { leaktest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := Check(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}
