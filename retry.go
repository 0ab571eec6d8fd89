package daytona

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/follow"
	"github.com/agentworkspace/daytona/internal/retry"
)

// Every rule about waiting and trying again lives in this file: how long to
// wait, which errors are worth another try, and the one rule that keeps a
// command from running twice (resubmitOnce).

// Follow streams.
const (
	// maxStreamReconnects bounds how often in a row a broken follow stream
	// is reopened without progress; a stream that delivered bytes before
	// it broke starts a new count.
	maxStreamReconnects = 3
	// streamReconnectStep is the pause before the n-th reopening in a
	// row, times n.
	streamReconnectStep = 50 * time.Millisecond
	// pingInterval is how often an idle follow stream is pinged. The
	// daemon answers pings but sends nothing while a command is silent, and
	// proxies and load balancers cut connections idle for a minute or so.
	pingInterval = 30 * time.Second
	// drainIdle is how long reading the rest of a command's log from its
	// stream waits for more before it takes what it has.
	drainIdle = 300 * time.Millisecond
)

// reopenFollow reports whether a follow stream that ended with err, after
// failures earlier failures in a row, is worth reopening: a network
// failure, an abnormal close, a 5xx or 429 refusal, within the budget.
// Not a normal close (the session was deleted, or the daemon closed it
// after the command ended without a marker), nor a refusal that means the
// session or sandbox is gone (4xx).
func reopenFollow(err error, failures int) bool {
	if failures >= maxStreamReconnects || errors.Is(err, io.EOF) {
		return false
	}
	var he *follow.HandshakeError
	if errors.As(err, &he) {
		return he.StatusCode >= http.StatusInternalServerError || he.StatusCode == http.StatusTooManyRequests
	}
	return true
}

// sessionPollSchedule paces the background polling of a session whose
// command was answered early (by its completion marker), until the daemon
// reports the command's exit code.
var sessionPollSchedule = []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 400 * time.Millisecond, time.Second}

// classify returns a *apierr.NotStarted for a toolbox error that came
// before a command started and that a fresh try may not meet (see
// apierr.Classify); anything else is returned wrapped as a failure of op.
func classify(op string, err error) error {
	if ns := apierr.Classify(err); ns != nil {
		return ns
	}
	return fault.Wrap(op, err)
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
			r.pool.forgetAll()
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

// Waiting for a port: the daemon's in-use check is polled, from
// portPollMin up to portPollMax between checks.
const (
	portPollMin = 50 * time.Millisecond
	portPollMax = time.Second
)

// waitForPort calls check until it reports the port in use, fails, or ctx
// ends (an error matching ctx.Err()).
func waitForPort(ctx context.Context, check func() (bool, error)) error {
	b := retry.Backoff{Next: portPollMin, Max: portPollMax}
	for {
		ok, err := check()
		if err != nil || ok {
			return err
		}
		if err := b.Wait(ctx); err != nil {
			return fault.Wrap("wait for port", err)
		}
	}
}
