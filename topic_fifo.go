package eda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// This file holds what only a FIFO topic does: de-duplication within a
// window, and sequence numbers. Order within a message group is kept by the
// subscriptions (one ordered destination per group while the group has
// messages queued or being delivered, subscription.go) and by
// publishing one message at a time (Topic.publish), so that sequence
// numbers and queue order agree.

// WithContentBasedDeduplication makes a FIFO topic de-duplicate messages
// published without a DeduplicationID by the SHA-256 of their body, as
// SNS's ContentBasedDeduplication attribute does. It applies to a FIFO
// topic only.
func WithContentBasedDeduplication() Option {
	return topicOption("WithContentBasedDeduplication", func(c *topicConfig) error { c.contentDedup = true; return nil })
}

// WithDeduplicationWindow sets how long a FIFO topic remembers the
// de-duplication ids of the messages published to it, on its [Clock].
// Default [DefaultDeduplicationWindow] (SNS's five minutes). It applies to a
// FIFO topic only.
func WithDeduplicationWindow(d time.Duration) Option {
	return topicOption("WithDeduplicationWindow", func(c *topicConfig) error {
		if d <= 0 {
			return optionError("WithDeduplicationWindow", "must be positive, got %v", d)
		}
		c.dedupWindow, c.dedupWindowSet = d, true
		return nil
	})
}

// dedupKey returns m's de-duplication key: its DeduplicationID, or the
// SHA-256 of its body.
func dedupKey(m *Message, contentBased bool) string {
	if m.DeduplicationID != "" || !contentBased {
		return "id:" + m.DeduplicationID
	}
	sum := sha256.Sum256(m.Body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// dedupWindow remembers the de-duplication keys of a FIFO topic's recent
// messages, with the result each was answered with, until they expire.
type dedupWindow struct {
	mu    sync.Mutex
	seen  map[string]*dedupEntry
	order []*dedupEntry // by claim time, so by expiry (the window is fixed)
	seq   uint64        // the last sequence number given
}

type dedupEntry struct {
	key     string
	res     PublishResult
	expires time.Time
}

func (w *dedupWindow) init() { w.seen = make(map[string]*dedupEntry) }

// claim looks key up at time now. A key seen within the window answers
// with the result of its message (dup). Otherwise it is recorded for
// id, with the next sequence number, for window; release(false) forgets it
// again, for a message that was not accepted after all.
func (w *dedupWindow) claim(key, id string, now time.Time, window time.Duration) (res PublishResult, dup bool, release func(accepted bool)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for n < len(w.order) && !w.order[n].expires.After(now) {
		if e := w.order[n]; w.seen[e.key] == e {
			delete(w.seen, e.key)
		}
		w.order[n] = nil
		n++
	}
	w.order = w.order[n:]
	if e := w.seen[key]; e != nil {
		return e.res, true, nil
	}
	w.seq++
	e := &dedupEntry{key: key, res: PublishResult{MessageID: id, SequenceNumber: fmt.Sprintf("%020d", w.seq)}, expires: now.Add(window)}
	w.seen[key] = e
	w.order = append(w.order, e)
	return e.res, false, func(accepted bool) {
		if accepted {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.seen[key] == e {
			delete(w.seen, key)
		}
	}
}
