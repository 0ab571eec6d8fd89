package toolbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	apitoolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/retry"
)

// The daemon's sessions and the commands in them, through the SDK's
// calls, each tried again as far as it is safe to (apierr.Safe for the
// requests that change nothing or can be repeated; the daemon's own races
// below).

// CreateSession creates the session id, trying again after transient
// trouble: the id is new, so a conflict can only mean that an earlier try
// did create it.
func (c *Client) CreateSession(ctx context.Context, id string) error {
	return apierr.Safe(ctx, func() error {
		resp, err := c.sdk.ToolboxClient.ProcessAPI.CreateSession(ctx).Request(*apitoolbox.NewCreateSessionRequest(id)).Execute()
		err = apierr.FromToolbox(err, resp)
		if apierr.StatusCode(err) == http.StatusConflict {
			return nil
		}
		return err
	})
}

// DeleteSession deletes a session now, which kills its processes.
// removed reports that the daemon deleted it; a session it no longer knows
// gives false and no error.
func (c *Client) DeleteSession(ctx context.Context, id string) (removed bool, err error) {
	err = apierr.Safe(ctx, func() error { return c.sdk.Process.DeleteSession(ctx, id) })
	switch {
	case err == nil:
		return true, nil
	case apierr.NotFound(err):
		return false, nil
	}
	return false, err
}

// Submit submits script to run asynchronously in session sessID and
// returns the command's id. It is never tried again: the daemon may have
// taken it.
// (It calls the generated client as the SDK's ExecuteSessionCommand does,
// so as to keep today's error codes, which the SDK drops.)
func (c *Client) Submit(ctx context.Context, sessID, script string) (cmdID string, err error) {
	req := apitoolbox.NewSessionExecuteRequest(script)
	req.SetRunAsync(true)
	req.SetSuppressInputEcho(true)
	ans, resp, err := c.sdk.ToolboxClient.ProcessAPI.SessionExecuteCommand(ctx, sessID).Request(*req).Execute()
	if err != nil {
		return "", apierr.FromToolbox(err, resp)
	}
	return ans.GetCmdId(), nil
}

// Command is a command the daemon keeps in a session.
type Command struct {
	ID     string
	Script string // the text submitted
}

// Commands lists the commands of session sessID, oldest first. It is
// asked once.
func (c *Client) Commands(ctx context.Context, sessID string) ([]Command, error) {
	info, err := c.sdk.Process.GetSession(ctx, sessID)
	if err != nil {
		return nil, err
	}
	cmds, _ := info["commands"].([]apitoolbox.Command)
	out := make([]Command, len(cmds))
	for i, cmd := range cmds {
		out[i] = Command{ID: cmd.GetId(), Script: cmd.GetCommand()}
	}
	return out, nil
}

// FindCommand returns the id of the latest command of session sessID that
// runs script, or "" if the daemon does not know it (or cannot be asked).
func (c *Client) FindCommand(ctx context.Context, sessID, script string) string {
	var cmds []Command
	err := apierr.Safe(ctx, func() (err error) {
		cmds, err = c.Commands(ctx, sessID)
		return err
	})
	if err != nil {
		return ""
	}
	for i := len(cmds) - 1; i >= 0; i-- {
		if cmds[i].Script == script {
			return cmds[i].ID
		}
	}
	return ""
}

// Exit-code race: the daemon reads a command's exit-code file while its
// wrapper may still be writing it (apps/daemon/pkg/session/execute.go:102-113
// and command.go:50-61, v0.190.0), and then answers 500 "failed to convert
// exit code to int" for a command that did finish. A lookup that hits it
// is tried again.
const (
	exitCodeRaceTries = 5
	exitCodeRacePause = 20 * time.Millisecond
)

// isExitCodeRace reports the daemon's answer when it read a half-written
// exit code.
func isExitCodeRace(err error) bool {
	msg, _ := apierr.Message(err)
	return apierr.StatusCode(err) >= http.StatusInternalServerError && strings.Contains(msg, "failed to convert exit code")
}

