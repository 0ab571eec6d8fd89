//go:build unix

package daytonatest_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	toolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// gateCmd waits until the file gate exists in the working directory, so
// that the test decides when a command may go on.
const gateCmd = "while [ ! -e gate ]; do sleep 0.01; done"

func openGate(t *testing.T, dir string) time.Time {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gate"), nil, 0o644))
	return time.Now()
}

func TestSessionCommandsAreSerialized(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))

	first := execAsync(t, sb, "s", gateCmd+"; echo first >> order.txt")
	second := execAsync(t, sb, "s", "echo second >> order.txt")

	// While the first waits, the second is queued: it has not run.
	holdsFor(t, 300*time.Millisecond, "the second command to stay queued", func() bool {
		cmd, err := sb.Process.GetSessionCommand(ctx, "s", second)
		require.NoError(t, err)
		_, done := exitCode(cmd)
		_, statErr := os.Stat(filepath.Join(home, "order.txt"))
		return !done && os.IsNotExist(statErr)
	})

	openGate(t, home)
	require.Equal(t, int32(0), waitExit(t, sb, "s", second))
	cmd, err := sb.Process.GetSessionCommand(ctx, "s", first)
	require.NoError(t, err)
	code, done := exitCode(cmd)
	require.True(t, done, "the second command finished before the first")
	require.Equal(t, int32(0), code)
	b, err := os.ReadFile(filepath.Join(home, "order.txt"))
	require.NoError(t, err)
	require.Equal(t, "first\nsecond\n", string(b))

	// Sessions are independent of each other.
	require.NoError(t, os.Remove(filepath.Join(home, "gate")))
	require.NoError(t, sb.Process.CreateSession(ctx, "other"))
	blocked := execAsync(t, sb, "s", gateCmd)
	m, err := sb.Process.ExecuteSessionCommand(ctx, "other", "echo independent", false, false)
	require.NoError(t, err)
	require.Equal(t, "independent\n", m["stdout"])
	openGate(t, home)
	require.Equal(t, int32(0), waitExit(t, sb, "s", blocked))
}

func TestSessionStatePersists(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	p := sb.Process
	require.NoError(t, p.CreateSession(ctx, "s"))
	require.NoError(t, p.CreateSession(ctx, "fresh"))

	run := func(sid, command string) map[string]any {
		t.Helper()
		m, err := p.ExecuteSessionCommand(ctx, sid, command, false, false)
		require.NoError(t, err)
		return m
	}
	m := run("s", "mkdir -p work && cd work && export FOO=bar && X=1 && greet() { echo hello \"$1\"; }")
	require.Equal(t, int32(0), m["exitCode"])
	m = run("s", `echo "$FOO $PWD $X"; greet you`)
	require.Equal(t, "bar "+filepath.Join(home, "work")+" 1\nhello you\n", m["stdout"])

	// An asynchronous command sees the same state and leaves its own.
	id := execAsync(t, sb, "s", "cd .. && export FOO=baz")
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
	m = run("s", `echo "$FOO $PWD"`)
	require.Equal(t, "baz "+home+"\n", m["stdout"])

	// Another session starts clean.
	m = run("fresh", `echo "[$FOO] [$X] $PWD"`)
	require.Equal(t, "[] [] "+home+"\n", m["stdout"])
}

func TestSessionExitKillsShell(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	p := sb.Process
	require.NoError(t, p.CreateSession(ctx, "s"))

	id := execAsync(t, sb, "s", "echo bye; exit 3")
	waitFor(t, 10*time.Second, "the output of the exiting command", func() bool {
		logs, err := p.GetSessionCommandLogs(ctx, "s", id)
		require.NoError(t, err)
		return logs.Stdout == "bye\n"
	})
	// The command never gets an exit code.
	holdsFor(t, 300*time.Millisecond, "the exit code to stay absent", func() bool {
		cmd, err := p.GetSessionCommand(ctx, "s", id)
		require.NoError(t, err)
		_, done := exitCode(cmd)
		return !done
	})

	// A later command never runs: it does not finish within 2 s, or fails.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := p.ExecuteSessionCommand(cctx, "s", "touch ran.txt; echo after", false, false)
	require.Error(t, err, "a command ran after exit: %v", m)
	require.NoFileExists(t, filepath.Join(home, "ran.txt"))

	sess, err := p.GetSession(ctx, "s")
	require.NoError(t, err)
	for _, c := range sess["commands"].([]toolbox.Command) {
		require.Nil(t, c.ExitCode, "command %q has an exit code", c.Command)
	}

	// A follow stream of the dead command does not end by itself, but
	// deleting the session ends it normally.
	s := follow(ctx, sb, "s", id)
	// The SDK holds back the last two bytes of a frame until the next one
	// (a marker may be split), so only a prefix arrives while it is open.
	waitFor(t, 10*time.Second, "the replay", func() bool { return strings.HasPrefix(s.Stdout(), "by") })
	holdsFor(t, 200*time.Millisecond, "the stream to stay open", func() bool { return !s.isDone() })
	require.NoError(t, p.DeleteSession(ctx, "s"))
	_, err = s.wait(t, 10*time.Second)
	require.NoError(t, err)
}

