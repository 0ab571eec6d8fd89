//go:build unix

package daytonatest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	toolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// Send-input as the daemon answers it (apps/daemon/pkg/session/input.go and
// apps/daemon/pkg/toolbox/process/session/input.go, v0.173.0 and v0.190.0).

// sendInput sends data to a command's stdin through the SDK's toolbox
// client and returns the status and the error body, if any.
func sendInput(t *testing.T, sb *sdk.Sandbox, sid, cid, data string) (int, string) {
	t.Helper()
	resp, err := sb.ToolboxClient.ProcessAPI.SendInput(t.Context(), sid, cid).
		Request(*toolbox.NewSessionSendInputRequest(data)).Execute()
	require.NotNil(t, resp, "send-input: %v", err)
	if err == nil {
		return resp.StatusCode, ""
	}
	oe, ok := err.(*toolbox.GenericOpenAPIError)
	require.True(t, ok, "%T: %v", err, err)
	return resp.StatusCode, string(oe.Body())
}

// execAsyncEcho runs command asynchronously, with suppressInputEcho as
// given, and returns its id.
func execAsyncEcho(t *testing.T, sb *sdk.Sandbox, sid, command string, suppressEcho bool) string {
	t.Helper()
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), sid, command, true, suppressEcho)
	require.NoError(t, err)
	id, _ := m["id"].(string)
	require.NotEmpty(t, id)
	return id
}

// waitStdout waits until the command's stdout (from the logs) is want.
func waitStdout(t *testing.T, sb *sdk.Sandbox, sid, cid, want string) {
	t.Helper()
	waitFor(t, 10*time.Second, "stdout "+want, func() bool {
		logs, err := sb.Process.GetSessionCommandLogs(t.Context(), sid, cid)
		require.NoError(t, err)
		return logs.Stdout == want
	})
}

// waitExitUnread waits until the command has exited without reading its
// exit code: its follow stream (which closes at once after the exit, with
// the close delay 0 of newServer) ends.
func waitExitUnread(t *testing.T, sb *sdk.Sandbox, sid, cid string) {
	t.Helper()
	_, err := follow(t.Context(), sb, sid, cid).wait(t, 10*time.Second)
	require.NoError(t, err)
}

// TestSendInputEchoesIntoStdout: without suppressInputEcho the daemon
// appends the input to the log behind the stdout label (input.go:57-72), so
// that it reads as the command's own output, before the reply; with it,
// only the reply is there. Data without a newline gets one (input.go:47-50).
func TestSendInputEchoesIntoStdout(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	const reader = `echo ready; read x; echo "got $x"; read y; echo "then $y"`
	for _, tc := range []struct {
		suppress bool
		want     string
	}{
		{false, "ready\nhi\ngot hi\na\nb\nthen a\n"},
		{true, "ready\ngot hi\nthen a\n"},
	} {
		id := execAsyncEcho(t, sb, "s", reader, tc.suppress)
		waitStdout(t, sb, "s", id, "ready\n")
		status, body := sendInput(t, sb, "s", id, "hi")
		require.Equal(t, http.StatusNoContent, status, body)
		waitFor(t, 10*time.Second, "the reply", func() bool {
			logs, err := sb.Process.GetSessionCommandLogs(t.Context(), "s", id)
			require.NoError(t, err)
			return strings.HasSuffix(logs.Stdout, "got hi\n")
		})
		status, body = sendInput(t, sb, "s", id, "a\nb")
		require.Equal(t, http.StatusNoContent, status, body)
		require.Equal(t, int32(0), waitExit(t, sb, "s", id))
		logs, err := sb.Process.GetSessionCommandLogs(t.Context(), "s", id)
		require.NoError(t, err)
		require.Equal(t, tc.want, logs.Stdout, "suppressInputEcho %v", tc.suppress)
	}
}

// TestSendInputEmptyData: data is required (validate:"required" on
// SessionSendInputRequest.Data, apps/daemon/pkg/toolbox/process/session/
// types.go:19-21), so empty data is a 400 of the body binding, checked
// before the command is looked up (input.go:38-42).
func TestSendInputEmptyData(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	id := execAsyncEcho(t, sb, "s", "read x", true)
	const msg = "invalid body request: Key: 'SessionSendInputRequest.Data' Error:Field validation for 'Data' failed on the 'required' tag"
	for _, cid := range []string{id, "no-such-command"} {
		status, body := sendInput(t, sb, "s", cid, "")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, `"code":"INVALID_REQUEST_BODY"`)
		require.Contains(t, body, msg)
	}
	sendWhenStarted(t, sb, "s", id, "\n")
	require.Equal(t, int32(0), waitExit(t, sb, "s", id))
}

