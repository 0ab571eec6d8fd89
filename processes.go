package daytona

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

var (
	_ workspace.ProcessSpawner = (*Sandbox)(nil)
	_ workspace.ProcessManager = (*ProcessManager)(nil)
	_ workspace.Process        = (*Process)(nil)
)

// processPrefix starts the session id of every process this package
// spawns; the session id is the process id.
const processPrefix = "agentws-proc-"

// Processes returns the sandbox's background-process manager. Each process
// runs in its own Daytona session, whose id is the process id.
func (s *Sandbox) Processes() workspace.ProcessManager { return s.procs }

// ProcessManager starts and tracks background processes in a Sandbox. It is
// safe for concurrent use.
type ProcessManager struct {
	s *Sandbox

	mu    sync.Mutex // guards procs
	procs map[string]*Process
}

// check reports a manager of a Sandbox not made by New, and a nil ctx, as
// Sandbox.check does.
func (m *ProcessManager) check(ctx context.Context, op string) error {
	if m == nil {
		return (*Sandbox)(nil).check(ctx, op)
	}
	return m.s.check(ctx, op)
}

func newProcessManager(s *Sandbox) *ProcessManager {
	return &ProcessManager{s: s} // procs is made by the first track
}

// Process is a background process in a Daytona session. It is safe for
// concurrent use.
type Process struct {
	m   *ProcessManager
	pid string
	run *run // owned by the reader goroutine until readerDone is closed

	done chan struct{} // closed when the result is final

	mu         sync.Mutex         // guards the fields below and run.out's tails
	cancel     context.CancelFunc // stops the reader
	readerDone chan struct{}      // closed when the reader has returned
	result     *workspace.CommandResult
	err        error
	killing    bool
	timedOut   bool
}

// Spawn starts command in the background in its own session and returns
// once the daemon has accepted it. Its output streams to opts.Stdout and
// opts.Stderr for its whole life and is retained as in ExecuteCommand; its
// stdin stays open for SendStdin. The process keeps running when the
// returned value is dropped and when ctx ends; only Kill, its timeout, Stop
// or Destroy end it. As with ExecuteCommand, a sandbox found stopped or
// deleted is restarted and the spawn tried once more.
func (m *ProcessManager) Spawn(ctx context.Context, command string, opts *workspace.SpawnOptions) (workspace.Process, error) {
	if err := m.check(ctx, "Spawn"); err != nil {
		return nil, err
	}
	proc, err := m.spawn(ctx, command, opts)
	if err != nil {
		return nil, err // a nil interface, not a nil *Process
	}
	return proc, nil
}

func (m *ProcessManager) spawn(ctx context.Context, command string, opts *workspace.SpawnOptions) (*Process, error) {
	if opts == nil {
		opts = &workspace.SpawnOptions{}
	}
	if opts.Timeout < 0 {
		return nil, invalid("Spawn: negative timeout %v", opts.Timeout)
	}
	p, err := m.s.plan("Spawn", command, nil, &workspace.ExecOptions{
		Cwd: opts.Cwd, Env: opts.Env, Stdout: opts.Stdout, Stderr: opts.Stderr,
		MaxRetainedBytes: opts.MaxRetainedBytes, Timeout: workspace.NoTimeout,
	})
	if err != nil {
		return nil, err
	}
	p.timeout = opts.Timeout
	p.spec.KeepStdin = true

	return resubmitOnce(ctx, m.s, "spawn process", func(r *remote) (*Process, error) {
		return m.submit(ctx, r, p)
	})
}

