package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/internal/mcptest"
)

// message is a JSON-RPC message as the server writes it.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// TestPipedRequests is `printf ... | daytona-mcp -local`: every request
// on stdin is answered before the command exits, a slow one included.
func TestPipedRequests(t *testing.T) {
	t.Parallel()
	cmd := command(t, "-local")
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(strings.Join([]string{
		mcptest.InitializeLine, mcptest.InitializedLine,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_command","arguments":{"command":"sleep 0.5; echo done"}}}`,
	}, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("daytona-mcp: %v\n%s", err, stderr.String())
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m message
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		got[string(m.ID)] = string(m.Result)
	}
	for id, want := range map[string]string{"1": `"serverInfo"`, "2": `"execute_command"`, "3": `done\nExit code: 0`} {
		if !strings.Contains(got[id], want) {
			t.Errorf("answer to request %s: %q; want it to contain %q\nstdout:\n%s\nstderr:\n%s", id, got[id], want, out, stderr.String())
		}
	}
}

// TestInterruptEndsCalls: an interrupt (the end of run's context) during a
// long command ends the command, answers the call as interrupted and
// returns, instead of waiting for the command.
func TestInterruptEndsCalls(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-local"}, stdinR, stdoutW, io.Discard, os.Getenv)
		stdoutW.Close()
	}()
	go func() {
		io.WriteString(stdinW, mcptest.InitializeLine+"\n"+mcptest.InitializedLine+"\n"+
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta":{"progressToken":"p"},"name":"execute_command","arguments":{"command":"echo started; sleep 60; echo finished"}}}`+"\n")
	}()
	sc := bufio.NewScanner(stdoutR)
	var answer *message
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q: %v", sc.Text(), err)
		}
		if m.Method == "notifications/progress" && strings.Contains(string(m.Params), "started") {
			cancel() // the command runs: interrupt
		}
		if string(m.ID) == "2" {
			answer = &m
		}
	}
	stdinW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after the interrupt")
	}
	if answer == nil {
		t.Fatal("the interrupted call was not answered")
	}
	if !strings.Contains(string(answer.Result), `"text":"started\nThe command was interrupted`) ||
		!strings.Contains(string(answer.Result), `"stdout":"started\n"`) {
		t.Errorf("answer to the interrupted call: %s", answer.Result)
	}
}

// TestLocalInstructions: with -local, the instructions the agent reads
// (the server's, and execute_command's description) say that commands
// run on this machine, without isolation, as the current user.
func TestLocalInstructions(t *testing.T) {
	t.Chdir(t.TempDir())
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	in := strings.NewReader(mcptest.InitializeLine + "\n" + mcptest.InitializedLine + "\n" + `{"jsonrpc":"2.0","id":2,"method":"tools/list"}` + "\n")
	if err := run(t.Context(), []string{"-local"}, in, &out, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	var init struct {
		Result struct{ Instructions string }
	}
	var list struct {
		Result struct {
			Tools []struct{ Name, Description string }
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &init) != nil || json.Unmarshal([]byte(lines[1]), &list) != nil || len(list.Result.Tools) == 0 {
		t.Fatalf("stdout:\n%s", out.String())
	}
	texts := map[string]string{"instructions": init.Result.Instructions}
	for _, tool := range list.Result.Tools {
		if tool.Name == "execute_command" {
			texts[tool.Name] = tool.Description
		}
	}
	if len(texts) != 2 {
		t.Errorf("no execute_command in %+v", list.Result.Tools)
	}
	for what, text := range texts {
		if !strings.Contains(text, "Sandbox without isolation (typescript runtime): commands run directly on the host machine") ||
			!strings.Contains(text, "Running as user: "+me.Username+".") || strings.Contains(text, "isolated execution") {
			t.Errorf("%s: %s", what, text)
		}
	}
}
