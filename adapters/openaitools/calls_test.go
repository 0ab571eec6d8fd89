package openaitools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/openaitools"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// chatMessage returns an assistant message of Chat Completions with
// execute_command calls of the commands, their ids "call_0", "call_1", ...
func chatMessage(t *testing.T, commands ...string) openai.ChatCompletionMessage {
	t.Helper()
	var calls []string
	for i, c := range commands {
		args := encode(t, map[string]string{"command": c})
		calls = append(calls, fmt.Sprintf(`{"id":"call_%d","type":"function","function":{"name":"execute_command","arguments":%s}}`, i, encode(t, args)))
	}
	var msg openai.ChatCompletionMessage
	if err := json.Unmarshal([]byte(`{"role":"assistant","tool_calls":[`+strings.Join(calls, ",")+`]}`), &msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

// text returns the content of a tool message.
func text(m openai.ChatCompletionMessageParamUnion) string { return m.OfTool.Content.OfString.Value }

// TestConcurrentCalls checks that the calls of one turn run at once (each
// command waits until all have started) and that the results come in the
// order of the calls, each with its call's output reported as progress
// under its id.
func TestConcurrentCalls(t *testing.T) {
	sb, _ := newSandbox(t)
	var mu sync.Mutex
	progress := map[string]string{}
	kit, err := openaitools.New(sb, &openaitools.Options{Progress: func(id string, p tools.Progress) {
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
	results, err := kit.CallChat(t.Context(), chatMessage(t, commands...))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.OfTool.ToolCallID != fmt.Sprintf("call_%d", i) || text(r) != fmt.Sprintf("all there %d\nExit code: 0", i) {
			t.Errorf("result %d: %s %q", i, r.OfTool.ToolCallID, text(r))
		}
		if got := progress[fmt.Sprintf("call_%d", i)]; got != fmt.Sprintf("all there %d\n", i) {
			t.Errorf("progress of call_%d: %q", i, got)
		}
	}
}

// TestNoCalls checks that a turn without tool calls gets no results.
func TestNoCalls(t *testing.T) {
	sb, _ := newSandbox(t)
	kit, err := openaitools.New(sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := kit.CallChat(t.Context(), chatMessage(t)); len(r) != 0 || err != nil {
		t.Errorf("CallChat: %v, %v", r, err)
	}
	if r, err := kit.CallResponses(t.Context(), nil); len(r) != 0 || err != nil {
		t.Errorf("CallResponses: %v, %v", r, err)
	}
}

// TestInfrastructureFailure checks that failures of the service and of
// the sandbox are returned, with no results.
func TestInfrastructureFailure(t *testing.T) {
	sb, srv := newSandbox(t)
	kit, err := openaitools.New(sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.FailNext(daytonatest.OpSessionExec, 100, 500, "the daemon is down"); err != nil {
		t.Fatal(err)
	}
	results, err := kit.CallChat(t.Context(), chatMessage(t, "echo a", "echo b"))
	var de *daytona.Error
	if results != nil || !errors.As(err, &de) || de.StatusCode != 500 || !strings.HasPrefix(err.Error(), "openaitools: call call_0 (execute_command): ") {
		t.Errorf("CallChat: %v, %v; want the daemon's 500", results, err)
	}
	srv.ClearFaults()
	if err := sb.Destroy(t.Context()); err != nil {
		t.Fatal(err)
	}
	var out []responses.ResponseOutputItemUnion
	if err := json.Unmarshal([]byte(`[{"type":"function_call","call_id":"c","name":"execute_command","arguments":"{\"command\":\"true\"}"}]`), &out); err != nil {
		t.Fatal(err)
	}
	if items, err := kit.CallResponses(t.Context(), out); items != nil || !errors.Is(err, workspace.ErrNotReady) {
		t.Errorf("after Destroy: %v, %v; want workspace.ErrNotReady", items, err)
	}
}

// TestCancelMidTool cancels the context while a command runs: the error is
// the context's and the command was killed.
func TestCancelMidTool(t *testing.T) {
	sb, _ := newSandbox(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pids := make(chan int, 1)
	kit, err := openaitools.New(sb, &openaitools.Options{Progress: func(_ string, p tools.Progress) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(p.Text), "pid "); ok {
			pid, _ := strconv.Atoi(s)
			pids <- pid
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	results, err := kit.CallChat(ctx, chatMessage(t, `sh -c 'echo pid $$; exec sleep 60'`, "echo quick"))
	if results != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("CallChat: %v, %v; want context.Canceled", results, err)
	}
	waitGone(t, <-pids)
}

// TestNotMadeByNew checks that a nil or zero Toolkit offers no tools and
// refuses calls, without a panic.
func TestNotMadeByNew(t *testing.T) {
	for _, kit := range []*openaitools.Toolkit{nil, {}} {
		if kit.ChatTools() != nil || kit.ResponseTools() != nil || kit.Toolkit() != nil {
			t.Errorf("%#v offers tools", kit)
		}
		if r, err := kit.CallChat(t.Context(), chatMessage(t, "true")); r != nil || err == nil || !strings.Contains(err.Error(), "not made by New") {
			t.Errorf("CallChat: %v, %v", r, err)
		}
		if r, err := kit.CallResponses(t.Context(), nil); r != nil || err == nil {
			t.Errorf("CallResponses: %v, %v", r, err)
		}
	}
}

// TestNewErrors checks that bad options are reported, prefixed.
func TestNewErrors(t *testing.T) {
	if _, err := openaitools.New(nil, nil); err == nil || !strings.HasPrefix(err.Error(), "openaitools: ") {
		t.Errorf("New(nil): %v", err)
	}
	sb, _ := newSandbox(t)
	if _, err := openaitools.New(sb, &openaitools.Options{Tools: tools.Options{Prefix: "bad name "}}); err == nil || !strings.HasPrefix(err.Error(), "openaitools: tools: ") {
		t.Errorf("New with a bad prefix: %v", err)
	}
}
