package edatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edakit/eda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type order struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
}

func TestRecorderRecords(t *testing.T) {
	var rec Recorder // the zero value is ready
	_, ok := rec.Last()
	assert.False(t, ok)
	ctx := context.Background()
	d1 := eda.Delivery{ID: "1", Router: "bus", Rule: "r", Destination: "t", Attempt: 1, Time: epoch,
		Kind: eda.PayloadInput, Payload: []byte(`{"id":"o-1","total":5}`)}
	d2 := d1
	d2.ID, d2.Payload = "2", []byte(`{"id":"o-2","total":7}`)
	require.NoError(t, rec.Handle(ctx, d1))
	require.NoError(t, rec.Handle(ctx, d2))
	assert.Equal(t, 2, rec.Len())
	assert.Equal(t, []Record{{Delivery: d1}, {Delivery: d2}}, rec.Deliveries())
	last, ok := rec.Last()
	require.True(t, ok)
	assert.Equal(t, "2", last.Delivery.ID)
	assert.Equal(t, []order{{"o-1", 5}, {"o-2", 7}}, RecordedAs[order](t, &rec))

	boom := errors.New("boom")
	rec.HandleDeadLetter(ctx, eda.DeadLetter{Delivery: d1, Reason: eda.ReasonMaxAttempts, Err: boom, Attempts: 3})
	last, _ = rec.Last()
	require.NotNil(t, last.DeadLetter)
	assert.Equal(t, 3, last.DeadLetter.Attempts)
	assert.Equal(t, boom, last.Err)

	rec.Reset()
	assert.Equal(t, 0, rec.Len())
	assert.Empty(t, rec.Deliveries())
}

func TestRecordedAsFailsOnBadPayload(t *testing.T) {
	rec := NewRecorder()
	require.NoError(t, rec.Handle(context.Background(), eda.Delivery{Router: "bus", Rule: "r", Destination: "t", Attempt: 1,
		Kind: eda.PayloadInput, Payload: []byte(`"text"`)}))
	ft := newFakeTB(t, time.Second)
	assert.Empty(t, RecordedAs[order](ft, rec))
	assert.Contains(t, ft.reported(), "edatest: RecordedAs: record 0 (bus/r/t attempt 1): ")
}

func TestRecorderWrap(t *testing.T) {
	rec := NewRecorder()
	boom := errors.New("boom")
	h := rec.Wrap(eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
		switch d.ID {
		case "fail":
			return boom
		case "panic":
			panic("oops")
		}
		return nil
	}))
	ctx := context.Background()
	assert.NoError(t, h.Handle(ctx, eda.Delivery{ID: "ok"}))
	assert.Equal(t, boom, h.Handle(ctx, eda.Delivery{ID: "fail"}))
	assert.PanicsWithValue(t, "oops", func() { _ = h.Handle(ctx, eda.Delivery{ID: "panic"}) }, "the panic goes on")
	recs := rec.Deliveries()
	require.Len(t, recs, 3)
	assert.NoError(t, recs[0].Err)
	assert.Equal(t, boom, recs[1].Err)
	var pe *eda.PanicError
	require.ErrorAs(t, recs[2].Err, &pe)
	assert.Equal(t, "oops", pe.Value)
}

// WaitFor and WaitUntil wake on a delivery made on another goroutine.
func TestRecorderWaitWakesOnDelivery(t *testing.T) {
	rec := NewRecorder()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-release
		for _, p := range []string{`{"n":1}`, `{"n":2}`} {
			_ = rec.Handle(context.Background(), eda.Delivery{Payload: []byte(p)})
		}
	}()
	close(release)
	require.True(t, rec.WaitFor(t, 2))
	got, ok := rec.WaitUntil(t, `{"n": [2]}`)
	require.True(t, ok)
	assert.JSONEq(t, `{"n":2}`, string(got.Delivery.Payload))
	<-done
}

func TestRecorderWaitFailures(t *testing.T) {
	rec := NewRecorder()
	require.NoError(t, rec.Handle(context.Background(), eda.Delivery{Router: "bus", Rule: "r", Destination: "t", Attempt: 1,
		Payload: []byte(`{"n": 1}`)}))

	ft := newFakeTB(t, 50*time.Millisecond)
	assert.False(t, rec.WaitFor(ft, 2))
	assert.Equal(t, "edatest: WaitFor: waited for 2 records, got 1\n  1. bus/r/t attempt 1: {\"n\":1}", ft.reported())

	ft = newFakeTB(t, 50*time.Millisecond)
	_, ok := rec.WaitUntil(ft, `{"n": [2]}`)
	assert.False(t, ok)
	assert.Equal(t, `edatest: WaitUntil: no record matches {"n": [2]}
nearest of the 1 records that do not match, and why:
  1. bus/r/t attempt 1: {"n":1}
     no match: 0 of 1 fields hold
       FAIL n: value 1 does not match [2]`, ft.reported())

	ft = newFakeTB(t, time.Second)
	_, ok = rec.WaitUntil(ft, `{"n": 2}`)
	assert.False(t, ok)
	assert.Contains(t, ft.reported(), "WaitUntil: event pattern: n: ")
}

// A test without a deadline waits DefaultTimeout; one with a deadline
// ends shortly before it.
func TestDeadline(t *testing.T) {
	ft := &fakeTB{TB: t}
	assert.WithinDuration(t, time.Now().Add(DefaultTimeout), deadline(ft), time.Second)
	ft.end = time.Now().Add(time.Hour)
	assert.WithinDuration(t, ft.end.Add(-5*time.Second), deadline(ft), time.Second)
	ft.end = time.Now().Add(10 * time.Second)
	assert.WithinDuration(t, ft.end.Add(-time.Second), deadline(ft), 100*time.Millisecond)
}

func TestRecorderTo(t *testing.T) {
	rec := NewRecorder()
	ctx := context.Background()
	for _, dest := range []string{"a", "b", "a"} {
		require.NoError(t, rec.Handle(ctx, eda.Delivery{Destination: dest, Payload: []byte(`{"to":"` + dest + `"}`)}))
	}
	a := rec.To("a")
	assert.Equal(t, 2, a.Len())
	AssertDeliveredN(t, a, `{"to": ["a"]}`, 2)
	assert.Equal(t, 0, rec.To("c").Len())
	require.NoError(t, rec.Handle(ctx, eda.Delivery{Destination: "a"}))
	assert.Equal(t, 2, a.Len(), "a snapshot")
}

// Wrap given to a router as middleware records every attempt at each of
// its destinations, which To tells apart.
func TestRecorderWrapAsRouterMiddleware(t *testing.T) {
	rec := NewRecorder()
	bus := NewBus(t, eda.WithMiddleware(rec.Wrap))
	flaky := eda.HandlerFunc(func(_ context.Context, d eda.Delivery) error {
		if d.Attempt == 1 {
			return errors.New("not yet")
		}
		return nil
	})
	require.NoError(t, bus.PutRule(eda.Rule{Name: "r", EventPattern: `{"source": ["test"]}`,
		Targets: []eda.Target{eda.HandlerTarget("flaky", flaky), eda.HandlerTarget("steady", NewRecorder())}}))
	put(t, bus, `{"n":1}`)
	Settle(t, bus)

	attempts := rec.To("flaky").Deliveries()
	require.Len(t, attempts, 2)
	assert.EqualError(t, attempts[0].Err, "not yet")
	assert.NoError(t, attempts[1].Err)
	assert.Equal(t, 2, attempts[1].Delivery.Attempt)
	assert.Equal(t, 1, rec.To("steady").Len())
	assert.Equal(t, 3, rec.Len())
}