// A command given to a session whose shell has died is registered, then
// refused with the daemon's broken pipe (execute.go:36-41 and 79-82,
// v0.190.0): it never runs and never gets an exit code. If a zsh shell
// died during an async command, whose input loop keeps the shell's stdin
// open, later commands are accepted and never run.
func TestSessionDeadShellBrokenPipe_execute_go_79(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	p := sb.Process
	require.NoError(t, p.CreateSession(ctx, "s"))
	m, err := p.ExecuteSessionCommand(ctx, "s", "echo $$ > shell.pid", false, true)
	require.NoError(t, err, "%v", m)
	pid := readPID(t, filepath.Join(home, "shell.pid"))
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	waitFor(t, 10*time.Second, "the shell to die", func() bool { return !processAlive(pid) })
	for _, async := range []bool{false, true} {
		_, err = p.ExecuteSessionCommand(ctx, "s", "touch ran.txt", async, true)
		requireDaytonaError(t, err, 500, "failed to execute command: bad request: failed to write command: write |1: broken pipe")
	}
	require.NoFileExists(t, filepath.Join(home, "ran.txt"))
	sess, err := p.GetSession(ctx, "s")
	require.NoError(t, err)
	cmds := sess["commands"].([]toolbox.Command)
	require.Len(t, cmds, 3, "the refused commands stay listed")
	for _, c := range cmds[1:] {
		require.Nil(t, c.ExitCode)
	}

	// Under zsh only, a shell that died during an async command leaves
	// later commands queued forever.
	if _, err := exec.LookPath("zsh"); err != nil {
		return
	}
	srv, _, sb = newSandbox(t, daytonatest.WithSessionShell("zsh"))
	home = homeDir(t, srv, sb.ID)
	p = sb.Process
	require.NoError(t, p.CreateSession(ctx, "a"))
	execAsync(t, sb, "a", "echo $$ > a.pid; kill -9 $$")
	apid := readPID(t, filepath.Join(home, "a.pid"))
	waitFor(t, 10*time.Second, "the shell to die", func() bool { return !processAlive(apid) })
	id := execAsync(t, sb, "a", "touch ran2.txt")
	holdsFor(t, 300*time.Millisecond, "the queued command not to run", func() bool {
		cmd, err := p.GetSessionCommand(ctx, "a", id)
		require.NoError(t, err)
		_, done := exitCode(cmd)
		return !done
	})
	require.NoFileExists(t, filepath.Join(home, "ran2.txt"))
}

