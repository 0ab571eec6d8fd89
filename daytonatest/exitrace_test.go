//go:build unix

package daytonatest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// The exit-code race of the daemon: reading the exit_code file while the
// wrapper writes it (apps/daemon/pkg/session/execute.go:102-113 and :232,
// command.go:50-61, v0.173.0 and v0.190.0), answered by the error
// middleware's default handler (apps/daemon/pkg/toolbox/server.go:143-148).

const raceMessage = `failed to convert exit code to int: strconv.Atoi: parsing "": invalid syntax`

// requireDefaultHandlerError checks the body of the daemon's default error
// handler: status and message, a zero time, an empty path, nothing else.
func requireDefaultHandlerError(t *testing.T, r response, msg string) {
	t.Helper()
	require.Equal(t, http.StatusInternalServerError, r.Status, "body: %s", r.Body)
	m := r.JSON(t)
	require.ElementsMatch(t, []string{"statusCode", "message", "timestamp", "path"}, keys(m), "body: %s", r.Body)
	require.EqualValues(t, 500, m["statusCode"])
	require.Equal(t, msg, m["message"])
	require.Equal(t, "0001-01-01T00:00:00Z", m["timestamp"])
	require.Equal(t, "", m["path"])
}

// TestExitCodeRaceOnSyncExec: the sync exec of a command that ran answers
// 500; the command ran once, and its exit code is then found by a lookup.
func TestExitCodeRaceOnSyncExec(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	require.NoError(t, srv.RaceExitCodeNext(daytonatest.OpSessionExec, 1))

	_, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "echo ran >> runs; (exit 3)", false, false)
	requireDaytonaError(t, err, http.StatusInternalServerError, "failed to execute command: bad request: "+raceMessage)
	b, err := os.ReadFile(filepath.Join(home, "runs"))
	require.NoError(t, err)
	require.Equal(t, "ran\n", string(b), "the command ran once")

	session, _, err := sb.ToolboxClient.ProcessAPI.GetSession(t.Context(), "s").Execute()
	require.NoError(t, err)
	require.Len(t, session.Commands, 1)
	require.Equal(t, int32(3), session.Commands[0].GetExitCode())

	// The race is spent: the next exec answers.
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "echo ok", false, false)
	require.NoError(t, err)
	require.Equal(t, "ok\n", m["stdout"])

	// Its body, as the daemon's default error handler writes it.
	require.NoError(t, srv.RaceExitCodeNext(daytonatest.OpSessionExec, 1))
	r := rawRequest(t, srv, "POST", "/toolbox/"+sb.ID+"/process/session/s/exec", `{"command":"true"}`, nil)
	requireDefaultHandlerError(t, r, "failed to execute command: bad request: "+raceMessage)
}

// TestExitCodeRaceOnGetCommand: a lookup of a finished command whose exit
// code no client has read answers 500 until the race is spent; once read,
// the exit code is cached (command.go:45-47) and never races again; reads
// of a running command do not race.
func TestExitCodeRaceOnGetCommand(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	require.NoError(t, srv.RaceExitCodeNext(daytonatest.OpGetCommand, 2))

	running := execAsync(t, sb, "s", gateCmd)
	m, err := sb.Process.GetSessionCommand(t.Context(), "s", running)
	require.NoError(t, err, "a running command has no exit code to race for")
	_, has := exitCode(m)
	require.False(t, has)
	openGate(t, homeDir(t, srv, sb.ID))
	waitExitUnread(t, sb, "s", running)

	for range 2 {
		_, err = sb.Process.GetSessionCommand(t.Context(), "s", running)
		requireDaytonaError(t, err, http.StatusInternalServerError, raceMessage)
	}
	m, err = sb.Process.GetSessionCommand(t.Context(), "s", running)
	require.NoError(t, err)
	require.Equal(t, int32(0), m["exitCode"])

	require.NoError(t, srv.SetExitCodeRaceRate(1))
	m, err = sb.Process.GetSessionCommand(t.Context(), "s", running)
	require.NoError(t, err, "an exit code read once is cached")
	require.Equal(t, int32(0), m["exitCode"])
}

