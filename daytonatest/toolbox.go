//go:build unix

package daytonatest

// The toolbox API ({URL}/toolbox/{sandboxId}): the daemon of each sandbox
// (daemon.go), its sessions (session.go) and their log streams
// (logstream.go), as the SDK reaches them through Daytona's proxy.

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Errors of the toolbox proxy for a sandbox that is not running, and for
// one that no longer exists (the token no longer grants access).
const (
	toolboxNotStarted   = "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?"
	toolboxUnauthorized = "unauthorized: authentication failed: Bearer token is invalid"
)

// toolboxFor resolves the sandbox of a toolbox request the way the proxy
// and runner do: unknown or deleted sandboxes are 401 (the token no longer
// grants access), sandboxes that are not running are 400.
func (s *Server) toolboxFor(w http.ResponseWriter, r *http.Request) *toolbox {
	s.mu.Lock()
	sb := s.sandboxes[r.PathValue("sandboxId")]
	var tb *toolbox
	var state State
	if sb != nil {
		tb, state = sb.tb, sb.state
	}
	s.mu.Unlock()
	switch {
	case sb == nil || tb == nil || state == StateDestroying || state == StateDestroyed:
		writeToolboxError(w, r, http.StatusUnauthorized, toolboxUnauthorized)
		return nil
	case state != StateStarted || tb.isClosed():
		writeToolboxError(w, r, http.StatusBadRequest, toolboxNotStarted)
		return nil
	}
	return tb
}

// handleWorkDir answers work-dir and user-home-dir: both are the sandbox's
// home.
func (s *Server) handleWorkDir(w http.ResponseWriter, r *http.Request, _ []byte) {
	if tb := s.toolboxFor(w, r); tb != nil {
		writeJSON(w, http.StatusOK, map[string]string{"dir": tb.home})
	}
}

// handleExecute runs a command in a fresh shell and answers with its
// combined output, as /process/execute does.
func (s *Server) handleExecute(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	var req struct {
		Command *string           `json:"command"`
		Cwd     *string           `json:"cwd"`
		Envs    map[string]string `json:"envs"`
		Timeout *int64            `json:"timeout"` // seconds
	}
	if tb == nil || !decodeToolboxBody(w, r, body, &req) || !requireField(w, r, req.Command, "command") {
		return
	}
	cwd := ""
	if req.Cwd != nil {
		cwd = *req.Cwd
	}
	e, err := tb.startExec(s.shell, *req.Command, cwd, req.Envs)
	if err != nil {
		msg := "bad request: " + err.Error()
		if errors.Is(err, errToolboxClosed) {
			msg = toolboxNotStarted
		}
		writeToolboxError(w, r, http.StatusBadRequest, msg)
		return
	}
	var timeout <-chan time.Time
	if req.Timeout != nil && *req.Timeout > 0 {
		t := time.NewTimer(time.Duration(*req.Timeout) * time.Second)
		defer t.Stop()
		timeout = t.C
	}
	end, err := e.wait(r.Context(), timeout, s.done)
	if end == execShutdown {
		// Close: do not keep Shutdown waiting for the command.
		tb.endExec(e, false)
		writeToolboxError(w, r, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	var ee *exec.ExitError
	switch {
	case tb.endExec(e, true):
		// The sandbox stopped or went away under the command: no exit
		// code, the connection drops, as when its container stops.
		dropConnection(w)
	case end == execTimedOut:
		writeToolboxError(w, r, http.StatusRequestTimeout, "request timeout: command execution timeout")
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"exitCode": 0, "result": e.out.String()})
	case errors.As(err, &ee):
		writeJSON(w, http.StatusOK, map[string]any{"exitCode": ee.ExitCode(), "result": e.out.String()})
	default:
		writeToolboxError(w, r, http.StatusInternalServerError, err.Error())
	}
}

func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	var req struct {
		SessionID *string `json:"sessionId"`
	}
	if tb == nil || !decodeToolboxBody(w, r, body, &req) || !requireField(w, r, req.SessionID, "sessionId") {
		return
	}
	if *req.SessionID == "entrypoint" {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: session ID entrypoint is reserved")
		return
	}
	switch err := tb.addSession(*req.SessionID); {
	case errors.Is(err, errToolboxClosed):
		writeToolboxError(w, r, http.StatusBadRequest, toolboxNotStarted)
	case errors.Is(err, errSessionExists):
		writeToolboxError(w, r, http.StatusConflict, "conflict: session already exists")
	case err != nil:
		writeToolboxError(w, r, http.StatusInternalServerError, "failed to create session: "+err.Error())
	default:
		w.WriteHeader(http.StatusCreated)
	}
}

// decodeToolboxBody decodes a request body into v, or answers 400 in the
// toolbox's error shape and returns false.
func decodeToolboxBody(w http.ResponseWriter, r *http.Request, body []byte, v any) bool {
	return decodeBody(w, r, toolboxFamily, body, v)
}

// requireField answers 400 and returns false unless v is set and not empty.
func requireField(w http.ResponseWriter, r *http.Request, v *string, name string) bool {
	if v == nil || *v == "" {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: "+name+" is required")
		return false
	}
	return true
}

// sessionFor finds a live session or answers 404.
func (tb *toolbox) sessionFor(w http.ResponseWriter, r *http.Request, id string) *session {
	ss := tb.session(id)
	if ss == nil {
		writeToolboxError(w, r, http.StatusNotFound, "not found: session not found")
	}
	return ss
}

type commandDTO struct {
	ID       string `json:"id"`
	Command  string `json:"command"`
	ExitCode *int   `json:"exitCode,omitempty"`
}