func TestSessionLogLabels(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ctx := t.Context()
	p := sb.Process
	require.NoError(t, p.CreateSession(ctx, "s"))

	id := execAsync(t, sb, "s", "echo out; echo err >&2; printf tail; printf 'e-tail' >&2")
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
	logs, err := p.GetSessionCommandLogs(ctx, "s", id)
	require.NoError(t, err)
	require.Equal(t, "out\ntail\n", logs.Stdout, "a partial last line gets a newline")
	require.Equal(t, "err\ne-tail\n", logs.Stderr)

	// Every line carries the label of its stream; the order across the two
	// streams is not defined, so compare the lines as a set.
	lines := strings.SplitAfter(logs.Output, "\n")
	require.Equal(t, "", lines[len(lines)-1])
	require.ElementsMatch(t, []string{
		"\x01\x01\x01out\n", "\x01\x01\x01tail\n", "\x02\x02\x02err\n", "\x02\x02\x02e-tail\n",
	}, lines[:len(lines)-1])
	// Within one stream the order is kept.
	require.Less(t, strings.Index(logs.Output, "\x01\x01\x01out\n"), strings.Index(logs.Output, "\x01\x01\x01tail\n"))
	require.Less(t, strings.Index(logs.Output, "\x02\x02\x02err\n"), strings.Index(logs.Output, "\x02\x02\x02e-tail\n"))

	// The stream demultiplexes the same log.
	s := follow(ctx, sb, "s", id)
	_, err = s.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "out\ntail\n", s.Stdout())
	require.Equal(t, "err\ne-tail\n", s.Stderr())

	// A command with no output has an empty log.
	m, err := p.ExecuteSessionCommand(ctx, "s", "true", false, false)
	require.NoError(t, err)
	require.Equal(t, "", m["stdout"])
	require.Equal(t, "", m["stderr"])
}

func TestFollowStreamsLiveAndReplays(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))

	id := execAsync(t, sb, "s", "echo first; echo warn >&2; "+gateCmd+"; echo second")
	live := follow(ctx, sb, "s", id)
	waitFor(t, 10*time.Second, "the first line on the live stream", func() bool {
		// The SDK holds back the last two bytes until the next frame, and
		// the order across streams is not defined.
		return strings.HasPrefix(live.Stdout(), "fir") && strings.HasPrefix(live.Stderr(), "war")
	})
	require.False(t, live.isDone(), "the stream ended while the command runs")
	openGate(t, home)
	_, err := live.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "first\nsecond\n", live.Stdout())
	require.Equal(t, "warn\n", live.Stderr())

	// Opened after the command finished, a stream replays from byte 0.
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
	for range 2 {
		replay := follow(ctx, sb, "s", id)
		_, err = replay.wait(t, 10*time.Second)
		require.NoError(t, err)
		require.Equal(t, "first\nsecond\n", replay.Stdout())
		require.Equal(t, "warn\n", replay.Stderr())
	}
	// The log entry is finished when the handler returns, just after the
	// close frame went out.
	waitFor(t, 10*time.Second, "the stream's log entry", func() bool {
		return lastRequest(t, srv, daytonatest.OpFollowLogs).Status == http.StatusSwitchingProtocols
	})
	require.Equal(t, "follow=true", lastRequest(t, srv, daytonatest.OpFollowLogs).Query)
	require.Equal(t, 3, srv.Count(daytonatest.OpFollowLogs))
}

func TestFollowFrameSizeOne(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t, daytonatest.WithFrameSize(1))
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	id := execAsync(t, sb, "s", "echo out; echo err >&2; echo more")
	waitExit(t, sb, "s", id)
	s := follow(ctx, sb, "s", id)
	_, err := s.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "out\nmore\n", s.Stdout())
	require.Equal(t, "err\n", s.Stderr())
}

func TestFollowCloseTiming(t *testing.T) {
	t.Parallel()
	t.Run("default close delay", func(t *testing.T) {
		t.Parallel()
		srv := daytonatest.NewServer(t, daytonatest.WithTransitionDelay(0))
		require.Equal(t, daytonatest.DefaultCloseDelay, srv.CloseDelay())
		sb := createSandbox(t, newClient(t, srv), types.SnapshotParams{})
		home := homeDir(t, srv, sb.ID)
		ctx := t.Context()
		require.NoError(t, sb.Process.CreateSession(ctx, "s"))

		// Opened before the exit: it ends about a second after it.
		id := execAsync(t, sb, "s", "echo started; "+gateCmd+"; echo done")
		live := follow(ctx, sb, "s", id)
		waitFor(t, 10*time.Second, "the first line", func() bool { return strings.HasPrefix(live.Stdout(), "start") })
		opened := openGate(t, home)
		_, err := live.wait(t, 10*time.Second)
		require.NoError(t, err)
		afterExit := time.Since(opened)
		require.GreaterOrEqual(t, afterExit, 900*time.Millisecond)
		require.Less(t, afterExit, 3*time.Second)
		require.Equal(t, "started\ndone\n", live.Stdout())

		// Opened after the exit: the replay, then the same delay.
		waitExit(t, sb, "s", id)
		replay := follow(ctx, sb, "s", id)
		d, err := replay.wait(t, 10*time.Second)
		require.NoError(t, err)
		require.GreaterOrEqual(t, d, 900*time.Millisecond)
		require.Less(t, d, 3*time.Second)
		require.Equal(t, "started\ndone\n", replay.Stdout())
	})
	t.Run("close delay 0", func(t *testing.T) {
		t.Parallel()
		srv, _, sb := newSandbox(t)
		require.Equal(t, time.Duration(0), srv.CloseDelay())
		ctx := t.Context()
		require.NoError(t, sb.Process.CreateSession(ctx, "s"))
		id := execAsync(t, sb, "s", "echo quick")
		waitExit(t, sb, "s", id)
		s := follow(ctx, sb, "s", id)
		d, err := s.wait(t, 10*time.Second)
		require.NoError(t, err)
		require.Less(t, d, 300*time.Millisecond)
		require.Equal(t, "quick\n", s.Stdout())
	})
}

