package daytona

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/internal/toolbox"
	"github.com/agentworkspace/daytona/workspace"
)

// Exit codes of commands that did not exit on their own, as a shell
// reports them.
const (
	ExitCodeTimeout = 124 // killed after the timeout
	ExitCodeKilled  = 137 // killed (SIGKILL) on cancellation or writer failure
	ExitCodeUnknown = -1  // the command's fate is unknown; an error says why
)

// syncWindow is how long a synchronous request may wait for a command; a
// command still running after it is followed through its log instead, so
// that no request stays open long enough for a proxy to cut it.
var syncWindow = 50 * time.Second

// plan is a validated ExecuteCommand call.
type plan struct {
	command   string
	args      []string
	spec      shell.Spec
	timeout   time.Duration // 0: none
	retain    int           // stream.Tail.Max
	stdout    io.Writer
	stderr    io.Writer
	streaming bool
}

// ExecuteCommand runs command (a shell snippet; args are shell-quoted and
// appended) in the sandbox, starting the sandbox first if needed, and waits
// for it to finish.
//
// The command runs in a subshell with stdin at end of file, in opts.Cwd (or
// the sandbox's default directory), with the sandbox's environment (WithEnv,
// SetEnv) plus opts.Env. Nothing it does to its shell (cd, export, exit)
// reaches later commands.
//
// Output streams to opts.Stdout and opts.Stderr as it arrives, with os/exec
// semantics, and the result keeps up to opts.MaxRetainedBytes of each
// stream. Output is exact: a last line without a newline gets none added.
//
// Outcomes:
//   - the command exits: its exit code, nil error (a non-zero exit is not an
//     error);
//   - the timeout (opts.Timeout, else WithTimeout) expires: the remote
//     process tree is killed and the result has ExitCode 124 and TimedOut,
//     with nil error;
//   - ctx ends: the remote process tree is killed and the partial result
//     (ExitCode 137, Killed) comes with an error matching ctx.Err(); if
//     ctx ended before the command was submitted, the result has ExitCode
//     -1 (ExitCodeUnknown);
//   - a writer fails: the command is killed and the partial result comes
//     with the writer's error;
//   - a kill (after the timeout, ctx or a writer) fails: the result has
//     ExitCode -1, neither Killed nor TimedOut, and the error says the
//     command may still run, with the failed request's *Error;
//   - invalid input: an error matching ErrInvalidInput, before any request;
//   - infrastructure failures: an *Error wrapping the SDK's error (with a
//     result when the command may have run).
//
// A command runs under bash whatever the sandbox's session shell is (zsh
// on Daytona's default image); a sandbox without bash gives an error
// matching workspace.ErrUnsupported. Where perl is present (Debian and
// Ubuntu images have it), output passes through an encoder in the sandbox,
// so that it arrives exact through the daemon (NUL bytes, long lines,
// invalid UTF-8); without perl it arrives as the daemon relays it.
//
// If the sandbox turns out to be stopped or deleted when the command is
// submitted (Daytona's auto-stop, or another client), ExecuteCommand
// restarts or recreates it the way Start does and submits the command once
// more; it never resubmits a command that may have started, and a command
// whose submission failed after the daemon took it is followed to its end.
//
// A nil ctx panics.
func (s *Sandbox) ExecuteCommand(ctx context.Context, command string, args []string, opts *workspace.ExecOptions) (*workspace.CommandResult, error) {
	if err := s.check(ctx, "ExecuteCommand"); err != nil {
		return nil, err
	}
	p, err := s.plan("ExecuteCommand", command, args, opts)
	if err != nil {
		return nil, err
	}
	res, err := resubmitOnce(ctx, s, "execute command", func(r *remote) (*workspace.CommandResult, error) {
		return s.execOnce(ctx, r, p)
	})
	if res == nil && err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// Cancelled before the command was submitted: nothing ran.
		res = &workspace.CommandResult{Command: p.command, Args: p.args, ExitCode: ExitCodeUnknown}
	}
	return res, err
}

