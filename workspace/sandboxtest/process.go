package sandboxtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

var processTests = []testCase{
	{"Stdin", testProcessStdin},
	{"Output", testProcessOutput},
	{"ListGet", testProcessListGet},
	{"Kill", testProcessKill},
	{"Timeout", testProcessTimeout},
	{"StopEndsProcesses", testProcessStop},
	{"Errors", testProcessErrors},
}

// processes returns a new sandbox and its process manager, or skips t
// when the sandbox cannot spawn processes or Config.SkipProcesses is set.
func (h *harness) processes(t *testing.T) (workspace.Sandbox, workspace.ProcessManager) {
	t.Helper()
	sb, ps := capability[workspace.ProcessSpawner](t, h, h.cfg.SkipProcesses, "SkipProcesses", "workspace.ProcessSpawner")
	pm := ps.Processes()
	if pm == nil {
		t.Fatal("Processes() returned nil")
	}
	return sb, pm
}

// spawn starts a process that must start, and kills it when t ends.
func spawn(t *testing.T, ctx context.Context, pm workspace.ProcessManager, command string, opts *workspace.SpawnOptions) workspace.Process {
	t.Helper()
	p, err := pm.Spawn(ctx, command, opts)
	if err != nil {
		t.Fatalf("Spawn(%q): %v", command, err)
	}
	if p == nil {
		t.Fatalf("Spawn(%q) returned a nil Process and a nil error", command)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), promptly)
		defer cancel()
		_ = p.Kill(ctx)
	})
	return p
}

// wait waits for a process that must end without error.
func wait(t *testing.T, ctx context.Context, p workspace.Process) *workspace.CommandResult {
	t.Helper()
	res, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait for %q: %v", p.Command(), err)
	}
	if res == nil {
		t.Fatalf("Wait for %q returned a nil result and a nil error", p.Command())
	}
	return res
}

// testProcessStdin spawns an interactive process on a pending sandbox,
// sees its first line while it runs, answers it on stdin and waits for its
// result; then closes a process's stdin.
func testProcessStdin(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pm := h.processes(t)
	const command = `echo ready; read line; echo "got $line"`
	out := &recorder{}
	p := spawn(t, ctx, pm, command, &workspace.SpawnOptions{Stdout: out})
	wantStatus(t, sb, workspace.StatusRunning, "after Spawn on a pending sandbox")
	if p.PID() == "" {
		t.Error("PID() is empty")
	}
	equal(t, "Command()", p.Command(), command)

	waitFor(t, ctx, `"ready" in the Stdout writer while the process waits for input`, func() bool { return out.contains("ready\n") })
	if code, done := p.ExitCode(); done {
		t.Fatalf("ExitCode() = %d, true while the process waits for input", code)
	}
	if err := p.SendStdin(ctx, []byte("hi\n")); err != nil {
		t.Fatalf("SendStdin: %v", err)
	}
	res := wait(t, ctx, p)
	out.close()
	equal(t, "ExitCode", res.ExitCode, 0)
	equal(t, "Success()", res.Success(), true)
	equal(t, "result Stdout", res.Stdout, "ready\ngot hi\n")
	equal(t, "Stdout()", p.Stdout(), "ready\ngot hi\n")
	equal(t, "output written to Stdout", out.String(), "ready\ngot hi\n")
	code, done := p.ExitCode()
	equal(t, "ExitCode() after Wait", code, 0)
	equal(t, "ExitCode() reports an end after Wait", done, true)

	t.Run("CloseStdin", func(t *testing.T) {
		out := &recorder{}
		p := spawn(t, ctx, pm, "cat", &workspace.SpawnOptions{Stdout: out})
		if err := p.SendStdin(ctx, []byte("abc\n")); err != nil {
			t.Fatalf("SendStdin: %v", err)
		}
		waitFor(t, ctx, "cat to echo its input", func() bool { return out.contains("abc\n") })
		err := p.CloseStdin(ctx)
		if errors.Is(err, workspace.ErrUnsupported) {
			t.Skipf("CloseStdin: %v", err)
		}
		if err != nil {
			t.Fatalf("CloseStdin: %v (want nil, or an error matching workspace.ErrUnsupported)", err)
		}
		res := wait(t, ctx, p)
		out.close()
		equal(t, "cat's ExitCode after CloseStdin", res.ExitCode, 0)
		equal(t, "cat's Stdout", res.Stdout, "abc\n")
		out.check(t, "Stdout writer")
	})
	out.check(t, "Stdout writer")
}