func TestDeleteSessionEndsStreamAndKillsTree(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))

	// A process tree: the session shell, a subshell, a sleep below it, and
	// a sleep that left the process group (setsid).
	id := execAsync(t, sb, "s", "echo started; ( sleep 300 & echo $! > sleep.pid; echo $BASHPID > sub.pid; wait ) & "+
		"if command -v setsid >/dev/null; then setsid sleep 300 & echo $! > setsid.pid; else echo $$ > setsid.pid; fi; wait")
	s := follow(ctx, sb, "s", id)
	waitFor(t, 10*time.Second, "the stream to deliver output", func() bool { return strings.HasPrefix(s.Stdout(), "start") })
	sleepPID := readPID(t, filepath.Join(home, "sleep.pid"))
	subPID := readPID(t, filepath.Join(home, "sub.pid"))
	setsidPID := readPID(t, filepath.Join(home, "setsid.pid"))
	require.True(t, processAlive(sleepPID))
	require.True(t, processAlive(setsidPID))

	start := time.Now()
	require.NoError(t, sb.Process.DeleteSession(ctx, "s"))
	require.Less(t, time.Since(start), 3*time.Second, "processes that exit on SIGTERM do not wait for the grace period")
	require.False(t, processAlive(sleepPID), "sleep survived DeleteSession")
	require.False(t, processAlive(subPID), "the subshell survived DeleteSession")
	require.False(t, processAlive(setsidPID), "a process in its own session survived DeleteSession")

	_, err := s.wait(t, 10*time.Second)
	require.NoError(t, err, "a session deletion closes the stream normally")
	_, err = sb.Process.GetSessionCommand(ctx, "s", id)
	requireNotFound(t, err, "not found: session not found")
}

func TestDeleteSessionKillGrace(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t, daytonatest.WithKillGrace(200*time.Millisecond))
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	// The sleep ignores SIGTERM, so only the SIGKILL after the grace ends it.
	execAsync(t, sb, "s", "trap '' TERM; sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	start := time.Now()
	require.NoError(t, sb.Process.DeleteSession(ctx, "s"))
	elapsed := time.Since(start)
	require.GreaterOrEqual(t, elapsed, 200*time.Millisecond)
	require.Less(t, elapsed, 4*time.Second)
	require.False(t, processAlive(pid))
}

