package daytona_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

func processes(t testing.TB, sb *daytona.Sandbox) workspace.ProcessManager {
	t.Helper()
	var ws workspace.Sandbox = sb
	ps, ok := ws.(workspace.ProcessSpawner)
	require.True(t, ok, "daytona.Sandbox must implement workspace.ProcessSpawner")
	return ps.Processes()
}

func TestSpawnStreamsAndWaits(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	var out, errOut syncBuffer
	p, err := processes(t, sb).Spawn(t.Context(), `echo ready; read line; echo "got $line"; echo warn >&2; exit 5`,
		&workspace.SpawnOptions{Stdout: &out, Stderr: &errOut})
	require.NoError(t, err)
	assert.Equal(t, workspace.StatusRunning, sb.Status(), "Spawn starts the sandbox lazily")
	assert.True(t, strings.HasPrefix(p.PID(), "agentws-proc-"))
	waitFor(t, "ready", func() bool { return out.String() == "ready\n" })
	_, ended := p.ExitCode()
	assert.False(t, ended)

	require.NoError(t, p.SendStdin(t.Context(), []byte("hello\n")))
	res, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 5, res.ExitCode)
	assert.Equal(t, "ready\ngot hello\n", res.Stdout)
	assert.Equal(t, "warn\n", res.Stderr)
	assert.Equal(t, "ready\ngot hello\n", out.String())
	assert.Equal(t, "warn\n", errOut.String())
	assert.Equal(t, "ready\ngot hello\n", p.Stdout())
	code, ended := p.ExitCode()
	assert.True(t, ended)
	assert.Equal(t, 5, code)

	// Waiting again returns the same result at once.
	again, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, res.ExitCode, again.ExitCode)

	err = p.SendStdin(t.Context(), []byte("late\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), p.PID())
	assert.Contains(t, err.Error(), "exited with code 5")
}

func TestSendStdinToCat(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	p, err := processes(t, sb).Spawn(t.Context(), "cat", nil)
	require.NoError(t, err)
	require.NoError(t, p.SendStdin(t.Context(), []byte("one\n")))
	require.NoError(t, p.SendStdin(t.Context(), []byte("two\n")))
	waitFor(t, "echoed input", func() bool { return p.Stdout() == "one\ntwo\n" })
	assert.ErrorIs(t, p.CloseStdin(t.Context()), workspace.ErrUnsupported)
	require.NoError(t, p.Kill(t.Context()))
	res, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", res.Stdout)
	assert.True(t, res.Killed)
	assert.Equal(t, 137, res.ExitCode)
}

func TestKillEndsTheProcessTree(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	pidFile := filepath.Join(homeDir(t, srv, sb), "spawned.pid")
	p, err := processes(t, sb).Spawn(t.Context(), fmt.Sprintf(`sh -c 'echo $$ > %s; exec sleep 60'`, pidFile), nil)
	require.NoError(t, err)
	pid := readPID(t, pidFile)
	require.NoError(t, processes(t, sb).Kill(t.Context(), p.PID()))
	assert.True(t, processGone(pid))
	res, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 137, res.ExitCode)
	assert.True(t, res.Killed)
	assert.False(t, res.TimedOut)
	require.NoError(t, p.Kill(t.Context()), "Kill is idempotent")
	code, ended := p.ExitCode()
	assert.True(t, ended)
	assert.Equal(t, 137, code)
	rec, _ := srv.Sandbox(sb.DaytonaID())
	assert.NotContains(t, rec.Sessions, p.PID(), "the session is deleted")
}

func TestSpawnTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	pidFile := filepath.Join(homeDir(t, srv, sb), "timeout.pid")
	p, err := processes(t, sb).Spawn(t.Context(), fmt.Sprintf(`echo partial; sh -c 'echo $$ > %s; exec sleep 60'`, pidFile),
		&workspace.SpawnOptions{Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	res, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 124, res.ExitCode)
	assert.True(t, res.TimedOut)
	assert.Equal(t, "partial\n", res.Stdout)
	assert.True(t, processGone(readPID(t, pidFile)))
}

