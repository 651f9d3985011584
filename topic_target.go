package eda

import (
	"context"
	"errors"
	"fmt"
)

// TopicTarget returns a Bus target that publishes the matching events to a
// topic, as EventBridge's SNS targets do: the message body is the event's
// JSON, or the target's input when it has one ([WithInput],
// [WithInputPath], [WithInputTransformer]). Loops are stopped by the hop
// limit of the topic ([WithMaxHops]).
//
// For a FIFO topic, each message's group is the rule's name and its
// de-duplication id the event's id, so that the events of a rule keep
// their order and an event delivered twice to the target (a retry) is
// published once.
//
// The topic's refusal of a message is permanent (dead-lettered at once)
// unless it is retryable: a full subscription queue, or the topic closed
// or closing — the bus's handlers are outside publishers for the topic,
// so close the bus first.
func TopicTarget(id string, dst *Topic, opts ...Option) Target {
	name := ""
	if dst != nil {
		name = dst.name
	}
	c := newTarget(id, TargetKindTopic, name, nil, opts)
	if dst != nil {
		c.handler = topicForwarder{dst}
	}
	return c
}

// topicForwarder is the handler of a topic target.
type topicForwarder struct{ dst *Topic }

// Handle publishes the delivered payload to the topic.
func (f topicForwarder) Handle(ctx context.Context, d Delivery) error {
	m := Message{Body: d.Payload}
	if f.dst.fifo {
		m.GroupID, m.DeduplicationID = d.Rule, d.ID
	}
	_, err := f.dst.Publish(ctx, m)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrClosed), errors.Is(err, ErrFull), ctx.Err() != nil:
		return fmt.Errorf("eda: topic target %q: %w", f.dst.name, err) // retryable
	}
	return Permanent(fmt.Errorf("eda: topic target %q: %w", f.dst.name, err))
}
