package tools_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/agentworkspace/daytona/workspace/tools"
)

func TestExecuteCommand(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, &tools.Options{Budget: tools.Budget{MaxLines: 8}})
	for _, tc := range []struct {
		name, input string
		isError     bool
		wants       []string
	}{
		{"output and exit code", `{"command":"echo hello"}`, false, []string{"hello\nExit code: 0"}},
		{"args are quoted", `{"command":"printf '%s|'","args":["a b","$HOME","it's"]}`, false, []string{"a b|$HOME|it's|"}},
		{"cwd and env", `{"command":"pwd; echo \"$GREETING\"","cwd":"/","env":{"GREETING":"hi there"}}`, false, []string{"/\nhi there\n"}},
		{"failure is a result", `{"command":"echo oops >&2; exit 3"}`, false, []string{"stderr:\noops\n", "Exit code: 3"}},
		{"no output", `{"command":"true"}`, false, []string{"(no output)\nExit code: 0"}},
		{"escape sequences stripped", `{"command":"printf '\\033[1;31mred\\033[0m\\n'"}`, false, []string{"red\nExit code: 0"}},
		{"trimmed with a marker", `{"command":"seq 1 100"}`, false, []string{"1\n2\n[… 92 lines omitted …]\n95\n", "100\nExit code: 0"}},
		{"timeout is a tool error", `{"command":"echo started; sleep 30","timeout":0.3}`, true,
			[]string{"started\n", "timed out after", "killed (exit code 124)"}},
		{"missing command", `{"args":["-la"]}`, true, []string{`invalid input for execute_command: field "command" is required`}},
		{"empty input", ``, true, []string{`field "command" is required`}},
		{"wrong type", `{"command":["ls"]}`, true, []string{`field "command" must be a string, not array`}},
		{"wrong element type", `{"command":"ls","args":[1]}`, true, []string{`the elements of field "args" must be strings, not number`}},
		{"wrong env type", `{"command":"ls","env":{"A":1}}`, true, []string{`the values of field "env" must be strings, not number`}},
		{"unknown field", `{"command":"ls","flags":"-l"}`, true, []string{`unknown field "flags"; the fields are "command", "args"`}},
		{"negative timeout", `{"command":"ls","timeout":-1}`, true, []string{`field "timeout" must be a number of seconds greater than 0`}},
		{"huge timeout", `{"command":"ls","timeout":1e9}`, true, []string{`field "timeout"`}},
		{"not an object", `"ls"`, true, []string{"the input must be a JSON object, not string"}},
		{"not JSON", `{"command":`, true, []string{"not valid JSON"}},
		{"trailing data", `{"command":"ls"} {}`, true, []string{"unexpected data after the JSON object"}},
		{"bad env name", `{"command":"env","env":{"NOT-A-NAME":"x"}}`, true, []string{`invalid input for execute_command: field "env" has the name "NOT-A-NAME", which is not an environment variable name`}},
		{"NUL in command", `{"command":"echo a\u0000b"}`, true, []string{`field "command" must not contain a NUL byte`}},
		{"NUL in an argument", `{"command":"echo","args":["a","b\u0000"]}`, true, []string{`field "args" must not contain NUL bytes; element 1 does`}},
		{"NUL in cwd", `{"command":"pwd","cwd":"/\u0000"}`, true, []string{`field "cwd" must not contain a NUL byte`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, kit, "execute_command", tc.input)
			want(t, res, tc.isError, tc.wants...)
		})
	}
}

func TestExecuteCommandStructured(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, &tools.Options{Budget: tools.Budget{MaxLines: 4}})
	out := decode[tools.CommandOutput](t, call(t, kit, "execute_command", `{"command":"seq 1 10; echo err >&2; false","args":["x y"]}`))
	if out.Command != "seq 1 10; echo err >&2; false 'x y'" || out.Background || out.ExitCode == nil || *out.ExitCode != 1 ||
		out.Success || out.Stdout != "1\n[… 6 lines omitted …]\n8\n9\n10\n" || out.Stderr != "err\n" ||
		out.StdoutBytes != 21 || out.StderrBytes != 4 {
		t.Errorf("structured: %+v", out)
	}
	res := call(t, kit, "execute_command", `{"command":"sleep 10","timeout":0.2}`)
	if out := decode[tools.CommandOutput](t, res); !out.TimedOut || !out.Killed || *out.ExitCode != 124 {
		t.Errorf("after a timeout: %+v", out)
	}
}

// TestProgress checks that output reaches the ProgressFunc while the
// command runs: the command waits for a file that the test creates only
// after the first report arrived.
func TestProgress(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)
	first := make(chan struct{})
	var mu sync.Mutex
	var reports []tools.Progress
	ctx := tools.WithProgress(t.Context(), func(p tools.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(reports) == 0 {
			close(first)
		}
		reports = append(reports, p)
	})
	done := make(chan *tools.Result, 1)
	go func() {
		res, _ := kit.Call(ctx, "execute_command", json.RawMessage(
			`{"command":"echo waiting; while [ ! -e go ]; do sleep 0.05; done; echo done >&2"}`))
		done <- res
	}()
	<-first
	select {
	case <-done:
		t.Fatal("the call returned before the file existed")
	default:
	}
	want(t, call(t, kit, "write_file", `{"path":"go","content":""}`), false)
	res := <-done
	want(t, res, false, "waiting\nstderr:\ndone\n")
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 || reports[0] != (tools.Progress{Stream: "stdout", Text: "waiting\n", Bytes: 8}) ||
		reports[1] != (tools.Progress{Stream: "stderr", Text: "done\n", Bytes: 13}) {
		t.Errorf("reports: %+v", reports)
	}
}

func TestLargeOutputBoundedAndTrimmed(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, nil)
	res := call(t, kit, "execute_command", `{"command":"seq 1 300000"}`)
	out := decode[tools.CommandOutput](t, res)
	if !strings.HasPrefix(out.Stdout, "1\n2\n") || !strings.HasSuffix(out.Stdout, "299999\n300000\n") ||
		!strings.Contains(out.Stdout, "[… 299800 lines omitted …]") || out.StdoutBytes != 1988895 || len(out.Stdout) > tools.DefaultMaxBytes+64 {
		t.Errorf("stdout (%d bytes): %.200q…", len(out.Stdout), out.Stdout)
	}
}
