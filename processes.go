package daytona

import (
	"context"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/workspace"
)

var (
	_ workspace.ProcessSpawner = (*Sandbox)(nil)
	_ workspace.ProcessManager = (*ProcessManager)(nil)
)

// Processes returns the sandbox's background-process manager. Each process
// runs in its own Daytona session, whose id is the process id.
func (s *Sandbox) Processes() workspace.ProcessManager { return &ProcessManager{s: s} }

// ProcessManager starts and tracks background processes in a Sandbox. It is
// safe for concurrent use. Every ProcessManager of a Sandbox sees the same
// processes.
type ProcessManager struct {
	s *Sandbox
}

// check reports a manager of a Sandbox not made by New, and a nil ctx, as
// Sandbox.check does.
func (m *ProcessManager) check(ctx context.Context, op string) error {
	if m == nil {
		return (*Sandbox)(nil).check(ctx, op)
	}
	return m.s.check(ctx, op)
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
	return m.s.procs.track(b), nil
}

// List reports the processes this manager spawned or reattached, oldest
// first, without asking the sandbox.
func (m *ProcessManager) List(ctx context.Context) ([]workspace.ProcessInfo, error) {
	if err := m.check(ctx, "List"); err != nil {
		return nil, err
	}
	procs := m.s.procs.list()
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
	if proc := m.s.procs.get(pid); proc != nil {
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
	proc := m.s.procs.track(b)
	if proc.b != b {
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
	return m.s.procs.release(pid)
}
