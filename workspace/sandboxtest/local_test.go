//go:build unix

package sandboxtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// localSandbox is a minimal workspace.Sandbox that runs commands with sh
// on this machine, in a temporary directory, with no isolation at all. It
// is the suite's reference implementation: a second provider, besides
// Daytona, that the suite runs against (TestLocal), which keeps the suite
// provider-neutral and lets its Processes subtests run here too.
type localSandbox struct {
	id      string
	timeout time.Duration // default command timeout

	mu        sync.Mutex
	status    workspace.Status
	dir       string // home and default working directory; "" before the first start
	createdAt time.Time
	procs     map[string]*localProcess
	nextPID   int
}

var (
	_ workspace.Sandbox        = (*localSandbox)(nil)
	_ workspace.ProcessSpawner = (*localSandbox)(nil)
)

var localIDs struct {
	sync.Mutex
	n int
}

// newLocalSandbox returns a pending local sandbox.
func newLocalSandbox() *localSandbox {
	localIDs.Lock()
	localIDs.n++
	n := localIDs.n
	localIDs.Unlock()
	return &localSandbox{
		id:      fmt.Sprintf("local-%d-%d", os.Getpid(), n),
		timeout: time.Minute,
		status:  workspace.StatusPending,
		procs:   map[string]*localProcess{},
	}
}

func (s *localSandbox) ID() string       { return s.id }
func (s *localSandbox) Name() string     { return "LocalSandbox" }
func (s *localSandbox) Provider() string { return "local" }

func (s *localSandbox) Status() workspace.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *localSandbox) notReadyLocked() error {
	return fmt.Errorf("local: sandbox %s is %s: %w", s.id, s.status, workspace.ErrNotReady)
}

// Start creates the sandbox's directory on first start.
func (s *localSandbox) Start(ctx context.Context) error {
	_, err := s.ensureRunning(ctx)
	return err
}

func (s *localSandbox) ensureRunning(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.status {
	case workspace.StatusDestroyed:
		return "", s.notReadyLocked()
	case workspace.StatusRunning:
		return s.dir, nil
	}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "sandboxtest-local-")
		if err != nil {
			return "", err
		}
		s.dir, s.createdAt = dir, time.Now()
	}
	s.status = workspace.StatusRunning
	return s.dir, nil
}

// Stop kills the sandbox's processes and keeps its files.
func (s *localSandbox) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.status == workspace.StatusDestroyed {
		err := s.notReadyLocked()
		s.mu.Unlock()
		return err
	}
	s.status = workspace.StatusStopped
	s.mu.Unlock()
	return s.killAll(ctx)
}

// Destroy kills the sandbox's processes and deletes its files.
func (s *localSandbox) Destroy(ctx context.Context) error {
	s.mu.Lock()
	s.status = workspace.StatusDestroyed
	dir := s.dir
	s.mu.Unlock()
	if err := s.killAll(ctx); err != nil {
		return err
	}
	if dir != "" {
		return os.RemoveAll(dir)
	}
	return nil
}

