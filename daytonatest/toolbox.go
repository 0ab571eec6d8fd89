//go:build unix

package daytonatest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors of the toolbox proxy for a sandbox that is not running, and for
// one that no longer exists (the token no longer grants access).
const (
	toolboxNotStarted   = "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?"
	toolboxUnauthorized = "unauthorized: authentication failed: Bearer token is invalid"
)

// toolbox is the daemon of one sandbox while it runs: its sessions and the
// processes of /process/execute. A stop replaces it with a fresh one (the
// files in the sandbox directory stay).
type toolbox struct {
	srv     *Server
	home    string
	logRoot string
	env     []string

	mu       sync.Mutex // guards the fields below
	closed   bool
	seq      int
	sessions map[string]*session
	execs    map[*exec.Cmd]struct{}
	strays   []straggler // background processes of finished execs

	shutdownOnce sync.Once
	shutdownDone chan struct{}
}

// newToolbox is called with s.mu held.
func newToolbox(s *Server, sb *sandbox) *toolbox {
	s.tbSeq++
	return &toolbox{
		srv:          s,
		home:         sb.home,
		logRoot:      filepath.Join(sb.dir, "daemon", strconv.Itoa(s.tbSeq)),
		env:          sandboxEnv(s.shell, sb.home, sb.env),
		sessions:     make(map[string]*session),
		execs:        make(map[*exec.Cmd]struct{}),
		shutdownDone: make(chan struct{}),
	}
}

