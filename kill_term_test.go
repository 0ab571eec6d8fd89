package daytona_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// TestKillReachesACommandThatIgnoresSIGTERM (issue #21 item 4): deleting a
// session, the daemon sends SIGTERM to its processes and SIGKILL only if
// the session's shell still has a child after the grace period. What runs
// the command stays, so a command that ignores SIGTERM, and its children,
// are killed: by cancellation and by the timeout, on bash and zsh session
// shells. (With the perl driver, which died on SIGTERM, they lived on.)
func TestKillReachesACommandThatIgnoresSIGTERM(t *testing.T) {
	t.Parallel() // it mostly waits (the timeout, the grace period)
	for _, sh := range sessionShells(t) {
		t.Run(sh, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, daytonatest.WithSessionShell(sh), daytonatest.WithKillGrace(300*time.Millisecond))
			sb := startedSandbox(t, srv)
			dir := homeDir(t, srv, sb)
			for i, how := range []string{"cancel", "timeout", "cancel, in the runner's process", "timeout, in the runner's process"} {
				t.Run(how, func(t *testing.T) {
					t.Parallel()
					pids := filepath.Join(dir, fmt.Sprintf("%d.pids", i))
					// A shell that ignores SIGTERM, with a child that does too.
					script := `trap "" TERM; sleep 300 & echo $$ $! > "$1"; wait`
					cmd := `bash -c '` + script + `' bash ` + pids
					ctx, cancel := context.WithCancel(t.Context())
					opts := &workspace.ExecOptions{}
					if strings.HasSuffix(how, "process") {
						// Its text out of MayLeaveItsShell's sight (no trap): the
						// command runs in the runner's process, not a subshell.
						cmd, opts.Env = `bash -c "$T" bash `+pids, map[string]string{"T": script}
					}
					if strings.HasPrefix(how, "timeout") {
						opts.Timeout = 2 * time.Second
					}
					done := make(chan *workspace.CommandResult, 1)
					go func() {
						res, _ := sb.ExecuteCommand(ctx, cmd, nil, opts)
						done <- res
					}()
					var pidList []int
					waitFor(t, "the command's processes", func() bool {
						b, err := os.ReadFile(pids)
						if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
							return false
						}
						pidList = parsePIDs(t, string(b))
						return true
					})
					if strings.HasPrefix(how, "cancel") {
						cancel()
					}
					res := <-done
					cancel()
					require.NotNil(t, res)
					assert.True(t, res.Killed, "%s: killed", how)
					for _, pid := range pidList {
						assert.True(t, processGone(pid), "%s: process %d ignored SIGTERM and lives on", how, pid)
					}
				})
			}
		})
	}
}

// parsePIDs reads numbers separated by spaces.
func parsePIDs(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	n, in := 0, false
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n, in = n*10+int(c-'0'), true
			continue
		}
		if in {
			out = append(out, n)
		}
		n, in = 0, false
	}
	require.NotEmpty(t, out)
	return out
}