// killAll kills the running processes and waits for them to end.
func (s *localSandbox) killAll(ctx context.Context) error {
	s.mu.Lock()
	procs := make([]*localProcess, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	for _, p := range procs {
		p.r.kill(reasonKill)
	}
	for _, p := range procs {
		select {
		case <-p.r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s *localSandbox) GetInfo(context.Context) (*workspace.Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &workspace.Info{
		ID:        s.id,
		Name:      s.Name(),
		Provider:  s.Provider(),
		Status:    s.status,
		CreatedAt: s.createdAt,
		Mounts:    []workspace.MountInfo{},
	}, nil
}

func (s *localSandbox) GetInstructions() string {
	return "Local shell (sh) in a temporary directory on the host; no isolation. Command timeout: " + s.timeout.String() + "."
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkEnv(env map[string]string) error {
	for k, v := range env {
		if !envName.MatchString(k) {
			return fmt.Errorf("local: invalid environment variable name %q", k)
		}
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("local: value of %s contains a NUL byte", k)
		}
	}
	return nil
}

// quote quotes s for sh.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (s *localSandbox) ExecuteCommand(ctx context.Context, command string, args []string, opts *workspace.ExecOptions) (*workspace.CommandResult, error) {
	if opts == nil {
		opts = &workspace.ExecOptions{}
	}
	if err := checkEnv(opts.Env); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = s.timeout
	case timeout == workspace.NoTimeout:
		timeout = 0
	case timeout < 0:
		return nil, fmt.Errorf("local: negative timeout %v", timeout)
	}
	if err := ctx.Err(); err != nil {
		// Nothing ran: the result says so.
		return &workspace.CommandResult{Command: command, Args: args, ExitCode: -1}, err
	}
	home, err := s.ensureRunning(ctx)
	if err != nil {
		return nil, err
	}
	script := command
	for _, a := range args {
		script += " " + quote(a)
	}
	r, err := startRun(script, home, opts.Cwd, opts.Env, opts.Stdout, opts.Stderr, opts.MaxRetainedBytes, false)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		t := time.AfterFunc(timeout, func() { r.kill(reasonTimeout) })
		defer t.Stop()
	}
	stop := context.AfterFunc(ctx, func() { r.kill(reasonCancel) })
	defer stop()
	<-r.done
	r.res.Command, r.res.Args = command, args
	switch {
	case r.werr != nil:
		return r.res, fmt.Errorf("local: output writer: %w", r.werr)
	case r.reason == reasonCancel:
		return r.res, ctx.Err()
	}
	return r.res, nil
}

// Why a run was killed.
const (
	reasonTimeout = "timeout"
	reasonCancel  = "cancel"
	reasonKill    = "kill"
	reasonWriter  = "writer"
)

// localRun is one sh process.
type localRun struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser // nil unless spawned
	done  chan struct{}  // closed once res is final

	wmu   sync.Mutex // one Write at a time, for both streams
	tails [2]tail
	ws    [2]io.Writer
	werr  error

	kmu    sync.Mutex
	reason string // why it was killed, if it was
	exited bool

	res *workspace.CommandResult // final once done is closed
}

func startRun(script, home, cwd string, env map[string]string, stdout, stderr io.Writer, retain int, withStdin bool) (*localRun, error) {
	switch {
	case cwd == "":
		cwd = home
	case !filepath.IsAbs(cwd):
		cwd = filepath.Join(home, cwd)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "HOME="+home, "PWD="+cwd)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	r := &localRun{cmd: cmd, done: make(chan struct{}), ws: [2]io.Writer{stdout, stderr}}
	switch retain {
	case 0:
		retain = workspace.DefaultMaxRetainedBytes
	case workspace.RetainNone:
		retain = 0
	case workspace.Unlimited:
		retain = -1
	}
	r.tails[0].max, r.tails[1].max = retain, retain
	cmd.Stdout, cmd.Stderr = streamWriter{r, 0}, streamWriter{r, 1}
	if stdout != nil && sameWriter(stdout, stderr) {
		// One writer for both: one pipe, as os/exec does, so that the
		// command's own order is kept; the result holds both in Stdout.
		cmd.Stderr = cmd.Stdout
	}
	if withStdin {
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		r.stdin = w
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		r.kmu.Lock()
		r.exited = true
		reason := r.reason
		r.kmu.Unlock()
		r.wmu.Lock()
		defer r.wmu.Unlock()
		res := &workspace.CommandResult{
			ExitCode:           cmd.ProcessState.ExitCode(),
			Stdout:             string(r.tails[0].buf),
			Stderr:             string(r.tails[1].buf),
			Duration:           time.Since(started),
			StdoutDroppedBytes: r.tails[0].dropped,
			StderrDroppedBytes: r.tails[1].dropped,
			StdoutTruncated:    r.tails[0].dropped > 0,
			StderrTruncated:    r.tails[1].dropped > 0,
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal())
			switch reason {
			case reasonTimeout:
				res.ExitCode, res.TimedOut, res.Killed = 124, true, true
			case "":
			default:
				res.ExitCode, res.Killed = 137, true
			}
		}
		r.res = res
		close(r.done)
	}()
	return r, nil
}

// kill kills the run's process group, unless it has exited; the first
// reason given wins.
func (r *localRun) kill(reason string) {
	r.kmu.Lock()
	defer r.kmu.Unlock()
	if r.exited || r.reason != "" {
		return
	}
	r.reason = reason
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
}

