package daytona_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// modes runs a test body once on the single-request path (no writers) and
// once on the streaming path (writers set).
var modes = []struct {
	name   string
	stream bool
}{{"sync", false}, {"streaming", true}}

func withMode(stream bool, o *workspace.ExecOptions) (*workspace.ExecOptions, *bytes.Buffer, *bytes.Buffer) {
	if o == nil {
		o = &workspace.ExecOptions{}
	}
	var out, errOut bytes.Buffer
	if stream {
		o.Stdout, o.Stderr = &out, &errOut
	}
	return o, &out, &errOut
}

// homeDir returns the sandbox's directory on this machine.
func homeDir(t testing.TB, srv *daytonatest.Server, sb *daytona.Sandbox) string {
	t.Helper()
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	return rec.Dir
}

// processGone reports whether pid no longer runs (zombies count as gone).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

func readPID(t testing.TB, path string) int {
	t.Helper()
	var pid int
	waitFor(t, "the pid file", func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

func TestExecuteHelloWorld(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	res, err := sb.ExecuteCommand(t.Context(), "echo", []string{"Hello, world!"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "Hello, world!\n", res.Stdout)
	assert.Equal(t, "", res.Stderr)
	assert.Equal(t, 0, res.ExitCode)
	assert.True(t, res.Success())
	assert.Equal(t, "echo", res.Command)
	assert.Equal(t, []string{"Hello, world!"}, res.Args)
	assert.Positive(t, res.Duration)
	assert.Equal(t, workspace.StatusRunning, sb.Status(), "started lazily")
}

func TestExecuteQuoting(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	args := []string{"a.b_c-d/e@f:g=h", "with space", "q'uote", "", "semi;colon", "tilde~", "plus+", "comma,", "%s",
		"$HOME", "`id`", "$(echo x)", "back\\slash", "new\nline", "*", "é ü", "-n"}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withMode(m.stream, nil)
			res, err := sb.ExecuteCommand(t.Context(), `printf '[%s]\n'`, args, opts)
			require.NoError(t, err)
			var want strings.Builder
			for _, a := range args {
				want.WriteString("[" + a + "]\n")
			}
			assert.Equal(t, want.String(), res.Stdout)
		})
	}
}

func TestExecuteExactOutputAndExitCodes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, out, errOut := withMode(m.stream, nil)
			res, err := sb.ExecuteCommand(t.Context(), "printf 'a\\nb'; printf 'e1\\ne2' >&2; exit 3", nil, opts)
			require.NoError(t, err, "a non-zero exit is a result, not an error")
			assert.Equal(t, 3, res.ExitCode)
			assert.False(t, res.Success())
			assert.Equal(t, "a\nb", res.Stdout, "no newline added to a last partial line")
			assert.Equal(t, "e1\ne2", res.Stderr)
			if m.stream {
				assert.Equal(t, "a\nb", out.String())
				assert.Equal(t, "e1\ne2", errOut.String())
			}
		})
	}
}

func TestExitInsideCommandDoesNotKillTheSession(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withMode(m.stream, nil)
			res, err := sb.ExecuteCommand(t.Context(), "echo bye; exit 7", nil, opts)
			require.NoError(t, err)
			assert.Equal(t, 7, res.ExitCode)
			assert.Equal(t, "bye\n", res.Stdout)
			// The session survives and is reused.
			sessions := srv.Count(daytonatest.OpCreateSession)
			res, err = sb.ExecuteCommand(t.Context(), "echo again", nil, nil)
			require.NoError(t, err)
			assert.Equal(t, "again\n", res.Stdout)
			assert.Equal(t, sessions, srv.Count(daytonatest.OpCreateSession))
		})
	}
}

func TestNoStateLeaksBetweenCommands(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	_, err := sb.ExecuteCommand(t.Context(), "export LEAK=1; LOCAL=2; cd /; alias ll=ls; f() { :; }", nil, nil)
	require.NoError(t, err)
	res, err := sb.ExecuteCommand(t.Context(), `echo "[$LEAK][$LOCAL] $PWD"; type f >/dev/null 2>&1 && echo func`, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "[][] "+homeDir(t, srv, sb)+"\n", res.Stdout)
}

