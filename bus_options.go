package eda

import (
	"log/slog"
)

// busConfig is a Bus's configuration, set by [Option] values.
type busConfig struct {
	delivery       deliverySettings // the defaults of its targets
	entrySizeLimit int
	maxHops        int
	maxEntries     int
	awsSources     bool
	clock          Clock
	logger         *slog.Logger
	account        string
	region         string
	// failureLogLevel is set by WithFailureLogLevel; nil: Warn.
	failureLogLevel slog.Leveler
}

// WithEntrySizeLimit sets the largest entry a bus accepts, in bytes as
// [EntrySize] counts them. Default [DefaultEntrySizeLimit].
func WithEntrySizeLimit(n int) Option {
	return positiveOption("WithEntrySizeLimit", n, func(c *busConfig) { c.entrySizeLimit = n })
}

// WithMaxEntriesPerCall sets how many entries one PutEvents call may
// carry; a call with more fails as a whole (see [Bus.PutEvents]). Default
// [DefaultMaxEntriesPerCall], EventBridge's 10. n must be positive; pass
// math.MaxInt for no limit.
func WithMaxEntriesPerCall(n int) Option {
	return positiveOption("WithMaxEntriesPerCall (math.MaxInt for no limit)", n, func(c *busConfig) { c.maxEntries = n })
}

// WithAWSSources makes the bus accept entries whose source begins with
// "aws.", so that a program or test can simulate the events of AWS
// services (aws.s3, aws.ec2, the scheduled events of aws.events). By
// default a bus refuses them with [ErrorCodeNotAuthorizedForSource], as
// EventBridge refuses custom events that claim an AWS service's source.
func WithAWSSources() Option {
	return routerOption("WithAWSSources", func(c *busConfig) error { c.awsSources = true; return nil })
}

// WithAccount sets the account stamped on events put without one.
// Default [DefaultAccount].
func WithAccount(account string) Option {
	return routerOption("WithAccount", func(c *busConfig) error { c.account = account; return nil })
}

// WithRegion sets the region stamped on events put without one.
// Default [DefaultRegion].
func WithRegion(region string) Option {
	return routerOption("WithRegion", func(c *busConfig) error { c.region = region; return nil })
}