// testProcessOutput checks a process's environment, directory, streams,
// exit code and retention.
func testProcessOutput(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, pm := h.processes(t)
	out, errOut := &recorder{}, &recorder{}
	p := spawn(t, ctx, pm, `echo "$SANDBOXTEST_X"; pwd; echo oops >&2; exit 5`, &workspace.SpawnOptions{
		Env:    map[string]string{"SANDBOXTEST_X": "v a'l"},
		Cwd:    "/tmp",
		Stdout: out,
		Stderr: errOut,
	})
	res := wait(t, ctx, p)
	out.close()
	errOut.close()
	equal(t, "ExitCode", res.ExitCode, 5)
	equal(t, "Success()", res.Success(), false)
	equal(t, "Stdout", res.Stdout, "v a'l\n/tmp\n")
	equal(t, "Stderr", res.Stderr, "oops\n")
	equal(t, "Stderr()", p.Stderr(), "oops\n")
	equal(t, "output written to Stdout", out.String(), "v a'l\n/tmp\n")
	equal(t, "output written to Stderr", errOut.String(), "oops\n")

	p = spawn(t, ctx, pm, "printf 0123456789", &workspace.SpawnOptions{MaxRetainedBytes: 4})
	res = wait(t, ctx, p)
	equal(t, "Stdout with MaxRetainedBytes 4", res.Stdout, "6789")
	equal(t, "Stdout() with MaxRetainedBytes 4", p.Stdout(), "6789")
	equal(t, "StdoutDroppedBytes", res.StdoutDroppedBytes, int64(6))
	equal(t, "StdoutTruncated", res.StdoutTruncated, true)
	out.check(t, "Stdout writer")
	errOut.check(t, "Stderr writer")
}

// testProcessListGet checks that List and Get track a process while it
// runs and after it ended.
func testProcessListGet(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, pm := h.processes(t)
	const command = "read line"
	p := spawn(t, ctx, pm, command, nil)
	pid := p.PID()

	find := func() (workspace.ProcessInfo, bool) {
		t.Helper()
		list, err := pm.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, pi := range list {
			if pi.PID == pid {
				return pi, true
			}
		}
		return workspace.ProcessInfo{}, false
	}
	pi, ok := find()
	if !ok {
		t.Fatalf("List does not report the running process %q", pid)
	}
	equal(t, "List: Running", pi.Running, true)
	equal(t, "List: Command", pi.Command, command)
	if pi.ExitCode != nil {
		t.Errorf("List: ExitCode = %d for a running process, want nil", *pi.ExitCode)
	}

	got, err := pm.Get(ctx, pid)
	if err != nil {
		t.Fatalf("Get(%q): %v", pid, err)
	}
	equal(t, "Get(pid).PID()", got.PID(), pid)
	if _, err := pm.Get(ctx, "sandboxtest-no-such-process"); !errors.Is(err, workspace.ErrProcessNotFound) {
		t.Errorf("Get of an unknown pid: error %v, want one matching workspace.ErrProcessNotFound", err)
	}

	// The handle from Get works: answer the process through it.
	if err := got.SendStdin(ctx, []byte("x\n")); err != nil {
		t.Fatalf("SendStdin through Get's handle: %v", err)
	}
	res := wait(t, ctx, p)
	equal(t, "ExitCode", res.ExitCode, 0)

	waitFor(t, ctx, "List to report the process as ended", func() bool {
		pi, ok := find()
		return !ok || !pi.Running
	})
	pi, ok = find()
	if !ok {
		t.Fatalf("List no longer reports the ended process %q; want it with Running false", pid)
	}
	if pi.ExitCode == nil {
		t.Error("List: ExitCode of an ended process is nil")
	} else {
		equal(t, "List: ExitCode", *pi.ExitCode, 0)
	}
}

