//go:build unix

package daytonatest_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

func TestFailNextControlPlane(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	ctx := t.Context()

	// Exactly n calls fail, with no effect, then calls succeed.
	srv.FailNext(daytonatest.OpCreate, 2, http.StatusServiceUnavailable, "boom")
	for range 2 {
		_, err := c.Create(ctx, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "x"}})
		requireDaytonaError(t, err, http.StatusServiceUnavailable, "boom")
	}
	require.Empty(t, srv.Sandboxes(), "a failed create created a sandbox")
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "x"}})
	require.Equal(t, 3, srv.Count(daytonatest.OpCreate))
	statuses := []int{}
	for _, r := range srv.RequestsFor(daytonatest.OpCreate) {
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []int{503, 503, 200}, statuses)

	// The control plane's error shape.
	srv.FailNext(daytonatest.OpGet, 1, http.StatusInternalServerError, "get failed")
	r := authed(t, srv, "GET", "/api/sandbox/x", nil)
	requireAPIError(t, r, http.StatusInternalServerError, "get failed", "/api/sandbox/x")
	require.Equal(t, http.StatusOK, authed(t, srv, "GET", "/api/sandbox/x", nil).Status)

	// Status codes map to the SDK's error types.
	srv.FailNext(daytonatest.OpGet, 1, http.StatusNotFound, "vanished")
	_, err := c.Get(ctx, sb.ID)
	requireNotFound(t, err, "vanished")
	srv.FailNext(daytonatest.OpGet, 1, http.StatusTooManyRequests, "slow down")
	_, err = c.Get(ctx, sb.ID)
	var rl *sdkerrors.DaytonaRateLimitError
	require.True(t, errors.As(err, &rl), "%T: %v", err, err)
	require.Equal(t, "slow down", rl.Message)

	// Faults for one op queue up in order and leave other ops alone.
	srv.FailNext(daytonatest.OpStop, 1, http.StatusInternalServerError, "first")
	srv.FailNext(daytonatest.OpStop, 1, http.StatusBadGateway, "second")
	requireDaytonaError(t, sb.Stop(ctx), http.StatusInternalServerError, "first")
	_, err = c.Get(ctx, sb.ID)
	require.NoError(t, err)
	requireDaytonaError(t, sb.Stop(ctx), http.StatusBadGateway, "second")
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, daytonatest.StateStarted, rec.State, "a failed stop stopped the sandbox")
	require.NoError(t, sb.Stop(ctx))

	// A failed start leaves the sandbox stopped; the next one works.
	srv.FailNext(daytonatest.OpStart, 1, http.StatusInternalServerError, "no capacity")
	requireDaytonaError(t, sb.Start(ctx), http.StatusInternalServerError, "no capacity")
	require.NoError(t, sb.Start(ctx))

	// n <= 0 does nothing; a non-error status is a programming error.
	srv.FailNext(daytonatest.OpGet, 0, http.StatusInternalServerError, "never")
	_, err = c.Get(ctx, sb.ID)
	require.NoError(t, err)
	require.Panics(t, func() { srv.FailNext(daytonatest.OpGet, 1, http.StatusOK, "ok?") })

	// ClearFaults drops pending faults.
	srv.FailNext(daytonatest.OpDelete, 5, http.StatusInternalServerError, "stuck")
	srv.ClearFaults()
	require.NoError(t, sb.Delete(ctx))
}

