package daytona

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/mount"
	"github.com/agentworkspace/daytona/workspace"
)

// Bucket mounts: Mount, Unmount and WithMount's restoration at every
// start. What a mount is made of (its checks, scripts, and how its
// credentials travel) is in internal/mount.

// ErrStorageUnreachable is matched (errors.Is) by the error of a mount
// whose storage endpoint the sandbox cannot reach, such as on Daytona's
// tiers with restricted network access.
var ErrStorageUnreachable = errors.New("storage unreachable from the sandbox")

// WithMount declares a mount made at every start, before the start hook
// (see Mount): at the first start, and again after every restart, as the
// mounts made with Mount are. A failure fails the start with a
// *StartHookError. Calls accumulate; the same path twice, or nested mount
// paths, are errors.
func WithMount(path string, spec workspace.MountSpec) Option {
	return func(c *config) error {
		e, err := mount.New("WithMount", path, spec)
		if err != nil {
			return err
		}
		if err := mount.Overlap(c.mounts, e.Path, false); err != nil {
			return err
		}
		c.mounts = append(c.mounts, e)
		return nil
	}
}

// mountTable returns the mounts this Sandbox keeps, starting with those
// WithMount declared. Callers hold s.svc().mu.
func (s *Sandbox) mountTableLocked() []mount.Entry {
	if s.svc().mounts == nil {
		s.svc().mounts = append([]mount.Entry{}, s.cfg.mounts...)
	}
	return s.svc().mounts
}

// Mount mounts cloud storage at path, an absolute directory that is
// missing or empty, starting the sandbox if needed, and keeps it mounted:
// after a restart (Stop and Start, Daytona's auto-stop, a lost sandbox)
// the mount is made again, before the start hook runs. Mounting again
// what is mounted at path already does nothing; other storage there
// replaces it.
//
// The path and spec are checked before any request (an error matching
// ErrInvalidInput: a relative path, an unknown Type, missing credentials;
// see workspace.MountSpec.Resolved); a path that is not an empty
// directory is refused before anything is written; unreachable storage
// gives an error matching ErrStorageUnreachable. See the package's README
// for how credentials travel. FUSE must be available in the sandbox
// image; the tool is installed with apt-get when missing.
func (s *Sandbox) Mount(ctx context.Context, path string, spec workspace.MountSpec) error {
	if err := s.check(ctx, "Mount"); err != nil {
		return err
	}
	e, err := mount.New("Mount", path, spec)
	if err != nil {
		return invalidErr(err)
	}
	s.svc().mountMu.Lock()
	defer s.svc().mountMu.Unlock()
	s.svc().mu.Lock()
	err = mount.Overlap(s.mountTableLocked(), e.Path, true)
	s.svc().mu.Unlock()
	if err != nil {
		return invalidErr(err)
	}
	if err := s.mountOn(ctx, e); err != nil {
		return err
	}
	s.svc().mu.Lock()
	defer s.svc().mu.Unlock()
	table := s.mountTableLocked()
	for i := range table {
		if table[i].Path == e.Path {
			table[i] = e
			return nil
		}
	}
	s.svc().mounts = append(table, e)
	return nil
}

// Unmount unmounts path and removes what Mount wrote for it (marker,
// credentials, the directory if empty), starting the sandbox if needed;
// the mount is no longer made at restarts. Unmounting a path that is not
// mounted succeeds. An invalid path is an error matching ErrInvalidInput.
func (s *Sandbox) Unmount(ctx context.Context, path string) error {
	if err := s.check(ctx, "Unmount"); err != nil {
		return err
	}
	p, err := mount.CleanPath("Unmount", path)
	if err != nil {
		return invalidErr(err)
	}
	s.svc().mountMu.Lock()
	defer s.svc().mountMu.Unlock()
	e := mount.At(p)
	res, err := s.ExecuteCommand(ctx, e.UnmountScript(), nil, &workspace.ExecOptions{Timeout: mount.UnmountTimeout})
	if err = scriptError(res, err); err != nil {
		return fault.Errorf("unmount %s: %w", p, err)
	}
	s.svc().mu.Lock()
	defer s.svc().mu.Unlock()
	table := s.mountTableLocked()
	for i := range table {
		if table[i].Path == p {
			s.svc().mounts = append(table[:i:i], table[i+1:]...)
			break
		}
	}
	s.log.Debug("unmounted", "path", p)
	return nil
}

