package daytona

// The work a Sandbox does in its sandbox for itself: its own scripts (to
// make and remove mounts), on an explicit remote. None of it goes through
// the public API or waits for a start, so that a start (or a hook) can
// run it on the sandbox being started.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/mount"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/workspace"
)

// Limits of the Sandbox's own scripts.
const (
	// inputRetain bounds the output kept of a script fed on its stdin.
	inputRetain = 64 << 10
	// cleanupWait bounds killing a script, or cleaning up after one, once
	// its caller's context has ended.
	cleanupWait = 30 * time.Second
)

// retryOn calls attempt, which sends a request to r, again after trouble
// that proves the request never reached the sandbox and may pass: the
// proxy not reaching the runner (up to apierr.TransientTries calls in
// all) or a session the daemon lost or whose shell died (once, in a new
// session). Any other *apierr.NotStarted (a sandbox that is not running)
// is returned as it is, for the caller to decide (see resubmitOnce).
func retryOn[T any](ctx context.Context, r *remote, op string, attempt func() (T, error)) (T, error) {
	retriedSession := false
	pause := apierr.TransientPause()
	for tries := 1; ; tries++ {
		v, err := attempt()
		var notRun *apierr.NotStarted
		if !errors.As(err, &notRun) {
			return v, err
		}
		switch {
		case notRun.Transient && tries < apierr.TransientTries:
			r.Log.Debug("the runner could not be reached; trying again", "op", op, "err", notRun.Err)
			if pause.Wait(ctx) == nil {
				continue
			}
		case (notRun.LostSession || notRun.ShellDead) && !retriedSession:
			retriedSession = true
			if notRun.LostSession { // a dead shell's session was put aside already
				r.Pool.ForgetAll()
			}
			r.Log.Debug("session lost, or its shell died; trying again with a new session", "op", op, "err", notRun.Err)
			continue
		}
		return v, notRun
	}
}

// gaveUp reports a *apierr.NotStarted that was not tried again as a
// failure of op; other errors as they are.
func gaveUp(ctx context.Context, op string, err error) error {
	var notRun *apierr.NotStarted
	if errors.As(err, &notRun) {
		return fault.WrapCtx(ctx, op, notRun.Err)
	}
	return err
}

// scriptPlan is the plan of a script the Sandbox runs for itself: in the
// default directory, with the sandbox's environment, for at most timeout.
func (s *Sandbox) scriptPlan(script string, timeout time.Duration) *command.Plan {
	return &command.Plan{
		Command:   script,
		Spec:      shell.Spec{Command: script, Env: s.Env(), Raw: s.cfg.rawOutput},
		Timeout:   timeout,
		Retain:    workspace.DefaultMaxRetainedBytes,
		Streaming: shell.MayBackground(script),
	}
}

// runScript runs script on r and waits for it.
func (s *Sandbox) runScript(ctx context.Context, r *remote, op, script string, timeout time.Duration) (*workspace.CommandResult, error) {
	p := s.scriptPlan(script, timeout)
	res, err := retryOn(ctx, r, op, func() (*workspace.CommandResult, error) { return command.Exec(ctx, r, p) })
	return res, gaveUp(ctx, op, err)
}

// runWithInput runs script on r with input (if any; what names it) on
// its standard input: as a background process, whose input the daemon
// carries in a request body, never in the command's text. Without input
// it is a plain command.
func (s *Sandbox) runWithInput(ctx context.Context, r *remote, op, script, what, input string, timeout time.Duration) (*workspace.CommandResult, error) {
	if input == "" {
		return s.runScript(ctx, r, op, script, timeout)
	}
	p := s.scriptPlan(script, timeout)
	p.Retain, p.Spec.KeepStdin = inputRetain, true
	b, err := retryOn(ctx, r, op, func() (*command.Background, error) { return command.Spawn(ctx, r, p) })
	if err = gaveUp(ctx, op, err); err != nil {
		return nil, err
	}
	end := func() { // kill it and wait for it
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupWait)
		defer cancel()
		_ = b.Kill(kctx)
	}
	if err := b.SendInput(ctx, input); err != nil {
		end()
		return nil, fault.WrapCtx(ctx, "send "+what, err)
	}
	select {
	case <-b.Done():
		return b.Result()
	case <-ctx.Done():
		end()
		return nil, fault.Wrap("wait for the script", ctx.Err())
	}
}

// restoreMounts makes each mount again on r, in order, during a start; it
// returns the path of the first that fails, with its error.
func (s *Sandbox) restoreMounts(ctx context.Context, r *remote, mounts []mount.Entry) (string, error) {
	for _, e := range mounts {
		if err := s.mountOn(ctx, r, e); err != nil {
			return e.Path, err
		}
	}
	return "", nil
}

// mountOn makes one mount on r: prepare, then mount with the credentials.
func (s *Sandbox) mountOn(ctx context.Context, r *remote, e mount.Entry) error {
	op := "mount " + e.Path
	s.log.Debug("mounting", "path", e.Path, "storage", e.Resolved().String())
	res, err := s.runScript(ctx, r, op, e.PrepareScript(), mount.PrepareTimeout)
	if err = mountFailure(e, res, err); err != nil {
		return err
	}
	already, dir := mount.ParsePrepared(res.Stdout)
	if already {
		s.log.Debug("already mounted", "path", e.Path)
		return nil
	}
	content, ext := e.Credentials(dir)
	res, err = s.runWithInput(ctx, r, op, e.MountScript(len(content), ext), "the credentials", content, mount.MountTimeout)
	if err = mountFailure(e, res, err); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupWait)
		defer cancel()
		_, _ = s.runScript(cctx, r, op, e.CleanupScript(), mount.CleanupTimeout)
		return err
	}
	s.log.Debug("mounted", "path", e.Path)
	return nil
}

// mountFailure turns a failed mount script into an error, with the
// credentials stripped from its output.
func mountFailure(e mount.Entry, res *workspace.CommandResult, err error) error {
	err = scriptError(res, err)
	if err == nil {
		return nil
	}
	msg := e.Redact(fault.Text(err))
	if res != nil {
		switch res.ExitCode {
		case mount.ExitBadPath:
			return fault.Errorf("mount %s (%s): %w: %s", e.Path, e.Resolved(), ErrInvalidInput, msg)
		case mount.ExitUnreachable:
			return fault.Errorf("mount %s (%s): %w: %s", e.Path, e.Resolved(), ErrStorageUnreachable, msg)
		}
	}
	return fault.Errorf("mount %s (%s): %s", e.Path, e.Resolved(), msg)
}

// scriptError is the error of a script that failed: the call's error, or
// its output when it exited non-zero.
func scriptError(res *workspace.CommandResult, err error) error {
	switch {
	case err != nil:
		return err
	case res == nil:
		return errors.New("no result")
	case !res.Success():
		out := strings.TrimSpace(res.Stdout + "\n" + res.Stderr)
		if out == "" {
			out = fmt.Sprintf("exit code %d", res.ExitCode)
		}
		return errors.New(out)
	}
	return nil
}
