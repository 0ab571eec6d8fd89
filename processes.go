package daytona

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

var (
	_ workspace.ProcessSpawner = (*Sandbox)(nil)
	_ workspace.ProcessManager = (*ProcessManager)(nil)
	_ workspace.Process        = (*Process)(nil)
)

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

// Process is a background process in a Daytona session (the engine's
// command.Background). It is safe for concurrent use.
type Process struct {
	b *command.Background
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

func (m *ProcessManager) spawn(ctx context.Context, cmd string, opts *workspace.SpawnOptions) (*Process, error) {
	if opts == nil {
		opts = &workspace.SpawnOptions{}
	}
	if opts.Timeout < 0 {
		return nil, invalid("Spawn: negative timeout %v", opts.Timeout)
	}
	p, err := m.s.plan("Spawn", cmd, nil, &workspace.ExecOptions{
		Cwd: opts.Cwd, Env: opts.Env, Stdout: opts.Stdout, Stderr: opts.Stderr,
		MaxRetainedBytes: opts.MaxRetainedBytes, Timeout: workspace.NoTimeout,
	})
	if err != nil {
		return nil, err
	}
	p.Timeout = opts.Timeout
	p.Spec.KeepStdin = true
	b, err := resubmitOnce(ctx, m.s, "spawn process", func(r *remote) (*command.Background, error) {
		return command.Spawn(ctx, r, p)
	})
	if err != nil {
		return nil, err
	}
	return m.track(b), nil
}

// track registers a process, or returns the one registered under its id
// already.
func (m *ProcessManager) track(b *command.Background) *Process {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.procs == nil {
		m.procs = make(map[string]*Process)
	}
	if existing := m.procs[b.PID()]; existing != nil {
		return existing
	}
	proc := &Process{b: b}
	m.procs[b.PID()] = proc
	return proc
}

// PID returns the process id, which is its Daytona session id.
func (proc *Process) PID() string { return proc.b.PID() }

// Command returns the command the process runs.
func (proc *Process) Command() string { return proc.b.Command() }

// Wait waits for the process to end and returns its result (see
// workspace.Process). A process that was running when its sandbox stopped
// or was deleted behind this package's back reports an error, not an exit
// code.
func (proc *Process) Wait(ctx context.Context) (*workspace.CommandResult, error) {
	select {
	case <-proc.b.Done():
	case <-ctx.Done():
		return nil, fault.Wrap("wait for process "+proc.PID(), ctx.Err())
	}
	return proc.b.Result()
}

// Kill kills the process and everything it started (by deleting its
// session), and waits until it is gone; its result then has ExitCode 137
// and Killed. Killing a process that has ended does nothing. If the kill
// fails, the process is followed as before (it may still run) and the
// error is returned.
func (proc *Process) Kill(ctx context.Context) error { return proc.b.Kill(ctx) }

// SendStdin writes data to the process's standard input. Daytona carries
// input as text, so data must be valid UTF-8, and it feeds line-reading
// programs: the daemon appends a newline to data that does not end with
// one, so send whole lines ("yes\n"). Empty data is an error. Input sent
// right after Spawn waits (briefly) until the process can take it. A
// process that has ended gives an error matching workspace.ErrNotReady.
func (proc *Process) SendStdin(ctx context.Context, data []byte) error {
	if code, ended := proc.ExitCode(); ended {
		return fault.Errorf("process %s has already exited with code %d: %w", proc.PID(), code, workspace.ErrNotReady)
	}
	switch {
	case len(data) == 0:
		return invalid("SendStdin: empty data (the daemon rejects it; send a newline to send an empty line)")
	case !utf8.Valid(data):
		return invalid("SendStdin: data is not valid UTF-8 (the Daytona API carries text)")
	}
	op := "send stdin to process " + proc.PID()
	err := proc.b.SendInput(ctx, string(data))
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
	return fault.Errorf("process %s: closing stdin: %w", proc.PID(), workspace.ErrUnsupported)
}

// ExitCode returns the exit code and true once the process has ended with
// one (124 after its timeout, 137 after a kill).
func (proc *Process) ExitCode() (int, bool) { return proc.b.ExitCode() }

// Stdout returns the standard output retained so far.
func (proc *Process) Stdout() string { return proc.b.Retained(stream.Stdout) }

// Stderr returns the standard error retained so far.
func (proc *Process) Stderr() string { return proc.b.Retained(stream.Stderr) }

// ended reports whether the process's result is final.
func (proc *Process) ended() bool {
	select {
	case <-proc.b.Done():
		return true
	default:
		return false
	}
}

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
	sort.Slice(procs, func(i, j int) bool { return procs[i].b.Started().Before(procs[j].b.Started()) })
	out := make([]workspace.ProcessInfo, 0, len(procs))
	for _, p := range procs {
		info := workspace.ProcessInfo{PID: p.PID(), Command: p.Command(), Running: !p.ended()}
		if code, ended := p.ExitCode(); ended {
			info.Running, info.ExitCode = false, &code
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
	b, err := command.Reattach(ctx, r, pid)
	if err != nil {
		return nil, err
	}
	if proc = m.track(b); proc.b != b {
		b.End() // reattached concurrently: follow it once
	}
	return proc, nil
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
	switch {
	case proc == nil:
		return fault.Errorf("process %s: %w", pid, workspace.ErrProcessNotFound)
	case !proc.ended():
		return fault.Errorf("process %s is still running", pid)
	}
	delete(m.procs, pid)
	return nil
}

// endAll marks every running process of r killed, because Stop or Destroy
// is about to end the remote sandbox; their readers stop first.
func (m *ProcessManager) endAll(r *remote) {
	m.mu.Lock()
	var running []*Process
	for _, p := range m.procs {
		if p.b.On(r) {
			running = append(running, p)
		}
	}
	m.mu.Unlock()
	for _, p := range running {
		p.b.End()
	}
}
