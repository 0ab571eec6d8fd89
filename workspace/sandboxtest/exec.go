package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

var execTests = []testCase{
	{"ExitCodes", testExitCodes},
	{"Output", testOutput},
	{"Quoting", testQuoting},
	{"Env", testEnv},
	{"InvalidEnv", testInvalidEnv},
	{"Cwd", testCwd},
	{"SyntaxError", testSyntaxError},
	{"StdinEOF", testStdinEOF},
	{"Timeout", testTimeout},
	{"Cancel", testCancel},
	{"Streaming", testStreaming},
	{"StreamOrder", testStreamOrder},
	{"WriterError", testWriterError},
	{"Retention", testRetention},
}

// modes are the two ways of calling ExecuteCommand that a provider may
// implement differently: without writers (output only in the result) and
// with them (output streamed).
var modes = []struct {
	name   string
	stream bool
}{{"without writers", false}, {"with writers", true}}

// withWriters sets recorders as opts' writers when stream is set.
func withWriters(stream bool, opts workspace.ExecOptions) (*workspace.ExecOptions, *recorder, *recorder) {
	if !stream {
		return &opts, nil, nil
	}
	out, errOut := &recorder{}, &recorder{}
	opts.Stdout, opts.Stderr = out, errOut
	return &opts, out, errOut
}

// testExitCodes checks that exit codes are results, not errors.
func testExitCodes(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	for _, tc := range []struct {
		command string
		code    int
	}{{"true", 0}, {"false", 1}, {"exit 3", 3}, {"exit 255", 255}, {"sh -c 'exit 42'", 42}} {
		res := exec(t, ctx, sb, tc.command, nil, nil)
		equal(t, fmt.Sprintf("ExecuteCommand(%q).ExitCode", tc.command), res.ExitCode, tc.code)
		equal(t, fmt.Sprintf("ExecuteCommand(%q).Success()", tc.command), res.Success(), tc.code == 0)
		if res.TimedOut || res.Killed {
			t.Errorf("ExecuteCommand(%q): TimedOut %v, Killed %v; want false", tc.command, res.TimedOut, res.Killed)
		}
	}
	// An exit in the command ends the command, not the sandbox.
	equal(t, "stdout after exit 3", execOK(t, ctx, sb, "echo alive"), "alive\n")
}

// testOutput checks that stdout and stderr are exact and separate, and
// that the result echoes the command.
func testOutput(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	// The args go to f, whose status is the command's.
	const command = `printf 'a\nb'; printf 'e1\ne2' >&2; f() { printf '\n\n %s ' "$@"; return 5; }; f`
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, out, errOut := withWriters(m.stream, workspace.ExecOptions{})
			res := exec(t, ctx, sb, command, []string{"x y"}, opts)
			equal(t, "ExitCode", res.ExitCode, 5)
			equal(t, "Stdout (exact, no newline added or trimmed)", res.Stdout, "a\nb\n\n x y ")
			equal(t, "Stderr", res.Stderr, "e1\ne2")
			equal(t, "Command", res.Command, command)
			equal(t, "Args", fmt.Sprintf("%q", res.Args), fmt.Sprintf("%q", []string{"x y"}))
			if res.Duration <= 0 {
				t.Errorf("Duration = %v, want positive", res.Duration)
			}
			if m.stream {
				equal(t, "output written to Stdout", out.String(), res.Stdout)
				equal(t, "output written to Stderr", errOut.String(), res.Stderr)
			}
		})
	}
}

// testQuoting checks that args reach the command verbatim, whatever
// characters they hold.
func testQuoting(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	args := []string{"plain", "with space", "q'uote", `d"quote`, "", "$HOME", "${X:-y}", "`id`", "$(echo x)",
		`back\slash`, "semi;colon", "a&b|c", "<in>", "*", "~", "#hash", "-n", "new\nline", "tab\there", "é ü 日本", "%s %d"}
	var want strings.Builder
	for _, a := range args {
		want.WriteString("[" + a + "]\n")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withWriters(m.stream, workspace.ExecOptions{})
			res := exec(t, ctx, sb, `printf '[%s]\n'`, args, opts)
			equal(t, "ExitCode", res.ExitCode, 0)
			equal(t, "printf of the args", res.Stdout, want.String())
		})
	}
}

