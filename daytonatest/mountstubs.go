//go:build unix

package daytonatest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Stub FUSE tools. Real FUSE is not available where these tests run (no
// /dev/fuse a user may open, no s3fs), so a bucket mount cannot really
// happen here. With WithMountStubs, every sandbox's shells find stub
// s3fs, gcsfuse and blobfuse2 executables first in PATH: each records its
// arguments and the files they name (the credential files a mount script
// wrote, as they were when the tool ran), and marks its mount point as
// mounted without mounting anything; stub mountpoint, umount, fusermount
// and fusermount3 see and undo those marks. The directory stays a plain
// directory. Read the records with MountCalls and Mounted.

// stubTools are the names the stub is installed under.
var stubTools = []string{"s3fs", "gcsfuse", "blobfuse2", "mountpoint", "umount", "fusermount", "fusermount3"}

// mountLogEnv names the directory where a sandbox's stubs keep the record
// of their calls, for the sandbox's life; mountStateEnv the one where they
// keep what is mounted, for one run of the sandbox (a stop unmounts
// everything, as a container's FUSE mounts end with it).
const (
	mountLogEnv   = "DAYTONATEST_MOUNT_LOG"
	mountStateEnv = "DAYTONATEST_MOUNT_STATE"
)

// stubScript is the stub, one script for every tool (told apart by $0).
const stubScript = `#!/bin/sh
# daytonatest stub of s3fs, gcsfuse, blobfuse2, mountpoint, umount and
# fusermount: no FUSE here. It records mounts, and mounts nothing.
set -f
log=${` + mountLogEnv + `:?` + mountLogEnv + ` is not set}
state=${` + mountStateEnv + `:?` + mountStateEnv + ` is not set}
mkdir -p "$log/calls" "$state" && touch "$state/mounted" || exit 70
tool=${0##*/}
target= skip=
for a in "$@"; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case $a in
    -o) skip=1 ;;
    -*) ;;
    *) target=$a ;;
  esac
done
case $tool in
mountpoint)
  if grep -qxF -- "$target" "$state/mounted"; then
    [ "$1" = -q ] || echo "$target is a mountpoint"
    exit 0
  fi
  [ "$1" = -q ] || echo "$target is not a mountpoint"
  exit 32 ;;
umount|fusermount|fusermount3)
  if grep -qxF -- "$target" "$state/mounted"; then
    grep -vxF -- "$target" "$state/mounted" > "$state/mounted.tmp"
    mv "$state/mounted.tmp" "$state/mounted"
    exit 0
  fi
  echo "$tool: $target: not mounted" >&2
  exit 1 ;;
esac
d=$(mktemp -d "$log/calls/$(date +%s%N)-XXXXXX") || exit 70
printf '%s' "$tool" > "$d/tool"
for a in "$@"; do printf '%s\0' "$a"; done > "$d/args"
n=0
for a in "$@"; do
  IFS=,
  for part in $a; do
    f=${part#*=}
    if [ "$f" != "$part" ] && [ -f "$f" ]; then
      n=$((n+1))
      cp "$f" "$d/file-$n"
      printf '%s' "$f" > "$d/file-$n.path"
      { stat -c %a "$f" 2>/dev/null || stat -f %Lp "$f"; } > "$d/file-$n.mode"
    fi
  done
  unset IFS
done
if [ -f "$log/fail" ]; then
  cat "$log/fail" >&2
  rm -f "$log/fail"
  exit 1
fi
printf '%s\n' "$target" >> "$state/mounted"
`

// WithMountStubs puts stub s3fs, gcsfuse and blobfuse2 executables (and
// mountpoint, umount, fusermount) first in the PATH of every sandbox's
// shells, so that bucket mount scripts run here against tools that record
// their arguments and credential files instead of mounting (see
// MountCalls). Without it, mount scripts find this machine's own tools.
func WithMountStubs() Option {
	return func(c *config) error {
		c.svc.mountStubs = true
		return nil
	}
}

// writeMountStubs writes the stub tools into a directory under root and
// returns it.
func writeMountStubs(root string) (string, error) {
	dir := filepath.Join(root, ".mount-stubs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("daytonatest: WithMountStubs: %w", err)
	}
	for _, name := range stubTools {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(stubScript), 0o755); err != nil {
			return "", fmt.Errorf("daytonatest: WithMountStubs: %w", err)
		}
	}
	return dir, nil
}

