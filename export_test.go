package daytona

import (
	"context"
	"time"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/mount"
)

// SetSyncWindow changes how long a synchronous exec waits before following
// the command's log, and returns a function that restores it.
func SetSyncWindow(d time.Duration) (restore func()) {
	old := command.SyncWindow
	command.SyncWindow = d
	return func() { command.SyncWindow = old }
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

// SetKillTimes changes how long one try of a kill may take and how long a
// kill keeps trying, and returns a function that restores them.
func SetKillTimes(attempt, budget time.Duration) (restore func()) {
	oldAttempt, oldBudget := command.KillAttempt, command.KillBudget
	command.KillAttempt, command.KillBudget = attempt, budget
	return func() { command.KillAttempt, command.KillBudget = oldAttempt, oldBudget }
}