func TestEnvMergeAndOverlay(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithEnv(map[string]string{"BASE": "v a l", "OVR": "original", "GONE": "x"}))
	require.NoError(t, sb.SetEnv(func(env map[string]string) map[string]string {
		delete(env, "GONE")
		env["TOKEN"] = "tok_1"
		return env
	}))
	script := `echo "$BASE|$OVR|$EXTRA|$TOKEN|${GONE-unset}"`
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withMode(m.stream, &workspace.ExecOptions{Env: map[string]string{"OVR": "it's new", "EXTRA": "$HOME"}})
			res, err := sb.ExecuteCommand(t.Context(), script, nil, opts)
			require.NoError(t, err)
			assert.Equal(t, "v a l|it's new|$HOME|tok_1|unset\n", res.Stdout)
		})
	}
	err := sb.SetEnv(func(env map[string]string) map[string]string { return map[string]string{"BAD-NAME": "x"} })
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.Equal(t, "tok_1", sb.Env()["TOKEN"], "a rejected update leaves the overlay unchanged")
}

func TestCwd(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	dir := filepath.Join(homeDir(t, srv, sb), "my dir's")
	require.NoError(t, os.Mkdir(dir, 0o755))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withMode(m.stream, &workspace.ExecOptions{Cwd: dir})
			res, err := sb.ExecuteCommand(t.Context(), "pwd", nil, opts)
			require.NoError(t, err)
			assert.Equal(t, dir+"\n", res.Stdout)
		})
	}
	res, err := sb.ExecuteCommand(t.Context(), "echo never", nil, &workspace.ExecOptions{Cwd: "/does/not/exist"})
	require.NoError(t, err)
	assert.NotEqual(t, 0, res.ExitCode)
	assert.NotContains(t, res.Stdout, "never")
	assert.Contains(t, res.Stderr, "/does/not/exist")
}

func TestStdinIsClosed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withMode(m.stream, &workspace.ExecOptions{Timeout: 20 * time.Second})
			start := time.Now()
			res, err := sb.ExecuteCommand(t.Context(), `cat; read x; echo "[$x] done"`, nil, opts)
			require.NoError(t, err)
			assert.Equal(t, "[] done\n", res.Stdout)
			assert.False(t, res.TimedOut)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestTimeoutKillsTheProcess(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			pidFile := filepath.Join(homeDir(t, srv, sb), "pid-timeout-"+m.name)
			opts, out, _ := withMode(m.stream, &workspace.ExecOptions{Timeout: 500 * time.Millisecond})
			script := fmt.Sprintf(`echo started; sh -c 'echo $$ > %s; exec sleep 60'`, pidFile)
			res, err := sb.ExecuteCommand(t.Context(), script, nil, opts)
			require.NoError(t, err, "a timeout is a result")
			assert.Equal(t, 124, res.ExitCode)
			assert.True(t, res.TimedOut)
			assert.True(t, res.Killed)
			assert.Equal(t, "started\n", res.Stdout, "output so far is kept")
			assert.Equal(t, "Command timed out after 500ms", res.Stderr)
			if m.stream {
				assert.Equal(t, "started\n", out.String())
			}
			assert.GreaterOrEqual(t, res.Duration, 500*time.Millisecond)
			pid := readPID(t, pidFile)
			assert.True(t, processGone(pid), "process %d still runs after the timeout", pid)
		})
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			pidFile := filepath.Join(homeDir(t, srv, sb), "pid-cancel-"+m.name)
			ctx, cancel := context.WithCancel(t.Context())
			opts := &workspace.ExecOptions{}
			var out syncBuffer
			if m.stream {
				opts.Stdout = &out
			}
			go func() {
				readPID(t, pidFile)
				if m.stream {
					// What the command printed before it was cancelled
					// has reached us; a kill must not lose it.
					waitFor(t, "the first line", func() bool { return out.String() == "before\n" })
				}
				cancel()
			}()
			script := fmt.Sprintf(`echo before; sh -c 'echo $$ > %s; exec sleep 60'`, pidFile)
			res, err := sb.ExecuteCommand(ctx, script, nil, opts)
			cancelledAt := time.Now()
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
			require.NotNil(t, res, "the partial result comes with the error")
			assert.Equal(t, 137, res.ExitCode)
			assert.True(t, res.Killed)
			assert.False(t, res.TimedOut)
			if m.stream {
				assert.Equal(t, "before\n", res.Stdout)
			}
			assert.True(t, processGone(readPID(t, pidFile)), "the remote process must be killed")
			_ = cancelledAt
		})
	}
}

