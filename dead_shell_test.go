package daytona_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// A session whose shell died (issue #21 item 5): a command that kills it
// still gets its result, and the session is not used again; a shell that
// died between commands makes the daemon refuse the next one with a broken
// pipe, which proves it never started: it is sent once more, in a new
// session. Neither is followed until the context ends, as both were.

// deadShellTimeout bounds each command here.
const deadShellTimeout = 20 * time.Second

// findSessionShell is shell text that sets $s to the session shell's pid:
// the command's ancestor whose parent is this test process, which runs the
// fake daemon's session shells.
var findSessionShell = `ppid() { read -r x < /proc/$1/stat; x=${x##*) }; set -- $x; echo $2; }; ` +
	`s=$BASHPID; while [ "$(ppid $s)" != ` + strconv.Itoa(os.Getpid()) + ` ]; do s=$(ppid $s); done; `

// TestCommandThatKillsItsSessionShell: followed (with writers: the daemon
// never answers a synchronous request for a command whose shell died, so
// such a command is followed only after the synchronous window), the
// command gets its result; the next command, on either path, runs in
// another session.
func TestCommandThatKillsItsSessionShell(t *testing.T) {
	t.Parallel()
	for _, sh := range sessionShells(t) {
		t.Run(sh, func(t *testing.T) {
			srv := newServer(t, daytonatest.WithSessionShell(sh))
			sb := startedSandbox(t, srv)
			kill := `echo before; ` + findSessionShell +
				`kill -9 $s; while [ -e /proc/$s ] && ! grep -q '^[^)]*) Z' /proc/$s/stat 2>/dev/null; do :; done; echo after`
			for i, mode := range modes {
				ctx, cancel := context.WithTimeout(t.Context(), deadShellTimeout)
				defer cancel()
				var out syncBuffer
				cmd, opts := kill, &workspace.ExecOptions{Stdout: &out}
				if i%2 == 1 {
					// In a bash the command starts, out of MayLeaveItsShell's
					// sight: the command runs in the runner's process.
					cmd, opts.Env = `bash -c "$K"`, map[string]string{"K": kill}
				}
				res, err := sb.ExecuteCommand(ctx, cmd, nil, opts)
				require.NoError(t, err)
				assert.Equal(t, "before\nafter\n", res.Stdout)
				next, _, _ := withMode(mode.stream, nil)
				res, err = sb.ExecuteCommand(ctx, "echo next", nil, next)
				require.NoError(t, err, "%s: the next command", mode.name)
				assert.Equal(t, "next\n", res.Stdout)
			}
		})
	}
}

// It runs alone: the shell dies 0.3 s after the command, which must have
// ended by then (under -race at a load of 7, in parallel, the runner once
// saw the shell gone first, and the session was not used again).
func TestDeadSessionShellIsReplaced(t *testing.T) {
	for _, sh := range sessionShells(t) {
		t.Run(sh, func(t *testing.T) {
			srv := newServer(t, daytonatest.WithSessionShell(sh))
			sb := startedSandbox(t, srv)
			dir := homeDir(t, srv, sb)
			for i, mode := range modes {
				ctx, cancel := context.WithTimeout(t.Context(), deadShellTimeout)
				defer cancel()
				opts, _, _ := withMode(mode.stream, nil)
				pidFile := filepath.Join(dir, "shell"+strconv.Itoa(i))
				// The session shell dies once the command is over, as when
				// the kernel's OOM killer picks it.
				_, err := sb.ExecuteCommand(ctx, findSessionShell+`echo $s > `+pidFile+`; ( sleep 0.3; kill -9 $s ) >/dev/null 2>&1 19>&- &`, nil, opts)
				require.NoError(t, err)
				shell := readPIDFile(t, pidFile)
				waitFor(t, "the session shell to die", func() bool { return processGone(shell) })
				srv.ResetRequests()
				res, err := sb.ExecuteCommand(ctx, "echo next", nil, opts)
				require.NoError(t, err, "%s: the next command", mode.name)
				assert.Equal(t, "next\n", res.Stdout)
				assert.Equal(t, 2, srv.Count(daytonatest.OpSessionExec), "%s: refused, then sent once more: %v", mode.name, srv.Counts())
				assert.Equal(t, 1, srv.Count(daytonatest.OpCreateSession), "%s: in a new session", mode.name)
			}
		})
	}
}

// readPIDFile waits for a pid in path.
func readPIDFile(t *testing.T, path string) int {
	t.Helper()
	var pid int
	waitFor(t, "a pid in "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}
