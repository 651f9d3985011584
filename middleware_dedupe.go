package eda

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// WithDedupKey sets the function [Deduplicate] uses to identify a
// delivery. The default key is the delivery's ID together with its Router,
// Rule and Destination, because one event reaches every matching target
// with the same ID; a key of the ID alone makes a handler shared by several
// destinations handle each event once in all. Deliveries whose key is empty
// are not deduplicated.
func WithDedupKey(key func(Delivery) string) MiddlewareOption {
	return newMiddlewareOption("WithDedupKey", []string{"Deduplicate"}, func(c *middlewareConfig) error {
		if key == nil {
			return errors.New("nil key function")
		}
		c.dedupKey = key
		return nil
	})
}

// WithDedupCapacity bounds how many handled keys [Deduplicate] remembers
// for each wrapped handler. The bound is split evenly among 16 shards
// (rounded up); when a shard is full, its oldest keys are forgotten before
// their time, so a duplicate arriving later may run again. The default is
// [DefaultDedupCapacity].
func WithDedupCapacity(n int) MiddlewareOption {
	return newMiddlewareOption("WithDedupCapacity", []string{"Deduplicate"}, func(c *middlewareConfig) error {
		c.dedupCapacity = n
		return atLeastOne(n)
	})
}

// Deduplicate returns middleware that makes at-least-once delivery
// idempotent: a delivery whose key (see [WithDedupKey]; by default its ID,
// Router, Rule and Destination) was handled successfully within the last
// ttl is skipped, and returns nil without calling the handler.
//
// Only successes are remembered: after a failure (an error or a panic) the
// key is forgotten, so the engine's retry runs the handler again. A
// duplicate that arrives while the same key is in progress waits for that
// call (holding its worker): if it succeeds, the duplicate is skipped; if it
// fails, the duplicate runs the handler itself. If ctx ends while it waits,
// the duplicate returns an error wrapping ctx's error, to be retried later.
//
// Memory is bounded: a key is forgotten ttl after its success, and about
// [WithDedupCapacity] keys are kept at most. Forgotten keys are swept lazily by
// later calls; there is no background goroutine. A ttl of zero or less
// remembers nothing, but concurrent duplicates are still coalesced as
// above. Every wrapped handler has its own memory; it is safe for
// concurrent use. Options: [WithDedupKey], [WithDedupCapacity],
// [WithMiddlewareClock].
func Deduplicate(ttl time.Duration, opts ...MiddlewareOption) Middleware {
	cfg, err := configure("Deduplicate", opts)
	if err != nil {
		return invalid(err)
	}
	return func(next Handler) Handler {
		s := newDedupMemory(ttl, &cfg)
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			return s.handle(ctx, d, next)
		})
	}
}

// newDedupMemory returns the empty memory of one handler wrapped by
// Deduplicate.
func newDedupMemory(ttl time.Duration, cfg *middlewareConfig) *dedupMemory {
	s := &dedupMemory{
		ttl:      ttl,
		clock:    cfg.clock,
		key:      cfg.dedupKey,
		seed:     maphash.MakeSeed(),
		perShard: max(1, (cfg.dedupCapacity+dedupShardCount-1)/dedupShardCount),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[deliveryKey]*dedupRecord)
	}
	return s
}

const dedupShardCount = 16

// dedupMemory is the memory of one deduplicated handler: shards of keys, each
// with its own lock.
type dedupMemory struct {
	ttl      time.Duration
	clock    Clock
	key      func(Delivery) string
	seed     maphash.Seed
	perShard int
	shards   [dedupShardCount]dedupShard
}

// deliveryKey identifies a delivery. A struct of strings hashes without
// building a new string per call.
type deliveryKey struct{ router, rule, dest, id string }

// dedupRecord is one key, in progress or handled.
type dedupRecord struct {
	handled bool      // the call succeeded
	ended   bool      // the call returned or panicked
	expires time.Time // when handled is forgotten
	waiters chan struct{}
}

