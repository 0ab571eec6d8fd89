package daytona

import (
	"context"
	"time"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/toolbox"
	"github.com/agentworkspace/daytona/workspace"
)

// Lifecycle limits.
const (
	// startTimeout bounds one start (lookup, create or restart, waits);
	// the start's own work (mounts, start hook) has DefaultStartHookTimeout.
	startTimeout = 5 * time.Minute
	// stopTimeout bounds one stop or destroy.
	stopTimeout = 2 * time.Minute
)

// Start finds or creates the remote sandbox and waits until it runs: it
// reconnects to the sandbox known by its Daytona id or name, restarting it
// if stopped or archived, and creates a new one if there is none (or only a
// dead one). Start is idempotent; concurrent calls share one start, which
// goes on if one caller's ctx ends (its own work, the mounts and the start
// hook, only while some caller still waits for it); a failed start is not
// remembered, so the next call tries again. On the Sandbox a start hook is
// given, while the hook runs, Start returns nil at once.
func (s *Sandbox) Start(ctx context.Context) error {
	if err := s.check(ctx, "Start"); err != nil {
		return err
	}
	_, err := s.ensureRunning(ctx)
	return err
}

// ensureRunning returns the running remote sandbox, starting it if needed;
// on a hook's view, while the hook runs, the remote the hook works on.
func (s *Sandbox) ensureRunning(ctx context.Context) (*remote, error) {
	if r, ok := s.bound(); ok {
		return r, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fault.Wrap("start", err)
	}
	for {
		s.mu.Lock()
		if s.destroyed {
			err := s.notReadyLocked()
			s.mu.Unlock()
			return nil, err
		}
		if s.remote != nil && s.status == workspace.StatusRunning {
			r := s.remote
			s.mu.Unlock()
			return r, nil
		}
		if fl := s.stopping; fl != nil {
			s.mu.Unlock()
			if err := fl.wait(ctx); isContextErr(err) && ctx.Err() != nil {
				return nil, fault.Wrap("start", err)
			}
			continue
		}
		fl := s.starting
		if fl == nil {
			fl = newFlight()
			s.starting = fl
			s.status = workspace.StatusStarting
			s.attempted = true
			go s.runStart(context.WithoutCancel(ctx), fl)
		}
		fl.waiters++
		s.mu.Unlock()
		err := fl.wait(ctx)
		s.leave(fl)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fault.Wrap("start", ctx.Err())
			}
			return nil, err
		}
	}
}

// leave records that a caller no longer waits for the start fl: once none
// does, the start's own work (mounts, the start hook) ends.
func (s *Sandbox) leave(fl *flight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fl.waiters--; fl.waiters == 0 && fl.cancelWork != nil {
		fl.cancelWork()
	}
}

// workContext returns the context of the start fl's own work: it ends
// when no caller waits for the start any more (or the start is over).
func (s *Sandbox) workContext(ctx context.Context, fl *flight) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	fl.cancelWork = cancel
	if fl.waiters == 0 {
		cancel()
	}
	s.mu.Unlock()
	return ctx, cancel
}

// runStart runs one shared start with its own deadline, independent of the
// callers' contexts.
func (s *Sandbox) runStart(ctx context.Context, fl *flight) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	started := time.Now()
	s.log.Debug("starting")
	a, err := s.acquire(ctx)
	var r *remote
	if err == nil {
		r = s.newRemote(a.Toolbox)
		r.Pool.Warm(ctx)
		work, endWork := s.workContext(ctx, fl)
		err = s.afterStart(work, r, a.Created) // mounts, then the start hook (hooks.go)
		endWork()
	}
	err = s.explainRefusedKey(err)
	s.mu.Lock()
	s.starting = nil
	if err != nil {
		s.status = workspace.StatusError
		fl.err = err
		s.log.Debug("start failed", "err", err)
	} else {
		s.remote = r
		s.daytonaID = r.TB.ID()
		s.createdAt = a.CreatedAt
		if a.WorkDir != "" {
			s.workDir = a.WorkDir
		}
		facts := a.Facts
		s.facts = &facts
		if s.cfg.idFromLabel && a.LogicalID != "" {
			s.labelID = a.LogicalID
		}
		s.status = workspace.StatusRunning
		s.log.Debug("running", "daytonaID", r.TB.ID(), "took", time.Since(started))
	}
	s.mu.Unlock()
	close(fl.done)
}

// newRemote makes the remote of the sandbox tb reaches: a pool of sessions
// for its commands, and the keep-alive while they run.
func (s *Sandbox) newRemote(tb *toolbox.Client) *remote {
	r := &remote{TB: tb, Pool: command.NewPool(tb, s.log, &s.bg), Log: s.log, Times: s.cfg.times}
	r.Hold = func() func() { return s.keepAlive(tb.ID()) }
	return r
}

