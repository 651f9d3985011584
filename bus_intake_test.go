package eda

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file tests PutEvents's intake: the checks EventBridge makes on a
// request and its entries, and intake while the bus closes.
//
// References (EventBridge API reference):
//   - [PutEvents]: 1 to 10 entries; integers from -9,223,372,036,854,775,808
//     to 9,223,372,036,854,775,807; "PutEvents will only process nested
//     JSON up to 1100 levels deep".
//   - [PutEventsRequestEntry]: Source 1 to 256 characters, DetailType 1 to
//     128, each Resources member at most 2048; "If you submit a request in
//     which none of the entries have each of these properties [Detail,
//     DetailType, Source], EventBridge fails the entire request"; "The aws.
//     value prefix is service-reserved" (EventBridge answers
//     NotAuthorizedForSourceException, "Not authorized for the source.").
//
// [PutEvents]: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
// [PutEventsRequestEntry]: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html

// recordingBus returns a test bus with a rule that sends every event to
// the returned recorder.
func recordingBus(t *testing.T, name string, opts ...Option) (*Bus, *recorder) {
	t.Helper()
	b := newTestBus(t, name, opts...)
	rec := &recorder{}
	mustPutRule(t, b, Rule{Name: "all", EventPattern: `{"source":[{"prefix":""}]}`,
		Targets: []Target{HandlerTarget("rec", rec)}})
	return b, rec
}

