package daytona

import (
	"context"
	"time"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/mount"
)

// WithSyncWindow makes a Sandbox's synchronous requests wait at most d
// for a command before following its log (command.SyncWindow).
func WithSyncWindow(d time.Duration) Option {
	return func(c *config) error {
		c.times.SyncWindow = d
		return nil
	}
}

// KeepAliveHolders returns how many commands and processes the keep-alive
// is counting (its refresher runs while there is one).
func KeepAliveHolders(s *Sandbox) int {
	s.svc().keep.mu.Lock()
	defer s.svc().keep.mu.Unlock()
	return s.svc().keep.n
}

// MarkerName is the name of a mount path's marker in /tmp/.mastra-mounts.
func MarkerName(path string) string { return mount.MarkerName(path) }

// ConfigHash is the hash a mount's marker records.
var ConfigHash = mount.ConfigHash

// SetSessionIdleTTL changes how long surplus idle sessions are kept, and
// returns a function that restores it.
func SetSessionIdleTTL(d time.Duration) (restore func()) {
	old := command.SessionIdleTTL
	command.SessionIdleTTL = d
	return func() { command.SessionIdleTTL = old }
}

// SetMaxSessionUses changes after how many commands a session is retired,
// and returns a function that restores it.
func SetMaxSessionUses(n int) (restore func()) {
	old := command.MaxSessionUses
	command.MaxSessionUses = n
	return func() { command.MaxSessionUses = old }
}

// WithRawOutput makes a Sandbox's commands send their output through the
// session's log as it is, as when no file can be written in the sandbox.
func WithRawOutput() Option {
	return func(c *config) error {
		c.rawOutput = true
		return nil
	}
}

// StartWaiters returns how many callers wait for the start in progress
// (0 when there is none).
func StartWaiters(s *Sandbox) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.starting == nil {
		return 0
	}
	return s.starting.waiters
}

// WaitBackground waits until the Sandbox's upkeep in the background (such
// as removing a command's output files) is done, or ctx ends.
func WaitBackground(ctx context.Context, s *Sandbox) { s.bg.Wait(ctx) }

// WithKillTimes sets how long one try of a Sandbox's kills may take and
// how long a kill keeps trying (command.KillAttempt and KillBudget).
func WithKillTimes(attempt, budget time.Duration) Option {
	return func(c *config) error {
		c.times.KillAttempt, c.times.KillBudget = attempt, budget
		return nil
	}
}