func TestCancellationIsPrompt(t *testing.T) {
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan time.Time, 1)
	go func() {
		_, _ = sb.ExecuteCommand(ctx, "echo ready; sleep 60", nil, &workspace.ExecOptions{Stdout: &out})
		done <- time.Now()
	}()
	waitFor(t, "the command to start", func() bool { return strings.Contains(out.String(), "ready") })
	cancelled := time.Now()
	cancel()
	returned := <-done
	assert.Less(t, returned.Sub(cancelled), 100*time.Millisecond*raceFactor(), "ExecuteCommand must return promptly after cancellation")
}

// syncBuffer is a bytes.Buffer safe for a reader and a writer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func TestOutputStreamsAsItArrives(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	gate := filepath.Join(homeDir(t, srv, sb), "gate")
	var out syncBuffer
	opened := make(chan struct{})
	go func() {
		waitFor(t, "the first line", func() bool { return strings.Contains(out.String(), "first") })
		require.NoError(t, os.WriteFile(gate, nil, 0o644))
		close(opened)
	}()
	script := fmt.Sprintf(`echo first; while [ ! -f %s ]; do sleep 0.01; done; echo second`, gate)
	res, err := sb.ExecuteCommand(t.Context(), script, nil, &workspace.ExecOptions{Stdout: &out, Timeout: 20 * time.Second})
	require.NoError(t, err)
	<-opened
	assert.Equal(t, "first\nsecond\n", out.String())
	assert.Equal(t, 0, res.ExitCode)
}

// exclusiveWriter fails the test if Write is entered concurrently.
type exclusiveWriter struct {
	busy atomic.Bool
	mu   sync.Mutex
	b    bytes.Buffer
	bad  atomic.Bool
}

func (w *exclusiveWriter) Write(p []byte) (int, error) {
	if !w.busy.CompareAndSwap(false, true) {
		w.bad.Store(true)
	}
	defer w.busy.Store(false)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestInterleavedStreamsToWriters(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	script := `for i in $(seq 1 200); do echo "out $i"; echo "err $i" >&2; done`

	t.Run("separate writers keep order within each stream", func(t *testing.T) {
		var out, errOut bytes.Buffer
		res, err := sb.ExecuteCommand(t.Context(), script, nil, &workspace.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		var wantOut, wantErr strings.Builder
		for i := 1; i <= 200; i++ {
			fmt.Fprintf(&wantOut, "out %d\n", i)
			fmt.Fprintf(&wantErr, "err %d\n", i)
		}
		assert.Equal(t, wantOut.String(), out.String())
		assert.Equal(t, wantErr.String(), errOut.String())
		assert.Equal(t, wantOut.String(), res.Stdout)
		assert.Equal(t, wantErr.String(), res.Stderr)
	})
	t.Run("a shared writer is never written concurrently", func(t *testing.T) {
		var w exclusiveWriter
		_, err := sb.ExecuteCommand(t.Context(), script, nil, &workspace.ExecOptions{Stdout: &w, Stderr: &w})
		require.NoError(t, err)
		assert.False(t, w.bad.Load())
		lines := strings.Split(strings.TrimSpace(w.b.String()), "\n")
		assert.Len(t, lines, 400)
	})
}

var errWriterBroke = errors.New("disk full")

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n > 1 {
		return 0, errWriterBroke
	}
	return len(p), nil
}

func TestFailingWriterStopsTheCommand(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	pidFile := filepath.Join(homeDir(t, srv, sb), "pid-writer")
	script := fmt.Sprintf(`sh -c 'echo $$ > %s; while :; do echo tick; sleep 0.01; done'`, pidFile)
	res, err := sb.ExecuteCommand(t.Context(), script, nil, &workspace.ExecOptions{Stdout: &failingWriter{}})
	require.Error(t, err)
	assert.ErrorIs(t, err, errWriterBroke)
	require.NotNil(t, res)
	assert.True(t, res.Killed)
	assert.True(t, processGone(readPID(t, pidFile)))
}

func TestRetention(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, out, _ := withMode(m.stream, &workspace.ExecOptions{MaxRetainedBytes: 10})
			res, err := sb.ExecuteCommand(t.Context(), "printf 0123456789abcdefghij; printf XYZ >&2", nil, opts)
			require.NoError(t, err)
			assert.Equal(t, "abcdefghij", res.Stdout, "the last MaxRetainedBytes bytes are kept")
			assert.True(t, res.StdoutTruncated)
			assert.EqualValues(t, 10, res.StdoutDroppedBytes)
			assert.Equal(t, "XYZ", res.Stderr)
			assert.False(t, res.StderrTruncated)
			if m.stream {
				assert.Equal(t, "0123456789abcdefghij", out.String(), "writers get everything")
			}
		})
	}
	t.Run("default 1 MiB", func(t *testing.T) {
		res, err := sb.ExecuteCommand(t.Context(), "head -c 1048586 /dev/zero | tr '\\0' x", nil, nil)
		require.NoError(t, err)
		assert.Len(t, res.Stdout, 1<<20)
		assert.True(t, res.StdoutTruncated)
		assert.EqualValues(t, 10, res.StdoutDroppedBytes)
	})
	t.Run("RetainNone", func(t *testing.T) {
		var out bytes.Buffer
		res, err := sb.ExecuteCommand(t.Context(), "echo hi", nil, &workspace.ExecOptions{Stdout: &out, MaxRetainedBytes: workspace.RetainNone})
		require.NoError(t, err)
		assert.Equal(t, "", res.Stdout)
		assert.EqualValues(t, 3, res.StdoutDroppedBytes)
		assert.Equal(t, "hi\n", out.String())
	})
	t.Run("Unlimited", func(t *testing.T) {
		res, err := sb.ExecuteCommand(t.Context(), "head -c 2097152 /dev/zero | tr '\\0' y", nil, &workspace.ExecOptions{MaxRetainedBytes: workspace.Unlimited})
		require.NoError(t, err)
		assert.Len(t, res.Stdout, 2<<20)
		assert.False(t, res.StdoutTruncated)
	})
}

func TestBadInputIsRejectedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	cases := []struct {
		name    string
		command string
		args    []string
		opts    *workspace.ExecOptions
	}{
		{"empty command", "", nil, nil},
		{"NUL in command", "echo \x00", nil, nil},
		{"NUL in arg", "echo", []string{"a\x00b"}, nil},
		{"NUL in cwd", "pwd", nil, &workspace.ExecOptions{Cwd: "/tmp\x00"}},
		{"NUL in env value", "env", nil, &workspace.ExecOptions{Env: map[string]string{"A": "\x00"}}},
		{"invalid env name", "env", nil, &workspace.ExecOptions{Env: map[string]string{"INVALID-NAME": "x"}}},
		{"env name that looks like a dead sandbox", "env", nil, &workspace.ExecOptions{Env: map[string]string{"sandbox not found; printf injected": "x"}}},
		{"negative timeout", "true", nil, &workspace.ExecOptions{Timeout: -time.Second}},
		{"negative retention", "true", nil, &workspace.ExecOptions{MaxRetainedBytes: -5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := sb.ExecuteCommand(t.Context(), tc.command, tc.args, tc.opts)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, daytona.ErrInvalidInput)
			assert.True(t, strings.HasPrefix(err.Error(), "daytona: "))
		})
	}
	assert.Zero(t, srv.TotalCount(), "bad input must not reach the server, nor start the sandbox")
	assert.Equal(t, workspace.StatusPending, sb.Status())
}

func TestRequestBudget(t *testing.T) {
	t.Parallel()
	// Follow streams stay open 10 s after their command exits (the daemon:
	// about 1 s), so that waiting for the close cannot pass for load.
	srv := newServer(t, daytonatest.WithCloseDelay(10*time.Second))
	sb := startedSandbox(t, srv)
	_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil) // warm
	require.NoError(t, err)

	t.Run("without writers: one request", func(t *testing.T) {
		srv.ResetRequests()
		res, err := sb.ExecuteCommand(t.Context(), "echo hi", nil, nil)
		require.NoError(t, err)
		assert.Equal(t, "hi\n", res.Stdout)
		assert.Equal(t, map[daytonatest.Op]int{daytonatest.OpSessionExec: 1}, srv.Counts())
	})
	t.Run("with writers: two round trips, no wait for the stream to close", func(t *testing.T) {
		var out bytes.Buffer
		waitFor(t, "an idle session", func() bool { return idleSessions(srv, sb) > 0 })
		srv.ResetRequests()
		start := time.Now()
		res, err := sb.ExecuteCommand(t.Context(), "echo hi", nil, &workspace.ExecOptions{Stdout: &out})
		took := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, "hi\n", out.String())
		assert.Equal(t, 0, res.ExitCode)
		counts := srv.Counts()
		assert.Equal(t, 1, counts[daytonatest.OpSessionExec])
		assert.Equal(t, 1, counts[daytonatest.OpFollowLogs])
		assert.Zero(t, counts[daytonatest.OpCreateSession])
		assert.Less(t, took, 5*time.Second, "must not wait for the server to close the stream (10 s)")
	})
}

