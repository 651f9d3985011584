// Package logtest provides a slog.Handler that keeps every record, for
// tests of what the module logs.
package logtest

import (
	"context"
	"log/slog"
	"sync"
)

// Recorder is a slog.Handler that keeps every record, at every level. Its
// methods may be called concurrently.
type Recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

// Enabled reports true: every level is recorded.
func (r *Recorder) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps a copy of rec.
func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}

// WithAttrs returns r: attributes added to the logger are not recorded.
func (r *Recorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup returns r: groups are not recorded.
func (r *Recorder) WithGroup(string) slog.Handler { return r }

// Entry is a recorded record: its level and its attributes by key.
type Entry struct {
	Level slog.Level
	Attrs map[string]any
}

// WithMessage returns the records whose message is msg, in order.
func (r *Recorder) WithMessage(msg string) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Entry
	for _, rec := range r.recs {
		if rec.Message != msg {
			continue
		}
		e := Entry{Level: rec.Level, Attrs: map[string]any{}}
		rec.Attrs(func(a slog.Attr) bool {
			e.Attrs[a.Key] = a.Value.Any()
			return true
		})
		out = append(out, e)
	}
	return out
}
