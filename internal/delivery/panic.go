package delivery

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// PanicError is the error of an attempt whose handler panicked. The engine
// recovers the panic, so that it crashes neither the process nor the
// worker, and treats the attempt as failed: it is retried or dead-lettered
// like any other failure.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as runtime/debug.Stack
	// formats it.
	Stack []byte
}

func newPanicError(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }

func (e *PanicError) Error() string { return fmt.Sprintf("eda: handler panicked: %v", e.Value) }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errGoexit fails an attempt whose Deliver called runtime.Goexit.
var errGoexit = errors.New("eda: handler called runtime.Goexit")

// contain runs f on a goroutine of its own and waits for it to end. It
// returns nil when f returned, a *PanicError when f panicked, and
// errGoexit when f called runtime.Goexit, which then ends only that
// goroutine, not the caller's. For user code called rarely (dead-letter
// functions): a goroutine costs about a microsecond.
func contain(f func()) error {
	done := make(chan error, 1)
	go func() {
		normal := false
		defer func() {
			switch {
			case normal:
				done <- nil
			default:
				if r := recover(); r != nil {
					done <- newPanicError(r)
					return
				}
				done <- errGoexit
			}
		}()
		f()
		normal = true
	}()
	return <-done
}