// testEnv checks that per-call Env reaches the command, verbatim, and
// that call only.
func testEnv(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	env := map[string]string{
		"SANDBOXTEST_A":  "hello world",
		"SANDBOXTEST_B":  `it's "$HOME" and $(id)`,
		"_sandboxtest_c": "",
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withWriters(m.stream, workspace.ExecOptions{Env: env})
			res := exec(t, ctx, sb, `printf '[%s]\n' "$SANDBOXTEST_A" "$SANDBOXTEST_B" "${_sandboxtest_c-unset}"`, nil, opts)
			equal(t, "ExitCode", res.ExitCode, 0)
			equal(t, "the variables as the command sees them", res.Stdout,
				"[hello world]\n[it's \"$HOME\" and $(id)]\n[]\n")
		})
	}
	equal(t, "a variable of an earlier call", execOK(t, ctx, sb, `echo "${SANDBOXTEST_A-unset}"`), "unset\n")
}

// testInvalidEnv checks that an invalid variable name is an error, and
// that the command does not run.
func testInvalidEnv(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	marker := uniqueName("sandboxtest-invalid-env")
	for _, name := range []string{"BAD-NAME", "1ABC", "", "A B", "A=B", "A;touch x", "É"} {
		res, err := sb.ExecuteCommand(ctx, "touch", []string{marker}, &workspace.ExecOptions{
			Env: map[string]string{name: "x"},
		})
		if err == nil {
			t.Errorf("ExecuteCommand with Env name %q: nil error (result %+v), want an error", name, res)
		}
	}
	res := exec(t, ctx, sb, `if [ -e "$MARKER" ]; then echo ran; else echo "did not run"; fi`, nil, &workspace.ExecOptions{
		Env: map[string]string{"MARKER": marker},
	})
	equal(t, "whether a command with an invalid Env name ran", res.Stdout, "did not run\n")
}

// testCwd checks that Cwd sets the working directory of one call, and
// that a directory that does not exist fails the command.
func testCwd(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	home := strings.TrimSuffix(execOK(t, ctx, sb, "pwd"), "\n")
	if !strings.HasPrefix(home, "/") {
		t.Fatalf("pwd printed %q, want an absolute path", home)
	}
	odd := strings.TrimSuffix(home, "/") + "/sandboxtest dir's"
	execOK(t, ctx, sb, "mkdir -p", odd)
	execOK(t, ctx, sb, "mkdir -p -- -P") // a relative name that looks like an option
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, dir := range []string{"/tmp", odd, "-P"} {
				opts, _, _ := withWriters(m.stream, workspace.ExecOptions{Cwd: dir})
				res := exec(t, ctx, sb, "pwd", nil, opts)
				want := dir
				if !strings.HasPrefix(dir, "/") {
					want = strings.TrimSuffix(home, "/") + "/" + dir
				}
				equal(t, fmt.Sprintf("pwd with Cwd %q", dir), res.Stdout, want+"\n")
			}
		})
	}
	equal(t, "pwd without Cwd, after calls with Cwd", execOK(t, ctx, sb, "pwd"), home+"\n")
	res, err := sb.ExecuteCommand(ctx, "echo ran", nil, &workspace.ExecOptions{Cwd: "/sandboxtest/does/not/exist"})
	switch {
	case err != nil:
		// Refusing the call is fine.
	case res.ExitCode == 0 || strings.Contains(res.Stdout, "ran"):
		t.Errorf("with a Cwd that does not exist: exit code %d, stdout %q; want an error or a failed command that did not run",
			res.ExitCode, res.Stdout)
	}
}

// testSyntaxError checks that a malformed command is a result with the
// shell's exit code (2), on both paths, not an error.
func testSyntaxError(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, cmd := range []string{"echo 'unterminated", "if true; then", "fi"} {
				opts, _, _ := withWriters(m.stream, workspace.ExecOptions{})
				res := exec(t, ctx, sb, cmd, nil, opts)
				equal(t, fmt.Sprintf("ExitCode of %q", cmd), res.ExitCode, 2)
				if res.Stderr == "" {
					t.Errorf("%q: Stderr is empty; want the shell's message", cmd)
				}
			}
		})
	}
	equal(t, "stdout after syntax errors", execOK(t, ctx, sb, "echo ok"), "ok\n")
}