// sandboxEnvLocked is the environment a sandbox's toolbox adds to its
// shells' base environment: the sandbox's env, and with WithMountStubs
// the stubs' PATH and record directory.
func (s *Server) sandboxEnvLocked(sb *sandbox) map[string]string {
	if s.svc.stubDir == "" {
		return sb.env
	}
	env := map[string]string{}
	for k, v := range sb.env {
		env[k] = v
	}
	path := first(env["PATH"], os.Getenv("PATH"), "/usr/local/bin:/usr/bin:/bin")
	env["PATH"] = s.svc.stubDir + ":" + path
	env[mountLogEnv] = filepath.Join(sb.dir, "mount-stubs")
	sb.svc.stubState = filepath.Join(sb.dir, "mount-stubs", "run-"+strconv.Itoa(s.tbSeq))
	env[mountStateEnv] = sb.svc.stubState
	return env
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// MountCall is one run of a stub mount tool.
type MountCall struct {
	Tool  string     `json:"tool"`  // "s3fs", "gcsfuse" or "blobfuse2"
	Args  []string   `json:"args"`  // its arguments
	Files []StubFile `json:"files"` // the files its arguments named, as they were then
}

// StubFile is a file a stub mount tool's arguments named: a credential or
// configuration file.
type StubFile struct {
	Path    string      `json:"path"`
	Content string      `json:"content"`
	Mode    fs.FileMode `json:"mode"` // permission bits
}

// stubLog returns the stubs' record directory of a sandbox, and their
// state directory for its current run.
func (s *Server) stubLog(idOrName string) (log, state string, err error) {
	sb, err := s.lockSandbox(idOrName)
	if err != nil {
		return "", "", err
	}
	defer s.mu.Unlock()
	return filepath.Join(sb.dir, "mount-stubs"), sb.svc.stubState, nil
}

// MountCalls returns the runs of the stub mount tools in a sandbox, oldest
// first (see WithMountStubs). An unknown sandbox is an error that matches
// [ErrSandboxNotFound].
func (s *Server) MountCalls(idOrName string) ([]MountCall, error) {
	log, _, err := s.stubLog(idOrName)
	if err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir(filepath.Join(log, "calls"))
	var out []MountCall
	for _, e := range entries { // sorted by name: by time
		if call, ok := readMountCall(filepath.Join(log, "calls", e.Name())); ok {
			out = append(out, call)
		}
	}
	return out, nil
}

// readMountCall reads one record of a stub mount tool.
func readMountCall(dir string) (MountCall, bool) {
	tool, err := os.ReadFile(filepath.Join(dir, "tool"))
	if err != nil {
		return MountCall{}, false
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	call := MountCall{Tool: string(tool), Args: []string{}}
	for a := range bytes.SplitSeq(bytes.TrimSuffix(args, []byte{0}), []byte{0}) {
		if len(args) > 0 {
			call.Args = append(call.Args, string(a))
		}
	}
	for n := 1; ; n++ {
		base := filepath.Join(dir, "file-"+strconv.Itoa(n))
		content, err := os.ReadFile(base)
		if err != nil {
			break
		}
		path, _ := os.ReadFile(base + ".path")
		mode, _ := os.ReadFile(base + ".mode")
		perm, _ := strconv.ParseUint(strings.TrimSpace(string(mode)), 8, 32)
		call.Files = append(call.Files, StubFile{Path: string(path), Content: string(content), Mode: fs.FileMode(perm)})
	}
	return call, true
}

// Mounted returns the mount points the stub tools hold mounted in a
// sandbox, sorted. A stop of the sandbox ends them, as it ends a
// container's FUSE mounts. An unknown sandbox is an error that matches
// [ErrSandboxNotFound].
func (s *Server) Mounted(idOrName string) ([]string, error) {
	_, state, err := s.stubLog(idOrName)
	if err != nil || state == "" {
		return []string{}, err
	}
	data, _ := os.ReadFile(filepath.Join(state, "mounted"))
	out := []string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out, nil
}

// FailNextMount makes the next stub s3fs, gcsfuse or blobfuse2 run in a
// sandbox fail: it prints message on stderr and exits 1, after recording
// its call. An unknown sandbox is an error that matches
// [ErrSandboxNotFound].
func (s *Server) FailNextMount(idOrName, message string) error {
	log, _, err := s.stubLog(idOrName)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(log, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(log, "fail"), []byte(message+"\n"), 0o644)
}
