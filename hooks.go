package daytona

import (
	"context"
	"runtime/debug"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/mount"
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
// sb is a view of the Sandbox bound to the sandbox being started: while
// the hook runs, its calls (ExecuteCommand, Filesystem, Processes, Mount,
// GetInfo, ...) work on that sandbox at once, whatever context they are
// given, and Stop and Destroy return an error matching ErrInvalidInput.
// Calls on the Sandbox itself (a variable the hook captured, another
// goroutine) wait for the start to end, as anyone else's do. ctx ends when
// no caller waits for the start any more, or after
// DefaultStartHookTimeout. A panic in the hook is turned into its error.
type StartHook func(ctx context.Context, sb *Sandbox, created bool) error

// StopHook is called by Stop (WithOnStop) or Destroy (WithOnDestroy)
// while the sandbox still runs, before it is stopped or deleted: the place
// to save work or flush logs. It runs once per run of the sandbox, and
// only if the sandbox runs; a sandbox that is not running is stopped or
// deleted without it. Its ctx is the caller's, and sb is bound to the
// running sandbox as a StartHook's is. If it fails, Stop (or Destroy)
// returns its error and leaves the sandbox running; a later Stop (or
// Destroy) then goes ahead without calling it again. If ctx ends before
// it returns, Stop (or Destroy) returns then, and a later call waits for
// it again.
type StopHook func(ctx context.Context, sb *Sandbox) error

// DefaultStartHookTimeout bounds the work done at each start after the
// remote sandbox runs: restoring mounts and the start hook.
const DefaultStartHookTimeout = 30 * time.Minute

// afterStart runs, inside a start, what must happen before anyone else
// uses the sandbox: the mounts are made again, then the start hook runs
// (with created true for a sandbox this start created, or one created by
// an earlier start whose start work failed), on a view bound to r. The
// other callers of the start wait for it. On failure the remote sandbox is
// left running, its Daytona id kept for the next start, and the error is a
// *StartHookError.
func (s *Sandbox) afterStart(ctx context.Context, r *remote, created bool) error {
	s.svc().mu.Lock()
	created = created || s.svc().unprovisioned
	mounts := append([]mount.Entry(nil), s.mountTableLocked()...)
	s.svc().mu.Unlock()
	if len(mounts) == 0 && s.cfg.onStart == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultStartHookTimeout)
	defer cancel()
	failed, err := s.restoreMounts(ctx, r, mounts)
	if err == nil && s.cfg.onStart != nil {
		v, unbind := s.view(r, "start hook")
		err = callHook("start hook", func() error { return s.cfg.onStart(ctx, v, created) })
		unbind()
	}
	s.svc().mu.Lock()
	s.svc().unprovisioned = err != nil && created
	s.svc().mu.Unlock()
	if err == nil {
		return nil
	}
	r.Pool.Close()
	s.mu.Lock()
	s.daytonaID = r.TB.ID()
	s.mu.Unlock()
	return &StartHookError{DaytonaID: r.TB.ID(), Created: created, Mount: failed, Err: err}
}

// beforeEnd is called first by Stop and Destroy (what is "Stop" or
// "Destroy"): it checks the call (see check), refuses one from a hook's
// view, then runs the hook once for the running remote sandbox, on a view
// bound to it. Concurrent callers share its outcome; later ones go ahead.
// It returns when ctx ends, the hook going on.
func (s *Sandbox) beforeEnd(ctx context.Context, what string) error {
	if err := s.check(ctx, what); err != nil {
		return err
	}
	hook := s.cfg.onStop
	if what == "Destroy" {
		hook = s.cfg.onDestroy
	}
	if _, ok := s.bound(); ok {
		return invalid("%s called from within a start, stop or destroy hook (this is the %s's Sandbox): it would wait for itself", what, s.hook.what)
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
	fl, seen := s.svc().ending.ran[what]
	if !seen {
		fl = newFlight()
		s.svc().ending.ran[what] = fl
		go s.runEndHook(ctx, what, hook, r, fl)
	}
	s.svc().mu.Unlock()
	if seen {
		select {
		case <-fl.done:
			return nil // an earlier call ran it: go ahead
		default: // a concurrent call runs it: share its outcome
		}
	}
	select {
	case <-fl.done:
		return fl.err
	case <-ctx.Done():
		return fault.Errorf("%s: the %s hook had not returned when the context ended: %w", what, strings.ToLower(what), ctx.Err())
	}
}

// runEndHook runs a stop or destroy hook on a view bound to r, and
// records its outcome in fl.
func (s *Sandbox) runEndHook(ctx context.Context, what string, hook func(context.Context, *Sandbox) error, r *remote, fl *flight) {
	name := strings.ToLower(what) + " hook"
	v, unbind := s.view(r, name)
	err := callHook(name, func() error { return hook(ctx, v) })
	unbind()
	if err != nil {
		err = fault.Errorf("%s: the %s failed (the sandbox was left running; calling %s again goes ahead without it): %w", what, name, what, err)
	}
	fl.err = err
	close(fl.done)
}

// callHook calls a user's hook, turning a panic into an error.
func callHook(what string, hook func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fault.Errorf("%s panicked: %v\n%s", what, v, debug.Stack())
		}
	}()
	return hook()
}
