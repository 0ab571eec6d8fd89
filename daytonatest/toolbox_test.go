//go:build unix

package daytonatest_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/options"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	toolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

func TestExecuteCommand(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{
		EnvVars: map[string]string{"FROM_SANDBOX": "sbx"},
	}})
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()

	t.Run("combined output and exit code", func(t *testing.T) {
		res, err := sb.Process.ExecuteCommand(ctx, "echo out; echo err >&2; printf tail; exit 3")
		require.NoError(t, err)
		require.Equal(t, 3, res.ExitCode)
		require.Equal(t, "out\nerr\ntail", res.Result)
		require.NotNil(t, res.Artifacts)
		require.Equal(t, res.Result, res.Artifacts.Stdout)
		req := lastRequest(t, srv, daytonatest.OpExecute)
		require.Equal(t, "/toolbox/"+sb.ID+"/process/execute", req.Path)
		require.Equal(t, http.StatusOK, req.Status)
		require.JSONEq(t, `{"command":"echo out; echo err >&2; printf tail; exit 3"}`, string(req.Body))
	})

	t.Run("cwd", func(t *testing.T) {
		res, err := sb.Process.ExecuteCommand(ctx, "pwd")
		require.NoError(t, err)
		require.Equal(t, home+"\n", res.Result, "the default cwd is the sandbox home")

		tmp := t.TempDir()
		res, err = sb.Process.ExecuteCommand(ctx, "pwd", options.WithCwd(tmp))
		require.NoError(t, err)
		require.Equal(t, tmp+"\n", res.Result)

		require.NoError(t, os.Mkdir(filepath.Join(home, "sub"), 0o755))
		res, err = sb.Process.ExecuteCommand(ctx, "pwd", options.WithCwd("sub"))
		require.NoError(t, err)
		require.Equal(t, filepath.Join(home, "sub")+"\n", res.Result, "a relative cwd is below the home")
	})

	t.Run("envs", func(t *testing.T) {
		res, err := sb.Process.ExecuteCommand(ctx, `echo "$X|$Y|$FROM_SANDBOX|$HOME"`,
			options.WithCommandEnv(map[string]string{"X": "1", "Y": "two words"}))
		require.NoError(t, err)
		require.Equal(t, "1|two words|sbx|"+home+"\n", res.Result)
		req := lastRequest(t, srv, daytonatest.OpExecute)
		require.JSONEq(t, `{"X":"1","Y":"two words"}`, string(mustField(t, req.Body, "envs")))

		// Each call gets a fresh shell: nothing carries over.
		res, err = sb.Process.ExecuteCommand(ctx, `export X=leak; cd /`)
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode)
		res, err = sb.Process.ExecuteCommand(ctx, `echo "[$X]"; pwd`)
		require.NoError(t, err)
		require.Equal(t, "[]\n"+home+"\n", res.Result)
	})

	t.Run("timeout kills the process group", func(t *testing.T) {
		start := time.Now()
		_, err := sb.Process.ExecuteCommand(ctx,
			"sleep 300 & echo $! > child.pid; echo $$ > shell.pid; wait",
			options.WithExecuteTimeout(time.Second))
		elapsed := time.Since(start)
		requireDaytonaError(t, err, http.StatusRequestTimeout, "request timeout: command execution timeout")
		require.GreaterOrEqual(t, elapsed, time.Second)
		require.Less(t, elapsed, 10*time.Second)
		require.JSONEq(t, "1", string(mustField(t, lastRequest(t, srv, daytonatest.OpExecute).Body, "timeout")))

		child := readPID(t, filepath.Join(home, "child.pid"))
		shell := readPID(t, filepath.Join(home, "shell.pid"))
		require.False(t, processAlive(child), "the background sleep survived the timeout")
		require.False(t, processAlive(shell), "the shell survived the timeout")
	})

	t.Run("client cancel kills the process", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := sb.Process.ExecuteCommand(cctx, "sleep 300 & echo $! > cancel.pid; wait")
		require.Error(t, err)
		pid := readPID(t, filepath.Join(home, "cancel.pid"))
		waitFor(t, 10*time.Second, "the abandoned command to be killed", func() bool { return !processAlive(pid) })
	})

	t.Run("work and home dir", func(t *testing.T) {
		dir, err := sb.GetUserHomeDir(ctx)
		require.NoError(t, err)
		require.Equal(t, home, dir)
		dir, err = sb.GetWorkingDir(ctx)
		require.NoError(t, err)
		require.Equal(t, home, dir)
	})
}

