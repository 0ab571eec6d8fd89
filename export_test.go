package daytona

import "time"

// SetSyncWindow changes how long a synchronous exec waits before following
// the command's log, and returns a function that restores it.
func SetSyncWindow(d time.Duration) (restore func()) {
	old := syncWindow
	syncWindow = d
	return func() { syncWindow = old }
}

// SetSessionIdleTTL changes how long surplus idle sessions are kept, and
// returns a function that restores it.
func SetSessionIdleTTL(d time.Duration) (restore func()) {
	old := sessionIdleTTL
	sessionIdleTTL = d
	return func() { sessionIdleTTL = old }
}

// WithRawOutput makes a Sandbox's commands write their output raw, as in a
// sandbox without perl.
func WithRawOutput() Option {
	return func(c *config) error {
		c.rawOutput = true
		return nil
	}
}