// testStdinEOF checks that a command reading stdin sees end of file at
// once instead of waiting.
func testStdinEOF(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, _, _ := withWriters(m.stream, workspace.ExecOptions{Timeout: promptly})
			start := time.Now()
			res := exec(t, ctx, sb, `cat; read line; echo "read: $?"`, nil, opts)
			took := time.Since(start)
			equal(t, "TimedOut", res.TimedOut, false)
			equal(t, "output of cat and read", res.Stdout, "read: 1\n")
			fast(t, "cat with stdin at end of file", took)
		})
	}
}

// testTimeout checks that the timeout kills a command, which then is a
// result with exit code 124, not an error.
func testTimeout(t *testing.T, h *harness) {
	if h.cfg.SkipTimeout {
		t.Skip("Config.SkipTimeout")
	}
	ctx := h.context(t)
	sb := h.started(t, ctx)
	const timeout = 500 * time.Millisecond
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts, out, _ := withWriters(m.stream, workspace.ExecOptions{Timeout: timeout})
			start := time.Now()
			res, err := sb.ExecuteCommand(ctx, "echo before; "+slowCommand+"; echo after", nil, opts)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("ExecuteCommand with a %v timeout: %v, want a result and a nil error", timeout, err)
			}
			equal(t, "ExitCode", res.ExitCode, 124)
			equal(t, "TimedOut", res.TimedOut, true)
			equal(t, "Killed", res.Killed, true)
			equal(t, "Success()", res.Success(), false)
			if !strings.HasPrefix(res.Stdout, "before\n") || strings.Contains(res.Stdout, "after") {
				t.Errorf("Stdout = %q, want the output printed before the timeout, %q", res.Stdout, "before\n")
			}
			if m.stream {
				equal(t, "output written to Stdout", out.String(), "before\n")
			}
			if took < timeout {
				t.Errorf("returned after %v, before the %v timeout", took, timeout)
			}
			fast(t, "a timed-out "+slowCommand, took)
		})
	}
	// The sandbox survives, and NoTimeout is accepted.
	res := exec(t, ctx, sb, "echo ok", nil, &workspace.ExecOptions{Timeout: workspace.NoTimeout})
	equal(t, "stdout with NoTimeout after timeouts", res.Stdout, "ok\n")
}

// testCancel checks that cancelling the context kills the command and
// returns the partial result with the context's error.
func testCancel(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)

	t.Run("while streaming", func(t *testing.T) {
		out := &recorder{}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			// Cancel once the command has visibly started (or ctx ended).
			poll(cctx, func() bool { return out.contains("started\n") })
			cancel()
		}()
		start := time.Now()
		res, err := sb.ExecuteCommand(cctx, "echo started; "+slowCommand+"; echo after", nil, &workspace.ExecOptions{Stdout: out})
		took := time.Since(start)
		out.close()
		checkCancelled(t, res, err, took)
		if res != nil && res.Stdout != "started\n" {
			t.Errorf("partial Stdout = %q, want %q", res.Stdout, "started\n")
		}
	})

	t.Run("without writers", func(t *testing.T) {
		// Nothing shows when the command starts; cancel after a while.
		// Whether or not it had started then, the outcome must be a
		// prompt context.Canceled.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		timer := time.AfterFunc(time.Second, cancel)
		defer timer.Stop()
		start := time.Now()
		res, err := sb.ExecuteCommand(cctx, slowCommand, nil, nil)
		checkCancelled(t, res, err, time.Since(start))
	})

	t.Run("already cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		marker := uniqueName("/tmp/sandboxtest-cancelled")
		res, err := sb.ExecuteCommand(cctx, "touch", []string{marker}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ExecuteCommand with a cancelled context: error %v (result %+v), want one matching context.Canceled", err, res)
		}
		if res == nil {
			t.Errorf("ExecuteCommand with a cancelled context returned no result; want one with ExitCode -1")
		} else {
			equal(t, "ExitCode of a call cancelled before it ran", res.ExitCode, -1)
			equal(t, "Killed", res.Killed, false)
		}
		check := exec(t, ctx, sb, `if [ -e "$MARKER" ]; then echo ran; rm -f "$MARKER"; else echo "did not run"; fi`, nil,
			&workspace.ExecOptions{Env: map[string]string{"MARKER": marker}})
		equal(t, "whether a command given a cancelled context ran", check.Stdout, "did not run\n")
	})

	// The sandbox survives.
	equal(t, "stdout after cancellations", execOK(t, ctx, sb, "echo ok"), "ok\n")
}