func TestExecuteRequiresCommand(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	path := "/toolbox/" + sb.ID + "/process/execute"
	requireToolboxError(t, authed(t, srv, "POST", path, `{}`), http.StatusBadRequest, "bad request: command is required", path, "POST")
	requireToolboxError(t, authed(t, srv, "POST", path, `{"command":""}`), http.StatusBadRequest, "bad request: command is required", path, "POST")
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	p := sb.Process

	// Create: 201, then 409 for the same id.
	require.NoError(t, p.CreateSession(ctx, "s1"))
	req := lastRequest(t, srv, daytonatest.OpCreateSession)
	require.Equal(t, http.StatusCreated, req.Status)
	require.JSONEq(t, `{"sessionId":"s1"}`, string(req.Body))
	requireDaytonaError(t, p.CreateSession(ctx, "s1"), http.StatusConflict, "conflict: session already exists")
	requireDaytonaError(t, p.CreateSession(ctx, "entrypoint"), http.StatusBadRequest, "bad request: session ID entrypoint is reserved")
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, []string{"s1"}, rec.Sessions)

	// Synchronous exec: 200 with the exit code as int32, stdout and stderr.
	m, err := p.ExecuteSessionCommand(ctx, "s1", "echo sync-out; echo sync-err >&2; (exit 2)", false, false)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"id", "exitCode", "stdout", "stderr"}, keys(m))
	require.Equal(t, int32(2), m["exitCode"])
	require.Equal(t, "sync-out\n", m["stdout"])
	require.Equal(t, "sync-err\n", m["stderr"])
	syncID := m["id"].(string)
	req = lastRequest(t, srv, daytonatest.OpSessionExec)
	require.Equal(t, http.StatusOK, req.Status)
	require.JSONEq(t, `{"command":"echo sync-out; echo sync-err >&2; (exit 2)","runAsync":false,"suppressInputEcho":false}`, string(req.Body))

	// Asynchronous exec: 202 with the id only. The command waits for a gate
	// file, so it is certainly running while we look at it.
	m, err = p.ExecuteSessionCommand(ctx, "s1", "echo one; while [ ! -e gate ]; do sleep 0.01; done; echo two >&2; (exit 5)", true, false)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"id"}, keys(m))
	asyncID := m["id"].(string)
	require.NotEqual(t, syncID, asyncID)
	require.Equal(t, http.StatusAccepted, lastRequest(t, srv, daytonatest.OpSessionExec).Status)

	waitFor(t, 10*time.Second, "the first line", func() bool {
		logs, err := p.GetSessionCommandLogs(ctx, "s1", asyncID)
		require.NoError(t, err)
		return logs.Stdout == "one\n"
	})
	cmd, err := p.GetSessionCommand(ctx, "s1", asyncID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"id", "command"}, keys(cmd), "no exitCode while running")
	require.Equal(t, asyncID, cmd["id"])
	require.Contains(t, cmd["command"], "while [ ! -e gate ]")

	require.NoError(t, os.WriteFile(filepath.Join(home, "gate"), nil, 0o644))
	require.Equal(t, int32(5), waitExit(t, sb, "s1", asyncID))
	cmd, err = p.GetSessionCommand(ctx, "s1", asyncID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"id", "command", "exitCode"}, keys(cmd))

	// Logs: JSON with the raw labelled output and the split streams.
	logs, err := p.GetSessionCommandLogs(ctx, "s1", asyncID)
	require.NoError(t, err)
	require.Equal(t, "one\n", logs.Stdout)
	require.Equal(t, "two\n", logs.Stderr)
	require.Equal(t, "\x01\x01\x01one\n\x02\x02\x02two\n", logs.Output)
	logs, err = p.GetSessionCommandLogs(ctx, "s1", syncID)
	require.NoError(t, err)
	require.Equal(t, "sync-out\n", logs.Stdout)
	require.Equal(t, "sync-err\n", logs.Stderr)
	require.Contains(t, logs.Output, "\x01\x01\x01sync-out\n")
	require.Contains(t, logs.Output, "\x02\x02\x02sync-err\n")
	require.Len(t, logs.Output, len("\x01\x01\x01sync-out\n\x02\x02\x02sync-err\n"))

	// List and get.
	require.NoError(t, p.CreateSession(ctx, "s2"))
	list, err := p.ListSessions(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "s1", list[0]["sessionId"])
	require.Equal(t, "s2", list[1]["sessionId"])
	got, err := p.GetSession(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, "s1", got["sessionId"])
	cmds, ok := got["commands"].([]toolbox.Command)
	require.True(t, ok, "commands is %T", got["commands"])
	require.Len(t, cmds, 2)
	require.Equal(t, syncID, cmds[0].Id)
	require.Equal(t, int32(2), *cmds[0].ExitCode)
	require.Equal(t, asyncID, cmds[1].Id)
	require.Equal(t, int32(5), *cmds[1].ExitCode)
	got, err = p.GetSession(ctx, "s2")
	require.NoError(t, err)
	require.Empty(t, got["commands"])

	// Not found.
	_, err = p.GetSession(ctx, "nope")
	requireNotFound(t, err, "not found: session not found")
	_, err = p.GetSessionCommand(ctx, "s1", "nope")
	requireNotFound(t, err, "not found: command not found")
	_, err = p.GetSessionCommand(ctx, "nope", asyncID)
	requireNotFound(t, err, "not found: session not found")
	_, err = p.GetSessionCommandLogs(ctx, "s1", "nope")
	requireNotFound(t, err, "not found: command not found")
	s := follow(ctx, sb, "s1", "nope")
	_, err = s.wait(t, 10*time.Second)
	requireDaytonaError(t, err, 0, "Failed to connect to log stream: websocket: bad handshake")
	_, err = p.ExecuteSessionCommand(ctx, "nope", "echo", false, false)
	requireDaytonaError(t, err, http.StatusInternalServerError, "failed to execute command: not found: session not found")
	_, err = p.ExecuteSessionCommand(ctx, "nope", "echo", true, false)
	requireDaytonaError(t, err, http.StatusInternalServerError, "failed to execute command: not found: session not found")

	// Delete: 204, then 404.
	require.NoError(t, p.DeleteSession(ctx, "s1"))
	require.Equal(t, http.StatusNoContent, lastRequest(t, srv, daytonatest.OpDeleteSession).Status)
	requireNotFound(t, p.DeleteSession(ctx, "s1"), "not found: session not found")
	_, err = p.GetSessionCommand(ctx, "s1", asyncID)
	requireNotFound(t, err, "not found: session not found")
	_, err = p.ExecuteSessionCommand(ctx, "s1", "echo", false, false)
	requireDaytonaError(t, err, http.StatusInternalServerError, "failed to execute command: not found: session not found")
	list, err = p.ListSessions(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	rec, _ = srv.Sandbox(sb.ID)
	require.Equal(t, []string{"s2"}, rec.Sessions)

	// The id can be used again.
	require.NoError(t, p.CreateSession(ctx, "s1"))
}

