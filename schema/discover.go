package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/edakit/eda"
)

// DefaultDiscoveryQueue is the default size of a [Discoverer]'s queue.
const DefaultDiscoveryQueue = 1024

// DiscovererOption configures a [Discoverer].
type DiscovererOption func(*Discoverer) error

// WithQueueSize sets how many events a [Discoverer] holds waiting to be
// inspected; beyond that it samples (see [Discoverer]). Default
// [DefaultDiscoveryQueue].
func WithQueueSize(n int) DiscovererOption {
	return func(d *Discoverer) error {
		if n <= 0 {
			return fmt.Errorf("schema: WithQueueSize: must be positive, got %d", n)
		}
		d.queue = make(chan []byte, n)
		return nil
	}
}

// Discoverer infers the schemas of the events a bus carries, as
// EventBridge's schema discovery does, and records them in a [Registry]
// named as [Name] names them, in OpenAPI 3 (EventBridge's format for
// discovered schemas; [Registry.Export] gives JSON Schema). Give it to a
// bus with eda.WithEventValidator: it never rejects an event.
//
// Per source and detail-type it merges every event seen into one shape:
// JSON types (integer and number seen at one place give number), nested
// objects with their properties, arrays with the merged shape of their
// items, the properties every object had as required, and format
// date-time for strings that all were date-times. It records a new schema
// version only when that shape changes, so the schema converges as the
// variety of events is seen: the first event gives version 1, the next
// event with a new field or without a field seen so far gives version 2,
// and events of a known shape add nothing.
//
// Inspection runs off the hot path, on a goroutine of its own fed by a
// bounded queue: ValidateEvent copies the envelope and queues it without
// waiting. Under load, when the queue is full, the event is not inspected:
// discovery samples, and [DiscovererStats].Sampled counts the events left
// out. Call Close to stop the goroutine.
type Discoverer struct {
	reg    *Registry
	queue  chan []byte
	stop   chan struct{}
	exited chan struct{}
	closed atomic.Bool
	once   sync.Once

	queued atomic.Int64 // events queued, ever

	shapeMu sync.Mutex // guards shapes
	shapes  map[eventType]*shape
	// recorded holds, per event type, the content last put in the
	// registry (used by the discoverer's goroutine only).
	recorded map[eventType][]byte

	mu        sync.Mutex    // guards processed and progress
	processed int64         // events taken off the queue and inspected
	progress  chan struct{} // closed and replaced whenever processed grows

	stats struct{ seen, sampled, inspected, versions, failed atomic.Uint64 }
}

var _ eda.EventValidator = (*Discoverer)(nil)

// NewDiscoverer returns a discoverer that records the schemas it infers in
// reg, and starts its goroutine.
func NewDiscoverer(reg *Registry, opts ...DiscovererOption) (*Discoverer, error) {
	if reg == nil {
		return nil, errors.New("schema: NewDiscoverer: nil registry")
	}
	d := &Discoverer{reg: reg, stop: make(chan struct{}), exited: make(chan struct{}),
		shapes: map[eventType]*shape{}, recorded: map[eventType][]byte{}, progress: make(chan struct{})}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(d); err != nil {
			return nil, err
		}
	}
	if d.queue == nil {
		d.queue = make(chan []byte, DefaultDiscoveryQueue)
	}
	go d.run()
	return d, nil
}

// Registry returns the registry the discoverer records schemas in.
func (d *Discoverer) Registry() *Registry { return d.reg }

// ValidateEvent queues the envelope for inspection (it keeps it, as
// eda.EventValidator allows: the bus never changes it), without
// waiting: when the queue is full, or the discoverer is closed, the event
// is counted as sampled out instead. It always returns nil.
func (d *Discoverer) ValidateEvent(_ context.Context, _ *eda.Event, envelope []byte) error {
	d.stats.seen.Add(1)
	if d.closed.Load() {
		d.stats.sampled.Add(1)
		return nil
	}
	d.queued.Add(1)
	select {
	case d.queue <- envelope: // kept as it is: the bus never changes it (eda.EventValidator)
	default:
		d.queued.Add(-1)
		d.stats.sampled.Add(1)
	}
	return nil
}

