package tools_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// newServedSandbox returns a started daytona.Sandbox and its daytonatest
// server (instant transitions), for tests that make the server fail.
func newServedSandbox(t *testing.T) (*daytona.Sandbox, *daytonatest.Server) {
	t.Helper()
	srv := daytonatest.NewServer(t, daytonatest.WithCloseDelay(0), daytonatest.WithTransitionDelay(0))
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = sb.Destroy(ctx) // some tests destroy it themselves
	})
	if err := sb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sb, srv
}

// TestToolErrorsAreNotInfrastructure checks that what a model can correct
// comes back without Err.
func TestToolErrorsAreNotInfrastructure(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, &tools.Options{Policy: func(_ context.Context, req tools.Request) error {
		if strings.Contains(string(req.Input), "forbidden") {
			return errors.New("no")
		}
		return nil
	}})
	want(t, call(t, kit, "write_file", `{"path":"bin","content":"a\u0000b"}`), false)
	for _, tc := range []struct{ tool, input string }{
		{"execute_command", `{"command":""}`},
		{"execute_command", `{"command":"echo forbidden"}`},
		{"execute_command", `{"command":"sleep 5","timeout":0.1}`},
		{"execute_command", `{"command":"env","env":{"1X":"y"}}`},
		{"execute_command", `{"command":"echo","args":["\u0000"]}`},
		{"get_process_output", `{"pid":"nope"}`},
		{"get_process_output", `{"pid":"a/b/../c"}`},
		{"kill_process", `{"pid":"x y"}`},
		{"read_file", `{"path":"missing"}`},
		{"read_file", `{"path":"bin"}`},
		{"read_file", `{"path":"/"}`},
		{"write_file", `{"path":"a\u0000b","content":""}`},
		{"write_file", `{"path":"bin/x","content":""}`},
		{"edit_file", `{"path":"missing","old_string":"a","new_string":"b"}`},
		{"list_files", `{"path":"bin"}`},
		{"no_such_tool", `{}`},
	} {
		res := call(t, kit, tc.tool, tc.input)
		if !res.IsError || res.Err != nil {
			t.Errorf("%s(%s): IsError %v, Err %v; want a tool error without Err; text: %s", tc.tool, tc.input, res.IsError, res.Err, res.Text)
		}
	}
}

// TestInfrastructureFailures checks that failures of the service, the
// connection and the sandbox come back in Err, with a text that says what
// happened.
func TestInfrastructureFailures(t *testing.T) {
	t.Parallel()
	sb, srv := newServedSandbox(t)
	kit := newKit(t, sb, nil)
	check := func(name, input, text string) {
		t.Helper()
		res := call(t, kit, name, input)
		if !res.IsError || res.Err == nil || !strings.Contains(res.Text, text) {
			t.Errorf("%s(%s): IsError %v, Err %v; want Err; text: %s", name, input, res.IsError, res.Err, res.Text)
		}
	}
	for _, op := range []daytonatest.Op{daytonatest.OpSessionExec, daytonatest.OpCreateSession, daytonatest.OpDownloadFile, daytonatest.OpFileInfo, daytonatest.OpListFiles} {
		if err := srv.FailNext(op, 100, 500, "the daemon is down"); err != nil {
			t.Fatal(err)
		}
	}
	check("execute_command", `{"command":"echo hi"}`, "the daemon is down")
	check("execute_command", `{"command":"sleep 1","background":true}`, "could not start in the background")
	check("read_file", `{"path":"/etc/hostname"}`, "the daemon is down")
	check("list_files", `{"path":"/"}`, "the daemon is down")
	srv.ClearFaults()
	if err := sb.Destroy(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("execute_command", `{"command":"echo hi"}`, "destroyed")
	res := call(t, kit, "execute_command", `{"command":"echo hi"}`)
	if !errors.Is(res.Err, workspace.ErrNotReady) {
		t.Errorf("Err = %v; want workspace.ErrNotReady", res.Err)
	}
	check("write_file", `{"path":"x","content":""}`, "write_file")
}

// TestUnreachableService checks that a connection refused is an
// infrastructure failure. A submission that failed so has its session
// deleted, which is tried again for a while (command.KillBudget): here for
// 300 ms, not thirty seconds (the deletion's outcome is not what this
// test checks). It sets that package variable, so it runs alone, not
// in parallel.
func TestUnreachableService(t *testing.T) {
	oldBudget := command.KillBudget
	command.KillBudget = 300 * time.Millisecond
	t.Cleanup(func() { command.KillBudget = oldBudget })
	sb, srv := newServedSandbox(t)
	kit := newKit(t, sb, nil)
	srv.Close()
	for _, input := range []string{`{"command":"echo hi"}`, `{"command":"sleep 1","background":true}`} {
		res := call(t, kit, "execute_command", input)
		if !res.IsError || res.Err == nil || !strings.Contains(res.Text, "connection refused") {
			t.Errorf("%s: IsError %v, Err %v; want Err; text: %s", input, res.IsError, res.Err, res.Text)
		}
	}
}

// TestInfrastructureFailureRedacted checks that Err's message hides the
// secrets to redact, and that errors.As still finds the sandbox's error.
func TestInfrastructureFailureRedacted(t *testing.T) {
	t.Parallel()
	sb, srv := newServedSandbox(t)
	kit := newKit(t, sb, &tools.Options{Redact: []string{"s3cr3t-token"}})
	if err := srv.FailNext(daytonatest.OpSessionExec, 100, 500, "refused s3cr3t-token"); err != nil {
		t.Fatal(err)
	}
	res := call(t, kit, "execute_command", `{"command":"echo hi"}`)
	var de *daytona.Error
	if res.Err == nil || !errors.As(res.Err, &de) || de.StatusCode != 500 {
		t.Fatalf("Err = %v; want a *daytona.Error with status 500", res.Err)
	}
	for _, s := range []string{res.Err.Error(), fmt.Sprintf("%v %+v %s", res.Err, res.Err, res.Err), res.Text} {
		if strings.Contains(s, "s3cr3t-token") || !strings.Contains(s, "refused "+tools.Redacted) {
			t.Errorf("%q: want the secret redacted", s)
		}
	}
}