// mountInfos lists the mounts this Sandbox keeps, for GetInfo.
func (s *Sandbox) mountInfos() []workspace.MountInfo {
	s.svc().mu.Lock()
	defer s.svc().mu.Unlock()
	out := []workspace.MountInfo{}
	for _, e := range s.mountTableLocked() {
		out = append(out, workspace.MountInfo{Path: e.Path, Filesystem: e.Resolved().Type})
	}
	return out
}

// restoreMounts makes each mount again, in order, during a start; it
// returns the path of the first that fails, with its error.
func (s *Sandbox) restoreMounts(ctx context.Context, mounts []mount.Entry) (string, error) {
	for _, e := range mounts {
		if err := s.mountOn(ctx, e); err != nil {
			return e.Path, err
		}
	}
	return "", nil
}

// mountOn makes one mount: prepare, then mount with the credentials.
func (s *Sandbox) mountOn(ctx context.Context, e mount.Entry) error {
	s.log.Debug("mounting", "path", e.Path, "storage", e.Resolved().String())
	res, err := s.ExecuteCommand(ctx, e.PrepareScript(), nil, &workspace.ExecOptions{Timeout: mount.PrepareTimeout})
	if err = s.mountFailure(e, res, err); err != nil {
		return err
	}
	already, dir := mount.ParsePrepared(res.Stdout)
	if already {
		s.log.Debug("already mounted", "path", e.Path)
		return nil
	}
	content, ext := e.Credentials(dir)
	res, err = s.runWithInput(ctx, e.MountScript(len(content), ext), content)
	if err = s.mountFailure(e, res, err); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.ExecuteCommand(cctx, e.CleanupScript(), nil, &workspace.ExecOptions{Timeout: mount.CleanupTimeout})
		return err
	}
	s.log.Debug("mounted", "path", e.Path)
	return nil
}

// mountFailure turns a failed mount command into an error, with the
// credentials stripped from its output.
func (s *Sandbox) mountFailure(e mount.Entry, res *workspace.CommandResult, err error) error {
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

// runWithInput runs script with input (if any) on its standard input: as
// a background process, whose input the daemon carries in a request body,
// never in the command's text. Without input it is a plain command.
func (s *Sandbox) runWithInput(ctx context.Context, script, input string) (*workspace.CommandResult, error) {
	if input == "" {
		return s.ExecuteCommand(ctx, script, nil, &workspace.ExecOptions{Timeout: mount.MountTimeout})
	}
	proc, err := s.procs.spawn(ctx, script, &workspace.SpawnOptions{Timeout: mount.MountTimeout, MaxRetainedBytes: 64 << 10})
	if err != nil {
		return nil, err
	}
	defer func() { _ = s.procs.Release(proc.PID()) }()
	end := func() { // kill it and wait, so that it can be released
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = proc.Kill(kctx)
		_, _ = proc.Wait(kctx)
	}
	if err := proc.SendStdin(ctx, []byte(input)); err != nil {
		end()
		return nil, fault.Errorf("send the credentials: %w", err)
	}
	res, err := proc.Wait(ctx)
	if err != nil {
		end() // ctx ended first
	}
	return res, err
}

// mountsSentence describes the mounts for GetInstructions ("" for none).
func mountsSentence(mounts []workspace.MountInfo) string {
	if len(mounts) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Cloud storage mounted at ")
	for i, m := range mounts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Path + " (" + m.Filesystem + ")")
	}
	b.WriteString(".")
	return b.String()
}