// submit creates the process's session, starts the command and its reader.
func (m *ProcessManager) submit(ctx context.Context, r *remote, p *plan) (*Process, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	sess := &session{id: processPrefix + hex.EncodeToString(b[:])}
	if err := r.tb.CreateSession(ctx, sess.id); err != nil {
		if ctx.Err() != nil {
			return nil, fault.WrapCtx(ctx, "spawn process", err)
		}
		return nil, classify("spawn process", err)
	}
	c := m.s.newRun(r, sess, p)
	if err := c.submitAsync(ctx); err != nil {
		// Do not leave an empty session (or a half-started command) behind.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_, _ = r.pool.remove(cctx, sess)
		cancel()
		if ctx.Err() != nil {
			return nil, fault.WrapCtx(ctx, "spawn process", err)
		}
		return nil, classify("spawn process", err)
	}
	proc := m.track(c)
	m.s.log.Debug("spawned process", "pid", sess.id)
	return proc, nil
}

// track registers a process and starts following its log.
func (m *ProcessManager) track(c *run) *Process {
	proc := &Process{m: m, pid: c.sess.id, run: c, done: make(chan struct{})}
	c.op = "process " + proc.pid
	c.out.lock = &proc.mu
	m.mu.Lock()
	if m.procs == nil {
		m.procs = make(map[string]*Process)
	}
	m.procs[proc.pid] = proc
	m.mu.Unlock()
	proc.mu.Lock()
	proc.startReaderLocked()
	proc.mu.Unlock()
	return proc
}

// startReaderLocked starts the goroutine that follows the process's log.
// It is called with proc.mu held.
func (proc *Process) startReaderLocked() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	proc.cancel, proc.readerDone = cancel, done
	go proc.read(ctx, cancel, done)
}

// stopReader marks the process as being ended by the caller (Kill, Stop,
// Destroy), stops its reader and waits for it, so that the caller owns
// proc.run. It returns false if the process has ended or is being ended
// already.
func (proc *Process) stopReader() bool {
	proc.mu.Lock()
	if proc.result != nil || proc.err != nil || proc.killing {
		proc.mu.Unlock()
		return false
	}
	proc.killing = true
	cancel, readerDone := proc.cancel, proc.readerDone
	proc.mu.Unlock()
	cancel()
	<-readerDone
	return true
}

// read follows the process's log until it ends; it owns proc.run until it
// returns.
func (proc *Process) read(ctx context.Context, cancel context.CancelFunc, readerDone chan struct{}) {
	defer close(readerDone)
	defer cancel()
	c := proc.run
	defer c.s.keepAlive(c.r)() // keepalive.go
	if c.p.timeout > 0 {
		t := time.AfterFunc(c.p.timeout-time.Since(c.started), func() {
			proc.mu.Lock()
			proc.timedOut = true
			proc.mu.Unlock()
			cancel()
		})
		defer t.Stop()
	}
	code, done, err := c.follow(ctx)
	if done {
		proc.finish(c.finished(code))
		// Its session has done its work; delete it once the daemon agrees
		// the command is over (a job it left in the background keeps it).
		c.r.pool.deleteWhenDone(c.sess, c.cmdID)
		return
	}
	proc.mu.Lock()
	killing, timedOut := proc.killing, proc.timedOut
	proc.mu.Unlock()
	switch {
	case killing:
		// Kill or Stop/Destroy is ending it and will record the result.
		return
	case timedOut || c.out.werr != nil:
		proc.finish(c.endKilled(context.Background()))
		return
	}
	// The stream ended without the process's marker: the sandbox stopped,
	// the session was deleted, or the stream could not be followed.
	proc.finish(c.lost(context.Background(), err))
}

// finish records the final result once.
func (proc *Process) finish(res *workspace.CommandResult, err error) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.result != nil || proc.err != nil {
		return
	}
	proc.result, proc.err = res, err
	close(proc.done)
}

// PID returns the process id, which is its Daytona session id.
func (proc *Process) PID() string { return proc.pid }

// Command returns the command the process runs.
func (proc *Process) Command() string { return proc.run.p.command }