func TestFailNextToolbox(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	p := sb.Process

	srv.FailNext(daytonatest.OpExecute, 2, http.StatusInternalServerError, "daemon down")
	for range 2 {
		_, err := p.ExecuteCommand(ctx, "touch ran.txt")
		requireDaytonaError(t, err, http.StatusInternalServerError, "daemon down")
	}
	require.NoFileExists(t, filepath.Join(home, "ran.txt"), "a failed call ran its command")
	res, err := p.ExecuteCommand(ctx, "touch ran.txt")
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	require.FileExists(t, filepath.Join(home, "ran.txt"))

	// The toolbox's error shape.
	srv.FailNext(daytonatest.OpExecute, 1, http.StatusBadGateway, "proxy error")
	path := "/toolbox/" + sb.ID + "/process/execute"
	requireToolboxError(t, authed(t, srv, "POST", path, `{"command":"true"}`), http.StatusBadGateway, "proxy error", path, "POST")

	srv.FailNext(daytonatest.OpCreateSession, 1, http.StatusServiceUnavailable, "busy")
	requireDaytonaError(t, p.CreateSession(ctx, "s"), http.StatusServiceUnavailable, "busy")
	_, err = p.GetSession(ctx, "s")
	requireNotFound(t, err, "not found: session not found")
	require.NoError(t, p.CreateSession(ctx, "s"))

	srv.FailNext(daytonatest.OpSessionExec, 1, http.StatusInternalServerError, "exec failed")
	_, err = p.ExecuteSessionCommand(ctx, "s", "echo hi", false, false)
	requireDaytonaError(t, err, http.StatusInternalServerError, "exec failed")
	sess, err := p.GetSession(ctx, "s")
	require.NoError(t, err)
	require.Empty(t, sess["commands"])
	id := execAsync(t, sb, "s", "echo hi")
	waitExit(t, sb, "s", id)

	srv.FailNext(daytonatest.OpGetCommand, 1, http.StatusNotFound, "not found: command not found")
	_, err = p.GetSessionCommand(ctx, "s", id)
	requireNotFound(t, err, "not found: command not found")

	srv.FailNext(daytonatest.OpCommandLogs, 1, http.StatusInternalServerError, "logs failed")
	_, err = p.GetSessionCommandLogs(ctx, "s", id)
	requireDaytonaError(t, err, http.StatusInternalServerError, "logs failed")

	// A failed follow is a failed WebSocket handshake for the SDK.
	srv.FailNext(daytonatest.OpFollowLogs, 1, http.StatusInternalServerError, "no stream")
	s := follow(ctx, sb, "s", id)
	_, err = s.wait(t, 10*time.Second)
	requireDaytonaError(t, err, 0, "Failed to connect to log stream: websocket: bad handshake")
	s = follow(ctx, sb, "s", id)
	_, err = s.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi\n", s.Stdout())

	srv.FailNext(daytonatest.OpDeleteSession, 1, http.StatusInternalServerError, "cannot delete")
	requireDaytonaError(t, p.DeleteSession(ctx, "s"), http.StatusInternalServerError, "cannot delete")
	require.NoError(t, p.DeleteSession(ctx, "s"))
}

func TestFailNextOverHTTP(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	ctx := t.Context()

	r := authed(t, srv, "POST", "/_daytonatest/faults", map[string]any{"op": "get", "count": 2, "status": 503, "message": "down"})
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	for range 2 {
		_, err := c.Get(ctx, sb.ID)
		requireDaytonaError(t, err, http.StatusServiceUnavailable, "down")
	}
	_, err := c.Get(ctx, sb.ID)
	require.NoError(t, err)

	// count defaults to 1.
	r = authed(t, srv, "POST", "/_daytonatest/faults", map[string]any{"op": "execute", "status": 500, "message": "once"})
	require.Equal(t, http.StatusNoContent, r.Status)
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusInternalServerError, "once")
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	require.NoError(t, err)

	// DELETE clears them.
	r = authed(t, srv, "POST", "/_daytonatest/faults", map[string]any{"op": "execute", "count": 10, "status": 500, "message": "x"})
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Equal(t, http.StatusNoContent, authed(t, srv, "DELETE", "/_daytonatest/faults", nil).Status)
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	require.NoError(t, err)

	// Invalid faults are refused.
	for _, body := range []string{
		`{"count":1,"status":500}`,
		`{"op":"get","status":200}`,
		`{"op":"get","status":600}`,
		`{"op":"get","count":-1,"status":500}`,
		`{"op":`,
	} {
		r := authed(t, srv, "POST", "/_daytonatest/faults", body)
		require.Equal(t, http.StatusBadRequest, r.Status, "fault %s: %s", body, r.Body)
		requireAPIError(t, r, http.StatusBadRequest, r.message(t), "/_daytonatest/faults")
	}
	_, err = c.Get(ctx, sb.ID)
	require.NoError(t, err, "a refused fault was installed")
}

