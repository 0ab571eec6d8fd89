package sandboxtest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/agentworkspace/daytona/workspace"
)

var lifecycleTests = []testCase{
	{"StatusTransitions", testStatusTransitions},
	{"LazyStart", testLazyStart},
	{"ConcurrentFirstUse", testConcurrentFirstUse},
	{"StopKeepsFiles", testStopKeepsFiles},
	{"AfterDestroy", testAfterDestroy},
}

// testStatusTransitions walks a sandbox through its life: pending, Start
// (twice), Stop (twice), Start, Stop, a lazy restart by ExecuteCommand,
// Destroy (twice).
func testStatusTransitions(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.sandbox(t)
	wantStatus(t, sb, workspace.StatusPending, "of a new sandbox")

	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	wantStatus(t, sb, workspace.StatusRunning, "after Start")
	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start of a running sandbox: %v (Start must be idempotent)", err)
	}
	wantStatus(t, sb, workspace.StatusRunning, "after a second Start")
	equal(t, "stdout of echo", execOK(t, ctx, sb, "echo one"), "one\n")

	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	wantStatus(t, sb, workspace.StatusStopped, "after Stop")
	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("Stop of a stopped sandbox: %v (Stop must be idempotent)", err)
	}
	wantStatus(t, sb, workspace.StatusStopped, "after a second Stop")

	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	wantStatus(t, sb, workspace.StatusRunning, "after Start after Stop")
	equal(t, "stdout of echo after a restart", execOK(t, ctx, sb, "echo two"), "two\n")

	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	equal(t, "stdout of echo on a stopped sandbox (lazy restart)", execOK(t, ctx, sb, "echo three"), "three\n")
	wantStatus(t, sb, workspace.StatusRunning, "after ExecuteCommand on a stopped sandbox")

	if err := sb.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	wantStatus(t, sb, workspace.StatusDestroyed, "after Destroy")
	if err := sb.Destroy(ctx); err != nil {
		t.Errorf("Destroy of a destroyed sandbox: %v (Destroy must be idempotent)", err)
	}
	wantStatus(t, sb, workspace.StatusDestroyed, "after a second Destroy")
}

// testLazyStart runs a command on a pending sandbox, which starts it.
func testLazyStart(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.sandbox(t)
	wantStatus(t, sb, workspace.StatusPending, "of a new sandbox")
	res := exec(t, ctx, sb, "echo", []string{"Hello, world!"}, nil)
	equal(t, "Stdout", res.Stdout, "Hello, world!\n")
	equal(t, "ExitCode", res.ExitCode, 0)
	equal(t, "Success()", res.Success(), true)
	wantStatus(t, sb, workspace.StatusRunning, "after ExecuteCommand on a pending sandbox")
}

// testConcurrentFirstUse runs commands from many goroutines at once on a
// pending sandbox: they share one start and each gets its own output.
func testConcurrentFirstUse(t *testing.T, h *harness) {
	const n = 8
	ctx := h.context(t)
	sb := h.sandbox(t)
	var wg sync.WaitGroup
	results := make([]*workspace.CommandResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = sb.ExecuteCommand(ctx, "echo", []string{fmt.Sprint("call ", i)}, nil)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
			continue
		}
		equal(t, fmt.Sprintf("call %d: Stdout", i), results[i].Stdout, fmt.Sprintf("call %d\n", i))
		equal(t, fmt.Sprintf("call %d: ExitCode", i), results[i].ExitCode, 0)
	}
	wantStatus(t, sb, workspace.StatusRunning, "after concurrent first calls")
}

// testStopKeepsFiles checks that Stop keeps the sandbox's files for the
// next start.
func testStopKeepsFiles(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	execOK(t, ctx, sb, "echo kept > sandboxtest-kept.txt")
	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	res := exec(t, ctx, sb, "cat sandboxtest-kept.txt", nil, nil)
	if res.ExitCode != 0 || res.Stdout != "kept\n" {
		t.Errorf("a file written before Stop, read after Start: exit code %d, stdout %q, stderr %q; want exit code 0 and %q",
			res.ExitCode, res.Stdout, res.Stderr, "kept\n")
	}
}

// testAfterDestroy checks that a destroyed sandbox, whether it had started
// or not, refuses work with ErrNotReady and stays destroyed.
func testAfterDestroy(t *testing.T, h *harness) {
	ctx := h.context(t)
	for _, tc := range []struct {
		name  string
		start bool
	}{{"started", true}, {"never started", false}} {
		t.Run(tc.name, func(t *testing.T) {
			sb := h.sandbox(t)
			if tc.start {
				if err := sb.Start(ctx); err != nil {
					t.Fatalf("Start: %v", err)
				}
			}
			if err := sb.Destroy(ctx); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			wantStatus(t, sb, workspace.StatusDestroyed, "after Destroy")

			res, err := sb.ExecuteCommand(ctx, "echo", []string{"zombie"}, nil)
			errNotReady(t, "ExecuteCommand after Destroy", err)
			if res != nil && res.Stdout != "" {
				t.Errorf("ExecuteCommand after Destroy ran the command: stdout %q", res.Stdout)
			}
			errNotReady(t, "Start after Destroy", sb.Start(ctx))
			// Stop may succeed (nothing to stop) or refuse; it must not
			// bring the sandbox back.
			if err := sb.Stop(ctx); err != nil {
				errNotReady(t, "Stop after Destroy", err)
			}
			if err := sb.Destroy(ctx); err != nil {
				t.Errorf("second Destroy: %v (Destroy must be idempotent)", err)
			}
			if info, err := sb.GetInfo(ctx); err == nil {
				equal(t, "GetInfo().Status after Destroy", info.Status, workspace.StatusDestroyed)
			} else {
				errNotReady(t, "GetInfo after Destroy", err)
			}
			wantStatus(t, sb, workspace.StatusDestroyed, "at the end")
		})
	}
}
