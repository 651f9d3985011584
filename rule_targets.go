package eda

import (
	"fmt"
	"slices"

	"github.com/edakit/eda/internal/pattern"
)

// This file holds EventBridge's target API: PutTargets, RemoveTargets and
// ListTargetsByRule, which change or list a rule's targets without
// touching the rule itself.
//
// EventBridge answers PutTargets and RemoveTargets per entry
// (FailedEntryCount, FailedEntries), because an entry there can fail on its
// own: a concurrent modification, a quota, a permission. In one process
// none of that happens; what can fail is a target's validation, which
// depends on the call alone. So these methods change all or nothing and
// return one error that names the failing target.

// PutTargets adds targets to the named rule, or replaces the rule's targets
// of the same ids, as EventBridge's PutTargets does; the rule's other
// targets, its pattern and its state stay as they are. A new target goes
// after the rule's targets; a replacing one takes the place of the target
// it replaces.
//
// The targets are validated as [Bus.PutRule] validates them (none nil, ids
// unique within the call, valid ids, handlers and input settings, and a
// middleware that builds); on error, which wraps [ErrInvalidRule] and
// names the rule and the target, nothing changes. An unknown rule gives
// [ErrRuleNotFound]; after [Bus.Close], PutTargets returns [ErrClosed].
// With no targets, PutTargets changes nothing (it still reports an unknown
// rule).
//
// A replacing target that is the same [Target] value as the one it
// replaces keeps its queue and workers. A different value gets a new
// queue; the replaced target stops after its queue empties, as a target
// that PutRule drops does. The change applies to events put after
// PutTargets returns.
//
// eda does not enforce EventBridge's quota of 5 targets per rule, nor its
// limit of 10 targets per PutTargets call (as PutRule does not).
func (b *Bus) PutTargets(rule string, targets ...Target) error {
	if err := validateTargets(rule, targets); err != nil {
		return err
	}
	if len(targets) == 0 {
		_, err := b.Rule(rule)
		return err
	}
	given := slices.Clone(targets)
	return b.commitRule(rule, func(old *ruleState) (Rule, *pattern.Parsed, error) {
		if old == nil {
			return Rule{}, nil, fmt.Errorf("%w: %q", ErrRuleNotFound, rule)
		}
		r := old.rule
		r.Targets = slices.Clone(old.rule.Targets)
		for _, t := range given {
			i := slices.IndexFunc(r.Targets, func(o Target) bool { return o.TargetID() == t.TargetID() })
			if i < 0 {
				r.Targets = append(r.Targets, t)
			} else {
				r.Targets[i] = t
			}
		}
		return r, nil, nil // the pattern and state are kept
	})
}

// RemoveTargets removes the targets of the given ids from the named rule,
// as EventBridge's RemoveTargets does; the rule stays, with its other
// targets. Events already queued for a removed target are still delivered;
// the target stops once its queue is empty. The change applies to events
// put after RemoveTargets returns.
//
// An id that the rule does not have is ignored, as EventBridge does not
// report it as a failed entry: removing is idempotent. An id that is not
// valid (1 to 64 of [.-_A-Za-z0-9]) gives an error wrapping
// [ErrInvalidRule], and nothing changes. An unknown rule gives
// [ErrRuleNotFound]; after [Bus.Close], RemoveTargets returns [ErrClosed].
// With no ids, RemoveTargets changes nothing (it still reports an unknown
// rule).
//
// To remove every target of a rule:
//
//	targets, err := bus.ListTargetsByRule("orders")
//	...
//	ids := make([]string, len(targets))
//	for i, t := range targets {
//		ids[i] = t.TargetID()
//	}
//	err = bus.RemoveTargets("orders", ids...)
func (b *Bus) RemoveTargets(rule string, ids ...string) error {
	for _, id := range ids {
		if !validName(id) {
			return fmt.Errorf("%w: rule %q: target id %q: use 1 to 64 of [.-_A-Za-z0-9]", ErrInvalidRule, rule, id)
		}
	}
	if len(ids) == 0 {
		_, err := b.Rule(rule)
		return err
	}
	ids = slices.Clone(ids)
	return b.commitRule(rule, func(old *ruleState) (Rule, *pattern.Parsed, error) {
		if old == nil {
			return Rule{}, nil, fmt.Errorf("%w: %q", ErrRuleNotFound, rule)
		}
		r := old.rule
		r.Targets = slices.DeleteFunc(slices.Clone(old.rule.Targets), func(t Target) bool {
			return slices.Contains(ids, t.TargetID())
		})
		return r, nil, nil // the pattern and state are kept
	})
}

// ListTargetsByRule returns the targets of the named rule, in the rule's
// order, as EventBridge's ListTargetsByRule does (all at once: there is no
// paging). They are the values that were put: putting them again, with
// [Bus.PutTargets] or [Bus.PutRule], keeps their queues. An unknown rule
// gives [ErrRuleNotFound].
func (b *Bus) ListTargetsByRule(rule string) ([]Target, error) {
	r, err := b.Rule(rule)
	if err != nil {
		return nil, err
	}
	return r.Targets, nil
}