// checkCancelled checks the outcome of a cancelled ExecuteCommand.
func checkCancelled(t *testing.T, res *workspace.CommandResult, err error, took time.Duration) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ExecuteCommand: error %v, want one matching context.Canceled", err)
	}
	switch {
	case res == nil:
		t.Errorf("cancelled ExecuteCommand returned no result; want the partial result")
	case res.ExitCode == -1:
		// Cancelled before the command was submitted: nothing ran.
		equal(t, "Killed", res.Killed, false)
	default:
		// The command had started: it was killed.
		equal(t, "ExitCode of the partial result", res.ExitCode, 137)
		equal(t, "Killed", res.Killed, true)
		equal(t, "TimedOut", res.TimedOut, false)
	}
	fast(t, "a cancelled "+slowCommand, took)
}

// testStreaming checks that output reaches the writer while the command
// still runs, not only when it ends.
func testStreaming(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	flag := uniqueName("/tmp/sandboxtest-go-on")
	// The command prints a line, then waits (at most 30 s) for the test
	// to create the flag file, then prints another.
	const command = `echo first; i=0; while [ ! -e "$FLAG" ] && [ $i -lt 600 ]; do sleep 0.05 2>/dev/null || sleep 1; i=$((i+1)); done; rm -f "$FLAG"; echo second`
	out := &recorder{}
	type outcome struct {
		res *workspace.CommandResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := sb.ExecuteCommand(ctx, command, nil, &workspace.ExecOptions{
			Env:    map[string]string{"FLAG": flag},
			Stdout: out,
		})
		done <- outcome{res, err}
	}()
	waitFor(t, ctx, "the first line in the Stdout writer while the command runs", func() bool {
		select {
		case o := <-done:
			done <- o
			return true
		default:
			return out.contains("first\n")
		}
	})
	select {
	case o := <-done:
		t.Fatalf("the first line reached the writer only when the command had ended (result %+v, error %v)", o.res, o.err)
	default:
	}
	execOK(t, ctx, sb, "touch", flag)
	o := <-done
	out.close()
	if o.err != nil {
		t.Fatalf("ExecuteCommand: %v", o.err)
	}
	equal(t, "Stdout", o.res.Stdout, "first\nsecond\n")
	equal(t, "output written to Stdout", out.String(), "first\nsecond\n")
	out.check(t, "Stdout writer")
}

