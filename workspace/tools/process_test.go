package tools_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

func TestBackgroundProcess(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)

	// A process that prints, then waits for a file the test creates.
	res := call(t, kit, "execute_command", `{"command":"printf '\\033[32mready\\033[0m\\n'; while [ ! -e stop ]; do sleep 0.05; done; echo bye >&2; exit 7","background":true}`)
	want(t, res, false, "Started in the background with pid ", "get_process_output", "kill_process")
	started := decode[tools.CommandOutput](t, res)
	if !started.Background || started.PID == "" || started.ExitCode != nil || !started.Success {
		t.Fatalf("structured: %+v", started)
	}
	pid := started.PID

	// Wait for its first line: get_process_output with wait returns when
	// the process exits or the wait ends, so poll without sleeping.
	for {
		out := decode[tools.ProcessOutput](t, call(t, kit, "get_process_output", `{"pid":"`+pid+`","wait":0.05}`))
		if !out.Running {
			t.Fatalf("ended early: %+v", out)
		}
		if out.Stdout == "ready\n" {
			break
		}
	}
	want(t, call(t, kit, "get_process_output", `{"pid":"`+pid+`"}`), false, "ready\n", "still running")

	want(t, call(t, kit, "write_file", `{"path":"stop","content":""}`), false)
	res = call(t, kit, "get_process_output", `{"pid":"`+pid+`","wait":60}`)
	want(t, res, false, "ready\nstderr:\nbye\n", "exited with code 7")
	out := decode[tools.ProcessOutput](t, res)
	if out.Running || out.ExitCode == nil || *out.ExitCode != 7 || out.StdoutBytes != 6 || out.StderrBytes != 4 || out.PID != pid {
		t.Errorf("structured: %+v", out)
	}
	// Killing an ended process does nothing.
	want(t, call(t, kit, "kill_process", `{"pid":"`+pid+`"}`), false, "exited with code 7")
}

func TestKillProcessAndWaitProgress(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, nil)
	pid := decode[tools.CommandOutput](t, call(t, kit, "execute_command",
		`{"command":"i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done","background":true}`)).PID

	// While get_process_output waits, the process's output is progress.
	got := make(chan tools.Progress, 1000)
	ctx := tools.WithProgress(t.Context(), func(p tools.Progress) { got <- p })
	res, err := kit.Call(ctx, "get_process_output", json.RawMessage(`{"pid":"`+pid+`","wait":0.5,"tail":2}`))
	if err != nil {
		t.Fatal(err)
	}
	want(t, res, false, "[… ", " omitted …]\ntick ", "still running")
	if len(got) == 0 {
		t.Error("no progress while waiting")
	}

	res = call(t, kit, "kill_process", `{"pid":"`+pid+`"}`)
	want(t, res, false, "Killed process "+pid, "tick 1\n", "exited with code 137")
	if n := len(got); n > 0 {
		p := <-got
		if !strings.HasPrefix(p.Text, "tick ") || p.Stream != "stdout" {
			t.Errorf("progress %+v", p)
		}
	}
}

func TestProcessErrors(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, nil)
	for _, tc := range []struct{ tool, input, want string }{
		{"get_process_output", `{"pid":"nope"}`, `no background process with pid "nope"`},
		{"kill_process", `{"pid":"nope"}`, `no background process with pid "nope"`},
		{"get_process_output", `{}`, `field "pid" is required`},
		{"get_process_output", `{"pid":"x","wait":-1}`, `field "wait" must be a number of seconds from 0 to 300`},
		{"get_process_output", `{"pid":"x","tail":-3}`, `field "tail" must be 0 or more lines`},
		{"get_process_output", `{"pid":"x","tail":1.5}`, `field "tail" must be an integer, not number`},
		{"kill_process", `{"pid":42}`, `field "pid" must be a string, not number`},
		{"execute_command", `{"command":"true","background":"yes"}`, `field "background" must be true or false, not string`},
	} {
		want(t, call(t, kit, tc.tool, tc.input), true, tc.want)
	}
}

// TestProcessNotStartedHere reads a process the toolkit did not start,
// from what the process retained.
func TestProcessNotStartedHere(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, nil)
	proc, err := sb.Processes().Spawn(t.Context(), "printf '\\033[1mbold\\033[0m\\n'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	want(t, call(t, kit, "get_process_output", `{"pid":"`+proc.PID()+`"}`), false, "bold\n", "exited with code 0")
	var _ workspace.Process = proc
}
