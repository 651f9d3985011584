package eda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// busLedger records, per target and event, how the event ended, and fails
// the test on the first breach of the delivery contract: an attempt after
// the event was delivered or dead-lettered, or a second ending.
type busLedger struct {
	t          *testing.T
	mu         sync.Mutex
	ended      map[string]string // "rule/target/id" → "delivered" or "dead"
	delivered  map[string]int    // "rule/target" → count
	dead       map[string]int
	violations atomic.Int64
}

func (l *busLedger) key(d Delivery) string { return d.Rule + "/" + d.Destination + "/" + d.ID }

func (l *busLedger) violation(format string, args ...any) {
	if l.violations.Add(1) <= 5 {
		l.t.Errorf(format, args...)
	}
}

func (l *busLedger) attempt(d Delivery) {
	l.mu.Lock()
	how, done := l.ended[l.key(d)]
	l.mu.Unlock()
	if done {
		l.violation("%s attempted again (attempt %d) after it was %s", l.key(d), d.Attempt, how)
	}
}

func (l *busLedger) end(d Delivery, how string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.key(d)
	if prev, done := l.ended[k]; done {
		l.violation("%s %s after it was %s", k, how, prev)
		return
	}
	l.ended[k] = how
	if how == "delivered" {
		l.delivered[d.Rule+"/"+d.Destination]++
	} else {
		l.dead[d.Rule+"/"+d.Destination]++
	}
}

// HandleDeadLetter makes the ledger a DeadLetterHandler.
func (l *busLedger) HandleDeadLetter(_ context.Context, dl DeadLetter) {
	l.end(dl.Delivery, "dead")
}

// TestBusFaults is the delivery contract under faults, through the public
// API only: events put from several goroutines are routed by four rules to
// twenty targets whose handlers fail, fail permanently, panic, run past
// their Timeout middleware and stall at random. At the end every accepted
// event was delivered or dead-lettered exactly once at every target, no
// attempt followed its success, and the Bus's statistics agree.
func TestBusFaults(t *testing.T) {
	events := 100_000
	if raceEnabled || testing.Short() {
		events = 25_000
	}
	before := runtime.NumGoroutine()
	l := &busLedger{t: t, ended: map[string]string{}, delivered: map[string]int{}, dead: map[string]int{}}
	b, err := NewBus("faults", WithDeadLetter(l), WithQueueSize(256),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Microsecond, MaxBackoff: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	// Every pattern matches every event put below, each in its own way.
	patterns := []string{
		`{"source":["faults"]}`,
		`{"detail":{"n":[{"numeric":[">=",0]}]}}`,
		`{"detail-type":[{"prefix":"tick"}]}`,
		`{"source":[{"anything-but":"other"}],"detail":{"n":[{"exists":true}]}}`,
	}
	const targetsPerRule = 5
	// ending is outermost: it sees what the engine will see.
	ending := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			err := next.Handle(ctx, d)
			if err == nil {
				l.end(d, "delivered")
			}
			return err
		})
	}
	faulty := HandlerFunc(func(ctx context.Context, d Delivery) error {
		l.attempt(d)
		switch r := rand.IntN(1000); {
		case r < 100:
			return errors.New("transient failure")
		case r < 110:
			return Permanent(errors.New("bad event"))
		case r < 130:
			panic("handler panic")
		case r < 133: // runs past the Timeout middleware's limit
			<-ctx.Done()
			return ctx.Err()
		case r < 136: // a stall that ends by itself
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
		}
		return nil
	})
	for i, p := range patterns {
		var targets []Target
		for j := range targetsPerRule {
			targets = append(targets, HandlerTarget(fmt.Sprintf("t%d", j), faulty,
				WithMiddleware(ending, Timeout(2*time.Millisecond))))
		}
		mustPutRule(t, b, Rule{Name: fmt.Sprintf("r%d", i), EventPattern: p, Targets: targets})
	}

	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	const producers = 4
	for p := range producers {
		wg.Go(func() {
			for i := p; i < events; i += producers * 10 {
				var batch []Event
				for k := i; k < min(i+producers*10, events); k += producers {
					batch = append(batch, Event{Source: "faults", DetailType: "tick",
						Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, k))})
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				res, err := b.PutEvents(ctx, batch...)
				cancel()
				if err != nil {
					t.Errorf("PutEvents: %v", err)
					return
				}
				refused.Add(int64(res.FailedEntryCount))
				accepted.Add(int64(len(batch) - res.FailedEntryCount))
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if refused.Load() != 0 {
		t.Errorf("%d entries refused with a 5 s deadline", refused.Load())
	}
	acc := int(accepted.Load())
	if acc != events {
		t.Errorf("accepted %d of %d events", acc, events)
	}
	st := b.Stats()
	l.mu.Lock()
	defer l.mu.Unlock()
	var delivered, dead int
	for i := range patterns {
		rule := fmt.Sprintf("r%d", i)
		rs, ok := st.Rule(rule)
		if !ok {
			t.Fatalf("no stats for rule %s", rule)
		}
		for j := range targetsPerRule {
			id := fmt.Sprintf("t%d", j)
			k := rule + "/" + id
			del, dl := l.delivered[k], l.dead[k]
			delivered += del
			dead += dl
			if del+dl != acc {
				t.Errorf("%s: accepted %d, delivered %d + dead-lettered %d = %d", k, acc, del, dl, del+dl)
			}
			ts, ok := rs.Target(id)
			if !ok {
				t.Fatalf("no stats for target %s", k)
			}
			if ts.SuccessfulInvocationAttempts != uint64(del) || ts.DeadLetterInvocations != uint64(dl) || ts.InFlight != 0 {
				t.Errorf("%s: stats %+v; the ledger counted %d delivered, %d dead-lettered", k, ts, del, dl)
			}
		}
	}
	if dead == 0 || delivered == 0 {
		t.Errorf("delivered %d, dead-lettered %d: the faults did not bite", delivered, dead)
	}
	t.Logf("%d events × %d targets: %d delivered, %d dead-lettered", acc, len(patterns)*targetsPerRule, delivered, dead)
	checkGoroutines(t, before)
}