func TestListAndGet(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	pm := processes(t, sb)
	quick, err := pm.Spawn(t.Context(), "echo quick", nil)
	require.NoError(t, err)
	_, err = quick.Wait(t.Context())
	require.NoError(t, err)
	slow, err := pm.Spawn(t.Context(), "sleep 60", nil)
	require.NoError(t, err)

	list, err := pm.List(t.Context())
	require.NoError(t, err)
	require.Len(t, list, 2)
	zero := 0
	assert.Equal(t, workspace.ProcessInfo{PID: quick.PID(), Command: "echo quick", Running: false, ExitCode: &zero}, list[0])
	assert.Equal(t, workspace.ProcessInfo{PID: slow.PID(), Command: "sleep 60", Running: true}, list[1])

	got, err := pm.Get(t.Context(), slow.PID())
	require.NoError(t, err)
	assert.Same(t, slow, got)
	_, err = pm.Get(t.Context(), "agentws-proc-nope")
	assert.ErrorIs(t, err, workspace.ErrProcessNotFound)
	assert.ErrorIs(t, pm.Kill(t.Context(), "agentws-proc-nope"), workspace.ErrProcessNotFound)

	require.NoError(t, slow.Kill(t.Context()))
	dm := pm.(*daytona.ProcessManager)
	require.NoError(t, dm.Release(quick.PID()))
	list, _ = pm.List(t.Context())
	assert.Len(t, list, 1)
}

func TestWaitRespectsContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	p, err := processes(t, sb).Spawn(t.Context(), "sleep 60", nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = p.Wait(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, ended := p.ExitCode()
	assert.False(t, ended, "the process goes on when Wait gives up")
	require.NoError(t, p.Kill(t.Context()))
}

func TestConcurrentSpawns(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	pm := processes(t, sb)
	var wg sync.WaitGroup
	const n = 10
	results := make([]*workspace.CommandResult, n)
	for i := range n {
		wg.Go(func() {
			p, err := pm.Spawn(t.Context(), fmt.Sprintf("echo proc-%d", i), nil)
			if !assert.NoError(t, err) {
				return
			}
			results[i], err = p.Wait(t.Context())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	for i, res := range results {
		require.NotNil(t, res)
		assert.Equal(t, fmt.Sprintf("proc-%d\n", i), res.Stdout)
	}
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
	list, _ := pm.List(t.Context())
	assert.Len(t, list, n)
}

func TestStopAndDestroyEndProcesses(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"stop", "destroy"} {
		t.Run(op, func(t *testing.T) {
			srv := newServer(t)
			sb := startedSandbox(t, srv)
			pidFile := filepath.Join(homeDir(t, srv, sb), "bg.pid")
			p, err := processes(t, sb).Spawn(t.Context(), fmt.Sprintf(`sh -c 'echo $$ > %s; exec sleep 60'`, pidFile), nil)
			require.NoError(t, err)
			pid := readPID(t, pidFile)
			if op == "stop" {
				require.NoError(t, sb.Stop(t.Context()))
			} else {
				require.NoError(t, sb.Destroy(t.Context()))
			}
			res, err := p.Wait(t.Context())
			require.NoError(t, err)
			assert.True(t, res.Killed)
			assert.Equal(t, 137, res.ExitCode)
			waitFor(t, "the process to die with its sandbox", func() bool { return processGone(pid) })
		})
	}
}

func TestReattachByPID(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	first := startedSandbox(t, srv, daytona.WithName("shared"))
	gate := filepath.Join(homeDir(t, srv, first), "gate")
	p, err := processes(t, first).Spawn(t.Context(),
		fmt.Sprintf(`echo "before restart"; while [ ! -f %s ]; do sleep 0.01; done; echo after; exit 3`, gate), nil)
	require.NoError(t, err)
	waitFor(t, "first output", func() bool { return p.Stdout() == "before restart\n" })
	pid := p.PID()

	// A new program: a fresh Sandbox value attached to the same remote.
	second := newSandbox(t, srv, daytona.WithExistingSandbox(first.DaytonaID()))
	got, err := processes(t, second).Get(t.Context(), pid)
	require.NoError(t, err)
	assert.Equal(t, pid, got.PID())
	waitFor(t, "replayed output", func() bool { return got.Stdout() == "before restart\n" })
	require.NoError(t, osWriteFile(gate))
	res, err := got.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, res.ExitCode)
	assert.Equal(t, "before restart\nafter\n", res.Stdout)
	_, err = first.Instance() // keep first alive until here
	require.NoError(t, err)
}

func TestDeadSandboxDuringSpawn(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	require.NoError(t, srv.StopSandbox(sb.DaytonaID()))
	p, err := processes(t, sb).Spawn(t.Context(), "echo back", nil)
	require.NoError(t, err)
	res, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "back\n", res.Stdout)
	assert.Equal(t, 1, srv.Count(daytonatest.OpStart))
}

func TestProcessRunningWhenSandboxDiesReportsAnError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	p, err := processes(t, sb).Spawn(t.Context(), "echo alive; sleep 60", nil)
	require.NoError(t, err)
	waitFor(t, "output", func() bool { return p.Stdout() == "alive\n" })
	require.NoError(t, srv.StopSandbox(sb.DaytonaID()))
	res, err := p.Wait(t.Context())
	require.Error(t, err, "never a fake exit code")
	assert.Contains(t, err.Error(), p.PID())
	if res != nil {
		assert.Equal(t, daytona.ExitCodeUnknown, res.ExitCode)
	}
	_, ended := p.ExitCode()
	assert.False(t, ended)
}

func TestSpawnBadInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	pm := processes(t, sb)
	cases := []struct {
		name    string
		command string
		opts    *workspace.SpawnOptions
	}{
		{"empty command", " ", nil},
		{"NUL in command", "echo \x00", nil},
		{"invalid env name", "env", &workspace.SpawnOptions{Env: map[string]string{"A-B": "x"}}},
		{"NUL in env", "env", &workspace.SpawnOptions{Env: map[string]string{"A": "\x00"}}},
		{"negative timeout", "true", &workspace.SpawnOptions{Timeout: -time.Second}},
		{"negative retention", "true", &workspace.SpawnOptions{MaxRetainedBytes: -7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pm.Spawn(t.Context(), tc.command, tc.opts)
			require.Error(t, err)
			assert.True(t, p == nil, "a failed Spawn must return a nil interface, got %#v", p)
			assert.Contains(t, err.Error(), "Spawn:")
			assert.ErrorIs(t, err, daytona.ErrInvalidInput)
		})
	}
	assert.Zero(t, srv.TotalCount())

	require.NoError(t, sb.Destroy(t.Context()))
	_, err := pm.Spawn(t.Context(), "true", nil)
	assert.ErrorIs(t, err, workspace.ErrNotReady)
}

func TestSendStdinRejectsInvalidUTF8(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	p, err := processes(t, sb).Spawn(t.Context(), "cat", nil)
	require.NoError(t, err)
	assert.ErrorIs(t, p.SendStdin(t.Context(), []byte{0xff, 0xfe}), daytona.ErrInvalidInput)
	require.NoError(t, p.Kill(t.Context()))
}

func TestSpawnRefusedIsNotTracked(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	srv.FailNext(daytonatest.OpSessionExec, 1, http.StatusInternalServerError, "boom")
	_, err := processes(t, sb).Spawn(t.Context(), "true", nil)
	require.Error(t, err)
	list, _ := processes(t, sb).List(t.Context())
	assert.Empty(t, list)
	rec, _ := srv.Sandbox(sb.DaytonaID())
	for _, id := range rec.Sessions {
		assert.False(t, strings.HasPrefix(id, "agentws-proc-"), "left session %s behind", id)
	}
}

func osWriteFile(path string) error { return os.WriteFile(path, nil, 0o644) }
