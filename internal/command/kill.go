package command

import (
	"context"
	"net/http"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/retry"
)

// Killing a command deletes its session. A delete that failed for a reason
// that may pass (a 5xx or 429, no answer, or an answer slower than
// KillAttempt) is tried again, with a growing pause, until KillBudget has
// passed: only then is the command reported as possibly still running.
// The daemon's delete waits up to its grace period (5 s by default:
// DAYTONA_TERMINATION_GRACE_PERIOD, apps/daemon/cmd/daemon/config/config.go:23
// and pkg/session/delete.go:45-69 at v0.190.0) for the processes to end
// before it answers, so one try may take that long.
var (
	KillAttempt = 10 * time.Second
	KillBudget  = 30 * time.Second
)

// killPause paces the tries of a kill.
func killPause() retry.Backoff {
	return retry.Backoff{Next: 250 * time.Millisecond, Max: 2 * time.Second}
}

// remove deletes a session now, which kills its processes, trying again
// as the comment above says, within times (KillAttempt, KillBudget).
// removed reports that the daemon deleted it; a session it no longer
// knows gives false and no error, unless an earlier try failed: that try
// deleted it then (only this package deletes its sessions, and a restart
// of the sandbox ends their processes too).
func (p *Pool) remove(ctx context.Context, sess *session, times Times) (removed bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, times.KillBudget)
	defer cancel()
	pause := killPause()
	for tries := 1; ; tries++ {
		actx, acancel := context.WithTimeout(ctx, times.KillAttempt)
		removed, err = p.tb.DeleteSession(actx, sess.id)
		acancel()
		switch {
		case err == nil && !removed && tries > 1:
			return true, nil
		case err == nil || !killRetryable(err):
			return removed, err
		}
		p.log.Debug("could not delete the command's session; trying again", "session", sess.id, "try", tries, "err", err)
		if pause.Wait(ctx) != nil {
			return false, err
		}
	}
}

// killRetryable reports a failed delete that may work next time: a 5xx,
// transient trouble (apierr.Transient: 429, no answer, the runner out of
// reach), or a try cut off by KillAttempt.
func killRetryable(err error) bool {
	return apierr.StatusCode(err) >= http.StatusInternalServerError || apierr.Transient(err)
}