// plan validates the call and resolves its settings. It sends nothing.
func (s *Sandbox) plan(op, command string, args []string, opts *workspace.ExecOptions) (*plan, error) {
	if opts == nil {
		opts = &workspace.ExecOptions{}
	}
	env := s.Env()
	for k, v := range opts.Env {
		env[k] = v
	}
	p := &plan{
		command: command,
		args:    append([]string(nil), args...),
		spec:    shell.Spec{Command: command, Args: args, Env: env, Cwd: opts.Cwd, Raw: s.cfg.rawOutput},
		stdout:  opts.Stdout,
		stderr:  opts.Stderr,
	}
	if p.stdout != nil && sameWriter(p.stdout, p.stderr) {
		// One writer for both: merge them where the command runs, so that
		// the writer gets the command's own order (os/exec gives such a
		// command one pipe).
		p.spec.MergeStderr = true
		p.stderr = nil
	}
	if err := p.spec.Validate(); err != nil {
		return nil, invalid("%s: %v", op, err)
	}
	switch {
	case opts.Timeout == 0:
		p.timeout = s.cfg.timeout
	case opts.Timeout == workspace.NoTimeout:
		p.timeout = workspace.NoTimeout
	case opts.Timeout < 0:
		return nil, invalid("%s: negative timeout %v (use workspace.NoTimeout for none)", op, opts.Timeout)
	default:
		p.timeout = opts.Timeout
	}
	if p.timeout == workspace.NoTimeout {
		p.timeout = 0
	}
	switch m := opts.MaxRetainedBytes; {
	case m == 0:
		p.retain = workspace.DefaultMaxRetainedBytes
	case m == workspace.RetainNone:
		p.retain = 0
	case m == workspace.Unlimited:
		p.retain = -1
	case m < 0:
		return nil, invalid("%s: negative MaxRetainedBytes %d (use workspace.RetainNone or workspace.Unlimited)", op, m)
	default:
		p.retain = m
	}
	// One synchronous request when nothing needs streaming (its answer is
	// read as it arrives, so memory does not grow with the output);
	// otherwise an asynchronous command whose log we follow.
	p.streaming = p.stdout != nil || p.stderr != nil || shell.MayBackground(command)
	return p, nil
}

// execOnce runs the command once in a session of r.
func (s *Sandbox) execOnce(ctx context.Context, r *remote, p *plan) (*workspace.CommandResult, error) {
	defer s.keepAlive(r)() // keepalive.go
	sess, err := r.pool.get(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fault.WrapCtx(ctx, "execute command", err)
		}
		return nil, classify("execute command", err)
	}
	c := s.newRun(r, sess, p)
	if p.streaming {
		return c.execStreaming(ctx)
	}
	return c.execSync(ctx)
}

// execStreaming submits the command asynchronously and follows its log,
// returning as soon as the completion marker has arrived on both streams.
func (c *run) execStreaming(ctx context.Context) (*workspace.CommandResult, error) {
	err := c.submitAsync(ctx)
	switch {
	case err == nil:
		return c.await(ctx)
	case ctx.Err() != nil:
		// It may have been submitted: make sure it does not run on.
		c.cmdID = c.findCommand(ctx)
		return c.endKilled(ctx)
	}
	if cerr := classify(c.op, err); apierr.IsNotStarted(cerr) {
		return nil, cerr
	}
	return c.recoverSubmitted(ctx, err)
}

