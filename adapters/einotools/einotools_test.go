package einotools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/eino/components/tool"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/einotools"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// TestToolInfos checks that every tool describes itself to a model as the
// toolkit does, and which Eino interfaces each implements.
func TestToolInfos(t *testing.T) {
	sb, _ := newSandbox(t)
	kit, err := tools.New(sb, &tools.Options{Prefix: "sandbox_"})
	if err != nil {
		t.Fatal(err)
	}
	ets := einotools.Tools(kit)
	if len(ets) != len(kit.Tools()) || len(ets) != 7 {
		t.Fatalf("%d Eino tools for %d tools", len(ets), len(kit.Tools()))
	}
	for i, kt := range kit.Tools() {
		info, err := ets[i].Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != kt.Name || info.Desc != kt.Description {
			t.Errorf("tool %d: name %q, description %.40q; want %q", i, info.Name, info.Desc, kt.Name)
		}
		js, err := info.ToJSONSchema()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(js)
		if !sameJSON(t, got, kt.InputSchema) {
			t.Errorf("%s: the schema given to a model is\n%s\nwant\n%s", kt.Name, got, kt.InputSchema)
		}
		if _, ok := ets[i].(tool.InvokableTool); !ok {
			t.Errorf("%s is no InvokableTool", kt.Name)
		}
		if _, ok := ets[i].(tool.StreamableTool); ok != (kt.ID == tools.ExecuteCommand) {
			t.Errorf("%s: StreamableTool is %v", kt.Name, ok)
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// TestToolsNode gives a ToolsNode one assistant message with many tool
// calls, good and hostile, and checks each answer.
func TestToolsNode(t *testing.T) {
	sb, _ := newSandbox(t)
	node := newNode(t, sb, options())
	calls := []struct {
		call
		want []string
	}{
		{call{"execute_command", `{"command":"echo hello"}`}, []string{"hello\nExit code: 0"}},
		{call{"execute_command", `{"command":`}, []string{"invalid input for execute_command: the input is not valid JSON"}},
		{call{"execute_command", `{"command":["ls"]}`}, []string{`field "command" must be a string, not array`}},
		{call{"execute_command", ``}, []string{`field "command" is required`}},
		{call{"rm_everything", `{}`}, []string{`unknown tool "rm_everything"; the tools are execute_command, get_process_output, kill_process, read_file`}},
		{call{"execute_command", `{"command":"echo forbidden"}`}, []string{"execute_command was refused: this command is forbidden here"}},
		{call{"execute_command", `{"command":"echo \"$TOKEN\"","env":{"TOKEN":"` + secret + `"}}`}, []string{tools.Redacted + "\nExit code: 0"}},
		{call{"execute_command", `{"command":"sleep 5","timeout":0.2}`}, []string{"The command timed out after"}},
		{call{"read_file", `{"path":"missing.txt"}`}, []string{"read_file: open missing.txt: file does not exist"}},
		{call{"execute_command", `{"command":"seq 1 300000"}`}, []string{"1\n2\n", "[… 299800 lines omitted …]\n", "300000\nExit code: 0"}},
	}
	var cs []call
	for _, c := range calls {
		cs = append(cs, c.call)
	}
	msgs, err := node.Invoke(t.Context(), assistant(cs...))
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range contents(t, msgs) {
		for _, w := range calls[i].want {
			if !strings.Contains(got, w) {
				t.Errorf("%s(%s): %.300q lacks %q", calls[i].name, calls[i].args, got, w)
			}
		}
		if strings.Contains(got, secret) {
			t.Errorf("%s(%s): the secret is in %q", calls[i].name, calls[i].args, got)
		}
		if len(got) > tools.DefaultMaxBytes+200 {
			t.Errorf("%s(%s): %d bytes for the model", calls[i].name, calls[i].args, len(got))
		}
	}
}

// TestConcurrentToolCalls checks that the calls of one message run at
// once: each command waits until all have started.
func TestConcurrentToolCalls(t *testing.T) {
	sb, _ := newSandbox(t)
	node := newNode(t, sb, nil)
	dir := t.TempDir()
	const n = 6
	var cs []call
	for i := range n {
		cs = append(cs, call{"execute_command", argsJSON(fmt.Sprintf(
			`touch %s/%d; for i in $(seq 1200); do [ $(ls %s | wc -l) -ge %d ] && echo all there %d && exit 0; sleep 0.05; done; echo alone; exit 1`,
			dir, i, dir, n, i))})
	}
	for _, mode := range []string{"invoke", "stream"} {
		t.Run(mode, func(t *testing.T) {
			var got []string
			if mode == "invoke" {
				msgs, err := node.Invoke(t.Context(), assistant(cs...))
				if err != nil {
					t.Fatal(err)
				}
				got = contents(t, msgs)
			} else {
				chunks, err := streamed(t, t.Context(), node, assistant(cs...))
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range chunks {
					got = append(got, strings.Join(c, ""))
				}
			}
			for i, g := range got {
				if w := fmt.Sprintf("all there %d\nExit code: 0", i); g != w {
					t.Errorf("call %d: %q; want %q", i, g, w)
				}
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestInfrastructureFailureStopsTheNode checks that failures of the
// service and of the sandbox reach the caller, as errors that errors.As
// and errors.Is see through Eino's.
func TestInfrastructureFailureStopsTheNode(t *testing.T) {
	sb, srv := newSandbox(t)
	node := newNode(t, sb, nil)
	if err := srv.FailNext(daytonatest.OpSessionExec, 100, 500, "the daemon is down"); err != nil {
		t.Fatal(err)
	}
	in := assistant(call{"execute_command", `{"command":"echo hi"}`})
	_, err := node.Invoke(t.Context(), in)
	var de *daytona.Error
	if !errors.As(err, &de) || de.StatusCode != 500 || !strings.Contains(err.Error(), "the daemon is down") {
		t.Errorf("Invoke: %v; want the daemon's 500", err)
	}
	if _, err := streamed(t, t.Context(), node, in); !errors.As(err, &de) {
		t.Errorf("Stream: %v; want the daemon's 500", err)
	}
	srv.ClearFaults()
	if err := sb.Destroy(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Invoke(t.Context(), in); !errors.Is(err, workspace.ErrNotReady) {
		t.Errorf("after Destroy: %v; want workspace.ErrNotReady", err)
	}
}

// TestCancelMidTool cancels the context while a command runs, in both
// modes, and checks that the node returns the context's error and that
// the command was killed.
func TestCancelMidTool(t *testing.T) {
	sb, _ := newSandbox(t)
	node := newNode(t, sb, nil)
	in := assistant(call{"execute_command", argsJSON(`sh -c 'echo pid $$; exec sleep 60'`)})
	for _, mode := range []string{"invoke", "stream"} {
		t.Run(mode, func(t *testing.T) {
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
			var err error
			if mode == "invoke" {
				_, err = node.Invoke(ctx, in)
			} else {
				_, err = streamed(t, ctx, node, in)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%v; want context.Canceled", err)
			}
			waitGone(t, <-pids)
		})
	}
}

// waitGone waits until process pid (run by daytonatest on this machine)
// has ended, failing the test after 20 seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return // gone, or a zombie
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising
	}
}

// TestNewErrors checks that bad options are reported, prefixed.
func TestNewErrors(t *testing.T) {
	sb, _ := newSandbox(t)
	if _, err := einotools.New(sb, &tools.Options{Tools: []string{"rm"}}); err == nil || !strings.HasPrefix(err.Error(), "einotools: tools: ") {
		t.Errorf("New with an unknown tool: %v", err)
	}
	if _, err := einotools.New(nil, nil); err == nil || !strings.HasPrefix(err.Error(), "einotools: ") {
		t.Errorf("New(nil): %v", err)
	}
	if einotools.Tools(nil) != nil || einotools.Config(nil).Tools != nil {
		t.Error("a nil toolkit has tools")
	}
}
