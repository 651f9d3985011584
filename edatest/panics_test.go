package edatest

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicky puts one event on a bus of ft whose handler runs h once, and
// returns the bus's dead letters after the test's cleanups.
func panicky(t *testing.T, ft *fakeTB, h func()) *Recorder {
	dead := NewRecorder()
	bus := NewBus(ft, eda.WithRetryPolicy(eda.NoRetries()), eda.WithDeadLetter(dead))
	putRule(t, bus, eda.HandlerFunc(func(context.Context, eda.Delivery) error {
		h()
		return nil
	}))
	put(t, bus, `{"n":1}`)
	Settle(t, bus)
	ft.run()
	return dead
}

func TestHandlerPanicFailsTheTest(t *testing.T) {
	ft := newFakeTB(t, time.Minute)
	dead := panicky(t, ft, func() { panic("boom") })
	require.Equal(t, 1, dead.Len(), "eda still recovers the panic")
	var pe *eda.PanicError
	require.ErrorAs(t, dead.Deliveries()[0].Err, &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, ft.reported(), "edatest: 1 handler panics or Goexits in default (edatest.AllowPanics(t) allows them):\n"+
		"t attempt 1: handler panicked: boom\ngoroutine ")
}

func TestHandlerGoexitFailsTheTest(t *testing.T) {
	ft := newFakeTB(t, time.Minute)
	panicky(t, ft, runtime.Goexit)
	assert.Contains(t, ft.reported(), "t attempt 1: handler called runtime.Goexit — t.FailNow, or a require assertion, in a handler?")
}

func TestAllowPanics(t *testing.T) {
	ft := newFakeTB(t, time.Minute)
	AllowPanics(ft)
	dead := panicky(t, ft, func() { panic("expected") })
	assert.Equal(t, 1, dead.Len())
	assert.Empty(t, ft.reported())
}

// Many panics are counted, and only the first few shown.
func TestPanicReportIsBounded(t *testing.T) {
	ft := newFakeTB(t, time.Minute)
	dead := NewRecorder()
	bus := NewBus(ft, eda.WithRetryPolicy(eda.NoRetries()), eda.WithDeadLetter(dead))
	putRule(t, bus, eda.HandlerFunc(func(context.Context, eda.Delivery) error { panic("again") }))
	for range 5 {
		put(t, bus, `{"n":1}`)
	}
	Settle(t, bus)
	ft.run()
	assert.Contains(t, ft.reported(), "edatest: 5 handler panics or Goexits in default")
	assert.Contains(t, ft.reported(), "\n(and 2 more)")
}