// idleSessions is the number of sessions of sb minus those with a running
// command is not observable directly; the session count is enough for the
// budget test: a warmed sandbox has at least one.
func idleSessions(srv *daytonatest.Server, sb *daytona.Sandbox) int {
	rec, _ := srv.Sandbox(sb.DaytonaID())
	return len(rec.Sessions)
}

// raceFactor loosens timing bounds under the race detector.
func raceFactor() time.Duration {
	if raceEnabled {
		return 3
	}
	return 1
}

func TestConcurrentCommandsRunInParallel(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	dir := homeDir(t, srv, sb)
	const n = 8
	// Each command announces itself, then waits until all n have: only
	// possible if they really run at the same time.
	script := fmt.Sprintf(`touch %s/here-$I; while [ "$(ls %s | grep -c '^here-')" -lt %d ]; do sleep 0.01; done; echo "done $I"`, dir, dir, n)
	var wg sync.WaitGroup
	results := make([]*workspace.CommandResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			opts := &workspace.ExecOptions{Env: map[string]string{"I": strconv.Itoa(i)}, Timeout: 20 * time.Second}
			if i%2 == 1 {
				opts.Stdout = io.Discard
			}
			results[i], errs[i] = sb.ExecuteCommand(t.Context(), script, nil, opts)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.False(t, results[i].TimedOut, "command %d was queued behind another", i)
		assert.Equal(t, fmt.Sprintf("done %d\n", i), results[i].Stdout)
	}
}

// TestSessionsDoNotPileUp: the sessions a burst needed are kept for a
// while (see TestSteadyBurst), then trimmed to the minimum; a session is
// retired after its maximum number of commands (5 here; 200 in use).
func TestSessionsDoNotPileUp(t *testing.T) {
	const maxUses = 5
	t.Cleanup(daytona.SetSessionIdleTTL(100 * time.Millisecond)) // after Destroy
	t.Cleanup(daytona.SetMaxSessionUses(maxUses))
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	for range 4 * maxUses {
		_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
		require.NoError(t, err)
	}
	uses := map[string]int{}
	for _, r := range srv.RequestsFor(daytonatest.OpSessionExec) {
		uses[strings.TrimSuffix(r.Path, "/exec")]++
	}
	for sess, n := range uses {
		assert.LessOrEqual(t, n, maxUses, "commands run in %s", sess)
	}
	// The last command may have retired the pool's last session: its
	// replacement is created in the background. Once that is done, no
	// session is created any more, and the janitor deletes the extra
	// ones, down to one.
	daytona.WaitBackground(t.Context(), sb)
	waitFor(t, "extra sessions to be deleted", func() bool { return idleSessions(srv, sb) <= 1 })
	assert.Equal(t, 1, idleSessions(srv, sb), "the pool keeps one idle session")
}

// TestRetiredLastSessionIsReplaced: a session retired after its maximum
// number of commands is replaced when it was the pool's last, so that the
// pool still keeps one idle session and the next command creates none.
func TestRetiredLastSessionIsReplaced(t *testing.T) {
	const maxUses = 3
	t.Cleanup(daytona.SetMaxSessionUses(maxUses))
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	warm := idleSessionIDs(srv, sb)
	require.Len(t, warm, 1, "a started sandbox has one session")
	for range maxUses {
		_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
		require.NoError(t, err)
	}
	require.Equal(t, []string{warm[0], warm[0], warm[0]}, execSessions(srv), "the commands ran in the warm session")
	daytona.WaitBackground(t.Context(), sb)
	left := idleSessionIDs(srv, sb)
	require.Len(t, left, 1, "the pool keeps one idle session")
	assert.NotEqual(t, warm[0], left[0], "the retired session is deleted")

	srv.ResetRequests()
	res, err := sb.ExecuteCommand(t.Context(), "echo next", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "next\n", res.Stdout)
	assert.Zero(t, srv.Count(daytonatest.OpCreateSession), "the next command waited for a session to be created")
	assert.Equal(t, left, execSessions(srv), "the next command ran in the replacement")
}

