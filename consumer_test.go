package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type order struct {
	ID    string  `json:"id"`
	Total float64 `json:"total"`
}

const orderEventJSON = `{"version":"0","id":"e-1","detail-type":"OrderPlaced","source":"shop",` +
	`"account":"123","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],` +
	`"detail":{"id":"o-1","total":12.5}}`

func TestDecodeByKind(t *testing.T) {
	notification := `{"Type":"Notification","MessageId":"m-1","Message":"{\"id\":\"o-3\",\"total\":3}"}`
	tests := []struct {
		name string
		d    Delivery
		want order
	}{
		{"event detail", Delivery{Kind: PayloadEvent, Payload: []byte(orderEventJSON)}, order{"o-1", 12.5}},
		{"input", Delivery{Kind: PayloadInput, Payload: []byte(`{"id":"o-2","total":2}`)}, order{"o-2", 2}},
		{"raw message", Delivery{Kind: PayloadMessage, Payload: []byte(`{"id":"o-4","total":4}`)}, order{"o-4", 4}},
		{"notification message", Delivery{Kind: PayloadNotification, Payload: []byte(notification)}, order{"o-3", 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got order
			require.NoError(t, tt.d.Decode(&got))
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeIntoTextAndBytes(t *testing.T) {
	text := Delivery{Kind: PayloadInput, Payload: []byte(`Order o-1 costs 12.5`)}
	var s string
	require.NoError(t, text.Decode(&s))
	assert.Equal(t, "Order o-1 costs 12.5", s)

	quoted := Delivery{Kind: PayloadEvent, Payload: []byte(`{"detail":"a \"quoted\" text"}`)}
	require.NoError(t, quoted.Decode(&s))
	assert.Equal(t, `a "quoted" text`, s)

	ev := Delivery{Kind: PayloadEvent, Payload: []byte(orderEventJSON)}
	var raw json.RawMessage
	require.NoError(t, ev.Decode(&raw))
	assert.JSONEq(t, `{"id":"o-1","total":12.5}`, string(raw))
	var b []byte
	require.NoError(t, ev.Decode(&b))
	b[0] = 'X' // a copy: the shared payload is untouched
	assert.Contains(t, string(ev.Payload), `"detail":{"id"`)

	n := Delivery{Kind: PayloadNotification, Payload: []byte(`{"Message":"plain text, no JSON"}`)}
	require.NoError(t, n.Decode(&s))
	assert.Equal(t, "plain text, no JSON", s)
	body, ok := n.Body()
	require.True(t, ok)
	assert.Equal(t, "plain text, no JSON", string(body))
	n = Delivery{Kind: PayloadNotification, Payload: []byte(`{"Message":"line\nbreak"}`)}
	body, ok = n.Body()
	require.True(t, ok)
	assert.Equal(t, "line\nbreak", string(body))
}

func TestDecodeErrors(t *testing.T) {
	var o order
	err := Delivery{Kind: PayloadEvent, Payload: []byte(`{"source":"x"}`)}.Decode(&o)
	assert.ErrorIs(t, err, ErrDecode)
	assert.ErrorContains(t, err, `no "detail" field`)
	err = Delivery{Kind: PayloadInput, Payload: []byte(`{"id":5}`)}.Decode(&o)
	assert.ErrorIs(t, err, ErrDecode)
	var ute *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &ute)
	err = Delivery{Kind: PayloadNotification, Payload: []byte(`{}`)}.Decode(&o)
	assert.ErrorContains(t, err, `no "Message" field`)
	assert.Equal(t, "notification", PayloadNotification.String())
	assert.Equal(t, "PayloadKind(9)", PayloadKind(9).String())
}

func TestHandlerOf(t *testing.T) {
	var got []order
	h := HandlerOf(func(ctx context.Context, o order) error {
		got = append(got, o)
		if o.Total > 100 {
			return errors.New("too big, try later")
		}
		return nil
	})
	ctx := context.Background()
	require.NoError(t, h.Handle(ctx, Delivery{Kind: PayloadEvent, Payload: []byte(orderEventJSON)}))
	assert.Equal(t, []order{{"o-1", 12.5}}, got)

	err := h.Handle(ctx, Delivery{Kind: PayloadInput, Payload: []byte(`{"id":"o-9","total":500}`)})
	require.Error(t, err)
	assert.False(t, IsPermanent(err), "the handler's own errors are retried")

	err = h.Handle(ctx, Delivery{Kind: PayloadInput, Payload: []byte(`not json`)})
	assert.True(t, IsPermanent(err), "a decode failure is permanent")
	assert.ErrorIs(t, err, ErrDecode)
	assert.Len(t, got, 2, "fn is not called for an undecodable payload")
}

func TestBatchError(t *testing.T) {
	cause := errors.New("row 3 rejected")
	be := new(BatchError).Fail(3, cause).Fail(1, nil)
	assert.EqualError(t, be, "eda: batch: 2 deliveries failed; #1: eda: batch item failed")
	assert.ErrorIs(t, be, cause)
	assert.EqualError(t, &BatchError{}, "eda: batch: no delivery failed")
}

// handleAll calls h concurrently for every delivery and returns the errors.
func handleAll(ctx context.Context, h Handler, ds []Delivery) []error {
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() { errs[i] = h.Handle(ctx, d) })
	}
	wg.Wait()
	return errs
}

func deliveries(n int) []Delivery {
	ds := make([]Delivery, n)
	for i := range ds {
		ds[i] = Delivery{ID: fmt.Sprint(i), Kind: PayloadMessage, Attempt: 1}
	}
	return ds
}

func TestBatchFillsToSize(t *testing.T) {
	clock := clocktest.New(testEpoch) // never advanced: only size completes batches
	var mu sync.Mutex
	var sizes []int
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error {
		mu.Lock()
		sizes = append(sizes, len(ds))
		mu.Unlock()
		return nil
	}), BatchOptions{Size: 4, Clock: clock})
	for _, err := range handleAll(context.Background(), h, deliveries(12)) {
		assert.NoError(t, err)
	}
	assert.Equal(t, []int{4, 4, 4}, sizes)
	assert.Zero(t, clock.Pending(), "window timers are stopped")
}