// TestSendInputBeforeTheCommandStarts: the input pipe exists only once the
// command's wrapper has made it (execute.go:206, input.go:40-44): input to
// a command queued behind another in its session, or sent right after the
// exec while the wrapper sets up (WithStartDelay), is a 500 "failed to open
// input pipe"; once the command runs, it goes through.
func TestSendInputBeforeTheCommandStarts(t *testing.T) {
	t.Parallel()
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		srv, _, sb := newSandbox(t)
		require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
		execAsyncEcho(t, sb, "s", gateCmd, true)
		id := execAsyncEcho(t, sb, "s", `read x; echo "got $x"`, true)
		requireInputPipeMissing(t, sb, "s", id)
		openGate(t, homeDir(t, srv, sb.ID))
		sendWhenStarted(t, sb, "s", id, "hi")
		require.Equal(t, int32(0), waitExit(t, sb, "s", id))
		waitStdout(t, sb, "s", id, "got hi\n")
	})
	t.Run("right after exec", func(t *testing.T) {
		t.Parallel()
		_, _, sb := newSandbox(t, daytonatest.WithStartDelay(2*time.Second))
		require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
		id := execAsyncEcho(t, sb, "s", `read x; echo "got $x"`, true)
		requireInputPipeMissing(t, sb, "s", id)
		sendWhenStarted(t, sb, "s", id, "hi")
		require.Equal(t, int32(0), waitExit(t, sb, "s", id))
		waitStdout(t, sb, "s", id, "got hi\n")
	})
}

// requireInputPipeMissing checks the daemon's answer to input for a command
// whose input pipe does not exist.
func requireInputPipeMissing(t *testing.T, sb *sdk.Sandbox, sid, cid string) {
	t.Helper()
	status, body := sendInput(t, sb, sid, cid, "hi")
	require.Equal(t, http.StatusInternalServerError, status, body)
	require.Contains(t, body, `"message":"internal server error: failed to open input pipe: open `)
	require.Contains(t, body, cid+`/input.pipe: no such file or directory"`)
}

// sendWhenStarted sends data as soon as the command takes input.
func sendWhenStarted(t *testing.T, sb *sdk.Sandbox, sid, cid, data string) {
	t.Helper()
	waitFor(t, 10*time.Second, "the command to take input", func() bool {
		status, body := sendInput(t, sb, sid, cid, data)
		if status == http.StatusInternalServerError && strings.Contains(body, "failed to open input pipe") {
			return false
		}
		require.Equal(t, http.StatusNoContent, status, body)
		return true
	})
}

// TestSendInputAfterExit: after the command exited, the daemon answers 410
// once a client has read its exit code (input.go:35-38: the exit code is
// cached by GetSessionCommand, command.go:45-63), and 500 "failed to open
// input pipe" before (the wrapper has removed the pipe, execute.go:235).
// The code is GONE at v0.190.0, COMMAND_ALREADY_COMPLETED today
// (@daytona/toolbox-api-client 0.218.0, models/daemon-error-code.d.ts).
func TestSendInputAfterExit(t *testing.T) {
	t.Parallel()
	for _, v := range []daytonatest.ServiceVersion{daytonatest.Service0190, daytonatest.ServiceCurrent} {
		sendInputAfterExit(t, v, map[bool]string{true: "COMMAND_ALREADY_COMPLETED", false: "GONE"}[v == daytonatest.ServiceCurrent])
	}
}

func sendInputAfterExit(t *testing.T, v daytonatest.ServiceVersion, code string) {
	_, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v))
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	id := execAsyncEcho(t, sb, "s", "echo bye; (exit 3)", true)
	waitExitUnread(t, sb, "s", id)
	requireInputPipeMissing(t, sb, "s", id)

	m, err := sb.Process.GetSessionCommand(t.Context(), "s", id)
	require.NoError(t, err)
	require.Equal(t, int32(3), m["exitCode"])
	status, body := sendInput(t, sb, "s", id, "hi")
	require.Equal(t, http.StatusGone, status, body)
	require.Contains(t, body, `"message":"gone: command has already completed with exit code 3"`)
	require.Contains(t, body, `"code":"`+code+`"`)
}