// execSessions returns the sessions of the commands srv was sent, in order.
func execSessions(srv *daytonatest.Server) []string {
	var ids []string
	for _, r := range srv.RequestsFor(daytonatest.OpSessionExec) {
		p := strings.TrimSuffix(r.Path, "/exec")
		ids = append(ids, p[strings.LastIndex(p, "/")+1:])
	}
	return ids
}

func TestKillDeletesTheSession(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	_, err := sb.ExecuteCommand(t.Context(), "sleep 30", nil, &workspace.ExecOptions{Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	dels := srv.RequestsFor(daytonatest.OpDeleteSession)
	require.Len(t, dels, 1)
	killed := dels[0].Path[strings.LastIndex(dels[0].Path, "/")+1:]
	assert.NotContains(t, idleSessionIDs(srv, sb), killed)
}

func idleSessionIDs(srv *daytonatest.Server, sb *daytona.Sandbox) []string {
	rec, _ := srv.Sandbox(sb.DaytonaID())
	return rec.Sessions
}

func TestDeadSandboxRetry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		break_ func(t *testing.T, srv *daytonatest.Server, sb *daytona.Sandbox)
		create int // creates after the first
		start  int
	}{
		{"stopped behind our back (400)", func(t *testing.T, srv *daytonatest.Server, sb *daytona.Sandbox) {
			require.NoError(t, srv.StopSandbox(sb.DaytonaID()))
		}, 0, 1},
		{"deleted behind our back (401)", func(t *testing.T, srv *daytonatest.Server, sb *daytona.Sandbox) {
			require.NoError(t, srv.DeleteSandbox(sb.DaytonaID()))
		}, 1, 0},
		{"container gone (404)", func(t *testing.T, srv *daytonatest.Server, sb *daytona.Sandbox) {
			// The runner's answer, through the proxy (not the daemon's).
			require.NoError(t, srv.FailNextWith(daytonatest.OpSessionExec, 1, daytonatest.Fault{Status: http.StatusNotFound,
				Message: "not found: sandbox container not found: No such container", Proxy: true}))
		}, 0, 0},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				srv := newServer(t)
				sb := startedSandbox(t, srv)
				_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
				require.NoError(t, err)
				tc.break_(t, srv, sb)
				srv.ResetRequests()
				opts, _, _ := withMode(m.stream, nil)
				res, err := sb.ExecuteCommand(t.Context(), "echo survived", nil, opts)
				require.NoError(t, err)
				assert.Equal(t, "survived\n", res.Stdout)
				assert.Equal(t, tc.create, srv.Count(daytonatest.OpCreate), "creates")
				assert.Equal(t, tc.start, srv.Count(daytonatest.OpStart), "starts")
				assert.Equal(t, workspace.StatusRunning, sb.Status())
			})
		}
	}
}

func TestDeadSandboxRetriesOnlyOnce(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	require.NoError(t, srv.FailNextWith(daytonatest.OpSessionExec, 2, daytonatest.Fault{Status: http.StatusBadRequest,
		Message: "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?", Proxy: true}))
	_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
	require.Error(t, err)
	assert.Equal(t, 400, daytona.StatusCode(err))
	assert.Equal(t, 2, srv.Count(daytonatest.OpSessionExec))
}

func TestConcurrentCallsEachRetry(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	require.NoError(t, srv.StopSandbox(sb.DaytonaID()))
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			res, err := sb.ExecuteCommand(t.Context(), "echo "+strconv.Itoa(i), nil, nil)
			if assert.NoError(t, err) {
				assert.Equal(t, strconv.Itoa(i)+"\n", res.Stdout)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, srv.Count(daytonatest.OpStart), "one shared restart")
}

func TestNoRetryAfterTheCommandStarted(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	var out syncBuffer
	go func() {
		waitFor(t, "output", func() bool { return strings.Contains(out.String(), "working") })
		_ = srv.StopSandbox(sb.DaytonaID())
	}()
	res, err := sb.ExecuteCommand(t.Context(), "echo working; sleep 30", nil, &workspace.ExecOptions{Stdout: &out})
	require.Error(t, err)
	assert.Equal(t, "working\n", out.String(), "output delivered once, never repeated")
	assert.Equal(t, 1, srv.Count(daytonatest.OpSessionExec), "a started command is never resubmitted")
	if res != nil {
		assert.Equal(t, "working\n", res.Stdout)
	}
}