// The daemon sends SIGKILL only if the session shell still has a child
// once SIGTERM has gone round (delete.go:44-134, v0.190.0); the shell
// traps SIGTERM (execute.go:205). A process that ignores SIGTERM below a
// child of the shell that does not thus outlives the delete, until the
// sandbox stops; below a child that outlives SIGTERM itself, it is killed
// after the grace period.
func TestDeleteSessionKillsOnlyWhileTheShellHasAChild_delete_go_44(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t, daytonatest.WithKillGrace(300*time.Millisecond))
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	ignoring := `bash -c 'trap "" TERM; echo $$ > %s; exec sleep 300'`
	for _, tc := range []struct {
		name, parent string
		survives     bool
	}{
		{"child dies on SIGTERM", "", true},
		{"child traps SIGTERM", `trap "wait; exit 143" TERM; `, false},
	} {
		sid := "s-" + strings.ReplaceAll(tc.name, " ", "-")
		require.NoError(t, sb.Process.CreateSession(ctx, sid))
		pidFile := sid + ".pid"
		execAsync(t, sb, sid, "bash -c "+shellQuote(tc.parent+fmt.Sprintf(ignoring, pidFile)+"; true"))
		waitFor(t, 10*time.Second, "the pid file", func() bool {
			b, err := os.ReadFile(filepath.Join(home, pidFile))
			return err == nil && strings.HasSuffix(string(b), "\n")
		})
		pid := readPID(t, filepath.Join(home, pidFile))
		start := time.Now()
		require.NoError(t, sb.Process.DeleteSession(ctx, sid))
		elapsed := time.Since(start)
		if tc.survives {
			require.Less(t, elapsed, 300*time.Millisecond, "%s: no grace period without a child", tc.name)
			require.True(t, processAlive(pid), "%s: the process that ignores SIGTERM was killed", tc.name)
			// Stopping the sandbox ends it, as a container stop does.
			require.NoError(t, sb.Stop(ctx))
			waitFor(t, 10*time.Second, "the stopped sandbox's processes to end", func() bool { return !processAlive(pid) })
			require.NoError(t, sb.Start(ctx))
		} else {
			require.GreaterOrEqual(t, elapsed, 300*time.Millisecond, "%s: SIGKILL after the grace period", tc.name)
			require.False(t, processAlive(pid), "%s: it outlived the delete", tc.name)
		}
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestSessionStdin(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ctx := t.Context()
	p := sb.Process
	require.NoError(t, p.CreateSession(ctx, "s"))

	// Asynchronous commands keep stdin open for SendInput. (Input echo is
	// suppressed here; TestSendInputEchoesIntoStdout shows the echo.)
	m, err := p.ExecuteSessionCommand(ctx, "s", `read line; echo "got $line"; read second; echo "then $second"`, true, true)
	require.NoError(t, err)
	id := m["id"].(string)
	holdsFor(t, 200*time.Millisecond, "read to wait for input", func() bool {
		cmd, err := p.GetSessionCommand(ctx, "s", id)
		require.NoError(t, err)
		_, done := exitCode(cmd)
		return !done
	})
	// The daemon appends a newline to data without one
	// (apps/daemon/pkg/session/input.go:47-50, v0.173.0).
	sendWhenStarted(t, sb, "s", id, "hello\n")
	resp, err := sb.ToolboxClient.ProcessAPI.SendInput(ctx, "s", id).
		Request(*toolbox.NewSessionSendInputRequest("world")).Execute()
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
	logs, err := p.GetSessionCommandLogs(ctx, "s", id)
	require.NoError(t, err)
	require.Equal(t, "got hello\nthen world\n", logs.Stdout)

	// Synchronous commands see end of file: cat returns at once.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err = p.ExecuteSessionCommand(cctx, "s", "cat; echo done", false, false)
	require.NoError(t, err)
	require.Equal(t, int32(0), m["exitCode"])
	require.Equal(t, "done\n", m["stdout"])

	// And so do synchronous commands that read a line.
	m, err = p.ExecuteSessionCommand(cctx, "s", `read x; echo "rc=$? [$x]"`, false, false)
	require.NoError(t, err)
	require.Equal(t, "rc=1 []\n", m["stdout"])
}

func TestSessionCommandsDoNotSeeTheStatusPipe(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	// Commands that redefine printf or close descriptors do not confuse the
	// session's exit code reporting.
	m, err := sb.Process.ExecuteSessionCommand(ctx, "s", "printf() { :; }; exec 3>&- 4>&-; (exit 4)", false, false)
	require.NoError(t, err)
	require.Equal(t, int32(4), m["exitCode"])
	// The shell's descriptors as the command sees them: stdin, stdout and
	// stderr (and whatever ls opens), but not the status pipe.
	m, err = sb.Process.ExecuteSessionCommand(ctx, "s", "ls /proc/$$/fd | sort -n | tr '\\n' ' '", false, false)
	require.NoError(t, err)
	require.Equal(t, int32(0), m["exitCode"])
	require.NotContains(t, strings.Fields(m["stdout"].(string)), "7")
	m, err = sb.Process.ExecuteSessionCommand(ctx, "s", "echo still-works", false, false)
	require.NoError(t, err)
	require.Equal(t, "still-works\n", m["stdout"])
}

func TestSessionLabelsWholeLines(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))

	// A line written in two pieces is labelled once, when it is complete.
	id := execAsync(t, sb, "s", "printf par; "+gateCmd+"; echo tial")
	holdsFor(t, 200*time.Millisecond, "the partial line to stay out of the log", func() bool {
		logs, err := sb.Process.GetSessionCommandLogs(ctx, "s", id)
		require.NoError(t, err)
		return logs.Output == ""
	})
	openGate(t, home)
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
	logs, err := sb.Process.GetSessionCommandLogs(ctx, "s", id)
	require.NoError(t, err)
	require.Equal(t, "\x01\x01\x01partial\n", logs.Output)
}

