package edatest

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/edakit/eda"
)

// allowed holds the tests that called AllowPanics.
var allowed sync.Map // testing.TB → struct{}

// AllowPanics lets the handlers of t's routers (from NewBus and NewTopic)
// panic, or call runtime.Goexit, without failing the test: for a test of
// what a panic leads to, such as its dead letter.
func AllowPanics(t testing.TB) { allowed.Store(t, struct{}{}) }

// panicsAllowed reports whether t called AllowPanics.
func panicsAllowed(t testing.TB) bool {
	_, ok := allowed.Load(t)
	return ok
}

// panicWatch notes the panics and runtime.Goexit calls of a router's
// handlers. eda recovers them and retries the delivery as failed, so a
// test would otherwise pass over them — or a t.FailNow in a handler, which
// is a runtime.Goexit, would show as a mere retry.
type panicWatch struct {
	mu   sync.Mutex
	seen []string
}

// note records one panic or Goexit.
func (w *panicWatch) note(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, s)
}

// middleware is the outermost middleware of the router: it notes what
// its handlers did, and passes the panic on to eda unchanged.
func (w *panicWatch) middleware(next eda.Handler) eda.Handler {
	return eda.HandlerFunc(func(ctx context.Context, d eda.Delivery) error {
		returned := false
		defer func() {
			if returned {
				return
			}
			where := d.Destination + " attempt " + fmt.Sprint(d.Attempt)
			if v := recover(); v != nil {
				w.note(fmt.Sprintf("%s: handler panicked: %v\n%s", where, v, debug.Stack()))
				panic(v)
			}
			w.note(where + ": handler called runtime.Goexit — t.FailNow, or a require assertion, in a handler? " +
				"Use assert there, or return an error")
		}()
		err := next.Handle(ctx, d)
		returned = true
		return err
	})
}

// report fails t if the handlers panicked and t does not allow it.
func (w *panicWatch) report(t testing.TB, router string) {
	t.Helper()
	w.mu.Lock()
	seen := w.seen
	w.mu.Unlock()
	if len(seen) == 0 || panicsAllowed(t) {
		return
	}
	const shown = 3
	msg := strings.Join(seen[:min(len(seen), shown)], "\n")
	if len(seen) > shown {
		msg += fmt.Sprintf("\n(and %d more)", len(seen)-shown)
	}
	t.Errorf("edatest: %d handler panics or Goexits in %s (edatest.AllowPanics(t) allows them):\n%s", len(seen), router, msg)
}