// Wait waits for the process to end and returns its result (see
// workspace.Process). A process that was running when its sandbox stopped
// or was deleted behind this package's back reports an error, not an exit
// code.
func (proc *Process) Wait(ctx context.Context) (*workspace.CommandResult, error) {
	select {
	case <-proc.done:
	case <-ctx.Done():
		return nil, fault.Wrap("wait for process "+proc.pid, ctx.Err())
	}
	proc.mu.Lock()
	defer proc.mu.Unlock()
	var res *workspace.CommandResult
	if proc.result != nil {
		c := *proc.result
		res = &c
	}
	return res, proc.err
}

// Kill kills the process and everything it started (by deleting its
// session), and waits until it is gone; its result then has ExitCode 137
// and Killed. Killing a process that has ended does nothing. If the kill
// fails, the process is followed as before (it may still run) and the
// error is returned.
func (proc *Process) Kill(ctx context.Context) error {
	if !proc.stopReader() {
		select {
		case <-proc.done:
			return nil
		case <-ctx.Done():
			return fault.Wrap("kill process "+proc.pid, ctx.Err())
		}
	}
	c := proc.run
	killed, err := c.kill(ctx)
	if code, ok := c.out.done(); ok {
		proc.finish(c.finished(code)) // it ended on its own first
		return nil
	}
	switch {
	case err != nil:
		proc.mu.Lock()
		proc.killing = false
		proc.startReaderLocked()
		proc.mu.Unlock()
		return fault.Errorf("kill process %s: %w", proc.pid, err)
	case !killed:
		proc.finish(c.result(ExitCodeUnknown), fault.Errorf("process %s: its session was gone before it could be killed", proc.pid))
		return nil
	}
	res := c.result(ExitCodeKilled)
	res.Killed = true
	proc.finish(res, nil)
	return nil
}

// SendStdin writes data to the process's standard input. Daytona carries
// input as text, so data must be valid UTF-8, and it feeds line-reading
// programs: the daemon appends a newline to data that does not end with
// one, so send whole lines ("yes\n"). Empty data is an error. Input sent
// right after Spawn waits (briefly) until the process can take it. A
// process that has ended gives an error matching workspace.ErrNotReady.
func (proc *Process) SendStdin(ctx context.Context, data []byte) error {
	if code, ended := proc.ExitCode(); ended {
		return fault.Errorf("process %s has already exited with code %d: %w", proc.pid, code, workspace.ErrNotReady)
	}
	switch {
	case len(data) == 0:
		return invalid("SendStdin: empty data (the daemon rejects it; send a newline to send an empty line)")
	case !utf8.Valid(data):
		return invalid("SendStdin: data is not valid UTF-8 (the Daytona API carries text)")
	}
	op := "send stdin to process " + proc.pid
	err := proc.run.r.tb.SendInput(ctx, proc.pid, proc.run.cmdID, string(data))
	if StatusCode(err) == http.StatusGone {
		return fault.Errorf("%s: it has ended: %w: %w", op, workspace.ErrNotReady, fault.Wrap(op, err))
	}
	if err != nil {
		return fault.WrapCtx(ctx, op, err)
	}
	return nil
}

// CloseStdin is not supported: the Daytona API cannot close a command's
// stdin. It returns an error matching workspace.ErrUnsupported.
func (proc *Process) CloseStdin(context.Context) error {
	return fault.Errorf("process %s: closing stdin: %w", proc.pid, workspace.ErrUnsupported)
}

// ExitCode returns the exit code and true once the process has ended with
// one (124 after its timeout, 137 after a kill).
func (proc *Process) ExitCode() (int, bool) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.result == nil || proc.result.ExitCode == ExitCodeUnknown {
		return 0, false
	}
	return proc.result.ExitCode, true
}

// Stdout returns the standard output retained so far.
func (proc *Process) Stdout() string { return proc.run.out.retained(stream.Stdout) }

// Stderr returns the standard error retained so far.
func (proc *Process) Stderr() string { return proc.run.out.retained(stream.Stderr) }

