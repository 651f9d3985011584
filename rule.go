package eda

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/edakit/eda/internal/pattern"
)

// ErrInvalidRule is wrapped by the errors of [Bus.PutRule] and
// [Bus.PutTargets] for invalid names, states and event patterns, duplicate
// or invalid targets (a nil handler, such as HandlerFunc(nil); a
// middleware constructor that panics or returns a nil handler) and invalid
// input settings, and of [Bus.RemoveTargets] for an invalid target id. The error names the
// rule and, for a target, the target. For an invalid event pattern it also
// wraps the [*PatternError] (use errors.As).
var ErrInvalidRule = errors.New("eda: invalid rule")

// ErrRuleNotFound is returned for a rule name the bus does not hold, like
// EventBridge's ResourceNotFoundException.
var ErrRuleNotFound = errors.New("eda: rule not found")

// RuleState says whether a rule routes events.
type RuleState string

const (
	// RuleEnabled rules route matching events to their targets. A Rule with
	// an empty State is enabled, as in EventBridge.
	RuleEnabled RuleState = "ENABLED"
	// RuleDisabled rules are kept but route nothing.
	RuleDisabled RuleState = "DISABLED"
)

// Rule routes the events that match its pattern to its targets.
type Rule struct {
	// Name identifies the rule on its bus: 1 to 64 of [.-_A-Za-z0-9].
	Name string
	// Description is free text, shown by [Bus.Describe].
	Description string
	// EventPattern is an EventBridge event pattern (JSON), matched against
	// the event's JSON form, envelope and detail.
	EventPattern string
	// State is RuleEnabled (or empty) or RuleDisabled.
	State RuleState
	// Targets receive the matching events; ids must be unique in the rule.
	//
	// For [Bus.PutRule], an empty Targets (nil or of length 0) keeps the
	// rule's existing targets, as EventBridge's PutRule leaves targets to
	// PutTargets and RemoveTargets ([Bus.PutTargets], [Bus.RemoveTargets]);
	// a non-empty Targets is the rule's complete target list. Read back
	// ([Bus.Rule], [Bus.Rules]), it holds the rule's targets. eda does not
	// enforce EventBridge's quota of 5 targets per rule.
	Targets []Target
}

// ruleCounters count a rule's routing; they survive the rule's replacement
// (but not its deletion).
type ruleCounters struct {
	matched   atomic.Uint64
	triggered atomic.Uint64
}

// ruleState is one rule as the routing table holds it.
type ruleState struct {
	name     string
	rule     Rule // as put; Targets copied
	enabled  bool
	targets  []*targetRuntime
	counters *ruleCounters
}

// validName reports whether s is a valid EventBridge rule name or target
// id: 1 to 64 of [.-_A-Za-z0-9].
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !validNameByte(s[i]) {
			return false
		}
	}
	return true
}

// validNameByte reports whether c is one of [.-_A-Za-z0-9].
func validNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// PutRule creates the rule, or replaces the rule of the same name. The
// pattern, names, target ids, handlers and every target's input settings
// (Input, InputPath, input transformer) are validated first, and the
// middleware of new targets is applied; on error, which wraps
// [ErrInvalidRule], nothing changes. After [Bus.Close] it returns
// [ErrClosed].
//
// Targets: when r.Targets is empty (nil or of length 0), PutRule keeps the
// targets the rule already has (none for a new rule), as EventBridge's
// PutRule never touches targets; manage them with [Bus.PutTargets],
// [Bus.RemoveTargets] and [Bus.ListTargetsByRule]. When r.Targets is not
// empty, it is the rule's complete list: PutRule is then EventBridge's
// PutRule, PutTargets of the listed targets and RemoveTargets of the
// others, in one change. To remove every target, use RemoveTargets.
//
// The change applies to events put after PutRule returns. Events already
// queued for a replaced rule's targets are still delivered. A target that
// is kept (the same [Target] value, as returned by [Bus.Rule]) keeps its
// queue and workers; other targets of the old rule stop after their queue
// empties.
func (b *Bus) PutRule(r Rule) error {
	if !validName(r.Name) {
		return fmt.Errorf("%w: name %q: use 1 to 64 of [.-_A-Za-z0-9]", ErrInvalidRule, r.Name)
	}
	switch r.State {
	case "":
		r.State = RuleEnabled
	case RuleEnabled, RuleDisabled:
	default:
		return fmt.Errorf("%w: rule %q: state %q: use ENABLED or DISABLED", ErrInvalidRule, r.Name, r.State)
	}
	if r.EventPattern == "" {
		return fmt.Errorf("%w: rule %q: an event pattern is required", ErrInvalidRule, r.Name)
	}
	parsed, err := pattern.Parse([]byte(r.EventPattern), pattern.DefaultLimits())
	if err != nil {
		return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, r.Name, convertError(err))
	}
	if err := validateTargets(r.Name, r.Targets); err != nil {
		return err
	}
	given := slices.Clone(r.Targets)
	return b.commitRule(r.Name, func(old *ruleState) (Rule, *pattern.Parsed, error) {
		next := r
		next.Targets = given
		if len(given) == 0 {
			next.Targets = nil
			if old != nil {
				next.Targets = old.rule.Targets
			}
		}
		return next, parsed, nil
	})
}

