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
	return mwOption("WithDedupKey", []string{"Deduplicate"}, func(c *mwConfig) error {
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
	return mwOption("WithDedupCapacity", []string{"Deduplicate"}, func(c *mwConfig) error {
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
		s := newMWDedup(ttl, &cfg)
		return HandlerFunc(func(ctx context.Context, d Delivery) error {
			return s.handle(ctx, d, next)
		})
	}
}

func newMWDedup(ttl time.Duration, cfg *mwConfig) *mwDedup {
	s := &mwDedup{
		ttl:      ttl,
		clock:    cfg.clock,
		key:      cfg.dedupKey,
		seed:     maphash.MakeSeed(),
		perShard: max(1, (cfg.dedupCapacity+mwDedupShards-1)/mwDedupShards),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[mwDedupKey]*mwDedupEntry)
	}
	return s
}

const mwDedupShards = 16

// mwDedup is the memory of one deduplicated handler: shards of keys, each
// with its own lock.
type mwDedup struct {
	ttl      time.Duration
	clock    Clock
	key      func(Delivery) string
	seed     maphash.Seed
	perShard int
	shards   [mwDedupShards]mwDedupShard
}

// mwDedupKey identifies a delivery. A struct of strings hashes without
// building a new string per call.
type mwDedupKey struct{ router, rule, dest, id string }

// mwDedupEntry is one key, in progress or handled.
type mwDedupEntry struct {
	handled bool      // the call succeeded
	ended   bool      // the call returned or panicked
	expires time.Time // when handled is forgotten
	waiters chan struct{}
}

// mwDedupItem is a handled key in the order it will expire. It repeats the
// entry's expiry so that sweeping reads the queue alone.
type mwDedupItem struct {
	key     mwDedupKey
	entry   *mwDedupEntry
	expires time.Time
}

// mwDedupShard holds handled keys in m and, in expiry order, in the queue
// fifo[head:]. Keys in progress are in m only. An item in fifo whose entry
// is no longer m's entry for its key is stale and is dropped when reached.
type mwDedupShard struct {
	mu   sync.Mutex
	m    map[mwDedupKey]*mwDedupEntry
	fifo []mwDedupItem
	head int
}

func (s *mwDedup) keyOf(d Delivery) mwDedupKey {
	if s.key != nil {
		return mwDedupKey{id: s.key(d)}
	}
	return mwDedupKey{router: d.Router, rule: d.Rule, dest: d.Destination, id: d.ID}
}

func (s *mwDedup) handle(ctx context.Context, d Delivery, next Handler) error {
	k := s.keyOf(d)
	if k.id == "" {
		return next.Handle(ctx, d)
	}
	sh := &s.shards[maphash.String(s.seed, k.id)%mwDedupShards]
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
		e = &mwDedupEntry{}
		sh.m[k] = e
		sh.mu.Unlock()
		return s.run(ctx, d, next, sh, k, e)
	}
}

// run calls the handler as the owner of key k and records the outcome.
func (s *mwDedup) run(ctx context.Context, d Delivery, next Handler, sh *mwDedupShard, k mwDedupKey, e *mwDedupEntry) error {
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
func (s *mwDedup) end(sh *mwDedupShard, k mwDedupKey, e *mwDedupEntry, ok bool) {
	now := s.clock.Now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e.ended, e.handled = true, ok
	if ok && s.ttl > 0 {
		e.expires = now.Add(s.ttl)
		sh.fifo = append(sh.fifo, mwDedupItem{key: k, entry: e, expires: e.expires})
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
func (sh *mwDedupShard) expire(now time.Time) {
	for sh.head < len(sh.fifo) && !now.Before(sh.fifo[sh.head].expires) {
		sh.pop()
	}
}

// pop forgets the oldest handled key. sh.mu is held.
func (sh *mwDedupShard) pop() {
	it := sh.fifo[sh.head]
	sh.fifo[sh.head] = mwDedupItem{}
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
