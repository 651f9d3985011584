package eda

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenReader fails every read.
type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("broken random source") }

// TestEventIDsIgnoreUUIDGlobals: event ids come from the idSource's own
// random stream, not from the uuid package's global source, so a program's
// uuid.SetRand (or uuid.EnableRandPool) neither affects eda nor is made by it.
func TestEventIDsIgnoreUUIDGlobals(t *testing.T) {
	uuid.SetRand(brokenReader{})
	t.Cleanup(func() { uuid.SetRand(nil) })
	_, err := uuid.NewRandom()
	require.Error(t, err, "the global source should be broken for this test")

	var src idSource
	id := src.newID()
	assert.Regexp(t, uuidV4, id)
	u, err := uuid.Parse(id)
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(4), u.Version())
	assert.Equal(t, uuid.RFC4122, u.Variant())
}

// TestEventIDAllocations pins the cost of an id: appendID writes the text
// into the caller's buffer without allocating; newID allocates only the
// 36-byte string.
func TestEventIDAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	var src idSource
	buf := make([]byte, 0, uuidTextLen)
	src.newID()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { buf = src.appendID(buf[:0]) }))
	assert.LessOrEqual(t, testing.AllocsPerRun(1000, func() { _ = src.newID() }), 1.0)
}

// TestAppendIDIsUUIDText: appendID writes a version 4, RFC 4122 variant
// UUID in exactly the text form github.com/google/uuid gives it, after
// what the buffer held.
func TestAppendIDIsUUIDText(t *testing.T) {
	var src idSource
	for range 1000 {
		out := src.appendID([]byte("id:"))
		require.Len(t, out, 3+uuidTextLen)
		require.Equal(t, "id:", string(out[:3]))
		text := string(out[3:])
		u, err := uuid.Parse(text)
		require.NoError(t, err)
		require.Equal(t, u.String(), text, "uuid's own text form")
		require.Equal(t, uuid.Version(4), u.Version())
		require.Equal(t, uuid.RFC4122, u.Variant())
	}
}

// TestStampedIDIsNotReachableThroughThePayload: the id the bus stamps
// shares an allocation with the event's JSON (see Bus.seal), which is the
// event's EventBridge form as before, but not the bytes handed to targets: a handler that writes into its payload, against
// Delivery's contract, changes neither Delivery.ID nor the id PutEvents
// returned.
func TestStampedIDIsNotReachableThroughThePayload(t *testing.T) {
	b := newTestBus(t, "seal")
	got := make(chan Delivery, 1)
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example"]}`, Targets: []Target{
		HandlerTarget("h", HandlerFunc(func(_ context.Context, d Delivery) error {
			// The JSON is the event's EventBridge form, byte for byte.
			var e Event
			if err := json.Unmarshal(d.Payload, &e); err != nil {
				return err
			}
			want, err := e.MarshalJSON()
			if err != nil || string(want) != string(d.Payload) || e.ID != d.ID {
				t.Errorf("payload %s, want %s (%v)", d.Payload, want, err)
			}
			full := d.Payload[:cap(d.Payload)]
			for i := range full {
				full[i] = 'x'
			}
			got <- d
			return nil
		})),
	}})
	res, err := b.PutEvents(context.Background(), Event{Source: "com.example", DetailType: "T", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	id := res.Entries[0].EventID
	want := strings.Clone(id)
	_, err = uuid.Parse(id)
	require.NoError(t, err)
	d := <-got
	assert.Equal(t, want, d.ID)
	assert.Equal(t, want, id)
}

// TestPutEventsAllocations pins the cost of putting one event that one rule
// routes to one handler, end to end: the result's entries and one buffer
// for the event's JSON and its stamped id — 2 allocations. Delivery
// allocates nothing (see TestDestinationDeliveryDoesNotAllocate), however
// often the bus is drained: the contexts a bus marks for its handlers used
// to be cached for 2 of the engine's 8 contexts, so that after a few Drain
// calls each delivery allocated 2 more.
func TestPutEventsAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	b := newTestBus(t, "allocs")
	var handled atomic.Int64
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example"],"detail":{"customer":["c-1"]}}`, Targets: []Target{
		HandlerTarget("h", HandlerFunc(func(context.Context, Delivery) error { handled.Add(1); return nil })),
	}})
	ev := Event{Source: "com.example", DetailType: "T", Resources: []string{"arn:aws:example"},
		Detail: json.RawMessage(`{"customer":"c-1","total":10.5,"items":[{"sku":"A","qty":2}]}`)}
	ctx := context.Background()
	put := func() {
		if res, err := b.PutEvents(ctx, ev); err != nil || res.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, res)
		}
	}
	// Per event over many puts and one drain: what a worker's start (a
	// goroutine), the queue's growth and the drain cost is shared by all.
	const n = 2000
	perEvent := func() float64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			put()
		}
		if err := b.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / n
	}
	// The least of three rounds: a collection that empties the pools (of
	// id generators and match scratch space) in one round refills them
	// once, which is not a cost per event (it made a round 2.029 once on a
	// loaded machine).
	steady := func() float64 { return min(perEvent(), perEvent(), perEvent()) }
	perEvent() // warm up: workers, queue, pools
	assert.LessOrEqual(t, steady(), 2.02)
	// With an id of its own, the event needs no id text: 2 as well (the
	// result and the JSON).
	ev.ID = "order-1"
	assert.LessOrEqual(t, steady(), 2.02)
	assert.Equal(t, int64(7*n), handled.Load())
}