func TestFailNextRejectsUnknownOps(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	ctx := t.Context()
	all := []daytonatest.Op{
		daytonatest.OpCreate, daytonatest.OpGet, daytonatest.OpList, daytonatest.OpListPaginated,
		daytonatest.OpStart, daytonatest.OpStop, daytonatest.OpArchive, daytonatest.OpDelete,
		daytonatest.OpToolboxProxyURL, daytonatest.OpExecute, daytonatest.OpCreateSession,
		daytonatest.OpListSessions, daytonatest.OpGetSession, daytonatest.OpDeleteSession,
		daytonatest.OpSessionExec, daytonatest.OpGetCommand, daytonatest.OpCommandLogs,
		daytonatest.OpFollowLogs, daytonatest.OpSendInput, daytonatest.OpWorkDir, daytonatest.OpHomeDir,
	}
	names := make([]string, len(all))
	for i, op := range all {
		names[i] = string(op)
	}
	valid := strings.Join(names, ", ")

	// A typo is an error that lists the valid names, and installs nothing.
	for _, op := range []daytonatest.Op{"crate", "", daytonatest.OpUnknown, "Create"} {
		err := srv.FailNext(op, 1, http.StatusInternalServerError, "never")
		require.Error(t, err, "op %q", op)
		require.Contains(t, err.Error(), strconv.Quote(string(op)))
		require.Contains(t, err.Error(), valid)
		require.Error(t, srv.FailNext(op, 0, http.StatusInternalServerError, "never"), "op %q with n 0", op)
	}
	_, err := c.Get(ctx, sb.ID)
	require.NoError(t, err)

	// Every operation is accepted.
	for _, op := range all {
		require.NoError(t, srv.FailNext(op, 1, http.StatusInternalServerError, "once"), "op %q", op)
	}
	srv.ClearFaults()

	// Over HTTP: a 400 that lists the valid names.
	r := authed(t, srv, "POST", "/_daytonatest/faults", map[string]any{"op": "crate", "status": 500})
	requireAPIError(t, r, http.StatusBadRequest, r.message(t), "/_daytonatest/faults")
	require.Contains(t, r.message(t), `"crate"`)
	require.Contains(t, r.message(t), valid)
	_, err = c.Create(ctx, types.SnapshotParams{})
	require.NoError(t, err, "a refused fault was installed")
}

func TestCutNextStreams(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	m, err := sb.Process.ExecuteSessionCommand(ctx, "s", "seq 1 300; seq 1 50 >&2", false, false)
	require.NoError(t, err)
	id := m["id"].(string)
	full := m["stdout"].(string)

	check := func(limit int) {
		t.Helper()
		s := follow(ctx, sb, "s", id)
		_, err := s.wait(t, 10*time.Second)
		require.Error(t, err)
		var de *sdkerrors.DaytonaError
		require.True(t, errors.As(err, &de), "%T: %v", err, err)
		require.Contains(t, err.Error(), "close 1006")
		got := len(s.Stdout()) + len(s.Stderr())
		require.LessOrEqual(t, got, limit)
		require.True(t, strings.HasPrefix(full, s.Stdout()), "the cut stream is not a prefix of the output")
	}

	srv.CutNextStreams(1, 40)
	check(40)
	s := follow(ctx, sb, "s", id)
	_, err = s.wait(t, 10*time.Second)
	require.NoError(t, err, "only the next stream is cut")
	require.Equal(t, full, s.Stdout())

	// Several cuts, over HTTP.
	r := authed(t, srv, "POST", "/_daytonatest/stream-cuts", map[string]any{"count": 2, "afterBytes": 0})
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	check(0)
	check(0)
	s = follow(ctx, sb, "s", id)
	_, err = s.wait(t, 10*time.Second)
	require.NoError(t, err)

	// A cut in the middle of a marker is still a clean prefix.
	srv.CutNextStreams(1, 5)
	check(5)

	// Cleared with the faults.
	srv.CutNextStreams(3, 10)
	require.Equal(t, http.StatusNoContent, authed(t, srv, "DELETE", "/_daytonatest/faults", nil).Status)
	s = follow(ctx, sb, "s", id)
	_, err = s.wait(t, 10*time.Second)
	require.NoError(t, err)

	r = authed(t, srv, "POST", "/_daytonatest/stream-cuts", map[string]any{"count": 1, "afterBytes": -1})
	require.Equal(t, http.StatusBadRequest, r.Status)
}

