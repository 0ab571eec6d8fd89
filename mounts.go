package daytona

import (
	"context"
	"strings"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/mount"
	"github.com/agentworkspace/daytona/workspace"
)

// Bucket mounts: Mount, Unmount and WithMount's restoration at every
// start. What a mount is made of (its checks, scripts, and how its
// credentials travel) is in internal/mount.

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
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return err
	}
	if err := s.mountOn(ctx, r, e); err != nil {
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
	res, err := s.exec(ctx, "unmount "+p, s.scriptPlan(mount.At(p).UnmountScript(), mount.UnmountTimeout))
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