// testProcessKill checks Kill, through the Process and the manager, and
// that Wait honours its context and may be called concurrently.
func testProcessKill(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, pm := h.processes(t)
	p := spawn(t, ctx, pm, slowCommand, nil)

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	res, err := p.Wait(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a context that ends first: result %+v, error %v; want an error matching context.DeadlineExceeded", res, err)
	}
	if code, done := p.ExitCode(); done {
		t.Fatalf("ExitCode() = %d, true: the process ended when a Wait's context did", code)
	}

	const waiters = 3
	var wg sync.WaitGroup
	results := make([]*workspace.CommandResult, waiters)
	errs := make([]error, waiters)
	for i := range waiters {
		wg.Go(func() { results[i], errs[i] = p.Wait(ctx) })
	}
	start := time.Now()
	if err := p.Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	wg.Wait()
	fast(t, "Kill of "+slowCommand+" and Wait", time.Since(start))
	for i := range waiters {
		if errs[i] != nil {
			t.Errorf("Wait %d after Kill: %v", i, errs[i])
			continue
		}
		checkKilled(t, "Wait after Kill", results[i])
	}
	if code, done := p.ExitCode(); !done || code != 137 {
		t.Errorf("ExitCode() after Kill = %d, %v; want 137, true", code, done)
	}
	if err := p.Kill(ctx); err != nil {
		t.Errorf("second Kill: %v (Kill must be idempotent)", err)
	}

	p = spawn(t, ctx, pm, slowCommand, nil)
	if err := pm.Kill(ctx, p.PID()); err != nil {
		t.Fatalf("ProcessManager.Kill: %v", err)
	}
	checkKilled(t, "Wait after ProcessManager.Kill", wait(t, ctx, p))

	p = spawn(t, ctx, pm, "exit 7", nil)
	equal(t, "ExitCode of exit 7", wait(t, ctx, p).ExitCode, 7)
	if err := p.Kill(ctx); err != nil {
		t.Errorf("Kill of an exited process: %v", err)
	}
	res = wait(t, ctx, p)
	equal(t, "ExitCode after Kill of an exited process", res.ExitCode, 7)
	equal(t, "Killed after Kill of an exited process", res.Killed, false)
}

func checkKilled(t *testing.T, what string, res *workspace.CommandResult) {
	t.Helper()
	equal(t, what+": ExitCode", res.ExitCode, 137)
	equal(t, what+": Killed", res.Killed, true)
	equal(t, what+": TimedOut", res.TimedOut, false)
}

// testProcessTimeout checks SpawnOptions.Timeout.
func testProcessTimeout(t *testing.T, h *harness) {
	if h.cfg.SkipTimeout {
		t.Skip("Config.SkipTimeout")
	}
	ctx := h.context(t)
	_, pm := h.processes(t)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	p := spawn(t, ctx, pm, slowCommand, &workspace.SpawnOptions{Timeout: timeout})
	res := wait(t, ctx, p)
	took := time.Since(start)
	equal(t, "ExitCode", res.ExitCode, 124)
	equal(t, "TimedOut", res.TimedOut, true)
	equal(t, "Killed", res.Killed, true)
	if took < timeout {
		t.Errorf("the process ended after %v, before its %v timeout", took, timeout)
	}
	fast(t, "a timed-out "+slowCommand, took)
}

// testProcessStop checks that stopping the sandbox ends its processes.
func testProcessStop(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pm := h.processes(t)
	p := spawn(t, ctx, pm, slowCommand, nil)
	start := time.Now()
	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, promptly)
	defer cancel()
	res, err := p.Wait(wctx)
	fast(t, "Stop and Wait for a running process", time.Since(start))
	switch {
	case wctx.Err() != nil:
		t.Fatalf("Wait after Stop: the process still runs (error %v)", err)
	case err == nil && res.Success():
		t.Errorf("Wait after Stop: result %+v reports success, want the process killed", res)
	}
	if _, done := p.ExitCode(); !done {
		t.Error("ExitCode() after Stop does not report the process as ended")
	}
}

// testProcessErrors checks the errors of Spawn and Get, and that a failed
// call returns a nil Process (not a nil pointer in a non-nil interface,
// which p != nil would take for a process).
func testProcessErrors(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pm := h.processes(t)
	noProcess := func(what string, p workspace.Process, err error) {
		t.Helper()
		if err != nil && p != nil {
			t.Errorf("%s returned the error %q with a non-nil Process %#v; want a nil Process", what, err, p)
		}
	}

	p, err := pm.Spawn(ctx, "echo ran", &workspace.SpawnOptions{Env: map[string]string{"BAD-NAME": "x"}})
	if err == nil {
		t.Errorf("Spawn with an invalid Env name: nil error, want an error")
	}
	noProcess("Spawn with an invalid Env name", p, err)

	p, err = pm.Get(ctx, "sandboxtest-no-such-process")
	if !errors.Is(err, workspace.ErrProcessNotFound) {
		t.Errorf("Get of an unknown pid: error %v, want one matching workspace.ErrProcessNotFound", err)
	}
	noProcess("Get of an unknown pid", p, err)

	if err := sb.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	p, err = pm.Spawn(ctx, "echo ran", nil)
	errNotReady(t, "Spawn after Destroy", err)
	noProcess("Spawn after Destroy", p, err)
}
