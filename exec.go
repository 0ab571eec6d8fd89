package daytona

import (
	"context"
	"errors"
	"io"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/workspace"
)

// Exit codes of commands that did not exit on their own, as a shell
// reports them.
const (
	ExitCodeTimeout = 124 // killed after the timeout
	ExitCodeKilled  = 137 // killed (SIGKILL) on cancellation or writer failure
	ExitCodeUnknown = -1  // the command's fate is unknown; an error says why
)

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
// matching workspace.ErrUnsupported. Its stdout and stderr are files in the
// sandbox, read back through the log or downloaded (README, "Output"): a
// program that reopens them by name (>/dev/stdout, tee /dev/stderr)
// truncates them, as with any file; write to >&1 and >&2 instead.
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
	res, err := s.exec(ctx, "execute command", p)
	if res == nil && err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// Cancelled before the command was submitted: nothing ran.
		res = &workspace.CommandResult{Command: p.Command, Args: p.Args, ExitCode: ExitCodeUnknown}
	}
	return res, err
}

// plan validates the call and resolves its settings. It sends nothing.
func (s *Sandbox) plan(op, cmd string, args []string, opts *workspace.ExecOptions) (*command.Plan, error) {
	if opts == nil {
		opts = &workspace.ExecOptions{}
	}
	env := s.Env()
	for k, v := range opts.Env {
		env[k] = v
	}
	p := &command.Plan{
		Command: cmd,
		Args:    append([]string(nil), args...),
		Spec:    shell.Spec{Command: cmd, Args: args, Env: env, Cwd: opts.Cwd, Raw: s.cfg.rawOutput},
		Stdout:  opts.Stdout,
		Stderr:  opts.Stderr,
	}
	if p.Stdout != nil && sameWriter(p.Stdout, p.Stderr) {
		// One writer for both: merge them where the command runs, so that
		// the writer gets the command's own order (os/exec gives such a
		// command one pipe).
		p.Spec.MergeStderr = true
		p.Stderr = nil
	}
	if err := p.Spec.Validate(); err != nil {
		return nil, invalid("%s: %v", op, err)
	}
	switch {
	case opts.Timeout == 0:
		p.Timeout = s.cfg.timeout
	case opts.Timeout == workspace.NoTimeout:
		p.Timeout = workspace.NoTimeout
	case opts.Timeout < 0:
		return nil, invalid("%s: negative timeout %v (use workspace.NoTimeout for none)", op, opts.Timeout)
	default:
		p.Timeout = opts.Timeout
	}
	if p.Timeout == workspace.NoTimeout {
		p.Timeout = 0
	}
	switch m := opts.MaxRetainedBytes; {
	case m == 0:
		p.Retain = workspace.DefaultMaxRetainedBytes
	case m == workspace.RetainNone:
		p.Retain = 0
	case m == workspace.Unlimited:
		p.Retain = -1
	case m < 0:
		return nil, invalid("%s: negative MaxRetainedBytes %d (use workspace.RetainNone or workspace.Unlimited)", op, m)
	default:
		p.Retain = m
	}
	// One synchronous request when nothing needs streaming (its answer is
	// read as it arrives, so memory does not grow with the output);
	// otherwise an asynchronous command whose log we follow.
	p.Streaming = p.Stdout != nil || p.Stderr != nil || shell.MayBackground(cmd)
	return p, nil
}

// sameWriter reports whether a and b are the same writer, as os/exec
// compares them: values of a type that cannot be compared are not the
// same.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { _ = recover() }()
	return a == b
}
