//go:build unix

package daytonatest

// The toolbox API ({URL}/toolbox/{sandboxId}): the daemon of each sandbox
// (daemon.go), its sessions (session.go) and their log streams
// (logstream.go), as the SDK reaches them through Daytona's proxy.

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
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
		writeProxyError(w, r, http.StatusUnauthorized, toolboxUnauthorized)
		return nil
	case state != StateStarted || tb.isClosed():
		writeProxyError(w, r, http.StatusBadRequest, toolboxNotStarted)
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
	s.countCPU(e.cmd.ProcessState)
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

// dto returns the command's record. Like the daemon's GetSessionCommand,
// which every command lookup and session listing calls, it reads the exit
// code (command.go:34-66, v0.173.0): from then on it counts as read.
func (c *command) dto() commandDTO {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exitRead = c.exitCode != nil
	return commandDTO{ID: c.id, Command: c.text, ExitCode: c.exitCode}
}

// markRead records that a client has been given the exit code.
func (c *command) markRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exitRead = c.exitCode != nil
}

// exitUnread reports whether the command has an exit code that no client
// has read yet: reading it may lose the exit-code race.
func (c *command) exitUnread() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitCode != nil && !c.exitRead
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
	echo := req.SuppressInputEcho == nil || !*req.SuppressInputEcho
	c, err := ss.run(*req.Command, async, echo)
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
			if s.race.fire(OpSessionExec) {
				writeDaemonDefaultError(w, http.StatusInternalServerError, "failed to execute command: bad request: "+exitCodeRaceMessage)
				return
			}
			c.markRead()
			writeJSON(w, http.StatusOK, execAnswer(c.id, c.readLog(), *exit, clientOutput(r.Header)))
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

// execAnswer is the answer to a synchronous exec whose command finished
// with exit, its log raw, in the output mode of the client
// (apps/daemon/pkg/session/execute.go:122-152, v0.173.0 and v0.190.0):
// combined, the labels are stripped and stdout and stderr are null; else
// the output is the labelled log, and stdout and stderr are given only to
// a client that wants them apart, split as splitLog does.
func execAnswer(id string, raw []byte, exit int, mode outputMode) map[string]any {
	out := map[string]any{"cmdId": id, "output": string(raw), "stdout": nil, "stderr": nil, "exitCode": exit}
	switch {
	case mode.combined:
		out["output"] = string(stripLabels(raw))
	case mode.demux:
		stdout, stderr := splitLog(raw)
		out["stdout"], out["stderr"] = string(stdout), string(stderr)
	}
	return out
}

// commandFor finds a session's command or answers 404.
func (s *Server) commandFor(w http.ResponseWriter, r *http.Request) (*session, *command) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return nil, nil
	}
	return tb.commandFor(w, r)
}

// commandFor finds the command of the request's path in the toolbox, or
// answers 404.
func (tb *toolbox) commandFor(w http.ResponseWriter, r *http.Request) (*session, *command) {
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

// handleGetCommand answers a command's record. Its exit code, once
// published, counts as read (see sendInput); a read of one that no client
// has read yet may lose the exit-code race (exitrace.go).
func (s *Server) handleGetCommand(w http.ResponseWriter, r *http.Request, _ []byte) {
	_, c := s.commandFor(w, r)
	if c == nil {
		return
	}
	if c.exitUnread() && s.race.fire(OpGetCommand) {
		writeDaemonDefaultError(w, http.StatusInternalServerError, exitCodeRaceMessage)
		return
	}
	writeJSON(w, http.StatusOK, c.dto())
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
	// In the client's output mode (apps/daemon/pkg/toolbox/process/session/
	// log.go:28-66 and pkg/session/log.go:121-137, v0.173.0): JSON with
	// stdout and stderr apart for a client that wants them (SDK 0.167.0
	// on), else the log as text, its labels stripped for a combined-output
	// client (no SDK version at all, or one below 0.27.0).
	raw := c.readLog()
	mode := clientOutput(r.Header)
	if mode.demux && !mode.combined {
		stdout, stderr := splitLog(raw)
		writeJSON(w, http.StatusOK, map[string]string{
			"output": string(raw), "stdout": string(stdout), "stderr": string(stderr),
		})
		return
	}
	if mode.combined {
		raw = stripLabels(raw)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(raw)
}

// handleSendInput gives input to a command (see command.sendInput). As in
// the daemon, the body is checked before the session and the command are
// looked up (apps/daemon/pkg/toolbox/process/session/input.go:29-51,
// v0.173.0): data is required and must not be empty
// (SessionSendInputRequest's validate:"required"), and success is 204.
func (s *Server) handleSendInput(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	var req struct {
		Data *string `json:"data"`
	}
	if !decodeToolboxBody(w, r, body, &req) {
		return
	}
	if req.Data == nil || *req.Data == "" {
		writeToolboxErrorCode(w, r, http.StatusBadRequest, "INVALID_REQUEST_BODY",
			"invalid body request: Key: 'SessionSendInputRequest.Data' Error:Field validation for 'Data' failed on the 'required' tag")
		return
	}
	_, c := tb.commandFor(w, r)
	if c == nil {
		return
	}
	if e := c.sendInput(*req.Data); e != nil {
		code := statusCode(e.status)
		if e.status == http.StatusGone {
			code = inputGoneCode(w)
		}
		writeToolboxErrorCode(w, r, e.status, code, e.msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