// Observe queues an event given as a JSON envelope, as ValidateEvent does:
// for events that do not come through a bus (a log, a test).
func (d *Discoverer) Observe(envelope []byte) {
	// A copy: the caller may reuse its buffer.
	_ = d.ValidateEvent(context.Background(), nil, bytes.Clone(envelope))
}

func (d *Discoverer) run() {
	defer close(d.exited)
	for {
		select {
		case env := <-d.queue:
			d.inspect(env)
		case <-d.stop:
			for {
				select {
				case env := <-d.queue:
					d.inspect(env)
				default:
					return
				}
			}
		}
	}
}

// inspect merges one envelope into its shape and records the shape's
// schema when it changed.
func (d *Discoverer) inspect(env []byte) {
	defer func() {
		d.mu.Lock()
		d.processed++
		close(d.progress)
		d.progress = make(chan struct{})
		d.mu.Unlock()
	}()
	v, err := decodeJSON(env)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		d.stats.failed.Add(1)
		return
	}
	source, _ := obj["source"].(string)
	detailType, _ := obj["detail-type"].(string)
	if source == "" || detailType == "" {
		d.stats.failed.Add(1)
		return
	}
	d.stats.inspected.Add(1)
	key := eventType{source, detailType}
	d.shapeMu.Lock()
	s := d.shapes[key]
	if s == nil {
		s = newShape()
		d.shapes[key] = s
	}
	changed := s.add(obj)
	var doc *document
	if changed {
		doc = inferDocument(s)
	}
	d.shapeMu.Unlock()
	if !changed {
		return // the same schema as before: nothing to record
	}

	name := Name(source, detailType)
	if checkName(name) != nil {
		d.stats.failed.Add(1)
		return
	}
	oas, err := doc.export(name, source, detailType, FormatOpenAPI3)
	if err != nil {
		d.stats.failed.Add(1)
		return
	}
	content, err := json.MarshalIndent(oas, "", "  ")
	if err != nil {
		d.stats.failed.Add(1)
		return
	}
	if bytes.Equal(d.recorded[key], content) {
		return // the shape did not change: nothing to compile or record
	}
	before := d.reg.Versions(name)
	ver, err := d.reg.Put(name, FormatOpenAPI3, content)
	if err != nil {
		d.stats.failed.Add(1)
		return
	}
	d.recorded[key] = content
	if len(before) == 0 || before[len(before)-1] != ver.Version {
		d.stats.versions.Add(1)
	}
}

// Flush waits until every event queued before the call has been inspected
// and its schema recorded, or ctx ends (it returns ctx's error).
func (d *Discoverer) Flush(ctx context.Context) error {
	target := d.queued.Load()
	for {
		d.mu.Lock()
		done, progress := d.processed >= target, d.progress
		d.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-progress:
		case <-d.exited:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close inspects the events still queued and stops the discoverer's
// goroutine; events given to it later are counted as sampled out. Close
// is idempotent.
func (d *Discoverer) Close() {
	d.once.Do(func() {
		d.closed.Store(true)
		close(d.stop)
	})
	<-d.exited
}

// DiscovererStats counts what a [Discoverer] did, since it was created.
type DiscovererStats struct {
	// Seen counts the events given to the discoverer.
	Seen uint64
	// Sampled counts the events not inspected because the queue was full
	// (discovery under load samples) or the discoverer was closed.
	Sampled uint64
	// Inspected counts the events merged into a schema.
	Inspected uint64
	// Versions counts the schema versions recorded: new schemas and changed
	// shapes.
	Versions uint64
	// Failed counts the events that could not be inspected (not a JSON
	// object with a source and a detail-type, or a name the registry
	// refuses).
	Failed uint64
}

// Stats returns a snapshot of the discoverer's counters.
func (d *Discoverer) Stats() DiscovererStats {
	return DiscovererStats{Seen: d.stats.seen.Load(), Sampled: d.stats.sampled.Load(),
		Inspected: d.stats.inspected.Load(), Versions: d.stats.versions.Load(), Failed: d.stats.failed.Load()}
}
