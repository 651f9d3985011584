// Package leaktest finds goroutines that tests left running.
package leaktest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Module is the import path prefix whose goroutines Check looks for.
const Module = "github.com/edakit/eda"

// Leaked returns the stacks of the goroutines, other than the caller's,
// that run code of the module (outside leaktest and test functions'
// own frames are included: a test's stray goroutine is a leak too).
func Leaked() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the calling goroutine
			continue
		}
		if strings.Contains(g, Module+"/") || strings.Contains(g, Module+".") {
			if strings.Contains(g, Module+"/internal/leaktest.") {
				continue
			}
			out = append(out, g)
		}
	}
	return out
}

// Check waits up to timeout for the module's goroutines to exit and
// returns an error listing those that did not.
func Check(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		leaked := Leaked()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaktest: %d goroutines still running:\n\n%s",
				len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
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