func TestCutLiveStream(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	srv.CutNextStreams(1, 30)
	// The cut comes while the command is still running.
	id := execAsync(t, sb, "s", "seq 1 100; "+gateCmd)
	s := follow(ctx, sb, "s", id)
	_, err := s.wait(t, 10*time.Second)
	require.ErrorContains(t, err, "close 1006")
	openGate(t, home)
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const lat = 150 * time.Millisecond
	srv, c, sb := newSandbox(t, daytonatest.WithLatency(lat))
	require.Equal(t, lat, srv.Latency())
	ctx := t.Context()

	measure := func(f func() error) time.Duration {
		t.Helper()
		start := time.Now()
		require.NoError(t, f())
		return time.Since(start)
	}
	require.GreaterOrEqual(t, measure(func() error { _, err := c.Get(ctx, sb.ID); return err }), lat)
	require.GreaterOrEqual(t, measure(func() error { _, err := sb.Process.ExecuteCommand(ctx, "true"); return err }), lat)
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	id := execAsync(t, sb, "s", "echo hi")
	waitExit(t, sb, "s", id)
	s := follow(ctx, sb, "s", id)
	d, err := s.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.GreaterOrEqual(t, d, lat, "the WebSocket handshake is delayed too")

	srv.SetLatency(300 * time.Millisecond)
	require.Equal(t, 300*time.Millisecond, srv.Latency())
	require.GreaterOrEqual(t, measure(func() error { _, err := c.Get(ctx, sb.ID); return err }), 300*time.Millisecond)

	// Over HTTP.
	r := authed(t, srv, "PUT", "/_daytonatest/latency", `{"latency":"200ms"}`)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, map[string]any{"latency": "200ms"}, r.JSON(t))
	require.Equal(t, 200*time.Millisecond, srv.Latency())
	require.Equal(t, map[string]any{"latency": "200ms"}, authed(t, srv, "GET", "/_daytonatest/latency", nil).JSON(t))
	require.GreaterOrEqual(t, measure(func() error { _, err := sb.Process.GetSession(ctx, "s"); return err }), 200*time.Millisecond)

	for _, bad := range []string{`{"latency":"soon"}`, `{"latency":"-1s"}`, `{"latency":`, `{}`} {
		r := authed(t, srv, "PUT", "/_daytonatest/latency", bad)
		require.Equal(t, http.StatusBadRequest, r.Status, "latency %s", bad)
	}
	require.Equal(t, 200*time.Millisecond, srv.Latency(), "a refused latency changed the latency")

	srv.SetLatency(-time.Second)
	require.Equal(t, time.Duration(0), srv.Latency())
}

func TestStopSandboxBehindTheClientsBack(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	_, err := sb.Process.ExecuteCommand(ctx, "echo kept > kept.txt")
	require.NoError(t, err)
	id := execAsync(t, sb, "s", "echo started; sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))
	s := follow(ctx, sb, "s", id)
	waitFor(t, 10*time.Second, "the stream", func() bool { return strings.HasPrefix(s.Stdout(), "start") })

	require.NoError(t, srv.StopSandbox(sb.ID))
	require.False(t, processAlive(pid), "StopSandbox returned before killing the session's processes")

	// Open streams are dropped, as when a container stops.
	_, err = s.wait(t, 10*time.Second)
	require.ErrorContains(t, err, "close 1006")

	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)
	got, err := c.Get(ctx, sb.ID)
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_STOPPED, got.State)
	require.NoError(t, srv.StopSandbox(sb.ID), "stopping a stopped sandbox is fine")

	require.NoError(t, sb.Start(ctx))
	res, err := sb.Process.ExecuteCommand(ctx, "cat kept.txt")
	require.NoError(t, err)
	require.Equal(t, "kept\n", res.Result)
	_, err = sb.Process.GetSession(ctx, "s")
	requireNotFound(t, err, "not found: session not found")

	require.Error(t, srv.StopSandbox("nope"))
}

func TestStopSandboxBehindTheClientsBackEphemeral(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Ephemeral: true}})
	require.NoError(t, srv.StopSandbox(sb.ID))
	_, ok := srv.Sandbox(sb.ID)
	require.False(t, ok, "an ephemeral sandbox is deleted when it stops")
	_, err := c.Get(t.Context(), sb.ID)
	requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
}

func TestDeleteSandboxBehindTheClientsBack(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	execAsync(t, sb, "s", "sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	require.NoError(t, srv.DeleteSandbox(sb.Name))
	require.False(t, processAlive(pid), "DeleteSandbox returned before killing the session's processes")
	_, err := os.Stat(filepath.Dir(home))
	require.ErrorIs(t, err, os.ErrNotExist, "DeleteSandbox returned before removing the directory")

	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusUnauthorized, tokenInvalid)
	_, err = c.Get(ctx, sb.ID)
	requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
	requireNotFound(t, sb.Stop(ctx), "Sandbox with ID or name "+sb.ID+" not found")
	require.Error(t, srv.DeleteSandbox(sb.ID), "deleting twice")
}