func TestBatchWindowFlushesPartialBatch(t *testing.T) {
	clock := clocktest.New(testEpoch)
	got := make(chan []string, 1)
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error {
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		sort.Strings(ids)
		got <- ids
		return nil
	}), BatchOptions{Size: 10, Window: time.Second, Clock: clock})
	done := make(chan []error, 1)
	go func() { done <- handleAll(context.Background(), h, deliveries(3)) }()
	require.True(t, clock.WaitForTimers(1, 5*time.Second))
	// The three calls must all have joined before the window ends.
	require.Eventually(t, func() bool {
		b := h.(*batcher)
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.open != nil && len(b.open.items) == 3
	}, 5*time.Second, time.Millisecond)
	clock.Advance(999 * time.Millisecond)
	select {
	case <-got:
		require.Fail(t, "batch handled before its window ended")
	default:
	}
	clock.Advance(time.Millisecond)
	assert.Equal(t, []string{"0", "1", "2"}, <-got)
	for _, err := range <-done {
		assert.NoError(t, err)
	}
}

func TestBatchPartialFailure(t *testing.T) {
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error {
		be := &BatchError{}
		for i, d := range ds {
			if d.ID == "1" || d.ID == "3" {
				be.Fail(i, fmt.Errorf("item %s failed", d.ID))
			}
		}
		return be
	}), BatchOptions{Size: 5})
	errs := handleAll(context.Background(), h, deliveries(5))
	for i, err := range errs {
		if i == 1 || i == 3 {
			assert.EqualError(t, err, fmt.Sprintf("item %d failed", i))
		} else {
			assert.NoError(t, err, "item %d", i)
		}
	}
}

func TestBatchErrorOrPanicFailsAll(t *testing.T) {
	boom := errors.New("database down")
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error { return boom }), BatchOptions{Size: 3})
	for _, err := range handleAll(context.Background(), h, deliveries(3)) {
		assert.ErrorIs(t, err, boom)
	}
	h = Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error { panic("bad batch") }), BatchOptions{Size: 2})
	for _, err := range handleAll(context.Background(), h, deliveries(2)) {
		var pe *PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "bad batch", pe.Value)
	}
}

func TestBatchCancelledCallerHandsOverAtOnce(t *testing.T) {
	clock := clocktest.New(testEpoch) // the window never ends by itself
	called := make(chan int, 1)
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error {
		called <- len(ds)
		return ctx.Err()
	}), BatchOptions{Size: 10, Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Handle(ctx, Delivery{ID: "a"}) }()
	require.True(t, clock.WaitForTimers(1, 5*time.Second))
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, 1, <-called)
	assert.Zero(t, clock.Pending())
}

