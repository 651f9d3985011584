package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenEvent is what a validator saw of one entry.
type seenEvent struct {
	ctx      context.Context
	event    Event
	envelope []byte
}

// observingValidator records what it is given and rejects the events for
// which reject returns an error.
type observingValidator struct {
	mu     sync.Mutex
	seen   []seenEvent
	reject func(e *Event) error
}

func (v *observingValidator) ValidateEvent(ctx context.Context, e *Event, envelope []byte) error {
	v.mu.Lock()
	v.seen = append(v.seen, seenEvent{ctx: ctx, event: *e, envelope: append([]byte(nil), envelope...)})
	v.mu.Unlock()
	if v.reject != nil {
		return v.reject(e)
	}
	return nil
}

func TestEventValidatorRejectsEntriesBeforeRouting(t *testing.T) {
	v := &observingValidator{reject: func(e *Event) error {
		if string(e.Detail) == `{"total":-1}` {
			return errors.New("detail.total: must be >= 0 (minimum)")
		}
		return nil
	}}
	b, rec := recordingBus(t, "validated", WithEventValidator(v))
	ctx := context.Background()
	res, err := b.PutEvents(ctx,
		Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"total":-1}`)},
		Event{Source: "com.example.orders", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"total":5}`)},
		Event{Source: "com.example.orders", DetailType: "OrderPlaced"}, // no detail: refused before the validator
	)
	require.NoError(t, err)
	require.NoError(t, b.Drain(ctx))

	assert.Equal(t, 2, res.FailedEntryCount)
	assert.Equal(t, ErrorCodeValidationFailed, res.Entries[0].ErrorCode)
	assert.Equal(t, "detail.total: must be >= 0 (minimum)", res.Entries[0].ErrorMessage)
	assert.Empty(t, res.Entries[0].EventID)
	assert.NotEmpty(t, res.Entries[1].EventID)
	assert.Equal(t, ErrorCodeInvalidArgument, res.Entries[2].ErrorCode)

	// Only the valid entry was routed.
	got := rec.deliveries()
	require.Len(t, got, 1)
	assert.Equal(t, res.Entries[1].EventID, got[0].ID)
	assert.Equal(t, uint64(2), b.Stats().PutEventsFailedEntries)

	var entryErr *EntryError
	require.ErrorAs(t, res.Err(), &entryErr)
	assert.Equal(t, ErrorCodeValidationFailed, entryErr.Code)
	assert.False(t, entryErr.Retryable())

	// The validator saw the two entries that passed intake, stamped, with
	// their envelopes as the targets receive them, and the call's context.
	v.mu.Lock()
	defer v.mu.Unlock()
	require.Len(t, v.seen, 2)
	for _, s := range v.seen {
		assert.Equal(t, ctx, s.ctx)
		assert.NotEmpty(t, s.event.ID)
		assert.Equal(t, "0", s.event.Version)
		assert.Equal(t, DefaultAccount, s.event.Account)
		assert.JSONEq(t, string(s.event.AppendJSON(nil)), string(s.envelope))
	}
	assert.JSONEq(t, string(got[0].Payload), string(v.seen[1].envelope))
}

func TestEventValidatorThatObservesDeliversEverything(t *testing.T) {
	var n int
	var mu sync.Mutex
	v := EventValidatorFunc(func(ctx context.Context, e *Event, envelope []byte) error {
		mu.Lock()
		n++
		mu.Unlock()
		return nil
	})
	b, rec := recordingBus(t, "observed", WithEventValidator(v))
	ctx := context.Background()
	res, err := b.PutEvents(ctx,
		Event{Source: "a", DetailType: "T", Detail: json.RawMessage(`{}`)},
		Event{Source: "b", DetailType: "T", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.NoError(t, b.Drain(ctx))
	assert.Equal(t, 2, rec.count())
	mu.Lock()
	assert.Equal(t, 2, n)
	mu.Unlock()
}

// A validator may keep the envelope (EventValidator's doc): it is what the
// targets receive, and the bus never changes it, before or after routing.
func TestEventValidatorMayKeepTheEnvelope(t *testing.T) {
	var kept [][]byte
	var mu sync.Mutex
	v := EventValidatorFunc(func(_ context.Context, _ *Event, envelope []byte) error {
		mu.Lock()
		kept = append(kept, envelope) // no copy
		mu.Unlock()
		return nil
	})
	b, rec := recordingBus(t, "keeps", WithEventValidator(v))
	ctx := context.Background()
	for i := range 3 {
		res, err := b.PutEvents(ctx, Event{Source: "a", DetailType: "T", Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		require.NoError(t, err)
		require.NoError(t, res.Err())
	}
	require.NoError(t, b.Drain(ctx))
	ds := rec.deliveries()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, kept, 3)
	require.Len(t, ds, 3)
	byID := map[string][]byte{}
	for _, d := range ds {
		byID[d.ID] = d.Payload
	}
	for _, env := range kept {
		var e struct{ ID string }
		require.NoError(t, json.Unmarshal(env, &e))
		assert.Equal(t, string(byID[e.ID]), string(env), "the kept envelope is what the target received")
	}
}

func TestWithEventValidatorIsValidated(t *testing.T) {
	_, err := NewBus("b", WithEventValidator(nil))
	require.ErrorIs(t, err, ErrInvalidOption)
	assert.Contains(t, err.Error(), "WithEventValidator")

	_, err = NewTopic("t", WithEventValidator(EventValidatorFunc(func(context.Context, *Event, []byte) error { return nil })))
	require.ErrorIs(t, err, ErrInvalidOption)
}

func TestWithEventValidatorLastOneCounts(t *testing.T) {
	first := &observingValidator{reject: func(*Event) error { return errors.New("first") }}
	second := &observingValidator{}
	b, rec := recordingBus(t, "last", WithEventValidator(first), WithEventValidator(second))
	ctx := context.Background()
	res, err := b.PutEvents(ctx, Event{Source: "a", DetailType: "T", Detail: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.NoError(t, b.Drain(ctx))
	assert.Equal(t, 1, rec.count())
	assert.Empty(t, first.seen)
}

func TestEventValidatorGetsACopyOfTheEntry(t *testing.T) {
	v := EventValidatorFunc(func(ctx context.Context, e *Event, envelope []byte) error {
		e.Source, e.Detail = "changed", json.RawMessage(`{"changed":true}`)
		return nil
	})
	b, rec := recordingBus(t, "copied", WithEventValidator(v))
	ctx := context.Background()
	res, err := b.PutEvents(ctx, Event{Source: "a", DetailType: "T", Detail: json.RawMessage(`{"n":1}`)})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.NoError(t, b.Drain(ctx))
	got := rec.deliveries()
	require.Len(t, got, 1)
	var e Event
	require.NoError(t, json.Unmarshal(got[0].Payload, &e))
	assert.Equal(t, "a", e.Source)
	assert.JSONEq(t, `{"n":1}`, string(e.Detail))
}
