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

var _ workspace.Process = (*Process)(nil)

// Process is a background process in a Daytona session. It is safe for
// concurrent use.
type Process struct {
	b *command.Background
}

// made reports a Process made by Spawn. A nil or zero one reports
// nothing, and its calls that can fail fail with errNoProcess.
func (proc *Process) made() bool { return proc != nil && proc.b != nil }

// errNoProcess is the error of a call on a nil or zero Process.
var errNoProcess = invalid("a Process that was not made by Spawn (use ProcessManager.Spawn)")

// PID returns the process id, which is its Daytona session id.
func (proc *Process) PID() string {
	if !proc.made() {
		return ""
	}
	return proc.b.PID()
}

// Command returns the command the process runs.
func (proc *Process) Command() string {
	if !proc.made() {
		return ""
	}
	return proc.b.Command()
}

// Wait waits for the process to end and returns its result (see
// workspace.Process). A process that was running when its sandbox stopped
// or was deleted behind this package's back reports an error, not an exit
// code.
func (proc *Process) Wait(ctx context.Context) (*workspace.CommandResult, error) {
	if !proc.made() {
		return nil, errNoProcess
	}
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
func (proc *Process) Kill(ctx context.Context) error {
	if !proc.made() {
		return errNoProcess
	}
	return proc.b.Kill(ctx)
}

// SendStdin writes data to the process's standard input. Daytona carries
// input as text, so data must be valid UTF-8, and it feeds line-reading
// programs: the daemon appends a newline to data that does not end with
// one, so send whole lines ("yes\n"). Empty data is an error. Input sent
// right after Spawn waits (briefly) until the process can take it. A
// process that has ended gives an error matching workspace.ErrNotReady.
func (proc *Process) SendStdin(ctx context.Context, data []byte) error {
	if !proc.made() {
		return errNoProcess
	}
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
	if !proc.made() {
		return errNoProcess
	}
	return fault.Errorf("process %s: closing stdin: %w", proc.PID(), workspace.ErrUnsupported)
}

// ExitCode returns the exit code and true once the process has ended with
// one (124 after its timeout, 137 after a kill).
func (proc *Process) ExitCode() (int, bool) {
	if !proc.made() {
		return 0, false
	}
	return proc.b.ExitCode()
}

// Stdout returns the standard output retained so far.
func (proc *Process) Stdout() string { return proc.retained(stream.Stdout) }

// Stderr returns the standard error retained so far.
func (proc *Process) Stderr() string { return proc.retained(stream.Stderr) }

func (proc *Process) retained(st stream.Stream) string {
	if !proc.made() {
		return ""
	}
	return proc.b.Retained(st)
}

// ended reports whether the process's result is final.
func (proc *Process) ended() bool {
	select {
	case <-proc.b.Done():
		return true
	default:
		return false
	}
}

// processTable holds a Sandbox's background processes, by id. It is safe
// for concurrent use.
type processTable struct {
	mu    sync.Mutex // guards procs
	procs map[string]*Process
}

// get returns the process with this id, or nil.
func (t *processTable) get(pid string) *Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs[pid]
}

// track registers a process, or returns the one registered under its id
// already.
func (t *processTable) track(b *command.Background) *Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.procs == nil {
		t.procs = make(map[string]*Process)
	}
	if existing := t.procs[b.PID()]; existing != nil {
		return existing
	}
	proc := &Process{b: b}
	t.procs[b.PID()] = proc
	return proc
}

// list returns the processes, oldest first.
func (t *processTable) list() []*Process {
	t.mu.Lock()
	procs := make([]*Process, 0, len(t.procs))
	for _, p := range t.procs {
		procs = append(procs, p)
	}
	t.mu.Unlock()
	sort.Slice(procs, func(i, j int) bool { return procs[i].b.Started().Before(procs[j].b.Started()) })
	return procs
}

// release forgets an ended process.
func (t *processTable) release(pid string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	proc := t.procs[pid]
	switch {
	case proc == nil:
		return fault.Errorf("process %s: %w", pid, workspace.ErrProcessNotFound)
	case !proc.ended():
		return fault.Errorf("process %s is still running", pid)
	}
	delete(t.procs, pid)
	return nil
}

// endAll marks every running process of r killed, because Stop or Destroy
// is about to end the remote sandbox; their readers stop first.
func (t *processTable) endAll(r *command.Remote) {
	t.mu.Lock()
	var running []*Process
	for _, p := range t.procs {
		if p.b.On(r) {
			running = append(running, p)
		}
	}
	t.mu.Unlock()
	for _, p := range running {
		p.b.End()
	}
}
