//go:build unix

package daytonatest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
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
	strays   []straggler // background processes of finished execs, and what outlived a session's delete

	shutdownOnce sync.Once
	shutdownDone chan struct{}
}

// daemonDir returns where the daemon of sb's seq-th run keeps its
// per-command files: in memory when the server has a run directory, else
// in the sandbox's directory.
func (s *Server) daemonDir(sb *sandbox, seq int) string {
	if s.runDir != "" {
		return filepath.Join(s.runDir, strconv.Itoa(seq))
	}
	return filepath.Join(sb.dir, "daemon", strconv.Itoa(seq))
}

// newToolbox is called with s.mu held.
func newToolbox(s *Server, sb *sandbox) *toolbox {
	s.tbSeq++
	logRoot := s.daemonDir(sb, s.tbSeq)
	env := sandboxEnv(s.shell, sb.home, s.sandboxEnvLocked(sb))
	if hidden, err := withoutPrograms(env, s.cfg.hidden, logRoot); err == nil {
		env = hidden
	}
	return &toolbox{
		srv:          s,
		home:         sb.home,
		logRoot:      logRoot,
		env:          env,
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
		// What outlived a session's delete (see terminateSession) dies
		// with the container.
		tb.mu.Lock()
		strays = tb.strays
		tb.strays = nil
		tb.mu.Unlock()
		for _, p := range strays {
			if p.alive() {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
		// The daemon's sessions and their logs end with it.
		_ = os.RemoveAll(tb.logRoot)
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

// Errors of the daemon that the toolbox API answers in its own words.
var (
	errToolboxClosed = errors.New("toolbox closed") // the sandbox stopped or went away
	errSessionExists = errors.New("session already exists")
)

// addSession starts a session shell under id. An id is taken from the
// moment its shell starts; if the sandbox stops meanwhile, the new shell is
// killed and the error is errToolboxClosed.
func (tb *toolbox) addSession(id string) error {
	tb.mu.Lock()
	if tb.closed {
		tb.mu.Unlock()
		return errToolboxClosed
	}
	if _, dup := tb.sessions[id]; dup {
		tb.mu.Unlock()
		return errSessionExists
	}
	tb.sessions[id] = nil // reserve the id while the shell starts
	tb.mu.Unlock()

	ss, err := tb.startSession(id)
	tb.mu.Lock()
	if err == nil && !tb.closed {
		tb.sessions[id] = ss
		tb.mu.Unlock()
		return nil
	}
	delete(tb.sessions, id)
	tb.mu.Unlock()
	if err != nil {
		return err
	}
	ss.end(true)
	ss.kill(0)
	return errToolboxClosed
}

// takeSession removes the session id from the toolbox and returns it, or
// nil if there is none.
func (tb *toolbox) takeSession(id string) *session {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	ss := tb.sessions[id]
	if ss != nil {
		delete(tb.sessions, id)
	}
	return ss
}

// execution is a command of /process/execute: a fresh shell in its own
// process group, whose stdout and stderr go to one buffer.
type execution struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// How the wait for an execution ended.
type execEnd int

const (
	execExited   execEnd = iota // by itself, or killed because the client left
	execTimedOut                // killed when the request's timeout passed
	execShutdown                // killed because the server is closing
)

// startExec starts command in a fresh shell, in cwd (relative to the home;
// the home if empty), with envs added to the sandbox's environment.
func (tb *toolbox) startExec(shell, command, cwd string, envs map[string]string) (*execution, error) {
	dir := tb.home
	if cwd != "" {
		dir = cwd
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(tb.home, dir)
		}
	}
	e := &execution{cmd: exec.Command(shell, "-c", command)}
	e.cmd.Dir = dir
	e.cmd.Env = tb.env
	for k, v := range envs {
		e.cmd.Env = append(e.cmd.Env, k+"="+v)
	}
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e.cmd.Stdout = &e.out
	e.cmd.Stderr = &e.out
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.closed {
		return nil, errToolboxClosed
	}
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	tb.execs[e.cmd] = struct{}{}
	return e, nil
}

// wait waits for the command to end. It kills the command's process group
// when timeout fires (nil: never), ctx is done or done is closed, and
// returns how the wait ended and the error of [exec.Cmd.Wait].
func (e *execution) wait(ctx context.Context, timeout <-chan time.Time, done <-chan struct{}) (execEnd, error) {
	waited := make(chan error, 1)
	go func() { waited <- e.cmd.Wait() }()
	end := execExited
	select {
	case err := <-waited:
		return execExited, err
	case <-timeout:
		end = execTimedOut
	case <-ctx.Done():
	case <-done:
		end = execShutdown
	}
	killTree(e.cmd.Process.Pid, 0)
	return end, <-waited
}

// endExec forgets an execution that has ended. With keepStrays, the
// processes it left running in the background (a server started with &)
// live on, as in a container, until the sandbox stops. It reports whether
// the toolbox was closed meanwhile.
func (tb *toolbox) endExec(e *execution, keepStrays bool) (closed bool) {
	var strays []straggler
	if keepStrays {
		strays = groupMembers(e.cmd.Process.Pid)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	delete(tb.execs, e.cmd)
	tb.strays = append(tb.strays, strays...)
	return tb.closed
}
