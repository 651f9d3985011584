package eda

// busConfig is a Bus's configuration, set by [Option] values.
type busConfig struct {
	routerConfig
	delivery       deliverySettings // the defaults of its targets
	entrySizeLimit int
	maxEntries     int
	awsSources     bool
	validator      EventValidator // nil: none (bus_validate.go)
}

// WithEntrySizeLimit sets the largest entry a bus accepts, in bytes as
// [EntrySize] counts them. Default [DefaultEntrySizeLimit].
func WithEntrySizeLimit(n int) Option {
	return busOption("WithEntrySizeLimit", func(c *busConfig) error {
		c.entrySizeLimit = n
		return positive("WithEntrySizeLimit", n)
	})
}

// WithMaxEntriesPerCall sets how many entries one PutEvents call may
// carry; a call with more fails as a whole (see [Bus.PutEvents]). Default
// [DefaultMaxEntriesPerCall], EventBridge's 10. n must be positive; pass
// math.MaxInt for no limit.
func WithMaxEntriesPerCall(n int) Option {
	return busOption("WithMaxEntriesPerCall", func(c *busConfig) error {
		c.maxEntries = n
		return positive("WithMaxEntriesPerCall (math.MaxInt for no limit)", n)
	})
}

// WithAWSSources makes the bus accept entries whose source begins with
// "aws.", so that a program or test can simulate the events of AWS
// services (aws.s3, aws.ec2, the scheduled events of aws.events). By
// default a bus refuses them with [ErrorCodeNotAuthorizedForSource], as
// EventBridge refuses custom events that claim an AWS service's source.
func WithAWSSources() Option {
	return busOption("WithAWSSources", func(c *busConfig) error { c.awsSources = true; return nil })
}