// List reports the processes this manager spawned or reattached, oldest
// first, without asking the sandbox.
func (m *ProcessManager) List(ctx context.Context) ([]workspace.ProcessInfo, error) {
	if err := m.check(ctx, "List"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	procs := make([]*Process, 0, len(m.procs))
	for _, p := range m.procs {
		procs = append(procs, p)
	}
	m.mu.Unlock()
	sort.Slice(procs, func(i, j int) bool { return procs[i].run.started.Before(procs[j].run.started) })
	out := make([]workspace.ProcessInfo, 0, len(procs))
	for _, p := range procs {
		info := workspace.ProcessInfo{PID: p.pid, Command: p.Command(), Running: true}
		if code, ended := p.ExitCode(); ended {
			info.Running, info.ExitCode = false, &code
		} else {
			select {
			case <-p.done:
				info.Running = false
			default:
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// Get returns the process with this id. A process spawned by an earlier
// program (its session still in the sandbox) is reattached: its output is
// replayed from the start and Wait works. Unknown ids match
// workspace.ErrProcessNotFound.
func (m *ProcessManager) Get(ctx context.Context, pid string) (workspace.Process, error) {
	if err := m.check(ctx, "Get"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	proc := m.procs[pid]
	m.mu.Unlock()
	if proc != nil {
		return proc, nil
	}
	if pid == "" {
		return nil, invalid("Get: empty process id")
	}
	r, err := m.s.ensureRunning(ctx)
	if err != nil {
		return nil, err
	}
	cmds, err := r.tb.Commands(ctx, pid)
	if err != nil {
		if apierr.NotFound(err) {
			return nil, fault.Errorf("process %s: %w", pid, workspace.ErrProcessNotFound)
		}
		return nil, fault.WrapCtx(ctx, "get process "+pid, err)
	}
	if len(cmds) == 0 {
		return nil, fault.Errorf("process %s: session has no command: %w", pid, workspace.ErrProcessNotFound)
	}
	last := cmds[len(cmds)-1]
	command, token, ok := shell.ParseScript(last.Script)
	if !ok || token == "" {
		return nil, fault.Errorf("process %s: session was not started by this package: %w", pid, workspace.ErrProcessNotFound)
	}
	p := &plan{command: command, retain: workspace.DefaultMaxRetainedBytes}
	m.mu.Lock()
	if existing := m.procs[pid]; existing != nil { // reattached concurrently
		m.mu.Unlock()
		return existing, nil
	}
	m.mu.Unlock()
	c := &run{
		s: m.s, r: r, sess: &session{id: pid}, p: p, token: token,
		out:     newOutput(token, nil, nil, p.retain),
		script:  last.Script,
		cmdID:   last.ID,
		started: time.Now(),
	}
	return m.track(c), nil
}

// Kill kills the process with this id; see Process.Kill.
func (m *ProcessManager) Kill(ctx context.Context, pid string) error {
	proc, err := m.Get(ctx, pid)
	if err != nil {
		return err
	}
	return proc.Kill(ctx)
}

// Release forgets an ended process, so that List no longer reports it. It
// returns an error for a process that still runs.
func (m *ProcessManager) Release(pid string) error {
	if err := m.check(context.Background(), "Release"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	proc := m.procs[pid]
	if proc == nil {
		return fault.Errorf("process %s: %w", pid, workspace.ErrProcessNotFound)
	}
	select {
	case <-proc.done:
		delete(m.procs, pid)
		return nil
	default:
		return fault.Errorf("process %s is still running", pid)
	}
}

// endAll marks every running process of r killed, because Stop or Destroy
// is about to end the remote sandbox; their readers stop first.
func (m *ProcessManager) endAll(r *remote) {
	m.mu.Lock()
	var running []*Process
	for _, p := range m.procs {
		if p.run.r == r {
			running = append(running, p)
		}
	}
	m.mu.Unlock()
	for _, p := range running {
		if !p.stopReader() {
			continue
		}
		res := p.run.result(ExitCodeKilled)
		res.Killed = true
		p.finish(res, nil)
	}
}
