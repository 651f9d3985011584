package eda

// WithMaxMessageSize sets the largest message a topic accepts, in bytes as
// SNS counts them (body, attribute names, types and values). Default
// [DefaultMaxMessageSize], SNS's 256 KiB.
func WithMaxMessageSize(n int) Option {
	return topicOption("WithMaxMessageSize", func(c *topicConfig) error {
		c.maxMessageSize = n
		return positive("WithMaxMessageSize", n)
	})
}

// WithFilterPolicyLimits sets the constraints on the filter policies of a
// topic's subscriptions. The zero value of each field keeps SNS's (5 keys,
// 150 combinations, numbers within ±10⁹ with 5 decimals, 256 KB; 25 '*' per
// wildcard, as in EventBridge), and a negative one lifts it.
func WithFilterPolicyLimits(l FilterPolicyLimits) Option {
	return topicOption("WithFilterPolicyLimits", func(c *topicConfig) error { c.policyLimits = l; return nil })
}

// topicOption returns an Option, named name, that applies to a Topic only.
func topicOption(name string, set func(*topicConfig) error) Option {
	return func(s *settings) error {
		if s.topic == nil {
			return optionError(name, "applies to a Topic, not to %s", s.what())
		}
		return set(s.topic)
	}
}