// validateTargets checks targets as PutRule and PutTargets do: none nil,
// ids unique, settings valid. The error wraps ErrInvalidRule and names the
// rule and the target.
func validateTargets(rule string, targets []Target) error {
	seen := make(map[string]bool, len(targets))
	for i, t := range targets {
		if t == nil {
			return fmt.Errorf("%w: rule %q: target %d is nil", ErrInvalidRule, rule, i)
		}
		id := t.TargetID()
		if seen[id] {
			return fmt.Errorf("%w: rule %q: duplicate target id %q", ErrInvalidRule, rule, id)
		}
		seen[id] = true
		if _, err := t.config().validate(); err != nil {
			return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, rule, err)
		}
	}
	return nil
}

// ruleEdit computes the next form of a rule from its current state (nil
// for a rule the bus does not hold): the rule, with its complete target
// list in a slice of its own, and its parsed pattern, or nil when the rule
// keeps its pattern and state (only its targets change). It must not
// change old.
type ruleEdit func(old *ruleState) (Rule, *pattern.Parsed, error)

// commitRule applies edit to the named rule and publishes the result. The
// runtimes of new targets (Target values the rule does not hold yet) are
// built outside the lock, since middleware constructors are user code;
// when the rule changed meanwhile, commitRule starts over, reusing what
// was built. Targets of the old rule that the new one does not keep are
// retired once no event is being routed to them.
func (b *Bus) commitRule(name string, edit ruleEdit) error {
	built := map[*targetConfig]*targetRuntime{}
	retireBuilt := func(except []*targetRuntime) {
		for _, tr := range built {
			if !slices.Contains(except, tr) {
				tr.dest.Retire()
			}
		}
	}
	for {
		snap := b.routes.load().routes.At(name)
		r, parsed, err := edit(snap)
		if err != nil {
			retireBuilt(nil)
			return err
		}
		for _, t := range r.Targets {
			cfg := t.config()
			if built[cfg] != nil || (snap != nil && snap.target(cfg) != nil) {
				continue
			}
			tr, err := b.newTargetRuntime(name, cfg)
			if err != nil { // the middleware failed (the rest was validated before)
				retireBuilt(nil)
				return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, name, err)
			}
			built[cfg] = tr
		}

		b.routes.mu.Lock()
		if b.closed.Load() {
			b.routes.mu.Unlock()
			retireBuilt(nil)
			return ErrClosed
		}
		old := b.routes.load().routes.At(name)
		if old != snap {
			b.routes.mu.Unlock()
			continue
		}
		targets := make([]*targetRuntime, len(r.Targets))
		for i, t := range r.Targets {
			cfg := t.config()
			if old != nil {
				targets[i] = old.target(cfg)
			}
			if targets[i] == nil {
				targets[i] = built[cfg]
			}
		}
		var retire []retirer // targets of the old rule that are not kept
		if old != nil {
			for _, tr := range old.targets {
				if !slices.Contains(targets, tr) {
					retire = append(retire, tr.dest)
				}
			}
		}
		counters := b.counters[name]
		if counters == nil {
			counters = new(ruleCounters)
			b.counters[name] = counters
		}
		rs := &ruleState{name: name, rule: r, enabled: r.State == RuleEnabled, targets: targets, counters: counters}
		b.routes.apply(routeChange[*ruleState]{id: name, route: rs, on: rs.enabled, p: parsed, keep: parsed == nil, retire: retire})
		b.routes.mu.Unlock()
		retireBuilt(targets) // built but not used (kept from the old rule instead)
		return nil
	}
}