// testStreamOrder checks that each stream's writer receives that stream's
// output in order and in full, that one writer shared by both streams is
// never written concurrently, and that nothing is written after
// ExecuteCommand returned.
func testStreamOrder(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	const lines = 200
	const command = `i=1; while [ $i -le 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done`
	var wantOut, wantErr strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&wantOut, "out %d\n", i)
		fmt.Fprintf(&wantErr, "err %d\n", i)
	}

	t.Run("separate writers", func(t *testing.T) {
		out, errOut := &recorder{}, &recorder{}
		res := exec(t, ctx, sb, command, nil, &workspace.ExecOptions{Stdout: out, Stderr: errOut})
		out.close()
		errOut.close()
		equal(t, "output written to Stdout", out.String(), wantOut.String())
		equal(t, "output written to Stderr", errOut.String(), wantErr.String())
		equal(t, "Stdout", res.Stdout, wantOut.String())
		equal(t, "Stderr", res.Stderr, wantErr.String())
		execOK(t, ctx, sb, "true") // give late writes a chance to show
		out.check(t, "Stdout writer")
		errOut.check(t, "Stderr writer")
	})

	t.Run("one writer for both", func(t *testing.T) {
		both := &recorder{}
		res := exec(t, ctx, sb, command, nil, &workspace.ExecOptions{Stdout: both, Stderr: both})
		both.close()
		var gotOut, gotErr strings.Builder
		for line := range strings.Lines(both.String()) {
			switch {
			case strings.HasPrefix(line, "out "):
				gotOut.WriteString(line)
			case strings.HasPrefix(line, "err "):
				gotErr.WriteString(line)
			default:
				t.Errorf("the shared writer received %q, which is neither stream's line (were writes split mid-line and interleaved?)", line)
			}
		}
		equal(t, "stdout lines in the shared writer", gotOut.String(), wantOut.String())
		equal(t, "stderr lines in the shared writer", gotErr.String(), wantErr.String())
		// Both streams were merged where the command ran: the result has
		// what the writer received, in Stdout.
		equal(t, "Stdout", res.Stdout, both.String())
		equal(t, "Stderr", res.Stderr, "")
		execOK(t, ctx, sb, "true")
		both.check(t, "writer shared by Stdout and Stderr")
	})
}

// testWriterError checks that a failing writer stops the command and that
// its error is returned.
func testWriterError(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	errBoom := errors.New("sandboxtest: writer failed")
	out := &recorder{failWith: errBoom}
	start := time.Now()
	res, err := sb.ExecuteCommand(ctx, "echo first; "+slowCommand+"; echo after", nil, &workspace.ExecOptions{Stdout: out})
	took := time.Since(start)
	if !errors.Is(err, errBoom) {
		t.Errorf("ExecuteCommand with a failing Stdout writer: error %v, want one matching the writer's error", err)
	}
	if res != nil && res.Success() {
		t.Errorf("result %+v reports success", res)
	}
	fast(t, "a "+slowCommand+" whose writer failed", took)
	equal(t, "stdout after a writer failure", execOK(t, ctx, sb, "echo ok"), "ok\n")
}

// testRetention checks MaxRetainedBytes: the result keeps the tail of each
// stream and counts the rest, while writers get everything.
func testRetention(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb := h.started(t, ctx)
	const command = `printf 0123456789abcdefghij; printf ABCDEFGHIJklmnopqrst >&2`
	for _, tc := range []struct {
		name             string
		max              int
		wantOut, wantErr string
		dropped          int64
	}{
		{"10 bytes", 10, "abcdefghij", "klmnopqrst", 10},
		{"RetainNone", workspace.RetainNone, "", "", 20},
		{"Unlimited", workspace.Unlimited, "0123456789abcdefghij", "ABCDEFGHIJklmnopqrst", 0},
		{"default", 0, "0123456789abcdefghij", "ABCDEFGHIJklmnopqrst", 0},
		{"exactly the output", 20, "0123456789abcdefghij", "ABCDEFGHIJklmnopqrst", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Without writers first, then with them.
			for _, m := range modes {
				opts, out, errOut := withWriters(m.stream, workspace.ExecOptions{MaxRetainedBytes: tc.max})
				res := exec(t, ctx, sb, command, nil, opts)
				what := func(s string) string { return m.name + ": " + s }
				equal(t, what("Stdout"), res.Stdout, tc.wantOut)
				equal(t, what("Stderr"), res.Stderr, tc.wantErr)
				equal(t, what("StdoutDroppedBytes"), res.StdoutDroppedBytes, tc.dropped)
				equal(t, what("StderrDroppedBytes"), res.StderrDroppedBytes, tc.dropped)
				equal(t, what("StdoutTruncated"), res.StdoutTruncated, tc.dropped > 0)
				equal(t, what("StderrTruncated"), res.StderrTruncated, tc.dropped > 0)
				if m.stream {
					equal(t, what("output written to Stdout"), out.String(), "0123456789abcdefghij")
					equal(t, what("output written to Stderr"), errOut.String(), "ABCDEFGHIJklmnopqrst")
				}
			}
		})
	}
}
