package command

import (
	"context"
	"errors"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/internal/toolbox"
	"github.com/agentworkspace/daytona/workspace"
)

// SyncWindow is how long a synchronous request may wait for a command; a
// command still running after it is followed through its log instead, so
// that no request stays open long enough for a proxy to cut it (a
// variable for tests).
var SyncWindow = 50 * time.Second

// Exec runs p once in a session of r and waits for it (see
// daytona.Sandbox.ExecuteCommand for the outcomes). An error that proves
// the command never started is a *apierr.NotStarted, for the caller to
// decide about another try; any other error means it may have run.
func Exec(ctx context.Context, r *Remote, p *Plan) (*workspace.CommandResult, error) {
	defer r.hold()()
	sess, err := r.Pool.get(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fault.WrapCtx(ctx, "execute command", err)
		}
		return nil, classify("execute command", err)
	}
	rn := newRun(r, sess, p)
	if p.Streaming {
		return rn.execStreaming(ctx)
	}
	return rn.execSync(ctx)
}

// execStreaming submits the command asynchronously and follows its log,
// returning as soon as the completion marker has arrived on both streams.
func (rn *run) execStreaming(ctx context.Context) (*workspace.CommandResult, error) {
	err := rn.submitAsync(ctx)
	switch {
	case err == nil:
		return rn.await(ctx)
	case ctx.Err() != nil:
		// It may have been submitted: make sure it does not run on.
		rn.cmdID = rn.findCommand(ctx)
		return rn.endKilled(ctx)
	}
	if cerr := classify(rn.op, err); apierr.IsNotStarted(cerr) {
		return nil, rn.notStarted(cerr)
	}
	return rn.recoverSubmitted(ctx, err)
}

// notStarted returns err, a *apierr.NotStarted of the command's
// submission; a session whose shell has died is deleted (in the
// background) rather than used again.
func (rn *run) notStarted(err error) error {
	var ns *apierr.NotStarted
	if errors.As(err, &ns) && ns.ShellDead {
		rn.remote.Pool.deleteLater(rn.sess)
	}
	return err
}

// undefined returns a *apierr.NotStarted for a command that did not run
// because its session's shell had no runner (which a script leaves out
// once the shell has one: see shell.Spec.Defined), after returning the
// session to the pool to be given the runner again; else nil.
func (rn *run) undefined() error {
	if rn.out.mode() != stream.ModeUndefined {
		return nil
	}
	rn.sess.defined = false
	rn.remote.Pool.put(rn.sess)
	return &apierr.NotStarted{Err: errors.New("the session's shell had no runner"), ShellDead: true}
}

// execSync runs the command with one synchronous request, which answers
// with the exit code and both streams once the command has finished (read
// as they arrive). A command still running after the sync window is followed
// through its log.
func (rn *run) execSync(ctx context.Context) (*workspace.CommandResult, error) {
	window := rn.remote.times().SyncWindow
	if rn.p.Timeout > 0 && rn.p.Timeout < window {
		window = rn.p.Timeout
	}
	callCtx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	ans, err := rn.remote.TB.ExecSync(callCtx, rn.sess.id, rn.script, rn.out)
	switch {
	case err == nil:
		return rn.syncResult(ctx, ans)
	case callCtx.Err() != nil:
		return rn.outlivedSync(ctx)
	case errors.Is(err, toolbox.ErrAnswerCut):
		// The command finished, but its answer broke off: read its log
		// again from the start.
		rn.log().Debug("the answer to a command broke off; reading its log", "err", err)
		rn.cmdID = ans.CmdID
		if rn.cmdID == "" {
			rn.cmdID = rn.findCommand(ctx)
		}
		rn.resetOutput()
		return rn.await(ctx)
	case ans != nil:
		return nil, fault.Wrap(rn.op, err) // the output failed, not the answer
	}
	if cerr := classify(rn.op, err); apierr.IsNotStarted(cerr) {
		return nil, rn.notStarted(cerr)
	}
	// The daemon took the command and then failed (such as its exit-code
	// race), or the connection broke: the command may have run.
	return rn.recoverSubmitted(ctx, err)
}

// syncResult builds the result from a synchronous answer whose output was
// fed already: what the result keeps of the output that stayed in files is
// read. An answer whose output went raw through the log and holds U+FFFD
// may have lost bytes the command printed (the daemon's JSON replaces
// invalid UTF-8): its log is read again from the binary stream. (Output
// that came through the log from files is valid UTF-8, and a U+FFFD in it
// is the command's.)
func (rn *run) syncResult(ctx context.Context, ans *toolbox.SyncAnswer) (*workspace.CommandResult, error) {
	if ans.Replaced && rn.out.mode() != stream.ModeFiles && ans.CmdID != "" {
		rn.cmdID = ans.CmdID
		rn.resetOutput()
		return rn.await(ctx)
	}
	if err := rn.undefined(); err != nil {
		return nil, err
	}
	code, ok := rn.out.done()
	if !ok {
		if ans.ExitCode != nil {
			code = *ans.ExitCode
		}
		// It ended without its marker: what its files hold is all there is.
		rn.readLeft(ctx, false)
		rn.removeFiles(true)
		rn.remote.Pool.put(rn.sess)
		return rn.finished(code)
	}
	err := rn.collect(ctx, true)
	rn.removeFiles(false)
	rn.release()
	res, ferr := rn.finished(code)
	if err != nil {
		err = fault.Errorf("%s: %w", rn.op, err)
	}
	return res, joinErrs(err, ferr)
}

// outlivedSync handles a command whose synchronous request ended before
// it finished: cancelled or timed out, it is killed; otherwise its log is
// followed.
func (rn *run) outlivedSync(ctx context.Context) (*workspace.CommandResult, error) {
	rn.cmdID = rn.findCommand(ctx)
	rn.resetOutput() // what the answer carried so far is read again
	if ctx.Err() != nil || (rn.p.Timeout > 0 && time.Since(rn.started) >= rn.p.Timeout) {
		// Cancelled or timed out: recover what it printed, then kill it.
		return rn.endKilled(ctx)
	}
	if rn.cmdID == "" {
		// Still running, but the daemon cannot tell us which command it is:
		// stop it rather than leave it running unobserved.
		killed, kerr := rn.kill(ctx)
		res := rn.result(ExitUnknown)
		err := &fault.Error{Op: rn.op, Err: errors.New("the command outlived the synchronous request and could not be found in its session")}
		if !killed {
			if kerr == nil {
				kerr = errors.New("its session was gone")
			}
			return res, fault.Errorf("%w, and it could not be killed (it may still run): %w", err, kerr)
		}
		res.ExitCode, res.Killed = ExitKilled, true
		return res, fault.Errorf("%w, so it was killed", err)
	}
	// Still running, with time left: follow its log from the start.
	rn.log().Debug("command outlived the synchronous window; following its log", "session", rn.sess.id, "command", rn.cmdID)
	return rn.await(ctx)
}
