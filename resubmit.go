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

// resubmitOnce runs attempt on the running remote sandbox (starting it
// if needed), and runs it again only when it failed with a
// *apierr.NotStarted error, so that nothing that may have started is ever
// run twice: after the runner was unreachable or the session lost (see
// retryOn), and once after restarting (or recreating) the sandbox the way
// Start does, when it was not running, unless ctx has ended. On a hook's
// view the sandbox is not restarted: its hook runs inside that start.
func resubmitOnce[T any](ctx context.Context, s *Sandbox, op string, attempt func(r *remote) (T, error)) (T, error) {
	var zero T
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return zero, err
	}
	_, bound := s.bound()
	for restarted := false; ; restarted = true {
		v, err := retryOn(ctx, r, op, func() (T, error) { return attempt(r) })
		var notRun *apierr.NotStarted
		if !errors.As(err, &notRun) {
			return v, err
		}
		if !notRun.Dead || restarted || bound || ctx.Err() != nil {
			return zero, fault.WrapCtx(ctx, op, notRun.Err)
		}
		s.log.Debug("sandbox is not running; restarting it and trying once more", "op", op, "err", notRun.Err)
		if r, err = s.recoverDead(ctx, r, op); err != nil {
			return zero, err
		}
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
