package edatest

import (
	"context"
	"strconv"
	"sync"

	"github.com/edakit/eda"
)

// Producer is a recording [eda.Producer], for testing code that puts
// events without a Bus: PutEvents records the entries and accepts them
// all, giving each an id ("event-1", "event-2", … unless it has one) — or,
// when Err is set, returns Err and records nothing. The zero value is ready
// to use. Its methods may be called concurrently; set Err before use.
type Producer struct {
	// Err, if not nil, is what every PutEvents returns.
	Err error

	mu     sync.Mutex
	events []eda.Event
}

var _ eda.Producer = (*Producer)(nil)

// PutEvents records the entries, as the Bus would accept them with their
// ids, and reports them all accepted; or returns Err.
func (p *Producer) PutEvents(_ context.Context, entries ...eda.Event) (eda.PutEventsResult, error) {
	if p.Err != nil {
		return eda.PutEventsResult{}, p.Err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	res := eda.PutEventsResult{Entries: make([]eda.PutEventsResultEntry, len(entries))}
	for i, e := range entries {
		if e.ID == "" {
			e.ID = "event-" + strconv.Itoa(len(p.events)+1)
		}
		p.events = append(p.events, e)
		res.Entries[i].EventID = e.ID
	}
	return res, nil
}

// Events returns a copy of the recorded events, in the order they were put.
func (p *Producer) Events() []eda.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]eda.Event(nil), p.events...)
}

// Publisher is a recording [eda.Publisher], for testing code that
// publishes messages without a Topic: Publish records the message and
// accepts it with an id ("message-1", …), or, when Err is set, returns Err
// and records nothing. The zero value is ready to use. Its methods may be
// called concurrently; set Err before use.
type Publisher struct {
	// Err, if not nil, is what every Publish returns.
	Err error

	mu       sync.Mutex
	messages []eda.Message
}

var _ eda.Publisher = (*Publisher)(nil)

// Publish records the message and reports it accepted; or returns Err.
func (p *Publisher) Publish(_ context.Context, m eda.Message) (eda.PublishResult, error) {
	if p.Err != nil {
		return eda.PublishResult{}, p.Err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.messages = append(p.messages, m)
	return eda.PublishResult{MessageID: "message-" + strconv.Itoa(len(p.messages))}, nil
}

// Messages returns a copy of the recorded messages, in the order they were
// published.
func (p *Publisher) Messages() []eda.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]eda.Message(nil), p.messages...)
}