func (c *command) dto() commandDTO {
	c.mu.Lock()
	defer c.mu.Unlock()
	return commandDTO{ID: c.id, Command: c.text, ExitCode: c.exitCode}
}

func sessionDTO(ss *session) map[string]any {
	cmds := []commandDTO{}
	for _, c := range ss.commandList() {
		cmds = append(cmds, c.dto())
	}
	return map[string]any{"sessionId": ss.id, "commands": cmds}
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	out := []map[string]any{}
	for _, id := range tb.sessionIDs() {
		if ss := tb.session(id); ss != nil {
			out = append(out, sessionDTO(ss))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	if ss := tb.sessionFor(w, r, r.PathValue("sessionId")); ss != nil {
		writeJSON(w, http.StatusOK, sessionDTO(ss))
	}
}

// handleDeleteSession kills the session's process tree, ends its streams
// with a normal close and removes its logs, then answers 204.
func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	ss := tb.takeSession(r.PathValue("sessionId"))
	if ss == nil {
		writeToolboxError(w, r, http.StatusNotFound, "not found: session not found")
		return
	}
	ss.end(false)
	ss.kill(s.cfg.killGrace)
	_ = os.RemoveAll(ss.dir)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSessionExec(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	var req struct {
		Command           *string `json:"command"`
		RunAsync          *bool   `json:"runAsync"`
		Async             *bool   `json:"async"`
		SuppressInputEcho *bool   `json:"suppressInputEcho"`
	}
	if tb == nil || !decodeToolboxBody(w, r, body, &req) || !requireField(w, r, req.Command, "command") {
		return
	}
	async := (req.RunAsync != nil && *req.RunAsync) || (req.Async != nil && *req.Async)
	ss := tb.session(r.PathValue("sessionId"))
	if ss == nil {
		// The daemon wraps this error, so it arrives as a 500.
		writeToolboxError(w, r, http.StatusInternalServerError, "failed to execute command: not found: session not found")
		return
	}
	c, err := ss.run(*req.Command, async)
	if err != nil {
		writeToolboxError(w, r, http.StatusInternalServerError, "failed to execute command: "+err.Error())
		return
	}
	if async {
		writeJSON(w, http.StatusAccepted, map[string]any{
			"cmdId": c.id, "output": nil, "stdout": nil, "stderr": nil, "exitCode": nil,
		})
		return
	}
	s.awaitCommand(w, r, ss, c)
}

// awaitCommand answers a synchronous session command once it has an exit
// code. A command that ended its shell never gets one, so this waits until
// the session goes or the client gives up, as the daemon does.
func (s *Server) awaitCommand(w http.ResponseWriter, r *http.Request, ss *session, c *command) {
	for {
		_, exit, _, changed := c.snapshot()
		if exit != nil {
			raw := c.readLog()
			stdout, stderr := splitLog(raw)
			writeJSON(w, http.StatusOK, map[string]any{
				"cmdId": c.id, "output": string(raw), "stdout": string(stdout),
				"stderr": string(stderr), "exitCode": *exit,
			})
			return
		}
		select {
		case <-changed:
		case <-ss.gone:
			if ss.isAbrupt() {
				// The sandbox stopped, not just the session.
				dropConnection(w)
				return
			}
			writeToolboxError(w, r, http.StatusInternalServerError, "failed to execute command: session cancelled")
			return
		case <-r.Context().Done():
			return
		case <-s.done:
			// An empty 200 would make the SDK dereference a nil response.
			writeToolboxError(w, r, http.StatusServiceUnavailable, "server is shutting down")
			return
		}
	}
}

// commandFor finds a session's command or answers 404.
func (s *Server) commandFor(w http.ResponseWriter, r *http.Request) (*session, *command) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return nil, nil
	}
	ss := tb.sessionFor(w, r, r.PathValue("sessionId"))
	if ss == nil {
		return nil, nil
	}
	c := ss.command(r.PathValue("commandId"))
	if c == nil {
		writeToolboxError(w, r, http.StatusNotFound, "not found: command not found")
		return nil, nil
	}
	return ss, c
}

func (s *Server) handleGetCommand(w http.ResponseWriter, r *http.Request, _ []byte) {
	if _, c := s.commandFor(w, r); c != nil {
		writeJSON(w, http.StatusOK, c.dto())
	}
}

func (s *Server) handleCommandLogs(w http.ResponseWriter, r *http.Request, _ []byte) {
	if r.URL.Query().Get("follow") == "true" && isWebSocketUpgrade(r) {
		s.handleFollow(w, r)
		return
	}
	_, c := s.commandFor(w, r)
	if c == nil {
		return
	}
	raw := c.readLog()
	if oldSDK(r.Header.Get("X-Daytona-SDK-Version")) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(raw)
		return
	}
	stdout, stderr := splitLog(raw)
	writeJSON(w, http.StatusOK, map[string]string{
		"output": string(raw), "stdout": string(stdout), "stderr": string(stderr),
	})
}

// oldSDK reports whether an SDK version header names a version before
// 0.167.0, which the daemon answers with the raw log as text.
func oldSDK(v string) bool {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if v == "" {
		return false
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major == 0 && minor < 167
}

func (s *Server) handleSendInput(w http.ResponseWriter, r *http.Request, body []byte) {
	_, c := s.commandFor(w, r)
	if c == nil {
		return
	}
	var req struct {
		Data *string `json:"data"`
	}
	if !decodeToolboxBody(w, r, body, &req) {
		return
	}
	if req.Data == nil {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: data is required")
		return
	}
	if err := c.write([]byte(*req.Data)); err != nil {
		writeToolboxError(w, r, http.StatusBadRequest, fmt.Sprintf("bad request: failed to send input: %v", err))
		return
	}
	w.WriteHeader(http.StatusOK)
}