// target returns the runtime of cfg in the rule, or nil.
func (rs *ruleState) target(cfg *targetConfig) *targetRuntime {
	for _, tr := range rs.targets {
		if tr.cfg == cfg {
			return tr
		}
	}
	return nil
}

// DeleteRule removes the rule. Events already queued for its targets are
// still delivered. It returns [ErrRuleNotFound] for an unknown name.
func (b *Bus) DeleteRule(name string) error {
	b.routes.mu.Lock()
	defer b.routes.mu.Unlock()
	old := b.routes.load().routes.At(name)
	if old == nil {
		return fmt.Errorf("%w: %q", ErrRuleNotFound, name)
	}
	retire := make([]retirer, len(old.targets))
	for i, tr := range old.targets {
		retire[i] = tr.dest
	}
	b.routes.apply(routeChange[*ruleState]{id: name, remove: true, retire: retire})
	delete(b.counters, name)
	return nil
}

// EnableRule sets the rule's state to ENABLED.
func (b *Bus) EnableRule(name string) error { return b.setState(name, true) }

// DisableRule sets the rule's state to DISABLED: it stays on the bus, with
// its targets, but routes nothing until enabled.
func (b *Bus) DisableRule(name string) error { return b.setState(name, false) }

func (b *Bus) setState(name string, enabled bool) error {
	b.routes.mu.Lock()
	defer b.routes.mu.Unlock()
	old := b.routes.load().routes.At(name)
	if old == nil {
		return fmt.Errorf("%w: %q", ErrRuleNotFound, name)
	}
	if old.enabled == enabled {
		return nil
	}
	rs := *old
	rs.enabled = enabled
	rs.rule.State = RuleDisabled
	if enabled {
		rs.rule.State = RuleEnabled
	}
	var parsed *pattern.Parsed
	if enabled {
		// The pattern is not kept with the rule: it is parsed again (it was
		// valid when it was put, under the same limits).
		var err error
		if parsed, err = pattern.Parse([]byte(rs.rule.EventPattern), pattern.DefaultLimits()); err != nil {
			return fmt.Errorf("%w: rule %q: %w", ErrInvalidRule, name, convertError(err))
		}
	}
	b.routes.apply(routeChange[*ruleState]{id: name, route: &rs, on: enabled, p: parsed})
	return nil
}

// Rule returns the rule with the given name, or [ErrRuleNotFound].
// Its Targets are the values that were put; putting them again keeps
// their queues.
func (b *Bus) Rule(name string) (Rule, error) {
	rs := b.routes.load().routes.At(name)
	if rs == nil {
		return Rule{}, fmt.Errorf("%w: %q", ErrRuleNotFound, name)
	}
	r := rs.rule
	r.Targets = slices.Clone(r.Targets)
	return r, nil
}

// Rules returns the rules of the bus whose name begins with one of the
// prefixes, sorted by name; with no prefix (or an empty one), every rule.
// Rules("orders-") is EventBridge's ListRules with NamePrefix "orders-";
// unlike ListRules, it returns the rules' targets too, and all of them at
// once (there is no paging).
func (b *Bus) Rules(prefixes ...string) []Rule {
	t := b.routes.load()
	out := make([]Rule, 0, t.routes.Len())
	for name, rs := range t.routes.All() {
		if !hasAnyPrefix(name, prefixes) {
			continue
		}
		r := rs.rule
		r.Targets = slices.Clone(r.Targets)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// hasAnyPrefix reports whether s begins with one of prefixes, or prefixes
// is empty.
func hasAnyPrefix(s string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
