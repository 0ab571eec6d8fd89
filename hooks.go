package daytona

import (
	"context"
	"errors"
	"strings"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/workspace"
)

// StartHook is called after each start of the remote sandbox (the first
// command's lazy start, Start, the restart after Stop or after Daytona's
// auto-stop), before the sandbox serves anyone else: the place to clone a
// repository or install dependencies. created is true when this start
// created the remote sandbox, false when it reconnected to an existing one
// (or restarted it); a sandbox created by a start whose hook failed counts
// as created until the hook succeeds.
//
// Use ctx (or a context derived from it) for the calls the hook makes on
// sb: they reach the sandbox being started, while other calls wait until
// the hook has returned. ctx ends after DefaultStartHookTimeout. The hook
// must not call Stop or Destroy (they return an error); a panic in it is
// turned into its error.
type StartHook func(ctx context.Context, sb *Sandbox, created bool) error

// StopHook is called by Stop (WithOnStop) or Destroy (WithOnDestroy)
// while the sandbox still runs, before it is stopped or deleted: the place
// to save work or flush logs. It runs once per run of the sandbox, and
// only if the sandbox runs; a sandbox that is not running is stopped or
// deleted without it. Its ctx is the caller's. If it fails, Stop (or
// Destroy) returns its error and leaves the sandbox running; a later Stop
// (or Destroy) then goes ahead without calling it again. It must not call
// Stop or Destroy.
type StopHook func(ctx context.Context, sb *Sandbox) error

// WithOnStart sets the hook called after each start (see StartHook): its
// error fails the start, with a *StartHookError.
func WithOnStart(hook StartHook) Option {
	return hookOption("WithOnStart", hook == nil, func(c *config) { c.onStart = hook })
}

// WithOnStop sets the hook Stop calls before stopping a running sandbox
// (see StopHook).
func WithOnStop(hook StopHook) Option {
	return hookOption("WithOnStop", hook == nil, func(c *config) { c.onStop = hook })
}

// WithOnDestroy sets the hook Destroy calls before deleting a running
// sandbox (see StopHook).
func WithOnDestroy(hook StopHook) Option {
	return hookOption("WithOnDestroy", hook == nil, func(c *config) { c.onDestroy = hook })
}

// hookOption returns an option that refuses a nil hook, else sets it.
func hookOption(name string, isNil bool, set func(*config)) Option {
	return func(c *config) error {
		if isNil {
			return errors.New(name + ": nil hook")
		}
		set(c)
		return nil
	}
}

// StartHookError is the error of a start whose own work failed once the
// remote sandbox ran: the restoration of a mount (Mount names it) or the
// start hook. The remote sandbox is left running; the next start
// reconnects to it and does the work again (the hook with created true
// again if this start had created it). Destroy deletes it.
type StartHookError struct {
	DaytonaID string // the remote sandbox, left running
	Created   bool   // the start work was for a sandbox created by this (or an earlier failed) start
	Mount     string // the mount path whose restoration failed; "" when the start hook failed
	Err       error  // what went wrong
}

// Error says what failed, and that the sandbox was left running.
func (e *StartHookError) Error() string {
	what := "the start hook failed"
	if e.Mount != "" {
		what = "mounting " + e.Mount + " failed"
	}
	state := "the existing sandbox " + e.DaytonaID + " was left running; the next start runs the start work again"
	if e.Created {
		state = "the sandbox " + e.DaytonaID + ", created for it, was left running; the next start runs the start work again with created=true, Destroy deletes it"
	}
	return fault.Errorf("start: %s (%s): %v", what, state, e.Err).Error()
}

// Unwrap returns the hook's or the mount's error.
func (e *StartHookError) Unwrap() error { return e.Err }

// endKey marks the context of a stop or destroy hook, so that a Stop or
// Destroy it calls is refused rather than waiting for itself.
type endKey struct{}

// endHooks records the stop and destroy hooks run for one remote.
type endHooks struct {
	r   *remote
	ran map[string]*flight // by caller ("Stop", "Destroy")
}

// beforeEnd is called first by Stop and Destroy (what is "Stop" or
// "Destroy"): it checks the call (see check), refuses one from within a
// hook, then runs the hook once for the running remote sandbox. Concurrent
// callers share its outcome; later ones go ahead.
func (s *Sandbox) beforeEnd(ctx context.Context, what string, hook StopHook) error {
	if err := s.check(ctx, what); err != nil {
		return err
	}
	if s.startingRemote(ctx) != nil || ctx.Value(endKey{}) == s {
		return invalid("%s called from within a start, stop or destroy hook: it would wait for itself", what)
	}
	s.mu.Lock()
	r := s.remote
	running := r != nil && s.status == workspace.StatusRunning && !s.destroyed
	s.mu.Unlock()
	if hook == nil || !running {
		return nil
	}
	s.svc().mu.Lock()
	if s.svc().ending.r != r {
		s.svc().ending = endHooks{r: r, ran: map[string]*flight{}}
	}
	f, seen := s.svc().ending.ran[what]
	if !seen {
		f = &flight{done: make(chan struct{})}
		s.svc().ending.ran[what] = f
	}
	s.svc().mu.Unlock()
	if seen {
		select {
		case <-f.done:
			return nil // an earlier call ran it: go ahead
		default:
			return f.wait(ctx) // a concurrent call runs it: share its outcome
		}
	}
	name := strings.ToLower(what) + " hook"
	f.err = callHook(name, func() error { return hook(context.WithValue(ctx, endKey{}, s), s) })
	if f.err != nil {
		f.err = fault.Errorf("%s: the %s failed (the sandbox was left running; calling %s again goes ahead without it): %w", what, name, what, f.err)
	}
	close(f.done)
	return f.err
}
