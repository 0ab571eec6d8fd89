package anthropictools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/anthropictools"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// content returns a message's content: a text block, then an
// execute_command tool_use block for each command, their ids "toolu_0",
// "toolu_1", ...
func content(t *testing.T, commands ...string) []anthropic.ContentBlockUnion {
	t.Helper()
	blocks := []string{`{"type":"text","text":"Running them."}`}
	for i, c := range commands {
		blocks = append(blocks, fmt.Sprintf(`{"type":"tool_use","id":"toolu_%d","name":"execute_command","input":%s}`,
			i, encode(t, map[string]string{"command": c})))
	}
	var msg anthropic.Message
	if err := json.Unmarshal([]byte(`{"role":"assistant","content":[`+strings.Join(blocks, ",")+`]}`), &msg); err != nil {
		t.Fatal(err)
	}
	return msg.Content
}

// result returns the id, text and error flag of a tool_result block.
func result(b anthropic.ContentBlockParamUnion) (string, string, bool) {
	r := b.OfToolResult
	return r.ToolUseID, r.Content[0].OfText.Text, r.IsError.Value
}

// TestConcurrentCalls checks that the blocks of one message run at once
// (each command waits until all have started) and that the results come
// in the order of the blocks, each with its output reported as progress
// under its id.
func TestConcurrentCalls(t *testing.T) {
	sb, _ := newSandbox(t)
	var mu sync.Mutex
	progress := map[string]string{}
	kit, err := anthropictools.New(sb, &anthropictools.Options{Progress: func(id string, p tools.Progress) {
		mu.Lock()
		defer mu.Unlock()
		progress[id] += p.Text
	}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 6
	var commands []string
	for i := range n {
		commands = append(commands, fmt.Sprintf(
			`touch %s/%d; for i in $(seq 1200); do [ $(ls %s | wc -l) -ge %d ] && echo all there %d && exit 0; sleep 0.05; done; echo alone; exit 1`,
			dir, i, dir, n, i))
	}
	results, err := kit.Call(t.Context(), content(t, commands...))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != n {
		t.Fatalf("%d results; want %d", len(results), n)
	}
	for i, r := range results {
		id, text, isError := result(r)
		if id != fmt.Sprintf("toolu_%d", i) || text != fmt.Sprintf("all there %d\nExit code: 0", i) || isError {
			t.Errorf("result %d: %s %q %v", i, id, text, isError)
		}
		if got := progress[id]; got != fmt.Sprintf("all there %d\n", i) {
			t.Errorf("progress of %s: %q", id, got)
		}
	}
}

// TestNoToolUse checks that a message without tool_use blocks gets no
// results.
func TestNoToolUse(t *testing.T) {
	sb, _ := newSandbox(t)
	kit, err := anthropictools.New(sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := kit.Call(t.Context(), content(t)); len(r) != 0 || err != nil {
		t.Errorf("Call: %v, %v", r, err)
	}
}

// TestInfrastructureFailure checks that failures of the service and of
// the sandbox are returned, with no results.
func TestInfrastructureFailure(t *testing.T) {
	sb, srv := newSandbox(t)
	kit, err := anthropictools.New(sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.FailNext(daytonatest.OpSessionExec, 100, 500, "the daemon is down"); err != nil {
		t.Fatal(err)
	}
	results, err := kit.Call(t.Context(), content(t, "echo a", "echo b"))
	var de *daytona.Error
	if results != nil || !errors.As(err, &de) || de.StatusCode != 500 || !strings.HasPrefix(err.Error(), "anthropictools: tool_use toolu_0 (execute_command): ") {
		t.Errorf("Call: %v, %v; want the daemon's 500", results, err)
	}
	srv.ClearFaults()
	if err := sb.Destroy(t.Context()); err != nil {
		t.Fatal(err)
	}
	if results, err := kit.Call(t.Context(), content(t, "true")); results != nil || !errors.Is(err, workspace.ErrNotReady) {
		t.Errorf("after Destroy: %v, %v; want workspace.ErrNotReady", results, err)
	}
}

// TestCancelMidTool cancels the context while a command runs: the error is
// the context's and the command was killed.
func TestCancelMidTool(t *testing.T) {
	sb, _ := newSandbox(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pids := make(chan int, 1)
	kit, err := anthropictools.New(sb, &anthropictools.Options{Progress: func(_ string, p tools.Progress) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(p.Text), "pid "); ok {
			pid, _ := strconv.Atoi(s)
			pids <- pid
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	results, err := kit.Call(ctx, content(t, `sh -c 'echo pid $$; exec sleep 60'`, "echo quick"))
	if results != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Call: %v, %v; want context.Canceled", results, err)
	}
	waitGone(t, <-pids)
}

// TestNotMadeByNew checks that a nil or zero Toolkit offers no tools and
// refuses calls, without a panic.
func TestNotMadeByNew(t *testing.T) {
	for _, kit := range []*anthropictools.Toolkit{nil, {}} {
		if kit.Tools() != nil || kit.Toolkit() != nil {
			t.Errorf("%#v offers tools", kit)
		}
		if r, err := kit.Call(t.Context(), content(t, "true")); r != nil || err == nil || !strings.Contains(err.Error(), "not made by New") {
			t.Errorf("Call: %v, %v", r, err)
		}
	}
}

// TestNewErrors checks that bad options are reported, prefixed.
func TestNewErrors(t *testing.T) {
	if _, err := anthropictools.New(nil, nil); err == nil || !strings.HasPrefix(err.Error(), "anthropictools: ") {
		t.Errorf("New(nil): %v", err)
	}
	sb, _ := newSandbox(t)
	if _, err := anthropictools.New(sb, &anthropictools.Options{Tools: tools.Options{Prefix: "bad name "}}); err == nil || !strings.HasPrefix(err.Error(), "anthropictools: tools: ") {
		t.Errorf("New with a bad prefix: %v", err)
	}
}
