package eda

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edakit/eda/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
//
// It puts 5,000 events by default, so that go test ./... stays fast, and
// 100,000 when asked: when -run names it (go test -run TestBusFaults .) or
// EDA_FAULT_EVENTS gives a count (EDA_FAULT_EVENTS=100000 go test ./...).
func TestBusFaults(t *testing.T) {
	events, err := faultEvents(flag.Lookup("test.run").Value.String(), os.Getenv("EDA_FAULT_EVENTS"))
	require.NoError(t, err)
	leaktest.Test(t)
	l := &busLedger{t: t, ended: map[string]string{}, delivered: map[string]int{}, dead: map[string]int{}}
	b, err := NewBus("faults", WithDeadLetter(l), WithQueueSize(256),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Microsecond, MaxBackoff: 2 * time.Millisecond}))
	require.NoError(t, err)
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
				if !assert.NoError(t, err, "PutEvents") {
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
	require.NoError(t, b.Close(ctx), "Close")
	assert.Zero(t, refused.Load(), "entries refused with a 5 s deadline")
	acc := int(accepted.Load())
	assert.Equal(t, events, acc, "accepted events")
	st := b.Stats()
	l.mu.Lock()
	defer l.mu.Unlock()
	var delivered, dead int
	for i := range patterns {
		rule := fmt.Sprintf("r%d", i)
		rs, ok := st.Rule(rule)
		require.True(t, ok, "stats for rule %s", rule)
		for j := range targetsPerRule {
			id := fmt.Sprintf("t%d", j)
			k := rule + "/" + id
			del, dl := l.delivered[k], l.dead[k]
			delivered += del
			dead += dl
			assert.Equal(t, acc, del+dl, "%s: accepted events = delivered %d + dead-lettered %d", k, del, dl)
			ts, ok := rs.Target(id)
			require.True(t, ok, "stats for target %s", k)
			assert.Equal(t, uint64(del), ts.SuccessfulInvocationAttempts, "%s: stats %+v; the ledger counted delivered", k, ts)
			assert.Equal(t, uint64(dl), ts.DeadLetterInvocations, "%s: stats %+v; the ledger counted dead-lettered", k, ts)
			assert.Zero(t, ts.InFlight, "%s: stats %+v", k, ts)
		}
	}
	assert.Positive(t, delivered, "delivered")
	assert.Positive(t, dead, "dead-lettered: the faults did not bite")
	t.Logf("%d events × %d targets: %d delivered, %d dead-lettered", acc, len(patterns)*targetsPerRule, delivered, dead)
}

// TestBusFaults's event counts: the default keeps go test ./... fast.
const (
	defaultFaultEvents = 5_000
	fullFaultEvents    = 100_000
)

// faultEvents returns how many events TestBusFaults puts, given the -run
// pattern and EDA_FAULT_EVENTS: the variable's count if it is set, the
// full count if the pattern names the test, the default otherwise.
func faultEvents(run, env string) (int, error) {
	if env != "" {
		n, err := strconv.Atoi(env)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("EDA_FAULT_EVENTS=%q: want a positive number of events", env)
		}
		return n, nil
	}
	if strings.Contains(run, "BusFaults") {
		return fullFaultEvents, nil
	}
	return defaultFaultEvents, nil
}

func TestFaultEvents(t *testing.T) {
	for _, c := range []struct {
		run, env string
		want     int
	}{
		{"", "", defaultFaultEvents},
		{"TestBus", "", defaultFaultEvents},
		{"TestBusFaults", "", fullFaultEvents},
		{"^TestBusFaults$", "", fullFaultEvents},
		{"Test.*|BusFaults", "", fullFaultEvents},
		{"", "100000", 100_000},
		{"TestBusFaults", "1234", 1234},
	} {
		got, err := faultEvents(c.run, c.env)
		require.NoError(t, err, "run %q, env %q", c.run, c.env)
		assert.Equal(t, c.want, got, "run %q, env %q", c.run, c.env)
	}
	for _, env := range []string{"0", "-5", "many", "1e5"} {
		_, err := faultEvents("", env)
		assert.ErrorContains(t, err, "EDA_FAULT_EVENTS", env)
	}
}