// execSync runs the command with one synchronous request, which answers
// with the exit code and both streams once the command has finished (read
// as they arrive). A command still running after syncWindow is followed
// through its log.
func (c *run) execSync(ctx context.Context) (*workspace.CommandResult, error) {
	window := syncWindow
	if c.p.timeout > 0 && c.p.timeout < window {
		window = c.p.timeout
	}
	callCtx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	ans, err := c.r.tb.ExecSync(callCtx, c.sess.id, c.script, c.out)
	switch {
	case err == nil:
		return c.syncResult(ctx, ans)
	case callCtx.Err() != nil:
		return c.outlivedSync(ctx)
	case errors.Is(err, toolbox.ErrAnswerCut):
		// The command finished, but its answer broke off: read its log
		// again from the start.
		c.s.log.Debug("the answer to a command broke off; reading its log", "err", err)
		c.cmdID = ans.CmdID
		if c.cmdID == "" {
			c.cmdID = c.findCommand(ctx)
		}
		c.resetOutput()
		return c.await(ctx)
	case ans != nil:
		return nil, fault.Wrap(c.op, err) // the output failed, not the answer
	}
	if cerr := classify(c.op, err); apierr.IsNotStarted(cerr) {
		return nil, cerr
	}
	// The daemon took the command and then failed (such as its exit-code
	// race), or the connection broke: the command may have run.
	return c.recoverSubmitted(ctx, err)
}

// syncResult builds the result from a synchronous answer whose output was
// fed already. An answer that was not framed and holds U+FFFD may have lost
// bytes the command printed (the daemon's JSON replaces invalid UTF-8): its
// log is read again from the binary stream.
func (c *run) syncResult(ctx context.Context, ans *toolbox.SyncAnswer) (*workspace.CommandResult, error) {
	if ans.Replaced && c.out.mode() != stream.ModeFramed && ans.CmdID != "" {
		c.cmdID = ans.CmdID
		c.resetOutput()
		return c.await(ctx)
	}
	code, ok := c.out.done()
	if !ok && ans.ExitCode != nil {
		code = *ans.ExitCode
	}
	c.r.pool.put(c.sess)
	return c.finished(code)
}

// outlivedSync handles a command whose synchronous request ended before
// it finished: cancelled or timed out, it is killed; otherwise its log is
// followed.
func (c *run) outlivedSync(ctx context.Context) (*workspace.CommandResult, error) {
	c.cmdID = c.findCommand(ctx)
	c.resetOutput() // what the answer carried so far is read again
	if ctx.Err() != nil || (c.p.timeout > 0 && time.Since(c.started) >= c.p.timeout) {
		// Cancelled or timed out: recover what it printed, then kill it.
		return c.endKilled(ctx)
	}
	if c.cmdID == "" {
		// Still running, but the daemon cannot tell us which command it is:
		// stop it rather than leave it running unobserved.
		killed, kerr := c.kill(ctx)
		res := c.result(ExitCodeUnknown)
		err := &Error{Op: c.op, Err: errors.New("the command outlived the synchronous request and could not be found in its session")}
		if !killed {
			if kerr == nil {
				kerr = errors.New("its session was gone")
			}
			return res, fault.Errorf("%w, and it could not be killed (it may still run): %w", err, kerr)
		}
		res.ExitCode, res.Killed = ExitCodeKilled, true
		return res, fault.Errorf("%w, so it was killed", err)
	}
	// Still running, with time left: follow its log from the start.
	c.s.log.Debug("command outlived the synchronous window; following its log", "session", c.sess.id, "command", c.cmdID)
	return c.await(ctx)
}

// recoverDead confirms with the control plane that r is no longer usable,
// forgets it, and starts the sandbox again (shared with other callers).
func (s *Sandbox) recoverDead(ctx context.Context, r *remote, op string) (*remote, error) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		state, err := c.State(ctx, r.tb.ID())
		switch {
		case err == nil:
			s.log.Debug("control plane reports the sandbox", "daytonaID", r.tb.ID(), "state", state)
		case apierr.NotFound(err):
			s.log.Debug("control plane reports the sandbox gone", "daytonaID", r.tb.ID())
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
		r.pool.close()
	}
	s.mu.Unlock()
	return s.ensureRunning(ctx)
}

// sameWriter reports whether a and b are the same writer, as os/exec
// compares them: values of a type that cannot be compared are not the
// same.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { _ = recover() }()
	return a == b
}