// nested returns a detail whose innermost value is levels objects deep.
func nested(levels int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"a":`, levels) + "1" + strings.Repeat("}", levels))
}

func TestPutEventsEntryChecks(t *testing.T) {
	withDetail := func(d string) Event {
		return Event{Source: "com.example", DetailType: "T", Detail: json.RawMessage(d)}
	}
	cases := []struct {
		name string
		e    Event
		opts []Option
		code ErrorCode // "" when accepted
	}{
		{"detail-type of 128 characters", Event{Source: "s", DetailType: strings.Repeat("é", 128), Detail: json.RawMessage(`{}`)}, nil, ""},
		{"detail-type of 129 characters", Event{Source: "s", DetailType: strings.Repeat("x", 129), Detail: json.RawMessage(`{}`)}, nil, ErrorCodeInvalidArgument},
		{"source of 256 characters", Event{Source: strings.Repeat("é", 256), DetailType: "T", Detail: json.RawMessage(`{}`)}, nil, ""},
		{"source of 257 characters", Event{Source: strings.Repeat("x", 257), DetailType: "T", Detail: json.RawMessage(`{}`)}, nil, ErrorCodeInvalidArgument},
		{"resource of 2048 characters", Event{Source: "s", DetailType: "T", Detail: json.RawMessage(`{}`), Resources: []string{strings.Repeat("é", 2048)}}, nil, ""},
		{"resource of 2049 characters", Event{Source: "s", DetailType: "T", Detail: json.RawMessage(`{}`), Resources: []string{"arn:a", strings.Repeat("x", 2049)}}, nil, ErrorCodeInvalidArgument},
		{"largest integer", withDetail(`{"n":9223372036854775807}`), nil, ""},
		{"smallest integer", withDetail(`{"n":[-9223372036854775808]}`), nil, ""},
		{"integer over the range", withDetail(`{"n":9223372036854775808}`), nil, ErrorCodeMalformedDetail},
		{"integer under the range", withDetail(`{"a":{"n":-9223372036854775809}}`), nil, ErrorCodeMalformedDetail},
		{"integer of 25 digits", withDetail(`{"n":1234567890123456789012345}`), nil, ErrorCodeMalformedDetail},
		{"big numbers that are not integers", withDetail(`{"f":12345678901234567890.5,"e":1e30,"g":-98765432109876543210E-3}`), nil, ""},
		{"digits in strings", withDetail(`{"s":"12345678901234567890123","k\"99999999999999999999":1}`), nil, ""},
		{"nested 1100 levels", withDetail(string(nested(1100))), nil, ""},
		{"nested 1101 levels", withDetail(string(nested(1101))), nil, ErrorCodeMalformedDetail},
		{"nested arrays 1101 levels", withDetail(`{"a":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}`), nil, ErrorCodeMalformedDetail},
		{"UTF-8", withDetail(`{"name":"Zoë 🚀","ключ":"значение"}`), nil, ""},
		{"invalid UTF-8 in a value", withDetail("{\"name\":\"Zo\xeb\"}"), nil, ErrorCodeMalformedDetail},
		{"invalid UTF-8 in a key", withDetail("{\"\xff\xfe\":1}"), nil, ErrorCodeMalformedDetail},
		{"aws. source refused", Event{Source: "aws.s3", DetailType: "Object Created", Detail: json.RawMessage(`{}`)}, nil, ErrorCodeNotAuthorizedForSource},
		{"aws. source with WithAWSSources", Event{Source: "aws.s3", DetailType: "Object Created", Detail: json.RawMessage(`{}`)}, []Option{WithAWSSources()}, ""},
		{"awsome source", Event{Source: "awsome.app", DetailType: "T", Detail: json.RawMessage(`{}`)}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, rec := recordingBus(t, "intake", tc.opts...)
			// With a good entry: a mixed request answers per entry.
			res, err := b.PutEvents(context.Background(), orderEvent(1, 1), tc.e)
			require.NoError(t, err)
			require.Len(t, res.Entries, 2)
			assert.Empty(t, res.Entries[0].ErrorCode)
			got := res.Entries[1]
			assert.Equal(t, tc.code, got.ErrorCode, got.ErrorMessage)
			if tc.code == "" {
				assert.Equal(t, 0, res.FailedEntryCount)
				assert.NotEmpty(t, got.EventID)
			} else {
				assert.Equal(t, 1, res.FailedEntryCount)
				assert.Empty(t, got.EventID)
				assert.NotEmpty(t, got.ErrorMessage)
			}
			drain(t, b)
			want := 2
			if tc.code != "" {
				want = 1
			}
			assert.Equal(t, want, rec.count())
		})
	}
}

func TestPutEventsRequestChecks(t *testing.T) {
	ev := orderEvent(1, 1)
	noSource := Event{DetailType: "T", Detail: json.RawMessage(`{}`)}
	noDetail := Event{Source: "s", DetailType: "T"}
	many := func(n int) []Event {
		out := make([]Event, n)
		for i := range out {
			out[i] = orderEvent(i, 1)
		}
		return out
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name    string
		opts    []Option
		ctx     context.Context
		entries []Event
		wantErr error     // nil: per-entry answers
		code    ErrorCode // every entry's code when the call fails
	}{
		{"no entries", nil, context.Background(), nil, ErrInvalidRequest, ""},
		{"10 entries", nil, context.Background(), many(10), nil, ""},
		{"11 entries", nil, context.Background(), many(11), ErrInvalidRequest, ErrorCodeInvalidArgument},
		{"11 entries, limit 11", []Option{WithMaxEntriesPerCall(11)}, context.Background(), many(11), nil, ""},
		{"12 entries, limit 11", []Option{WithMaxEntriesPerCall(11)}, context.Background(), many(12), ErrInvalidRequest, ErrorCodeInvalidArgument},
		{"100 entries, no limit", []Option{WithMaxEntriesPerCall(math.MaxInt)}, context.Background(), many(100), nil, ""},
		{"no complete entry", nil, context.Background(), []Event{noSource, noDetail}, ErrInvalidRequest, ErrorCodeInvalidArgument},
		{"one complete entry", nil, context.Background(), []Event{noSource, ev, noDetail}, nil, ""},
		{"cancelled context", nil, cancelled, []Event{ev, ev}, context.Canceled, ErrorCodeInternalFailure},
		{"nil context", nil, nil, []Event{ev}, ErrInvalidRequest, ErrorCodeInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, rec := recordingBus(t, "request", tc.opts...)
			res, err := b.PutEvents(tc.ctx, tc.entries...)
			require.Len(t, res.Entries, len(tc.entries))
			drain(t, b)
			if tc.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, len(tc.entries)-res.FailedEntryCount, rec.count())
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			assert.Equal(t, len(tc.entries), res.FailedEntryCount, "every entry fails with the call")
			for _, e := range res.Entries {
				assert.Equal(t, tc.code, e.ErrorCode)
				assert.NotEmpty(t, e.ErrorMessage)
				assert.Empty(t, e.EventID)
			}
			assert.Zero(t, rec.count(), "nothing of a refused call is delivered")
			st := b.Stats()
			assert.Equal(t, uint64(1), st.PutEventsRequests)
			assert.Equal(t, uint64(len(tc.entries)), st.PutEventsFailedEntries)
		})
	}
}

// TestPutEventsNoCompleteEntrySaysWhatEachLacks: a request refused because
// no entry is complete still answers, entry by entry, what each lacks.
func TestPutEventsNoCompleteEntrySaysWhatEachLacks(t *testing.T) {
	b := newTestBus(t, "lacks")
	res, err := b.PutEvents(context.Background(),
		Event{DetailType: "T", Detail: json.RawMessage(`{}`)},
		Event{Source: "s", Detail: json.RawMessage(`{}`)},
		Event{Source: "s", DetailType: "T"})
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.Len(t, res.Entries, 3)
	for i, field := range []string{"Source", "DetailType", "Detail"} {
		assert.Contains(t, res.Entries[i].ErrorMessage, "Parameter "+field+" is not valid")
	}
}

func TestWithMaxEntriesPerCallRefusesNonPositive(t *testing.T) {
	for _, n := range []int{0, -1} {
		_, err := NewBus("b", WithMaxEntriesPerCall(n))
		assert.Error(t, err, "WithMaxEntriesPerCall(%d)", n)
	}
}

// TestPutEventsAfterCloseFailsEveryEntry: after Close, a caller that looks
// only at FailedEntryCount sees that nothing was accepted.
func TestPutEventsAfterCloseFailsEveryEntry(t *testing.T) {
	b, err := NewBus("closed")
	require.NoError(t, err)
	require.NoError(t, b.Close(context.Background()))
	res, err := b.PutEvents(context.Background(), orderEvent(1, 1), orderEvent(2, 2))
	require.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, 2, res.FailedEntryCount)
	require.Len(t, res.Entries, 2)
	for _, e := range res.Entries {
		assert.Equal(t, ErrorCodeInternalFailure, e.ErrorCode)
		assert.Contains(t, e.ErrorMessage, "closed")
	}
	var ee *EntryError
	require.ErrorAs(t, res.Err(), &ee)
	assert.True(t, ee.Retryable())
}

// TestCloseAcceptsCascadesOfRunningHandlers: a handler that is still
// running when Close begins may put a follow-up event with its context; it
// is accepted and delivered before Close returns. Outside puts fail with
// ErrClosed from the moment Close begins.
func TestCloseAcceptsCascadesOfRunningHandlers(t *testing.T) {
	leaktest.Test(t)
	b, err := NewBus("closing", WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	rec := &recorder{}
	type answer struct {
		res PutEventsResult
		err error
	}
	followUp := make(chan answer, 1)
	closing := make(chan struct{})
	first := HandlerFunc(func(ctx context.Context, d Delivery) error {
		<-closing
		res, err := b.PutEvents(ctx, Event{Source: "com.example", DetailType: "FollowUp", Detail: json.RawMessage(`{}`)})
		followUp <- answer{res, err}
		return nil
	})
	mustPutRule(t, b, Rule{Name: "first", EventPattern: `{"detail-type":["OrderPlaced"]}`, Targets: []Target{HandlerTarget("h", first)}})
	mustPutRule(t, b, Rule{Name: "second", EventPattern: `{"detail-type":["FollowUp"]}`, Targets: []Target{HandlerTarget("rec", rec)}})
	res, err := b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	require.Zero(t, res.FailedEntryCount)

	closed := make(chan error, 1)
	go func() { closed <- b.Close(context.Background()) }()
	// Close has begun once an outside put fails with ErrClosed.
	require.Eventually(t, func() bool {
		_, err := b.PutEvents(context.Background(), Event{Source: "outside", DetailType: "Probe", Detail: json.RawMessage(`{}`)})
		return errors.Is(err, ErrClosed)
	}, 5*time.Second, time.Millisecond)
	close(closing)

	a := <-followUp
	require.NoError(t, a.err, "a running handler's follow-up during Close")
	assert.Zero(t, a.res.FailedEntryCount, "%+v", a.res)
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		require.Fail(t, "Close did not return")
	}
	require.Len(t, rec.deliveries(), 1, "the follow-up is delivered before Close returns")
	assert.Equal(t, a.res.Entries[0].EventID, rec.deliveries()[0].ID)
}

// TestBusTargetToClosedBusIsRetried: a bus target whose receiving bus is
// closed gets a retryable error, so the event is retried (and at last
// dead-lettered for max attempts), not dead-lettered at once as permanent.
// Another bus's handler is an outside producer for the closed bus.
func TestBusTargetToClosedBusIsRetried(t *testing.T) {
	leaktest.Test(t)
	dl := &dlRecorder{}
	src := newTestBus(t, "upstream", WithDeadLetter(dl))
	dst, err := NewBus("downstream")
	require.NoError(t, err)
	require.NoError(t, dst.Close(context.Background()))
	mustPutRule(t, src, Rule{Name: "forward", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{BusTarget("dst", dst)}})
	res, err := src.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	require.Zero(t, res.FailedEntryCount)
	drain(t, src)
	letters := dl.letters()
	require.Len(t, letters, 1)
	assert.Equal(t, ReasonMaxAttempts, letters[0].Reason)
	assert.Equal(t, fastRetry.MaxAttempts, letters[0].Attempts)
	assert.ErrorIs(t, letters[0].Err, ErrClosed)
	assert.False(t, IsPermanent(letters[0].Err))
}

// TestFailedEntryMayHaveReachedSomeTargets shows what PutEvents documents:
// an entry that fails as throttled may have been queued for its other
// targets, which deliver it; an entry put with an ID keeps it, so a retry
// is recognisable by Delivery.ID.
func TestFailedEntryMayHaveReachedSomeTargets(t *testing.T) {
	leaktest.Test(t)
	b := newTestBus(t, "partial", WithQueueSize(1), WithMaxConcurrency(1))
	fast := &recorder{}
	started := make(chan struct{}, 8)
	release := make(chan struct{})
	var slowCount atomic.Int64
	slow := HandlerFunc(func(ctx context.Context, d Delivery) error {
		slowCount.Add(1)
		started <- struct{}{}
		<-release
		return nil
	})
	mustPutRule(t, b, Rule{Name: "r", EventPattern: `{"source":["com.example.orders"]}`,
		Targets: []Target{HandlerTarget("a-fast", fast), HandlerTarget("b-slow", slow)}})

	put := func(ctx context.Context, id string) PutEventsResultEntry {
		e := orderEvent(1, 1)
		e.ID = id
		res, err := b.PutEvents(ctx, e)
		require.NoError(t, err)
		return res.Entries[0]
	}
	require.Empty(t, put(context.Background(), "e1").ErrorCode)
	<-started // the slow target's worker holds e1
	require.Empty(t, put(context.Background(), "e2").ErrorCode)
	// The slow target's queue (1) holds e2: e3 waits for room until ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	r3 := put(ctx, "e3")
	cancel()
	assert.Equal(t, ErrorCodeThrottling, r3.ErrorCode)
	assert.Contains(t, r3.ErrorMessage, "b-slow")
	close(release)
	drain(t, b)

	var fastIDs []string
	for _, d := range fast.deliveries() {
		fastIDs = append(fastIDs, d.ID)
	}
	assert.ElementsMatch(t, []string{"e1", "e2", "e3"}, fastIDs, "the failed entry reached the other target")
	assert.Equal(t, int64(2), slowCount.Load())

	// Every trigger is accounted for at every target: invoked or refused.
	rs, ok := b.Stats().Rule("r")
	require.True(t, ok)
	assert.Equal(t, uint64(3), rs.TriggeredRules)
	for _, ts := range rs.Targets {
		assert.Equal(t, rs.TriggeredRules, ts.Invocations+ts.Delivery.Refused, "target %s: %+v", ts.Target, ts)
	}
	slowStats, _ := rs.Target("b-slow")
	assert.Equal(t, uint64(1), slowStats.Delivery.Refused, "the refused copy")
	assert.Equal(t, uint64(1), slowStats.Delivery.Throttled, "refused on a full queue")

	// Putting it again delivers it to the fast target a second time, with
	// the same ID.
	require.Empty(t, put(context.Background(), "e3").ErrorCode)
	drain(t, b)
	fastIDs = fastIDs[:0]
	for _, d := range fast.deliveries() {
		fastIDs = append(fastIDs, d.ID)
	}
	assert.ElementsMatch(t, []string{"e1", "e2", "e3", "e3"}, fastIDs)
}

// TestMarkCostsNoAllocation: the context a bus hands to its handlers is
// marked once per engine context, then served from the cache.
func TestMarkCostsNoAllocation(t *testing.T) {
	b := newTestBus(t, "mark")
	engineCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dlCtx := context.Background()
	m1, m2 := b.mark(engineCtx), b.mark(dlCtx)
	assert.True(t, b.ownsContext(m1))
	assert.True(t, b.ownsContext(m2))
	assert.False(t, b.ownsContext(engineCtx))
	assert.False(t, newTestBus(t, "other").ownsContext(m1))
	allocs := testing.AllocsPerRun(100, func() {
		if b.mark(engineCtx) != m1 || b.mark(dlCtx) != m2 {
			require.Fail(t, "mark did not return the cached context")
		}
	})
	assert.Zero(t, allocs)
}

// TestCloseAcceptsCascadesOfRunningDeadLetterHandlers: like a handler, a
// dead-letter handler still running when Close begins may put an event
// with its context.
func TestCloseAcceptsCascadesOfRunningDeadLetterHandlers(t *testing.T) {
	leaktest.Test(t)
	closing := make(chan struct{})
	followUp := make(chan error, 1)
	var b *Bus
	dl := DeadLetterFunc(func(ctx context.Context, _ DeadLetter) {
		<-closing
		res, err := b.PutEvents(ctx, Event{Source: "com.example", DetailType: "Lost", Detail: json.RawMessage(`{}`)})
		if err == nil {
			err = res.Err()
		}
		followUp <- err
	})
	b, err := NewBus("closing-dl", WithDeadLetter(dl))
	require.NoError(t, err)
	rec := &recorder{}
	failing := HandlerFunc(func(context.Context, Delivery) error { return Permanent(errors.New("no")) })
	mustPutRule(t, b, Rule{Name: "first", EventPattern: `{"detail-type":["OrderPlaced"]}`, Targets: []Target{HandlerTarget("h", failing)}})
	mustPutRule(t, b, Rule{Name: "lost", EventPattern: `{"detail-type":["Lost"]}`, Targets: []Target{HandlerTarget("rec", rec)}})
	_, err = b.PutEvents(context.Background(), orderEvent(1, 1))
	require.NoError(t, err)
	closed := make(chan error, 1)
	go func() { closed <- b.Close(context.Background()) }()
	require.Eventually(t, func() bool { return b.closed.Load() }, 5*time.Second, time.Millisecond)
	close(closing)
	require.NoError(t, <-followUp)
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		require.Fail(t, "Close did not return")
	}
	assert.Equal(t, 1, rec.count())
}
