package daytona

// Trying again after a dead sandbox: the one safe retry of a request that
// found the sandbox stopped or deleted behind this package's back, or its
// session lost, and nothing else.

import (
	"context"
	"errors"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/workspace"
)

// exec runs p on the sandbox, starting it if needed, and submits it once
// more only as resubmitOnce allows; errors are failures of op.
func (s *Sandbox) exec(ctx context.Context, op string, p *command.Plan) (*workspace.CommandResult, error) {
	return resubmitOnce(ctx, s, op, func(r *remote) (*workspace.CommandResult, error) {
		return command.Exec(ctx, r, p)
	})
}

// resubmitOnce runs attempt on the running remote sandbox, and runs it
// again only when it failed with a *apierr.NotStarted error, so that nothing that
// may have started is ever run twice:
//   - the session was lost: once more in a fresh session, on the same
//     remote (its idle sessions are forgotten);
//   - the sandbox is not running: once more after restarting (or
//     recreating) it the way Start does, unless ctx has ended;
//   - the proxy could not reach the runner: again after a pause, up to
//     apierr.TransientTries times in all.
//
// The first two happen at most once per call.
func resubmitOnce[T any](ctx context.Context, s *Sandbox, op string, attempt func(r *remote) (T, error)) (T, error) {
	var zero T
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return zero, err
	}
	retriedDead, retriedSession := false, false
	pause := apierr.TransientPause()
	for tries := 1; ; tries++ {
		v, err := attempt(r)
		var notRun *apierr.NotStarted
		if !errors.As(err, &notRun) {
			return v, err
		}
		switch {
		case notRun.Transient && tries < apierr.TransientTries:
			s.log.Debug("the runner could not be reached; trying again", "op", op, "err", notRun.Err)
			if pause.Wait(ctx) == nil {
				continue
			}
		case notRun.LostSession && !retriedSession:
			retriedSession = true
			r.Pool.ForgetAll()
			s.log.Debug("session lost; trying again with a new session", "op", op, "err", notRun.Err)
			continue
		case notRun.Dead && !retriedDead && ctx.Err() == nil:
			retriedDead = true
			s.log.Debug("sandbox is not running; restarting it and trying once more", "op", op, "err", notRun.Err)
			if r, err = s.recoverDead(ctx, r, op); err != nil {
				return zero, err
			}
			continue
		}
		return zero, fault.WrapCtx(ctx, op, notRun.Err)
	}
}

// recoverDead confirms with the control plane that r is no longer usable,
// forgets it, and starts the sandbox again (shared with other callers).
func (s *Sandbox) recoverDead(ctx context.Context, r *remote, op string) (*remote, error) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		state, err := c.State(ctx, r.TB.ID())
		switch {
		case err == nil:
			s.log.Debug("control plane reports the sandbox", "daytonaID", r.TB.ID(), "state", state)
		case apierr.NotFound(err):
			s.log.Debug("control plane reports the sandbox gone", "daytonaID", r.TB.ID())
		case ctx.Err() != nil:
			return nil, fault.WrapCtx(ctx, op, err)
		default:
			s.log.Debug("could not confirm the sandbox state", "err", err)
		}
	}
	s.mu.Lock()
	if s.remote == r {
		s.remote = nil
		s.status = workspace.StatusStopped
		r.Pool.Close()
	}
	s.mu.Unlock()
	return s.ensureRunning(ctx)
}