// Stop stops the remote sandbox; its files stay, and a later Start (or
// lazy start) resumes it. An ephemeral sandbox is deleted instead, as
// Daytona does. Stop waits for a start in progress (also Daytona's own
// changes of state, such as its auto-stop), and returns when ctx ends
// if that comes first. It is idempotent: stopping a sandbox that is not
// running, or that Daytona no longer has, succeeds. Other failures are
// returned, but the Sandbox forgets the remote handle either way (its
// Daytona id is kept, for the next start). After Destroy it returns an
// error matching ErrNotReady; on the Sandbox a hook is given, while the
// hook runs, an error matching ErrInvalidInput.
func (s *Sandbox) Stop(ctx context.Context) error {
	if err := s.beforeEnd(ctx, "Stop"); err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.destroyed {
			err := s.notReadyLocked()
			s.mu.Unlock()
			return err
		}
		if fl := s.stopping; fl != nil {
			s.mu.Unlock()
			return fl.wait(ctx)
		}
		if s.waitForLocked(ctx, s.starting) {
			if err := ctx.Err(); err != nil {
				return fault.Wrap("stop", err)
			}
			continue
		}
		r := s.remote
		if r == nil {
			// Nothing runs (never started, already stopped, or a failed
			// start): there is nothing to stop.
			s.status = workspace.StatusStopped
			s.mu.Unlock()
			return nil
		}
		s.remote = nil
		fl := s.launchLocked(&s.stopping, workspace.StatusStopping)
		go s.end(ctx, fl, r, func(ctx context.Context) error { return s.stopRemote(ctx, r) }, func(err error) {
			s.stopping = nil
			if err == nil {
				s.status = workspace.StatusStopped
			}
		})
		return fl.wait(ctx)
	}
}

// Destroy deletes the remote sandbox and everything in it. It returns once
// Daytona has accepted the deletion (the sandbox may still be "destroying"
// for a moment), and waits for a start or stop in progress first; it
// always returns when ctx ends, the deletion going on without it. A
// sandbox that was never started is destroyed without any request; one
// whose start failed is looked up (by Daytona id or name) so that nothing
// created half-way is left behind. Destroy is idempotent and treats "not
// found" as success; other failures are returned, and a later Destroy tries
// again. After Destroy, every operation but Destroy and GetInfo returns an
// error matching ErrNotReady. On the Sandbox a hook is given, while the
// hook runs, it returns an error matching ErrInvalidInput.
func (s *Sandbox) Destroy(ctx context.Context) error {
	if err := s.beforeEnd(ctx, "Destroy"); err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.status == workspace.StatusDestroyed {
			s.mu.Unlock()
			return nil
		}
		if fl := s.destroying; fl != nil {
			s.mu.Unlock()
			return fl.wait(ctx)
		}
		if s.waitForLocked(ctx, s.starting, s.stopping) {
			if err := ctx.Err(); err != nil {
				return fault.Wrap("destroy", err)
			}
			continue
		}
		s.destroyed = true
		r := s.remote
		s.remote = nil
		id := s.daytonaID
		if id == "" {
			id = s.cfg.existingID
		}
		if r == nil && id == "" && !s.attempted {
			// Never started: nothing can exist remotely.
			s.status = workspace.StatusDestroyed
			s.mu.Unlock()
			return nil
		}
		fl := s.launchLocked(&s.destroying, workspace.StatusDestroying)
		go s.end(ctx, fl, r, func(ctx context.Context) error { return s.deleteRemote(ctx, r, id) }, func(err error) {
			s.destroying = nil
			if err == nil {
				s.status = workspace.StatusDestroyed
				s.daytonaID = ""
			}
		})
		return fl.wait(ctx)
	}
}

// launchLocked is called with s.mu held: it records a new flight in *slot,
// sets status and unlocks s.mu.
func (s *Sandbox) launchLocked(slot **flight, status workspace.Status) *flight {
	fl := newFlight()
	*slot = fl
	s.status = status
	s.mu.Unlock()
	return fl
}

// waitForLocked is called with s.mu held. If one of flights is in
// progress, it unlocks s.mu, waits for that flight (or ctx) and returns
// true: the caller looks at the state again. Otherwise it returns false
// with s.mu still held.
func (s *Sandbox) waitForLocked(ctx context.Context, flights ...*flight) bool {
	for _, fl := range flights {
		if fl != nil {
			s.mu.Unlock()
			_ = fl.wait(ctx)
			return true
		}
	}
	return false
}

// end is the part of Stop and Destroy that runs on its own, with its own
// deadline: it ends r's processes and session pool (if r is set), waits
// for background upkeep, then calls final (stop or delete the remote
// sandbox). settle records the outcome, with s.mu held; a failure also
// sets StatusError. Then fl is done.
func (s *Sandbox) end(ctx context.Context, fl *flight, r *remote, final func(context.Context) error, settle func(err error)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if r != nil {
		s.procs.endAll(r)
		r.Pool.Close()
	}
	s.bg.Wait(ctx)
	err := s.explainRefusedKey(final(ctx))
	s.mu.Lock()
	settle(err)
	if err != nil {
		s.status = workspace.StatusError
		fl.err = err
	}
	s.mu.Unlock()
	close(fl.done)
}

// SetAutoStopInterval changes how long the sandbox may stay idle before
// Daytona stops it (0 disables auto-stop), starting the sandbox if needed.
// Whole minutes only; a negative or fractional value is an error matching
// ErrInvalidInput, before any request. The interval lasts for the remote
// sandbox's life, beyond this Sandbox value.
func (s *Sandbox) SetAutoStopInterval(ctx context.Context, d time.Duration) error {
	if err := s.check(ctx, "SetAutoStopInterval"); err != nil {
		return err
	}
	if err := checkMinutes("SetAutoStopInterval", d); err != nil {
		return invalidErr(err)
	}
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.SetAutoStop(ctx, r.TB.ID(), int(d/time.Minute)); err != nil {
		return fault.WrapCtx(ctx, "set the auto-stop interval of sandbox "+r.TB.ID(), err)
	}
	s.log.Debug("auto-stop interval set", "daytonaID", r.TB.ID(), "interval", d)
	return nil
}