func TestSessionExecRequiresCommand(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	path := "/toolbox/" + sb.ID + "/process/session/s/exec"
	requireToolboxError(t, authed(t, srv, "POST", path, `{"runAsync":true}`), http.StatusBadRequest, "bad request: command is required", path, "POST")
	path = "/toolbox/" + sb.ID + "/process/session"
	requireToolboxError(t, authed(t, srv, "POST", path, `{}`), http.StatusBadRequest, "bad request: sessionId is required", path, "POST")
}

func TestSendInputErrors(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	m, err := sb.Process.ExecuteSessionCommand(ctx, "s", "true", false, false)
	require.NoError(t, err)
	id := m["id"].(string)

	// A finished command whose exit code was read is gone
	// (apps/daemon/pkg/session/input.go:35-38, v0.173.0).
	resp, err := sb.ToolboxClient.ProcessAPI.SendInput(ctx, "s", id).
		Request(*toolbox.NewSessionSendInputRequest("late\n")).Execute()
	require.Error(t, err)
	require.Equal(t, http.StatusGone, resp.StatusCode)
	oe, ok := err.(*toolbox.GenericOpenAPIError)
	require.True(t, ok, "%T", err)
	require.Contains(t, string(oe.Body()), "gone: command has already completed with exit code 0")

	resp, err = sb.ToolboxClient.ProcessAPI.SendInput(ctx, "s", "nope").
		Request(*toolbox.NewSessionSendInputRequest("x")).Execute()
	require.Error(t, err)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.True(t, strings.Contains(string(err.(*toolbox.GenericOpenAPIError).Body()), "not found: command not found"))
}