// dedupExpiry is a handled key in the order it will expire. It repeats the
// entry's expiry so that sweeping reads the queue alone.
type dedupExpiry struct {
	key     deliveryKey
	entry   *dedupRecord
	expires time.Time
}

// dedupShard holds handled keys in m and, in expiry order, in the queue
// fifo[head:]. Keys in progress are in m only. An item in fifo whose entry
// is no longer m's entry for its key is stale and is dropped when reached.
type dedupShard struct {
	mu   sync.Mutex
	m    map[deliveryKey]*dedupRecord
	fifo []dedupExpiry
	head int
}

func (s *dedupMemory) keyOf(d Delivery) deliveryKey {
	if s.key != nil {
		return deliveryKey{id: s.key(d)}
	}
	return deliveryKey{router: d.Router, rule: d.Rule, dest: d.Destination, id: d.ID}
}

func (s *dedupMemory) handle(ctx context.Context, d Delivery, next Handler) error {
	k := s.keyOf(d)
	if k.id == "" {
		return next.Handle(ctx, d)
	}
	sh := &s.shards[maphash.String(s.seed, k.id)%dedupShardCount]
	for {
		now := s.clock.Now()
		sh.mu.Lock()
		sh.expire(now)
		e := sh.m[k]
		switch {
		case e != nil && e.handled && now.Before(e.expires):
			sh.mu.Unlock()
			return nil
		case e != nil && !e.ended:
			if e.waiters == nil {
				e.waiters = make(chan struct{})
			}
			w := e.waiters
			sh.mu.Unlock()
			select {
			case <-w:
				if e.handled { // written before w was closed
					return nil
				}
				continue
			case <-ctx.Done():
				return fmt.Errorf("eda: waiting for a duplicate delivery in progress: %w", ctx.Err())
			}
		}
		e = &dedupRecord{}
		sh.m[k] = e
		sh.mu.Unlock()
		return s.run(ctx, d, next, sh, k, e)
	}
}

// run calls the handler as the owner of key k and records the outcome.
func (s *dedupMemory) run(ctx context.Context, d Delivery, next Handler, sh *dedupShard, k deliveryKey, e *dedupRecord) error {
	finished := false
	defer func() {
		if !finished { // the handler panicked: forget k and let the panic pass
			s.end(sh, k, e, false)
		}
	}()
	err := next.Handle(ctx, d)
	finished = true
	s.end(sh, k, e, err == nil)
	return err
}

// end records the outcome of the owner's call and wakes its waiters.
func (s *dedupMemory) end(sh *dedupShard, k deliveryKey, e *dedupRecord, ok bool) {
	now := s.clock.Now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e.ended, e.handled = true, ok
	if ok && s.ttl > 0 {
		e.expires = now.Add(s.ttl)
		sh.fifo = append(sh.fifo, dedupExpiry{key: k, entry: e, expires: e.expires})
		for len(sh.fifo)-sh.head > s.perShard {
			sh.pop()
		}
	} else if sh.m[k] == e {
		delete(sh.m, k)
	}
	if e.waiters != nil {
		close(e.waiters)
	}
}

// expire forgets the handled keys that expired by now. sh.mu is held.
func (sh *dedupShard) expire(now time.Time) {
	for sh.head < len(sh.fifo) && !now.Before(sh.fifo[sh.head].expires) {
		sh.pop()
	}
}

// pop forgets the oldest handled key. sh.mu is held.
func (sh *dedupShard) pop() {
	it := sh.fifo[sh.head]
	sh.fifo[sh.head] = dedupExpiry{}
	sh.head++
	if sh.m[it.key] == it.entry {
		delete(sh.m, it.key)
	}
	switch {
	case sh.head == len(sh.fifo):
		sh.fifo, sh.head = sh.fifo[:0], 0
	case sh.head >= 64 && sh.head*2 >= len(sh.fifo):
		n := copy(sh.fifo, sh.fifo[sh.head:])
		clear(sh.fifo[n:])
		sh.fifo, sh.head = sh.fifo[:n], 0
	}
}
