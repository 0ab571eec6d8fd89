package command

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

// run is one command in flight in a session of a running remote sandbox:
// what ExecuteCommand and a Process need to submit it, follow its log,
// kill it and recover from a lost stream. It is used by one goroutine at a
// time.
type run struct {
	remote  *Remote
	sess    *session
	p       *Plan
	out     *output
	op      string    // "execute command", or "process <pid>"
	token   string    // the completion marker
	script  string    // the text submitted to the session
	cmdID   string    // the daemon's id of the command, once known
	started time.Time // when it was submitted
}

// newRun prepares p to run in sess of r, with a fresh completion marker.
// The script leaves the runner's definition out once the session's shell
// has it (see shell.Spec.Defined).
func newRun(r *Remote, sess *session, p *Plan) *run {
	token := newToken()
	spec := p.Spec
	spec.Marker = token
	spec.Defined = sess.defined
	return &run{
		remote: r, sess: sess, p: p, token: token,
		out:     newOutput(token, p.Stdout, p.Stderr, p.Retain),
		op:      "execute command",
		script:  spec.Script(),
		started: time.Now(),
	}
}

// resetOutput forgets the output parsed so far, to read the command's log
// again from its first byte. Only the synchronous path, which has no
// writers, does that.
func (rn *run) resetOutput() {
	rn.out = newOutput(rn.token, rn.p.Stdout, rn.p.Stderr, rn.p.Retain)
}

// result builds the command's result with the given exit code from the
// output retained so far.
func (rn *run) result(exitCode int) *workspace.CommandResult {
	res := &workspace.CommandResult{
		Command:  rn.p.Command,
		Args:     rn.p.Args,
		ExitCode: exitCode,
		Duration: time.Since(rn.started),
	}
	rn.out.fill(res)
	return res
}

// finished builds the result of a command that ended on its own with the
// given exit code. A sandbox without bash ran nothing: that is an error.
func (rn *run) finished(code int) (*workspace.CommandResult, error) {
	rn.out.flush()
	res := rn.result(code)
	if rn.out.mode() == stream.ModeNoBash {
		return res, fault.Errorf("%s: %s: %w", rn.op, shell.NoBashMessage, workspace.ErrUnsupported)
	}
	return res, nil
}

// submitAsync submits the command asynchronously and records its id.
func (rn *run) submitAsync(ctx context.Context) (err error) {
	rn.cmdID, err = rn.remote.TB.Submit(ctx, rn.sess.id, rn.script)
	return err
}

// findCommand looks up the id of the command running rn.script in its
// session, if the daemon knows it.
func (rn *run) findCommand(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return rn.remote.TB.FindCommand(ctx, rn.sess.id, rn.script)
}