func TestSessionLargeOutput(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	var want strings.Builder
	for i := 1; i <= 50000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}

	m, err := sb.Process.ExecuteSessionCommand(ctx, "s", "seq 1 50000; echo done >&2", false, false)
	require.NoError(t, err)
	require.Equal(t, want.String(), m["stdout"])
	require.Equal(t, "done\n", m["stderr"])

	s := follow(ctx, sb, "s", m["id"].(string))
	_, err = s.wait(t, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, want.String(), s.Stdout())
	require.Equal(t, "done\n", s.Stderr())
}

func TestDeleteSessionCancelsSyncCommand(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))

	done := make(chan error, 1)
	go func() {
		_, err := sb.Process.ExecuteSessionCommand(ctx, "s", "echo waiting; "+gateCmd, false, false)
		done <- err
	}()
	waitFor(t, 10*time.Second, "the command to run", func() bool {
		sess, err := sb.Process.GetSession(ctx, "s")
		require.NoError(t, err)
		cmds := sess["commands"].([]toolbox.Command)
		if len(cmds) == 0 {
			return false
		}
		logs, err := sb.Process.GetSessionCommandLogs(ctx, "s", cmds[0].Id)
		require.NoError(t, err)
		return logs.Stdout == "waiting\n"
	})
	require.NoError(t, sb.Process.DeleteSession(ctx, "s"))
	select {
	case err := <-done:
		requireDaytonaError(t, err, 500, "failed to execute command: session cancelled")
	case <-time.After(10 * time.Second):
		t.Fatal("the synchronous command still waits after its session was deleted")
	}
	require.Equal(t, 1, srv.Count(daytonatest.OpSessionExec))
}

func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ctx := t.Context()

	// Racing creates of one id: exactly one wins.
	const racers = 6
	errs := make(chan error, racers)
	for range racers {
		go func() { errs <- sb.Process.CreateSession(ctx, "contended") }()
	}
	wins := 0
	for range racers {
		if err := <-errs; err == nil {
			wins++
		} else {
			requireDaytonaError(t, err, 409, "conflict: session already exists")
		}
	}
	require.Equal(t, 1, wins)

	// Many sessions at once, each with its own state.
	const sessions, commands = 6, 4
	results := make(chan string, sessions)
	for i := range sessions {
		go func() {
			sid := "c" + strconv.Itoa(i)
			if err := sb.Process.CreateSession(ctx, sid); err != nil {
				results <- err.Error()
				return
			}
			var out strings.Builder
			for j := range commands {
				m, err := sb.Process.ExecuteSessionCommand(ctx, sid, fmt.Sprintf("N=$((${N:-0}+%d)); echo %s-$N", j, sid), j%2 == 1, false)
				if err != nil {
					results <- err.Error()
					return
				}
				if j%2 == 1 {
					continue
				}
				out.WriteString(m["stdout"].(string))
			}
			results <- out.String()
		}()
	}
	got := map[string]bool{}
	for range sessions {
		got[<-results] = true
	}
	want := map[string]bool{}
	for i := range sessions {
		// Commands 0 and 2 print; N goes 0, 1, 3, 6.
		sid := "c" + strconv.Itoa(i)
		want[sid+"-0\n"+sid+"-3\n"] = true
	}
	require.Equal(t, want, got)
	list, err := sb.Process.ListSessions(ctx)
	require.NoError(t, err)
	require.Len(t, list, sessions+1)
}
