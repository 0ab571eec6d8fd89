// Package command is the engine that runs one command in a sandbox: in a
// session from the sandbox's Pool (pool.go), as a synchronous request or
// submitted and followed through its log (exec.go, logs.go), killed when
// its time or its caller's context ends, and recovered when a request or a
// stream breaks (run.go); its output decoded to the caller's writers and
// the retained tails (output.go); and a background process, followed for
// its whole life (background.go). It never runs a command twice: a
// failure that proves the command never started is a *apierr.NotStarted,
// and what to do about it is the caller's.
//
// A Plan says what to run; a Remote is the sandbox it runs in.
package command

import (
	"io"
	"log/slog"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/toolbox"
)

// ExitTimeout, ExitKilled and ExitUnknown are the exit codes of a command
// killed after its timeout, killed otherwise, and whose fate is unknown
// (the values of daytona.ExitCodeTimeout, ExitCodeKilled and
// ExitCodeUnknown, as a shell reports them).
const ExitTimeout, ExitKilled, ExitUnknown = 124, 137, -1

// Plan is a validated command: what runs, how long it may, and where its
// output goes.
type Plan struct {
	Command   string
	Args      []string
	Spec      shell.Spec    // the script's settings (the marker is set per run)
	Timeout   time.Duration // 0: none
	Retain    int           // bytes of each stream kept for the result (stream.Tail.Max)
	Stdout    io.Writer
	Stderr    io.Writer
	Streaming bool // submit and follow the log, rather than one synchronous request
}

// Remote is a running remote sandbox as the engine uses it: its toolbox,
// the sessions its commands run in, where to log, and the keep-alive.
type Remote struct {
	TB   *toolbox.Client
	Pool *Pool
	Log  *slog.Logger
	// Hold, if set, registers a command running in the sandbox with the
	// keep-alive; the function it returns unregisters it.
	Hold func() (release func())
	// Times, if set, replace the package's SyncWindow, KillAttempt and
	// KillBudget for this remote's commands (tests).
	Times Times
}

// Times are how long a synchronous request may wait for a command, how
// long one try of a kill may take and how long a kill keeps trying; a
// zero field is the package's SyncWindow, KillAttempt or KillBudget.
type Times struct {
	SyncWindow, KillAttempt, KillBudget time.Duration
}

// times returns r's times, with the package's for the zero fields.
func (r *Remote) times() Times {
	t := r.Times
	if t.SyncWindow <= 0 {
		t.SyncWindow = SyncWindow
	}
	if t.KillAttempt <= 0 {
		t.KillAttempt = KillAttempt
	}
	if t.KillBudget <= 0 {
		t.KillBudget = KillBudget
	}
	return t
}

// hold registers a command with the keep-alive.
func (r *Remote) hold() (release func()) {
	if r.Hold == nil {
		return func() {}
	}
	return r.Hold()
}

// classify returns a *apierr.NotStarted for a toolbox error that came
// before a command started and that a fresh try may not meet (see
// apierr.Classify); anything else is returned wrapped as a failure of op.
func classify(op string, err error) error {
	if ns := apierr.Classify(err); ns != nil {
		return ns
	}
	return fault.Wrap(op, err)
}