// recoverSubmitted handles a submission that failed in a way that does not
// prove the command never started (an answer after the daemon took it, a
// broken connection): if the daemon knows the command, its log is followed
// to the end (it is never submitted again); if not, it never started, and
// the session, which may be in any state, is deleted.
func (rn *run) recoverSubmitted(ctx context.Context, cause error) (*workspace.CommandResult, error) {
	if rn.cmdID = rn.findCommand(ctx); rn.cmdID != "" {
		rn.log().Debug("the daemon has the command although its submission failed; following it", "session", rn.sess.id, "err", cause)
		return rn.await(ctx)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = rn.remote.Pool.remove(cctx, rn.sess, rn.remote.times())
	return nil, fault.WrapCtx(ctx, rn.op, cause)
}

// release returns the session of a command that finished to the pool:
// its shell has the runner now. A session whose shell the command killed
// is deleted instead.
func (rn *run) release() {
	switch rn.out.mode() {
	case stream.ModeFiles, stream.ModeRaw:
		rn.sess.defined = true
	}
	if rn.out.shellGone() {
		rn.log().Debug("the command killed its session's shell; deleting the session", "session", rn.sess.id)
		rn.remote.Pool.deleteLater(rn.sess)
		return
	}
	if shell.MayBackground(rn.p.Command) {
		// A background job may still hold the command's output, and the
		// daemon runs nothing else in the session until it lets go: reuse
		// the session only once that is known.
		rn.remote.Pool.putWhenDone(rn.sess, rn.cmdID)
		return
	}
	rn.remote.Pool.put(rn.sess)
}

// await follows the submitted command's log until its completion marker,
// the timeout (counted from rn.started), or the end of ctx, and builds the
// result.
func (rn *run) await(ctx context.Context) (*workspace.CommandResult, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if rn.p.Timeout > 0 {
		t := time.AfterFunc(rn.p.Timeout-time.Since(rn.started), cancel)
		defer t.Stop()
	}
	code, done, lastErr := rn.follow(runCtx)
	if done {
		return rn.complete(ctx, runCtx, code)
	}
	if runCtx.Err() != nil || rn.out.werr != nil {
		// Timeout, cancellation (endKilled tells them apart by ctx) or a
		// failed writer.
		return rn.endKilled(ctx)
	}
	// The stream ended without a marker: find out what happened.
	return rn.lost(ctx, lastErr)
}

// complete finishes a command whose markers arrived: the output that
// stayed in its files is read (all of it for the writers, else what the
// result keeps), the files are removed, and its session is released. If
// runCtx ends meanwhile (the timeout, or ctx), the command has ended
// anyway: it is reported finished, with ctx's error if ctx ended.
func (rn *run) complete(ctx, runCtx context.Context, code int) (*workspace.CommandResult, error) {
	if err := rn.undefined(); err != nil {
		return nil, err
	}
	err := rn.collect(runCtx, false)
	rn.removeFiles(false)
	rn.release()
	res, ferr := rn.finished(code)
	switch {
	case rn.out.werr != nil:
		err = fault.Errorf("%s: output writer: %w", rn.op, rn.out.werr)
	case ctx.Err() != nil:
		err = fault.Wrap(rn.op, ctx.Err())
	case runCtx.Err() != nil:
		err = fault.Errorf("%s: timed out after %v while reading its output: %w", rn.op, rn.p.Timeout, ErrOutputIncomplete)
	case err != nil:
		err = fault.Errorf("%s: %w", rn.op, err)
	}
	return res, joinErrs(err, ferr)
}

// kill deletes the command's session, which kills its process tree, after
// reading what its log and its files hold beyond what was delivered (the
// log may show that it has just finished: then it is not killed). killed
// reports that the daemon deleted the session; a session already gone
// gives false and no error. A failed delete is tried again for a while
// (see KillBudget).
func (rn *run) kill(ctx context.Context) (killed bool, err error) {
	cancelled := ctx.Err() != nil
	ctx = context.WithoutCancel(ctx)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = rn.readRest(cctx)
	if _, ok := rn.out.done(); ok {
		rn.removeFiles(true) // what stayed in them is not read now
		return false, nil
	}
	if !cancelled {
		// Timed out, or lost: what it printed is worth the wait.
		rn.readLeft(cctx, false)
	} else {
		// Cancelled: the kill comes first, after a short look at what the
		// result keeps of streams no writer follows (their files go with
		// the session).
		lctx, lcancel := context.WithTimeout(cctx, cancelReadMax)
		rn.readLeft(lctx, true)
		lcancel()
	}
	defer rn.removeFiles(true)
	killed, err = rn.remote.Pool.remove(ctx, rn.sess, rn.remote.times()) // bounded by KillBudget
	if err != nil {
		rn.log().Warn("could not kill the command's session", "session", rn.sess.id, "err", err)
		err = fault.Wrap("kill the command's session "+rn.sess.id, err)
	}
	rn.out.flush()
	return killed, err
}

// endKilled ends a command that timed out, was cancelled or whose writer
// failed, and builds its result. The command is reported killed (137, or
// 124 and TimedOut after the timeout) only when the kill succeeded;
// otherwise its exit code is unknown and the error says it may still run.
// The error is a failed writer's, or the caller's context error, or (after
// a timeout) nil.
func (rn *run) endKilled(ctx context.Context) (*workspace.CommandResult, error) {
	killed, kerr := rn.kill(ctx)
	var cause error
	switch {
	case rn.out.werr != nil:
		cause = fault.Errorf("%s: output writer: %w", rn.op, rn.out.werr)
	case ctx.Err() != nil:
		cause = fault.Wrap(rn.op, ctx.Err())
	}
	if code, ok := rn.out.done(); ok {
		// It finished just before it would have been killed.
		res, err := rn.finished(code)
		return res, joinErrs(cause, err)
	}
	if !killed {
		if kerr == nil {
			kerr = errors.New("its session was already gone")
		}
		res := rn.result(ExitUnknown)
		if cause == nil {
			cause = fault.Errorf("%s: timed out after %v", rn.op, rn.p.Timeout)
		}
		return res, fault.Errorf("%w, and the command could not be killed (it may still run): %w", cause, kerr)
	}
	res := rn.result(ExitKilled)
	res.Killed = true
	if cause != nil {
		return res, cause
	}
	res.ExitCode = ExitTimeout
	res.TimedOut = true
	if res.Stderr == "" {
		res.Stderr = "Command timed out after " + rn.p.Timeout.String()
	}
	return res, nil
}

// lost handles a follow stream that ended, or could not be opened, before
// the marker: the command may have run, so it is never submitted again.
// What the log holds is read; a command that ended without a marker (it
// was killed by a signal, or its shell misbehaved) reports the exit code
// the daemon recorded; one that can no longer be followed is killed.
func (rn *run) lost(ctx context.Context, cause error) (*workspace.CommandResult, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rn.readRest(cctx); err == nil {
		if code, ok := rn.out.done(); ok {
			err := rn.collect(cctx, false)
			rn.removeFiles(false)
			res, ferr := rn.finished(code)
			if err != nil {
				err = fault.Errorf("%s: %w", rn.op, err)
			}
			return res, joinErrs(err, ferr)
		}
	}
	if code, ok := rn.exitCode(cctx); ok {
		// It ended without its marker (its runner was killed): what its
		// files hold is all there is.
		rn.readLeft(cctx, false)
		rn.removeFiles(true)
		return rn.finished(code)
	}
	if cause == nil || errors.Is(cause, io.EOF) {
		cause = errors.New("the command's log stream ended before the command finished (was its session deleted?)")
	}
	killed, kerr := rn.kill(ctx)
	rn.out.flush()
	res := rn.result(ExitUnknown)
	err := fault.WrapCtx(ctx, rn.op, cause)
	switch {
	case killed:
		res.ExitCode, res.Killed = ExitKilled, true
		err = fault.Errorf("%w; the command could not be followed, so it was killed", err)
	case kerr != nil:
		err = fault.Errorf("%w, and the command could not be killed (it may still run): %w", err, kerr)
	}
	return res, err
}

// exitCode asks the daemon for the command's recorded exit code.
func (rn *run) exitCode(ctx context.Context) (int, bool) {
	if rn.cmdID == "" {
		return 0, false
	}
	code, ok, err := rn.remote.TB.ExitCode(ctx, rn.sess.id, rn.cmdID)
	return code, ok && err == nil
}

// joinErrs joins two errors of a command's end, either of which may be
// nil.
func joinErrs(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return fault.Errorf("%w; %w", a, b)
}

// log returns the logger of the command's sandbox.
func (rn *run) log() *slog.Logger { return rn.remote.Log }
