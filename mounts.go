package daytona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/workspace"
)

// Bucket mounts, as Mastra's DaytonaSandbox makes them: an S3-compatible
// bucket with s3fs, a GCS bucket with gcsfuse, an Azure Blob container
// with blobfuse2, installed in the sandbox when missing (on Debian and
// Ubuntu images). A mount happens in two commands: the first checks the
// path (an empty or missing directory, not mounted by someone else),
// installs the tool, probes the storage's endpoint and creates the
// directory; the second writes the credentials and runs the tool.
//
// Credentials never appear in a command's text (which the daemon keeps and
// lists with the session), in an error or in a log: the second command is
// a background process that reads them from its standard input, sent once
// in the body of the daemon's input request, with input echo off (the
// daemon then writes input to the process only:
// apps/daemon/pkg/session/input.go:47-72 at v0.173.0). It writes them to a
// file only the sandbox's user can read, in a directory only that user can
// enter; the tool reads them from there, and the file stays, for the
// tool, until Unmount. If the mount fails, the file is removed (by the
// command, or by a cleanup command if it was killed); outputs that make
// up error messages are stripped of the credentials.
//
// A marker in /tmp/.mastra-mounts, in Mastra's format, records what is
// mounted where, so that mounting the same storage again does nothing,
// and Go and TypeScript services recognise each other's mounts.

// ErrStorageUnreachable is matched (errors.Is) by the error of a mount
// whose storage endpoint the sandbox cannot reach, such as on Daytona's
// tiers with restricted network access.
var ErrStorageUnreachable = errors.New("storage unreachable from the sandbox")

// Timeouts of the mount commands: the first may install a tool.
const (
	prepareTimeout = 10 * time.Minute
	mountTimeout   = 2 * time.Minute
	unmountTimeout = time.Minute
)

// mountEntry is a mount this Sandbox keeps. Its specs, which hold
// credentials, are kept inside a closure, as the API key is (see secret):
// fmt prints a func as an address whatever the verb and however deep, and
// fmt prints a Sandbox's unexported fields without their String methods.
type mountEntry struct {
	path  string
	specs func() (given, resolved *workspace.MountSpec)
}

// spec is the mount's spec as given: its hash identifies the mount.
func (e mountEntry) spec() *workspace.MountSpec {
	given, _ := e.specs()
	return given
}

// res is the mount's spec, resolved.
func (e mountEntry) res() *workspace.MountSpec {
	_, resolved := e.specs()
	return resolved
}

// newEntry returns the entry of a mount at path of spec, resolved as res.
func newEntry(path string, spec, res workspace.MountSpec) mountEntry {
	return mountEntry{path: path, specs: func() (*workspace.MountSpec, *workspace.MountSpec) { return &spec, &res }}
}