// TestBatchThroughTheEngine runs a batch handler as a destination's handler:
// only the deliveries a BatchError names are retried.
func TestBatchThroughTheEngine(t *testing.T) {
	clock := clocktest.NewInstant(testEpoch)
	e := newEngine(clock, nil)
	var mu sync.Mutex
	attempts := map[string][]int{}
	h := Batch(BatchHandlerFunc(func(ctx context.Context, ds []Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		var be BatchError
		for i, d := range ds {
			attempts[d.ID] = append(attempts[d.ID], d.Attempt)
			if d.ID[0] == 'x' && d.Attempt == 1 {
				be.Fail(i, errors.New("first try fails"))
			}
		}
		if be.Failed == nil {
			return nil
		}
		return &be
	}), BatchOptions{Size: 4, Window: time.Millisecond, Clock: SystemClock()})
	d := newDestination(e, destinationConfig[message]{
		Name: "batched", MaxConcurrency: 4, Handler: h, Fill: fillMessage,
	})
	ids := []string{"a", "x1", "b", "c", "x2", "d", "e", "f"}
	for _, id := range ids {
		require.NoError(t, d.Enqueue(context.Background(), message{ID: id}))
	}
	drainEngine(t, e)
	closeEngine(t, e)
	clock.Wait()
	for _, id := range ids {
		if id[0] == 'x' {
			assert.Equal(t, []int{1, 2}, attempts[id], id)
		} else {
			assert.Equal(t, []int{1}, attempts[id], id)
		}
	}
	s := d.Stats()
	assert.EqualValues(t, 8, s.Delivered)
	assert.EqualValues(t, 2, s.Retries)
}

// TestHandlerOfDelivery: the typed handler also receives the delivery, whose
// ID and Attempt it can use, and decoding works as in HandlerOf.
func TestHandlerOfDelivery(t *testing.T) {
	type call struct {
		o       order
		id      string
		attempt int
		rule    string
	}
	var got []call
	h := HandlerOfDelivery(func(ctx context.Context, o order, d Delivery) error {
		got = append(got, call{o, d.ID, d.Attempt, d.Rule})
		if d.Attempt == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	})
	ctx := context.Background()
	d := Delivery{ID: "e-1", Rule: "r", Attempt: 1, Kind: PayloadEvent, Payload: []byte(orderEventJSON)}
	err := h.Handle(ctx, d)
	require.Error(t, err)
	assert.False(t, IsPermanent(err), "the handler's own errors are retried")
	d.Attempt = 2
	require.NoError(t, h.Handle(ctx, d))
	assert.Equal(t, []call{{order{"o-1", 12.5}, "e-1", 1, "r"}, {order{"o-1", 12.5}, "e-1", 2, "r"}}, got)

	err = h.Handle(ctx, Delivery{ID: "e-2", Kind: PayloadInput, Payload: []byte(`not json`)})
	assert.True(t, IsPermanent(err), "a decode failure is permanent")
	assert.ErrorIs(t, err, ErrDecode)
	assert.Len(t, got, 2, "fn is not called for an undecodable payload")
}

// TestHandlerOfDeliveryOnABus: through a bus, the delivery a typed handler
// receives names the event, rule and target, and its ID is the event's id.
func TestHandlerOfDeliveryOnABus(t *testing.T) {
	bus, err := NewBus("orders")
	require.NoError(t, err)
	defer func() { require.NoError(t, bus.Close(context.Background())) }()
	got := make(chan Delivery, 1)
	var gotOrder order
	h := HandlerOfDelivery(func(ctx context.Context, o order, d Delivery) error {
		gotOrder = o
		got <- d
		return nil
	})
	require.NoError(t, bus.PutRule(Rule{Name: "placed", EventPattern: `{"source": ["shop"]}`,
		Targets: []Target{HandlerTarget("store", h)}}))
	res, err := bus.PutEvents(context.Background(), Event{Source: "shop", DetailType: "OrderPlaced",
		Detail: json.RawMessage(`{"id":"o-5","total":5}`)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	select {
	case d := <-got:
		assert.Equal(t, res.Entries[0].EventID, d.ID)
		assert.Equal(t, "orders", d.Router)
		assert.Equal(t, "placed", d.Rule)
		assert.Equal(t, "store", d.Destination)
		assert.Equal(t, 1, d.Attempt)
		assert.Equal(t, order{"o-5", 5}, gotOrder)
	case <-time.After(5 * time.Second):
		require.Fail(t, "no delivery")
	}
}