// TestExitCodeRaceRate: with rate 1 every read of a finished command's exit
// code races; with 0 none does; ClearFaults sets it back to 0.
func TestExitCodeRaceRate(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	require.NoError(t, srv.SetExitCodeRaceRate(1))
	require.Equal(t, 1.0, srv.ExitCodeRaceRate())
	for range 3 {
		_, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "true", false, false)
		requireDaytonaError(t, err, http.StatusInternalServerError, "failed to execute command: bad request: "+raceMessage)
	}
	srv.ClearFaults()
	require.Equal(t, 0.0, srv.ExitCodeRaceRate())
	_, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "true", false, false)
	require.NoError(t, err)

	require.Error(t, srv.SetExitCodeRaceRate(1.5))
	require.Error(t, srv.SetExitCodeRaceRate(-0.1))
	require.ErrorContains(t, srv.RaceExitCodeNext(daytonatest.OpCreate, 1), `operation "create" never reads an exit code`)
}

// TestExitCodeRaceHTTPControls: the same controls under /_daytonatest/.
func TestExitCodeRaceHTTPControls(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))

	r := authed(t, srv, "POST", "/_daytonatest/exit-code-race", map[string]any{"op": "session-exec", "count": 2})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	r = authed(t, srv, "PUT", "/_daytonatest/exit-code-race", map[string]any{"rate": 0.25})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = authed(t, srv, "GET", "/_daytonatest/exit-code-race", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"rate":0.25,"pending":{"session-exec":2}}`, string(r.Body))

	r = authed(t, srv, "POST", "/_daytonatest/exit-code-race", map[string]any{"op": "create"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, r.message(t), "never reads an exit code")
	r = authed(t, srv, "PUT", "/_daytonatest/exit-code-race", map[string]any{"rate": 2})
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = authed(t, srv, "PUT", "/_daytonatest/exit-code-race", map[string]any{})
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, r.message(t), "rate is required")

	r = authed(t, srv, "DELETE", "/_daytonatest/faults", nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	r = authed(t, srv, "GET", "/_daytonatest/exit-code-race", nil)
	require.JSONEq(t, `{"rate":0,"pending":{}}`, string(r.Body))
}

// TestFailNextEmptyBody: the proxy answers 502 with no body when the
// runner fails (ctx.AbortWithStatus, libs/common-go/pkg/proxy/
// proxy.go:111-123, v0.190.0), and 400 "failed to get runner info" in the
// toolbox's error shape (apps/proxy/pkg/proxy/get_sandbox_target.go:84,
// v0.173.0 and v0.190.0); both once, then the operation works.
func TestFailNextEmptyBody(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	path := "/toolbox/" + sb.ID + "/process/session/s/exec"
	require.NoError(t, srv.FailNextEmpty(daytonatest.OpSessionExec, 1, http.StatusBadGateway))
	r := rawRequest(t, srv, "POST", path, `{"command":"true"}`, nil)
	require.Equal(t, http.StatusBadGateway, r.Status)
	require.Empty(t, r.Body)
	require.Empty(t, r.Header.Get("Content-Type"))

	const runnerInfo = "bad request: failed to get runner info: context deadline exceeded"
	require.NoError(t, srv.FailNext(daytonatest.OpSessionExec, 1, http.StatusBadRequest, runnerInfo))
	_, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "true", false, false)
	requireDaytonaError(t, err, http.StatusBadRequest, runnerInfo)

	// Through the HTTP control too, for any operation.
	r = authed(t, srv, "POST", "/_daytonatest/faults", map[string]any{"op": "get", "count": 1, "status": 502, "emptyBody": true})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	r = authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil)
	require.Equal(t, http.StatusBadGateway, r.Status)
	require.Empty(t, r.Body)
	_, err = c.Get(t.Context(), sb.ID)
	require.NoError(t, err)
	require.ErrorContains(t, srv.FailNextEmpty("crate", 1, 502), "unknown operation")
}