// ExitCode returns the exit code the daemon recorded for command cmdID of
// session sessID; ok is false while it has none (the command runs).
func (c *Client) ExitCode(ctx context.Context, sessID, cmdID string) (code int, ok bool, err error) {
	var cmd map[string]any
	for range exitCodeRaceTries {
		err = apierr.Safe(ctx, func() (err error) {
			cmd, err = c.sdk.Process.GetSessionCommand(ctx, sessID, cmdID)
			return err
		})
		if err == nil || !isExitCodeRace(err) || retry.Sleep(ctx, exitCodeRacePause) != nil {
			break
		}
	}
	if err != nil {
		return 0, false, err
	}
	switch v := cmd["exitCode"].(type) {
	case int32:
		return int(v), true, nil
	case int:
		return v, true, nil
	case float64:
		return int(v), true, nil
	}
	return 0, false, nil
}

// Logs returns command cmdID's log as the daemon's JSON answer holds it
// (with invalid UTF-8 replaced by U+FFFD).
func (c *Client) Logs(ctx context.Context, sessID, cmdID string) (string, error) {
	var logs *apitoolbox.SessionCommandLogsResponse
	err := apierr.Safe(ctx, func() (err error) {
		logs, err = c.sdk.Process.GetSessionCommandLogs(ctx, sessID, cmdID)
		return err
	})
	if err != nil {
		return "", err
	}
	return logs.GetOutput(), nil
}

// Input to a process: the daemon opens the command's input pipe, which
// exists only once the command's wrapper has started, and answers 500
// "failed to open input pipe" before that — right after the command was
// submitted, or while it waits behind another in its session
// (apps/daemon/pkg/session/input.go:40-44, v0.190.0). Such input is tried
// again, for at most inputPipeWait.
const (
	inputPipeWait     = 5 * time.Second
	inputPipeRetryMin = 10 * time.Millisecond
	inputPipeRetryMax = 200 * time.Millisecond
)

// SendInput sends text to command cmdID's standard input, in session
// sessID; while the daemon cannot open the input pipe yet, it is sent
// again, for a while.
func (c *Client) SendInput(ctx context.Context, sessID, cmdID, text string) error {
	deadline := time.Now().Add(inputPipeWait)
	b := retry.Backoff{Next: inputPipeRetryMin, Max: inputPipeRetryMax}
	for {
		err := c.sendInput(ctx, sessID, cmdID, text)
		msg, _ := apierr.Message(err)
		if err == nil || apierr.StatusCode(err) != http.StatusInternalServerError ||
			!strings.Contains(msg, "failed to open input pipe") || time.Now().After(deadline) {
			return err
		}
		if b.Wait(ctx) != nil {
			return err
		}
	}
}

func (c *Client) sendInput(ctx context.Context, sessID, cmdID, text string) error {
	resp, err := c.sdk.ToolboxClient.ProcessAPI.SendInput(ctx, sessID, cmdID).
		Request(*apitoolbox.NewSessionSendInputRequest(text)).Execute()
	if err != nil {
		return apierr.FromToolbox(err, resp)
	}
	return nil
}

// PortInUse asks the daemon whether something listens on port
// (3000-9999), as GET /port/{port}/in-use.
func (c *Client) PortInUse(ctx context.Context, port int) (bool, error) {
	resp, err := c.Do(ctx, http.MethodGet, "/port/"+strconv.Itoa(port)+"/in-use", nil, nil, "")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var ans struct {
		IsInUse bool `json:"isInUse"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil {
		return false, sdkerrors.NewDaytonaError("decode the daemon's answer about a port: "+err.Error(), resp.StatusCode, resp.Header)
	}
	return ans.IsInUse, nil
}

// WorkDir returns the sandbox user's default working directory.
func (c *Client) WorkDir(ctx context.Context) (string, error) {
	dir, err := c.sdk.GetWorkingDir(ctx)
	return strings.TrimSpace(dir), err
}
