package edatest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
)

// TestMain fails the run if a test leaves goroutines of the module running.
func TestMain(m *testing.M) { leaktest.Main(m) }

// fakeTB is a testing.TB that records what the kit reports instead of
// failing the real test, so that tests can check the failing side. Fatalf
// records and returns (the kit returns false after it). Its cleanups run
// when run is called. Other methods go to the real test.
type fakeTB struct {
	testing.TB
	end time.Time // its deadline; zero: none

	mu       sync.Mutex
	reports  []string
	logs     []string
	fatal    bool
	cleanups []func()
}

// newFakeTB returns a fakeTB over t whose deadline is within from now.
func newFakeTB(t *testing.T, within time.Duration) *fakeTB {
	return &fakeTB{TB: t, end: time.Now().Add(within)}
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) report(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, s)
}

func (f *fakeTB) Errorf(format string, args ...any) { f.report(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Error(args ...any)                 { f.report(fmt.Sprint(args...)) }
func (f *fakeTB) Log(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprint(args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.report(fmt.Sprintf(format, args...))
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
}
func (f *fakeTB) FailNow() {
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
}
func (f *fakeTB) Fail() { f.report("Fail") }
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reports) > 0 || f.fatal
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// Deadline is the deadline the kit's waits read.
func (f *fakeTB) Deadline() (time.Time, bool) { return f.end, !f.end.IsZero() }

// run runs the cleanups, last registered first.
func (f *fakeTB) run() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

// reported returns everything reported, one report a line.
func (f *fakeTB) reported() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.reports, "\n")
}

// logged returns everything logged, one call a line.
func (f *fakeTB) logged() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}