// sandboxEnv is the environment of the sandbox's shells: a small base (not
// this process's environment, which may hold secrets such as an API key)
// plus the sandbox's env.
func sandboxEnv(shell, home string, extra map[string]string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	lang := os.Getenv("LANG")
	if lang == "" {
		lang = "C.UTF-8"
	}
	env := map[string]string{
		"PATH":  path,
		"HOME":  home,
		"SHELL": shell,
		"LANG":  lang,
		"TERM":  "dumb",
	}
	for _, k := range []string{"USER", "LOGNAME", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	maps.Copy(env, extra)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// close refuses further requests; shutdown stops the processes. Both do
// nothing on a nil toolbox.
func (tb *toolbox) close() {
	if tb == nil {
		return
	}
	tb.mu.Lock()
	tb.closed = true
	tb.mu.Unlock()
}

// shutdown kills every session shell and execute process; their open
// streams are dropped as when a container stops. It is idempotent and
// returns once everything is gone.
func (tb *toolbox) shutdown(grace time.Duration) {
	if tb == nil {
		return
	}
	tb.shutdownOnce.Do(func() {
		defer close(tb.shutdownDone)
		tb.mu.Lock()
		tb.closed = true
		var sessions []*session
		for _, ss := range tb.sessions {
			if ss != nil { // nil: a session whose shell is still starting
				sessions = append(sessions, ss)
			}
		}
		clear(tb.sessions)
		execs := slices.Collect(maps.Keys(tb.execs))
		strays := tb.strays
		tb.strays = nil
		tb.mu.Unlock()
		var wg sync.WaitGroup
		for _, ss := range sessions {
			ss.end(true)
			wg.Go(func() { ss.kill(grace) })
		}
		for _, c := range execs {
			wg.Go(func() { killTree(c.Process.Pid, grace) })
		}
		for _, p := range strays {
			if p.alive() {
				wg.Go(func() { killTree(p.pid, grace) })
			}
		}
		wg.Wait()
	})
	<-tb.shutdownDone
}

func (tb *toolbox) sessionIDs() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	ids := []string{}
	for id, ss := range tb.sessions {
		if ss != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (tb *toolbox) session(id string) *session {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.sessions[id]
}

func (tb *toolbox) isClosed() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.closed
}

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
	if tb == nil {
		return
	}
	var req struct {
		Command *string           `json:"command"`
		Cwd     *string           `json:"cwd"`
		Envs    map[string]string `json:"envs"`
		Timeout *int64            `json:"timeout"`
	}
	if err := decodeJSON(body, &req); err != nil {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	if req.Command == nil || *req.Command == "" {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: command is required")
		return
	}
	dir := tb.home
	if req.Cwd != nil && *req.Cwd != "" {
		dir = *req.Cwd
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(tb.home, dir)
		}
	}
	cmd := exec.Command(s.shell, "-c", *req.Command)
	cmd.Dir = dir
	cmd.Env = tb.env
	for k, v := range req.Envs {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out

	tb.mu.Lock()
	if tb.closed {
		tb.mu.Unlock()
		writeToolboxError(w, r, http.StatusBadRequest, toolboxNotStarted)
		return
	}
	if err := cmd.Start(); err != nil {
		tb.mu.Unlock()
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	tb.execs[cmd] = struct{}{}
	tb.mu.Unlock()

	var timeout <-chan time.Time
	if req.Timeout != nil && *req.Timeout > 0 {
		t := time.NewTimer(time.Duration(*req.Timeout) * time.Second)
		defer t.Stop()
		timeout = t.C
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var err error
	timedOut := false
	select {
	case err = <-waited:
	case <-timeout:
		timedOut = true
		killTree(cmd.Process.Pid, 0)
		err = <-waited
	case <-r.Context().Done():
		killTree(cmd.Process.Pid, 0)
		err = <-waited
	case <-s.done:
		// Close: do not keep Shutdown waiting for the command.
		killTree(cmd.Process.Pid, 0)
		<-waited
		tb.mu.Lock()
		delete(tb.execs, cmd)
		tb.mu.Unlock()
		writeToolboxError(w, r, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	// Processes the command left running in the background (a server
	// started with &) live on, as in a container, until the sandbox stops.
	strays := groupMembers(cmd.Process.Pid)
	tb.mu.Lock()
	delete(tb.execs, cmd)
	stopped := tb.closed
	tb.strays = append(tb.strays, strays...)
	tb.mu.Unlock()
	if stopped {
		// The sandbox stopped or went away under the command: no exit
		// code, the connection drops, as when its container stops.
		dropConnection(w)
		return
	}
	if timedOut {
		writeToolboxError(w, r, http.StatusRequestTimeout, "request timeout: command execution timeout")
		return
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		writeToolboxError(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"exitCode": code, "result": out.String()})
}

func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	var req struct {
		SessionID *string `json:"sessionId"`
	}
	if err := decodeJSON(body, &req); err != nil {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	if req.SessionID == nil || *req.SessionID == "" {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: sessionId is required")
		return
	}
	id := *req.SessionID
	if id == "entrypoint" {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: session ID entrypoint is reserved")
		return
	}
	tb.mu.Lock()
	if tb.closed {
		tb.mu.Unlock()
		writeToolboxError(w, r, http.StatusBadRequest, toolboxNotStarted)
		return
	}
	if _, dup := tb.sessions[id]; dup {
		tb.mu.Unlock()
		writeToolboxError(w, r, http.StatusConflict, "conflict: session already exists")
		return
	}
	tb.sessions[id] = nil // reserve the id while the shell starts
	tb.mu.Unlock()

	ss, err := tb.startSession(id)
	tb.mu.Lock()
	if err != nil || tb.closed {
		delete(tb.sessions, id)
		tb.mu.Unlock()
		if err == nil {
			ss.end(true)
			ss.kill(0)
			writeToolboxError(w, r, http.StatusBadRequest, toolboxNotStarted)
			return
		}
		writeToolboxError(w, r, http.StatusInternalServerError, "failed to create session: "+err.Error())
		return
	}
	tb.sessions[id] = ss
	tb.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
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
	tb.mu.Lock()
	ss := tb.sessions[r.PathValue("sessionId")]
	if ss != nil {
		delete(tb.sessions, r.PathValue("sessionId"))
	}
	tb.mu.Unlock()
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
	if tb == nil {
		return
	}
	var req struct {
		Command           *string `json:"command"`
		RunAsync          *bool   `json:"runAsync"`
		Async             *bool   `json:"async"`
		SuppressInputEcho *bool   `json:"suppressInputEcho"`
	}
	if err := decodeJSON(body, &req); err != nil {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	if req.Command == nil || *req.Command == "" {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: command is required")
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
	// Synchronous: wait for an exit code. A command that ended its shell
	// never gets one, so this waits until the session goes or the client
	// gives up, as the daemon does.
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
	if err := decodeJSON(body, &req); err != nil {
		writeToolboxError(w, r, http.StatusBadRequest, "bad request: "+err.Error())
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
