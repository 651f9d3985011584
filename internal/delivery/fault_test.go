package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/clocktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Outcomes of one item at one destination, in a ledger.
const (
	outcomeNone uint32 = iota
	outcomeDelivered
	outcomeDeadLettered
)

// ledger tracks what happened to every (destination, item) pair and fails
// the test on the first violation of the delivery contract.
type ledger struct {
	t          *testing.T
	items      int
	state      []atomic.Uint32 // per destination×item
	delivered  []atomic.Int64  // per destination
	dead       []atomic.Int64
	accepted   []atomic.Int64
	violations atomic.Int64
	reasons    sync.Map // Reason -> *atomic.Int64
}

func newLedger(t *testing.T, dests, items int) *ledger {
	return &ledger{
		t: t, items: items,
		state:     make([]atomic.Uint32, dests*items),
		delivered: make([]atomic.Int64, dests),
		dead:      make([]atomic.Int64, dests),
		accepted:  make([]atomic.Int64, dests),
	}
}

func (l *ledger) violation(format string, args ...any) {
	if l.violations.Add(1) <= 5 {
		l.t.Errorf(format, args...)
	}
}

// attempt is called when an attempt starts: the item must not be done.
func (l *ledger) attempt(dest, item int) {
	if s := l.state[dest*l.items+item].Load(); s != outcomeNone {
		l.violation("destination %d item %d attempted again after outcome %d", dest, item, s)
	}
}

func (l *ledger) settle(dest, item int, outcome uint32) {
	if !l.state[dest*l.items+item].CompareAndSwap(outcomeNone, outcome) {
		l.violation("destination %d item %d settled twice (now %d)", dest, item, outcome)
	}
	if outcome == outcomeDelivered {
		l.delivered[dest].Add(1)
	} else {
		l.dead[dest].Add(1)
	}
}

func (l *ledger) reason(r Reason) {
	v, _ := l.reasons.LoadOrStore(r, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (l *ledger) reasonCount(r Reason) int64 {
	v, ok := l.reasons.Load(r)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

// balance checks delivered + dead-lettered == accepted for every
// destination, in the ledger and in the destination's Stats.
func (l *ledger) balance(dests []*Destination[int]) {
	for i, d := range dests {
		acc, del, dl := l.accepted[i].Load(), l.delivered[i].Load(), l.dead[i].Load()
		assert.Equal(l.t, acc, del+dl, "destination %d: accepted %d, delivered %d, dead-lettered %d", i, acc, del, dl)
		s := d.Stats()
		assert.EqualValues(l.t, acc, s.Enqueued, "destination %d Stats.Enqueued", i)
		assert.EqualValues(l.t, del, s.Delivered, "destination %d Stats.Delivered", i)
		assert.EqualValues(l.t, dl, s.DeadLettered, "destination %d Stats.DeadLettered", i)
		assert.Zero(l.t, s.InFlight, "destination %d Stats.InFlight", i)
	}
}

// faultyHandler fails, panics, times out and stalls at random.
func faultyHandler(l *ledger, dest int) func(ctx context.Context, item, attempt int) error {
	return func(ctx context.Context, item, attempt int) error {
		l.attempt(dest, item)
		switch r := rand.IntN(1000); {
		case r < 100:
			return errors.New("transient failure")
		case r < 110:
			return Permanent(errors.New("bad item"))
		case r < 130:
			panic(fmt.Sprintf("handler panic on %d", item))
		case r < 132:
			tctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
			<-tctx.Done() // the handler's own deadline passes
			return tctx.Err()
		case r < 134:
			select { // a stall that ends by itself
			case <-time.After(time.Duration(rand.IntN(2000)) * time.Microsecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		l.settle(dest, item, outcomeDelivered)
		return nil
	}
}

func TestFaultsEveryItemAccountedFor(t *testing.T) {
	const dests = 20
	items := 100_000
	if testing.Short() {
		items = 10_000
	}
	clock := clocktest.NewInstant(epoch)
	e := New(Config{Clock: clock})
	l := newLedger(t, dests, items)
	ds := make([]*Destination[int], dests)
	for i := range ds {
		ds[i] = NewDestination(e, Options[int]{
			Name:           fmt.Sprint("dest-", i),
			QueueSize:      256,
			MaxConcurrency: 1 + i%8, // 1 for some: in-order destinations too
			Retry:          Policy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
			Deliver:        faultyHandler(l, i),
			DeadLetter: func(ctx context.Context, item int, f Failure) {
				if ctx.Err() != nil {
					l.violation("dead letter with a cancelled context")
				}
				l.reason(f.Reason)
				l.settle(i, item, outcomeDeadLettered)
			},
		})
	}
	// Each event goes to every destination: items × dests deliveries.
	const producers = 4
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for item := p; item < items; item += producers {
				for i, d := range ds {
					if err := d.Enqueue(context.Background(), item); err != nil {
						l.violation("Enqueue: %v", err)
						continue
					}
					l.accepted[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, e.Drain(ctx))
	l.balance(ds)
	closeNow(t, e)
	clock.Wait()
	var total int64
	for i := range ds {
		total += l.accepted[i].Load()
	}
	assert.EqualValues(t, items*dests, total)
	assert.Positive(t, l.reasonCount(ReasonPermanent))
	assert.Positive(t, l.reasonCount(ReasonMaxAttempts))
	assert.Zero(t, l.violations.Load())
	t.Logf("%d deliveries; dead letters: permanent %d, max-attempts %d", total,
		l.reasonCount(ReasonPermanent), l.reasonCount(ReasonMaxAttempts))
}

func TestCloseMidStreamAccountsForEverything(t *testing.T) {
	const dests = 8
	const items = 1 << 20 // more than can be published before Close
	clock := clocktest.NewInstant(epoch)
	e := New(Config{Clock: clock})
	l := newLedger(t, dests, items)
	ds := make([]*Destination[int], dests)
	for i := range ds {
		faulty := faultyHandler(l, i)
		ds[i] = NewDestination(e, Options[int]{
			QueueSize:      1024,
			MaxConcurrency: 4,
			Retry:          Policy{MaxAttempts: 1000, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
			Deliver: func(ctx context.Context, item, attempt int) error {
				select { // slow enough that the queues cannot drain in time
				case <-time.After(200 * time.Microsecond):
				case <-ctx.Done():
					return ctx.Err()
				}
				return faulty(ctx, item, attempt)
			},
			DeadLetter: func(ctx context.Context, item int, f Failure) {
				if ctx.Err() != nil {
					l.violation("dead letter with a cancelled context")
				}
				l.reason(f.Reason)
				l.settle(i, item, outcomeDeadLettered)
			},
		})
	}
	var wg sync.WaitGroup
	var refused atomic.Int64
	for p := range 4 {
		wg.Go(func() {
			for item := p; item < items; item += 4 {
				for i, d := range ds {
					err := d.Enqueue(context.Background(), item)
					if errors.Is(err, ErrClosed) {
						refused.Add(1)
						return
					}
					if err != nil {
						l.violation("Enqueue: %v", err)
						return
					}
					l.accepted[i].Add(1)
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	err := e.Close(ctx) // the queues and retries cannot drain in 5 ms
	wg.Wait()
	clock.Wait()
	var se *ShutdownError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, l.reasonCount(ReasonShutdown), se.DeadLettered)
	assert.Positive(t, se.DeadLettered)
	assert.EqualValues(t, 4, refused.Load(), "every producer was refused with ErrClosed")
	l.balance(ds)
	assert.Zero(t, e.Pending())
	assert.Zero(t, l.violations.Load())
}