func TestCommandLogsForOldSDKs(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "echo out; echo err >&2", false, false)
	require.NoError(t, err)
	path := srv.ToolboxURL() + "/" + sb.ID + "/process/session/s/command/" + m["id"].(string) + "/logs"

	get := func(version string) (string, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		if version != "" {
			req.Header.Set("X-Daytona-SDK-Version", version)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		require.NoError(t, err)
		return resp.Header.Get("Content-Type"), b.String()
	}
	// SDKs before 0.167.0 get the raw log as text
	// (apps/daemon/pkg/session/common.go:21-33, v0.173.0).
	ct, body := get("v0.160.0")
	require.True(t, strings.HasPrefix(ct, "text/plain"), ct)
	require.Len(t, body, len("\x01\x01\x01out\n\x02\x02\x02err\n"))
	require.Contains(t, body, "\x01\x01\x01out\n")
	// Clients that send no version get it combined: text without labels
	// (common.go:17-19).
	ct, body = get("")
	require.True(t, strings.HasPrefix(ct, "text/plain"), ct)
	require.Len(t, body, len("out\nerr\n"))
	require.Contains(t, body, "out\n")
	require.Contains(t, body, "err\n")
	// Newer ones get JSON.
	for _, v := range []string{"v0.173.0", "0.167.0"} {
		ct, body = get(v)
		require.True(t, strings.HasPrefix(ct, "application/json"), ct)
		require.Contains(t, body, `"stdout":"out\n"`)
	}
}

func TestExecuteBackgroundProcessesDieWithTheSandbox(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"stop", "delete", "close"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			srv, _, sb := newSandbox(t)
			home := homeDir(t, srv, sb.ID)
			// A server started in the background outlives the command, as
			// in a container, but not the sandbox.
			res, err := sb.Process.ExecuteCommand(t.Context(), "nohup sleep 300 >/dev/null 2>&1 & echo $! > bg.pid")
			require.NoError(t, err)
			require.Equal(t, 0, res.ExitCode)
			pid := readPID(t, filepath.Join(home, "bg.pid"))
			require.True(t, processAlive(pid), "the background process did not outlive its command")

			switch how {
			case "stop":
				require.NoError(t, srv.StopSandbox(sb.ID))
			case "delete":
				require.NoError(t, srv.DeleteSandbox(sb.ID))
			case "close":
				srv.Close()
			}
			require.False(t, processAlive(pid), "a background process of ExecuteCommand survived the %s", how)
		})
	}
}