func TestSetSandboxState(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	execAsync(t, sb, "s", "sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateError, "disk failure"))
	require.False(t, processAlive(pid), "SetSandboxState returned before killing the processes")

	got, err := c.Get(ctx, sb.ID)
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_ERROR, got.State)
	dto := authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)
	require.Equal(t, "error", dto["state"])
	require.Equal(t, "disk failure", dto["errorReason"])
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, daytonatest.StateError, rec.State)
	require.Equal(t, "disk failure", rec.ErrorReason)

	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)
	requireDaytonaError(t, sb.Start(ctx), http.StatusBadRequest, "Sandbox is in an errored state")
	requireDaytonaError(t, sb.Stop(ctx), http.StatusBadRequest, "Sandbox is in an errored state")
	// WaitForStart gives up on an errored sandbox.
	requireDaytonaError(t, sb.WaitForStart(ctx, 10*time.Second), 0, "Sandbox failed to start")

	// Back to started: the toolbox answers again, with fresh sessions.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateStarted, ""))
	res, err := sb.Process.ExecuteCommand(ctx, "echo back")
	require.NoError(t, err)
	require.Equal(t, "back\n", res.Result)
	dto = authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)
	require.Nil(t, dto["errorReason"])
	_, err = sb.Process.GetSession(ctx, "s")
	requireNotFound(t, err, "not found: session not found")

	// Archived sandboxes restore on start.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateArchived, ""))
	require.NoError(t, sb.Start(ctx))
	require.Equal(t, apiclient.SANDBOXSTATE_STARTED, sb.State)

	// A destroyed record answers the toolbox like a deleted sandbox.
	require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateDestroyed, "gone"))
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusUnauthorized, tokenInvalid)

	require.Error(t, srv.SetSandboxState(sb.ID, "bogus", ""))
	require.Error(t, srv.SetSandboxState("nope", daytonatest.StateStopped, ""))
}

func TestSandboxControlsNotFound(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for name, err := range map[string]error{
		"StopSandbox":     srv.StopSandbox("nope"),
		"DeleteSandbox":   srv.DeleteSandbox("nope"),
		"SetSandboxState": srv.SetSandboxState("nope", daytonatest.StateStopped, ""),
	} {
		require.ErrorIs(t, err, daytonatest.ErrSandboxNotFound, name)
		require.EqualError(t, err, "daytonatest: sandbox nope not found", name)
	}
	err := srv.SetSandboxState("nope", "bogus", "")
	require.Error(t, err)
	require.NotErrorIs(t, err, daytonatest.ErrSandboxNotFound, "an unknown state is checked first")
}

func TestStopSandboxDuringSyncCalls(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))

	execDone := make(chan error, 1)
	go func() {
		res, err := sb.Process.ExecuteCommand(ctx, "echo $$ > exec.pid; sleep 300")
		if err == nil {
			t.Errorf("ExecuteCommand succeeded with exit code %d after its sandbox stopped", res.ExitCode)
		}
		execDone <- err
	}()
	sessDone := make(chan error, 1)
	go func() {
		_, err := sb.Process.ExecuteSessionCommand(ctx, "s", "sleep 300 & echo $! > sess.pid; wait", false, false)
		sessDone <- err
	}()
	execPID := readPID(t, filepath.Join(home, "exec.pid"))
	sessPID := readPID(t, filepath.Join(home, "sess.pid"))

	require.NoError(t, srv.StopSandbox(sb.ID))
	require.False(t, processAlive(execPID))
	require.False(t, processAlive(sessPID))
	// Both calls fail without an answer, as when the container stops.
	for _, ch := range []chan error{execDone, sessDone} {
		select {
		case err := <-ch:
			var de *sdkerrors.DaytonaError
			require.True(t, errors.As(err, &de), "%T: %v", err, err)
			require.Equal(t, 0, de.StatusCode, "want a transport error, got %v", err)
			require.Contains(t, de.Message, "EOF")
		case <-time.After(10 * time.Second):
			t.Fatal("a synchronous call still waits after its sandbox stopped")
		}
	}
	waitFor(t, 10*time.Second, "the requests to finish", func() bool {
		return len(srv.RequestsFor(daytonatest.OpExecute)) == 1 && srv.RequestsFor(daytonatest.OpExecute)[0].Duration > 0 &&
			srv.RequestsFor(daytonatest.OpSessionExec)[0].Duration > 0
	})
	require.Equal(t, 0, srv.RequestsFor(daytonatest.OpExecute)[0].Status, "a dropped request is logged with status 0")
	require.Equal(t, 0, srv.RequestsFor(daytonatest.OpSessionExec)[0].Status)
}