// sameWriter reports whether a and b are the same writer, like os/exec's
// comparison (values of a type that cannot be compared are not the same).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { _ = recover() }()
	return a == b
}

// streamWriter feeds one stream of a run to its tail and writer.
type streamWriter struct {
	r *localRun
	i int
}

func (w streamWriter) Write(p []byte) (int, error) {
	r := w.r
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.werr != nil {
		return 0, r.werr
	}
	r.tails[w.i].write(p)
	if out := r.ws[w.i]; out != nil {
		if _, err := out.Write(p); err != nil {
			r.werr = err
			go r.kill(reasonWriter)
			return 0, err
		}
	}
	return len(p), nil
}

// tail keeps the last max bytes (all when max < 0).
type tail struct {
	max     int
	buf     []byte
	dropped int64
}

func (t *tail) write(p []byte) {
	t.buf = append(t.buf, p...)
	if t.max >= 0 && len(t.buf) > t.max {
		n := len(t.buf) - t.max
		t.dropped += int64(n)
		t.buf = append([]byte(nil), t.buf[n:]...)
	}
}

// Processes.

func (s *localSandbox) Processes() workspace.ProcessManager { return localProcesses{s} }

type localProcesses struct{ s *localSandbox }

type localProcess struct {
	pid, command string
	r            *localRun
}

func (m localProcesses) Spawn(ctx context.Context, command string, opts *workspace.SpawnOptions) (workspace.Process, error) {
	if opts == nil {
		opts = &workspace.SpawnOptions{}
	}
	if err := checkEnv(opts.Env); err != nil {
		return nil, err
	}
	home, err := m.s.ensureRunning(ctx)
	if err != nil {
		return nil, err
	}
	r, err := startRun(command, home, opts.Cwd, opts.Env, opts.Stdout, opts.Stderr, opts.MaxRetainedBytes, true)
	if err != nil {
		return nil, err
	}
	if opts.Timeout > 0 {
		t := time.AfterFunc(opts.Timeout, func() { r.kill(reasonTimeout) })
		go func() { <-r.done; t.Stop() }()
	}
	m.s.mu.Lock()
	m.s.nextPID++
	p := &localProcess{pid: "p" + strconv.Itoa(m.s.nextPID), command: command, r: r}
	m.s.procs[p.pid] = p
	m.s.mu.Unlock()
	return p, nil
}

func (m localProcesses) List(context.Context) ([]workspace.ProcessInfo, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var out []workspace.ProcessInfo
	for _, p := range m.s.procs {
		pi := workspace.ProcessInfo{PID: p.pid, Command: p.command, Running: true}
		if code, done := p.ExitCode(); done {
			pi.Running, pi.ExitCode = false, &code
		}
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

func (m localProcesses) Get(_ context.Context, pid string) (workspace.Process, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if p, ok := m.s.procs[pid]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("local: process %q: %w", pid, workspace.ErrProcessNotFound)
}

func (m localProcesses) Kill(ctx context.Context, pid string) error {
	p, err := m.Get(ctx, pid)
	if err != nil {
		return err
	}
	return p.Kill(ctx)
}

func (p *localProcess) PID() string     { return p.pid }
func (p *localProcess) Command() string { return p.command }

func (p *localProcess) Wait(ctx context.Context) (*workspace.CommandResult, error) {
	select {
	case <-p.r.done:
		res := *p.r.res
		res.Command = p.command
		return &res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *localProcess) Kill(context.Context) error {
	p.r.kill(reasonKill)
	return nil
}

func (p *localProcess) SendStdin(_ context.Context, data []byte) error {
	select {
	case <-p.r.done:
		return errors.New("local: the process has ended")
	default:
	}
	_, err := p.r.stdin.Write(data)
	return err
}

func (p *localProcess) CloseStdin(context.Context) error { return p.r.stdin.Close() }

func (p *localProcess) ExitCode() (int, bool) {
	select {
	case <-p.r.done:
		return p.r.res.ExitCode, true
	default:
		return 0, false
	}
}

func (p *localProcess) Stdout() string { return p.output(0) }
func (p *localProcess) Stderr() string { return p.output(1) }

func (p *localProcess) output(i int) string {
	p.r.wmu.Lock()
	defer p.r.wmu.Unlock()
	return string(p.r.tails[i].buf)
}
