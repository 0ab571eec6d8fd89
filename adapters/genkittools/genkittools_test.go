package genkittools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/genkit"

	"github.com/agentworkspace/daytona/adapters/genkittools"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// TestGenerate runs Genkit's generate loop with the sandbox's tools and a
// scripted model that asks for several calls at once, good ones and ones
// the toolkit refuses, and checks what the model read and what it was
// offered.
func TestGenerate(t *testing.T) {
	sb, _ := newSandbox(t)
	g := genkit.Init(t.Context())
	refs, err := genkittools.Define(g, sb, options())
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		call
		want string
	}{
		{call{"execute_command", map[string]any{"command": "echo hello"}}, "0: hello\nExit code: 0\n"},
		{call{"execute_command", map[string]any{"command": "echo forbidden"}}, "1: execute_command was refused: this command is forbidden here\n"},
		{call{"execute_command", map[string]any{"command": `echo "$T"`, "env": map[string]any{"T": secret}}}, "2: " + tools.Redacted + "\nExit code: 0\n"},
		{call{"execute_command", map[string]any{"command": "sleep 5", "timeout": 0.2}}, "3: (no output)\nThe command timed out after"},
		{call{"execute_command", map[string]any{"command": "seq 1 300000"}}, "[… 299800 lines omitted …]\n"},
		{call{"read_file", map[string]any{"path": "missing.txt"}}, "5: read_file: open missing.txt: file does not exist\n"},
		{call{"execute_command", map[string]any{"command": "   "}}, `6: invalid input for execute_command: field "command" must not be only whitespace`},
	}
	var cs []call
	for _, c := range calls {
		cs = append(cs, c.call)
	}
	m := defineModel(g, cs...)
	resp, err := genkit.Generate(t.Context(), g, ai.WithModel(m), ai.WithPrompt("work in the sandbox"), ai.WithTools(refs...))
	if err != nil {
		t.Fatal(err)
	}
	answer := resp.Text()
	for _, c := range calls {
		if !strings.Contains(answer, c.want) {
			t.Errorf("%s %v: the answer lacks %q", c.name, c.input, c.want)
		}
	}
	if strings.Contains(answer, secret) {
		t.Error("the secret reached the model")
	}
	if len(answer) > len(calls)*tools.DefaultMaxBytes {
		t.Errorf("%d bytes for the model", len(answer))
	}

	kit, err := tools.New(sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	offered := m.offered[0]
	if len(offered) != len(kit.Tools()) {
		t.Fatalf("%d tools offered; want %d", len(offered), len(kit.Tools()))
	}
	byName := map[string]*ai.ToolDefinition{} // Genkit does not keep the order
	for _, d := range offered {
		byName[d.Name] = d
	}
	for _, want := range kit.Tools() {
		var schema map[string]any
		if err := json.Unmarshal(want.InputSchema, &schema); err != nil {
			t.Fatal(err)
		}
		if d := byName[want.Name]; d == nil || d.Description != want.Description || !reflect.DeepEqual(d.InputSchema, schema) {
			t.Errorf("%s offered as %+v; want %v", want.Name, d, schema)
		}
	}
}