func TestStreamCutRecovery(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	var want strings.Builder
	for i := 1; i <= 500; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	srv.CutNextStreams(2, 1000)
	var out bytes.Buffer
	res, err := sb.ExecuteCommand(t.Context(), `for i in $(seq 1 500); do echo "line $i"; done`, nil, &workspace.ExecOptions{Stdout: &out})
	require.NoError(t, err)
	assert.Equal(t, want.String(), out.String(), "nothing lost or duplicated")
	assert.Equal(t, want.String(), res.Stdout)
	assert.Equal(t, 3, srv.Count(daytonatest.OpFollowLogs), "two cut streams, then a complete one")
}

func TestLostSessionIsReplaced(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	srv.ResetRequests()
	srv.FailNext(daytonatest.OpSessionExec, 1, http.StatusInternalServerError, "failed to execute command: not found: session not found")
	res, err := sb.ExecuteCommand(t.Context(), "echo ok", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "ok\n", res.Stdout)
	assert.Zero(t, srv.Count(daytonatest.OpCreate), "a lost session is not a dead sandbox")
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreateSession))
}

func TestBackgroundJobDoesNotBlockLaterCommands(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	// The job keeps the command's stdout open after the command returns.
	res, err := sb.ExecuteCommand(t.Context(), "sleep 30 & echo $! > job.pid; echo started", nil, &workspace.ExecOptions{Stdout: io.Discard})
	require.NoError(t, err)
	assert.Equal(t, "started\n", res.Stdout)
	// At the end, the job ends: the session it held is then known to be
	// free, and Destroy need not wait for the pool to give up on it.
	job := readPID(t, filepath.Join(homeDir(t, srv, sb), "job.pid"))
	defer func() { _ = syscall.Kill(job, syscall.SIGKILL) }()
	for _, m := range modes {
		opts, _, _ := withMode(m.stream, &workspace.ExecOptions{Timeout: 10 * time.Second})
		res, err = sb.ExecuteCommand(t.Context(), "echo next", nil, opts)
		require.NoError(t, err)
		assert.False(t, res.TimedOut, "%s: the next command was queued behind the background job", m.name)
		assert.Equal(t, "next\n", res.Stdout)
	}
}

func TestLongCommandOutlivesTheSyncWindow(t *testing.T) {
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithSyncWindow(200*time.Millisecond))
	res, err := sb.ExecuteCommand(t.Context(), "echo a; sleep 0.6; echo b", nil, &workspace.ExecOptions{Timeout: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "a\nb\n", res.Stdout)
	assert.Equal(t, 1, srv.Count(daytonatest.OpFollowLogs), "continued by following the log")
	assert.Zero(t, srv.Count(daytonatest.OpDeleteSession))
}

// TestLargeOutputWithoutWritersIsReadOnce: output too large for the log
// stays in its file in the sandbox, and a command without writers reads
// only what its result keeps, with one ranged download after the
// synchronous answer; the file is then removed.
func TestLargeOutputWithoutWritersIsReadOnce(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithFrameSize(32<<10))
	sb := startedSandbox(t, srv)
	srv.ResetRequests()
	const n = 12_000_000
	res, err := sb.ExecuteCommand(t.Context(), fmt.Sprintf("head -c %d /dev/zero | tr '\\0' z; echo tail", n), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	assert.Len(t, res.Stdout, workspace.DefaultMaxRetainedBytes)
	assert.True(t, strings.HasSuffix(res.Stdout, "zzztail\n"))
	assert.EqualValues(t, n+5-workspace.DefaultMaxRetainedBytes, res.StdoutDroppedBytes)
	assert.Zero(t, srv.Count(daytonatest.OpFollowLogs), "no log stream")
	assert.Equal(t, 1, srv.Count(daytonatest.OpSessionExec))
	downloads := srv.RequestsFor(daytonatest.OpDownloadFile)
	require.Len(t, downloads, 1, "one download: %v", srv.Counts())
	daytona.WaitBackground(t.Context(), sb) // the file's removal runs in the background
	requireRemoved(t, downloads)
}

// requireRemoved checks that the files the downloads read are gone from
// the sandbox.
func requireRemoved(t *testing.T, downloads []daytonatest.Request) {
	t.Helper()
	for _, d := range downloads {
		q, err := url.ParseQuery(d.Query)
		require.NoError(t, err)
		_, err = os.Stat(q.Get("path"))
		require.True(t, os.IsNotExist(err), "%s is still there (%v)", q.Get("path"), err)
	}
}
