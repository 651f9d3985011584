package edatest_test

import (
	"fmt"
	"testing"
)

// exampleT stands in for the *testing.T of a test in the examples, which
// have none: it prints what a test would report, so that a failure shows
// in the example's output, and runs the cleanups when the example ends.
// Methods it does not define are not used by the examples.
type exampleT struct {
	testing.TB
	cleanups []func()
	failed   bool
}

func newT() *exampleT { return &exampleT{} }

func (t *exampleT) Helper()      {}
func (t *exampleT) Name() string { return "Example" }
func (t *exampleT) Errorf(format string, args ...any) {
	t.failed = true
	fmt.Printf(format+"\n", args...)
}
func (t *exampleT) Error(args ...any)                 { t.failed = true; fmt.Println(args...) }
func (t *exampleT) Fatalf(format string, args ...any) { t.Errorf(format, args...) }
func (t *exampleT) FailNow()                          { t.failed = true }
func (t *exampleT) Fail()                             { t.failed = true }
func (t *exampleT) Failed() bool                      { return t.failed }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Log(...any)                        {} // a test shows its log on failure or with -v

// finish runs the cleanups, last registered first, as a test's end does.
func (t *exampleT) finish() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