// mountPathRE is what a mount path may hold (Mastra's rule).
var mountPathRE = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]+$`)

// cleanMountPath checks a mount path: absolute, of letters, digits, ".",
// "_", "-" and "/", with no empty, "." or ".." segment, not "/"; a
// trailing slash is dropped.
func cleanMountPath(op, path string) (string, error) {
	p := strings.TrimSuffix(path, "/")
	if !mountPathRE.MatchString(p) {
		return "", fmt.Errorf("%s: mount path %q must be an absolute path of letters, digits, '.', '_', '-' and '/'", op, path)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%s: mount path %q has an empty, \".\" or \"..\" segment", op, path)
		}
	}
	return p, nil
}

// newMountEntry checks a mount request and returns its entry.
func newMountEntry(op, path string, spec workspace.MountSpec) (mountEntry, error) {
	p, err := cleanMountPath(op, path)
	if err != nil {
		return mountEntry{}, err
	}
	res, err := spec.Resolved()
	if err != nil {
		return mountEntry{}, fmt.Errorf("%s %s: %v", op, p, err)
	}
	for _, secret := range res.Secrets() {
		if !utf8.ValidString(secret) || strings.ContainsRune(secret, 0) {
			return mountEntry{}, fmt.Errorf("%s %s: a credential is not valid UTF-8 text", op, p)
		}
	}
	return newEntry(p, spec, res), nil
}

// WithMount declares a mount made at every start, before the start hook
// (see Mount): at the first start, and again after every restart, as the
// mounts made with Mount are. A failure fails the start with a
// *StartHookError. Calls accumulate; the same path twice, or nested mount
// paths, are errors.
func WithMount(path string, spec workspace.MountSpec) Option {
	return func(c *config) error {
		e, err := newMountEntry("WithMount", path, spec)
		if err != nil {
			return err
		}
		if err := checkOverlap(c.svc.mounts, e.path, false); err != nil {
			return err
		}
		c.svc.mounts = append(c.svc.mounts, e)
		return nil
	}
}

// checkOverlap refuses a path nested in another mount's or containing
// one; the same path is allowed when replace is true.
func checkOverlap(entries []mountEntry, path string, replace bool) error {
	for _, e := range entries {
		switch {
		case e.path == path && replace:
		case e.path == path:
			return fmt.Errorf("two mounts at %s", path)
		case strings.HasPrefix(path, e.path+"/"), strings.HasPrefix(e.path, path+"/"):
			return fmt.Errorf("mount path %s and %s are nested; mount paths must not contain each other", path, e.path)
		}
	}
	return nil
}

// mountTable returns the mounts this Sandbox keeps, starting with those
// WithMount declared. Callers hold s.svc().mu.
func (s *Sandbox) mountTableLocked() []mountEntry {
	if s.svc().mounts == nil {
		s.svc().mounts = append([]mountEntry{}, s.cfg.svc.mounts...)
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
	e, err := newMountEntry("Mount", path, spec)
	if err != nil {
		return invalidErr(err)
	}
	s.svc().mountMu.Lock()
	defer s.svc().mountMu.Unlock()
	s.svc().mu.Lock()
	err = checkOverlap(s.mountTableLocked(), e.path, true)
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
		if table[i].path == e.path {
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
	p, err := cleanMountPath("Unmount", path)
	if err != nil {
		return invalidErr(err)
	}
	s.svc().mountMu.Lock()
	defer s.svc().mountMu.Unlock()
	e := newEntry(p, workspace.MountSpec{}, workspace.MountSpec{})
	res, err := s.ExecuteCommand(ctx, e.unmountScript(), nil, &workspace.ExecOptions{Timeout: unmountTimeout})
	if err = scriptError(res, err); err != nil {
		return fault.Errorf("unmount %s: %w", p, err)
	}
	s.svc().mu.Lock()
	defer s.svc().mu.Unlock()
	table := s.mountTableLocked()
	for i := range table {
		if table[i].path == p {
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
		out = append(out, workspace.MountInfo{Path: e.path, Filesystem: e.res().Type})
	}
	return out
}

// restoreMounts makes each mount again, in order, during a start; it
// returns the path of the first that fails, with its error.
func (s *Sandbox) restoreMounts(ctx context.Context, mounts []mountEntry) (string, error) {
	for _, e := range mounts {
		if err := s.mountOn(ctx, e); err != nil {
			return e.path, err
		}
	}
	return "", nil
}

// mountOn makes one mount: prepare, then mount with the credentials.
func (s *Sandbox) mountOn(ctx context.Context, e mountEntry) error {
	s.log.Debug("mounting", "path", e.path, "storage", e.res().String())
	res, err := s.ExecuteCommand(ctx, e.prepareScript(), nil, &workspace.ExecOptions{Timeout: prepareTimeout})
	if err = s.mountFailure(e, res, err); err != nil {
		return err
	}
	out := strings.TrimSpace(res.Stdout)
	if strings.HasSuffix(out, "already") {
		s.log.Debug("already mounted", "path", e.path)
		return nil
	}
	_, dir, _ := strings.Cut(out[strings.LastIndex(out, "\n")+1:], "ready ")
	content, ext := e.credentials(dir)
	res, err = s.runWithInput(ctx, e.mountScript(len(content), ext), content)
	if err = s.mountFailure(e, res, err); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.ExecuteCommand(cctx, e.cleanupScript(), nil, &workspace.ExecOptions{Timeout: 30 * time.Second})
		return err
	}
	s.log.Debug("mounted", "path", e.path)
	return nil
}

// mountFailure turns a failed mount command into an error, with the
// credentials stripped from its output.
func (s *Sandbox) mountFailure(e mountEntry, res *workspace.CommandResult, err error) error {
	err = scriptError(res, err)
	if err == nil {
		return nil
	}
	msg := redact(fault.Text(err), *e.res())
	if res != nil {
		switch res.ExitCode {
		case exitBadMountPath:
			return fault.Errorf("mount %s (%s): %w: %s", e.path, e.res(), ErrInvalidInput, msg)
		case exitUnreachable:
			return fault.Errorf("mount %s (%s): %w: %s", e.path, e.res(), ErrStorageUnreachable, msg)
		}
	}
	return fault.Errorf("mount %s (%s): %s", e.path, e.res(), msg)
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
		return s.ExecuteCommand(ctx, script, nil, &workspace.ExecOptions{Timeout: mountTimeout})
	}
	proc, err := s.procs.spawn(ctx, script, &workspace.SpawnOptions{Timeout: mountTimeout, MaxRetainedBytes: 64 << 10})
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

// redact replaces the spec's credentials (and, for a service account key,
// its private key) in text.
func redact(text string, spec workspace.MountSpec) string {
	secrets := spec.Secrets()
	if spec.ServiceAccountKey != "" {
		var key map[string]any
		if json.Unmarshal([]byte(spec.ServiceAccountKey), &key) == nil {
			for _, k := range []string{"private_key", "private_key_id"} {
				if v, ok := key[k].(string); ok && v != "" {
					secrets = append(secrets, v)
				}
			}
		}
	}
	for _, secret := range secrets {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
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