// TestGenkitChecksFirst checks what Genkit does with input that does not
// match a tool's schema and with a tool that does not exist: Generate
// fails, naming the problem, and nothing runs in the sandbox. (One call
// per turn: when one of several calls fails, Genkit v1.4.0 leaves the
// goroutines of the others blocked.)
func TestGenkitChecksFirst(t *testing.T) {
	sb, srv := newSandbox(t)
	srv.ResetRequests()
	for _, tc := range []struct {
		call
		want string
	}{
		{call{"execute_command", map[string]any{"command": []any{"ls"}}}, "command"},
		{call{"execute_command", map[string]any{"command": "ls", "flags": "-l"}}, "flags"},
		{call{"execute_command", "ls"}, "execute_command"},
		{call{"launch_rockets", map[string]any{}}, `tool "launch_rockets" not found`},
	} {
		g := genkit.Init(t.Context())
		refs, err := genkittools.Define(g, sb, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := defineModel(g, tc.call)
		_, err = genkit.Generate(t.Context(), g, ai.WithModel(m), ai.WithPrompt("go"), ai.WithTools(refs...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v; want an error about %s", tc.name, tc.input, err, tc.want)
		}
	}
	if n := srv.TotalCount(); n != 0 {
		t.Errorf("%d requests reached Daytona: %v", n, srv.Counts())
	}
}

// TestInfrastructureFailure checks that failures of the service and of
// the sandbox fail Generate with their message.
func TestInfrastructureFailure(t *testing.T) {
	sb, srv := newSandbox(t)
	g := genkit.Init(t.Context())
	refs, err := genkittools.Define(g, sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := defineModel(g, call{"execute_command", map[string]any{"command": "echo hi"}})
	if err := srv.FailNext(daytonatest.OpSessionExec, 100, 500, "the daemon is down"); err != nil {
		t.Fatal(err)
	}
	_, err = genkit.Generate(t.Context(), g, ai.WithModel(m), ai.WithPrompt("go"), ai.WithTools(refs...))
	if err == nil || !strings.Contains(err.Error(), "genkittools: execute_command: daytona: execute command: HTTP 500: the daemon is down") {
		t.Errorf("Generate: %v; want the daemon's 500", err)
	}
	srv.ClearFaults()
	if err := sb.Destroy(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = genkit.Generate(t.Context(), g, ai.WithModel(m), ai.WithPrompt("go"), ai.WithTools(refs...))
	if err == nil || !strings.Contains(err.Error(), "was destroyed") {
		t.Errorf("after Destroy: %v", err)
	}
}

// TestCancelMidTool cancels the context given to Generate while a command
// runs, after its first output arrived through tools.WithProgress:
// Generate fails and the command was killed.
func TestCancelMidTool(t *testing.T) {
	sb, _ := newSandbox(t)
	g := genkit.Init(t.Context())
	refs, err := genkittools.Define(g, sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := defineModel(g, call{"execute_command", map[string]any{"command": `sh -c 'echo pid $$; exec sleep 60'`}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pids := make(chan int, 1)
	ctx = tools.WithProgress(ctx, func(p tools.Progress) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(p.Text), "pid "); ok {
			pid, _ := strconv.Atoi(s)
			pids <- pid
			cancel()
		}
	})
	_, err = genkit.Generate(ctx, g, ai.WithModel(m), ai.WithPrompt("go"), ai.WithTools(refs...))
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Generate: %v; want the context's end", err)
	}
	waitGone(t, <-pids)
}

// TestDefineErrors checks the errors of Define: bad options, a nil
// Genkit, and names already taken (with nothing registered).
func TestDefineErrors(t *testing.T) {
	sb, _ := newSandbox(t)
	g := genkit.Init(t.Context())
	if _, err := genkittools.Define(g, sb, &tools.Options{Tools: []string{"rm"}}); err == nil || !strings.HasPrefix(err.Error(), "genkittools: tools: ") {
		t.Errorf("Define with an unknown tool: %v", err)
	}
	if _, err := genkittools.Define(nil, sb, nil); err == nil || !strings.HasPrefix(err.Error(), "genkittools: ") {
		t.Errorf("Define(nil): %v", err)
	}
	if _, err := genkittools.DefineToolkit(g, nil); err == nil || !strings.HasPrefix(err.Error(), "genkittools: ") {
		t.Errorf("DefineToolkit(g, nil): %v", err)
	}
	genkit.DefineTool(g, "read_file", "a tool of the application", func(*ai.ToolContext, any) (string, error) { return "", nil })
	if _, err := genkittools.Define(g, sb, nil); err == nil || !strings.Contains(err.Error(), "read_file is already registered") {
		t.Errorf("Define with a name taken: %v", err)
	}
	if genkit.LookupTool(g, "execute_command") != nil {
		t.Error("execute_command was registered")
	}
	refs, err := genkittools.Define(g, sb, &tools.Options{Prefix: "sandbox_"})
	if err != nil || len(refs) != 7 || refs[0].Name() != "sandbox_execute_command" {
		t.Errorf("Define with a prefix: %v, %v", refs, err)
	}
	if _, err := genkittools.Define(g, sb, &tools.Options{Prefix: "sandbox_"}); err == nil {
		t.Error("Define twice: no error")
	}
}

// TestConcurrentCalls checks that the calls of one turn run at once
// through Genkit: each command waits until all have started.
func TestConcurrentCalls(t *testing.T) {
	sb, _ := newSandbox(t)
	g := genkit.Init(t.Context())
	refs, err := genkittools.Define(g, sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 6
	var calls []call
	for i := range n {
		calls = append(calls, call{"execute_command", map[string]any{"command": fmt.Sprintf(
			`touch %s/%d; for i in $(seq 1200); do [ $(ls %s | wc -l) -ge %d ] && echo all there %d && exit 0; sleep 0.05; done; echo alone; exit 1`,
			dir, i, dir, n, i)}})
	}
	resp, err := genkit.Generate(t.Context(), g, ai.WithModel(defineModel(g, calls...)), ai.WithPrompt("go"), ai.WithTools(refs...))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if want := fmt.Sprintf("%d: all there %d\nExit code: 0", i, i); !strings.Contains(resp.Text(), want) {
			t.Errorf("the answer lacks %q:\n%s", want, resp.Text())
		}
	}
}
