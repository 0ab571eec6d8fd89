package mcptest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// session is a client session with the tools' compiled schemas.
type session struct {
	t       *testing.T
	cs      *mcp.ClientSession
	in, out map[string]*jsonschema.Resolved
}

// Exercise lists the tools of the server behind cs, checks their schemas,
// and calls every one: commands (with output, failure, timeout, invalid
// input), a background process (spawn, read, kill), progress
// notifications for a command that prints while it runs, a policy
// refusal, and (with want.Files) the file tools. Every input sent and every
// structured result is validated against the tool's schemas.
func Exercise(t *testing.T, cs *mcp.ClientSession, rec *Recorder, want Want) {
	s := listTools(t, cs, want)
	s.commands()
	s.background()
	s.progress(rec)
	res := s.call("execute_command", map[string]any{"command": want.Refused})
	s.expect("policy refusal", res, true, want.RefusedText)
	if want.Files {
		s.files()
	}
	if logged := rec.Logged(); len(logged) > 0 {
		t.Errorf("the server sent log messages: %q", logged)
	}
}

func listTools(t *testing.T, cs *mcp.ClientSession, want Want) *session {
	t.Helper()
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cs: cs, in: map[string]*jsonschema.Resolved{}, out: map[string]*jsonschema.Resolved{}}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		s.in[tool.Name] = resolve(t, tool.Name+"'s input schema", tool.InputSchema)
		s.out[tool.Name] = resolve(t, tool.Name+"'s output schema", tool.OutputSchema)
		if tool.Description == "" || tool.Annotations == nil || tool.Annotations.Title == "" {
			t.Errorf("%s: no description or annotations", tool.Name)
		}
	}
	expected := []string{"execute_command", "get_process_output", "kill_process"}
	if want.Files {
		expected = append(expected, "read_file", "write_file", "edit_file", "list_files")
	}
	slices.Sort(names)
	slices.Sort(expected)
	if !slices.Equal(names, expected) {
		t.Fatalf("tools %q; want %q", names, expected)
	}
	return s
}

// call calls a tool, validating the input (unless it is meant to be
// invalid) and the structured result.
func (s *session) call(name string, args any) *mcp.CallToolResult {
	return s.callWith(&mcp.CallToolParams{Name: name, Arguments: args})
}

func (s *session) callWith(p *mcp.CallToolParams) *mcp.CallToolResult {
	s.t.Helper()
	res, err := s.cs.CallTool(s.t.Context(), p)
	if err != nil {
		s.t.Fatalf("%s(%v): %v", p.Name, p.Arguments, err)
	}
	if res.StructuredContent != nil {
		Validate(s.t, p.Name+"'s result", s.out[p.Name], res.StructuredContent)
	}
	return res
}

// expect checks a result's error flag and text.
func (s *session) expect(what string, res *mcp.CallToolResult, isError bool, wants ...string) {
	s.t.Helper()
	txt := text(res)
	if res.IsError != isError {
		s.t.Errorf("%s: isError = %v; want %v; text:\n%s", what, res.IsError, isError, txt)
	}
	for _, w := range wants {
		if !strings.Contains(txt, w) {
			s.t.Errorf("%s: text lacks %q:\n%s", what, w, txt)
		}
	}
}

// structured decodes a result's structured content.
func structured[T any](s *session, res *mcp.CallToolResult) T {
	s.t.Helper()
	var v T
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &v); err != nil {
		s.t.Fatalf("structured content %s: %v", b, err)
	}
	return v
}

func (s *session) commands() {
	in := map[string]any{"command": "echo hello; echo oops >&2; exit 3", "cwd": "/", "env": map[string]string{"A": "1"}, "timeout": 30}
	Validate(s.t, "execute_command's input", s.in["execute_command"], in)
	res := s.call("execute_command", in)
	s.expect("command", res, false, "hello\nstderr:\noops\nExit code: 3")
	if out := structured[struct{ ExitCode int }](s, res); out.ExitCode != 3 {
		s.t.Errorf("structured exit code %d", out.ExitCode)
	}
	s.expect("timeout", s.call("execute_command", map[string]any{"command": "sleep 30", "timeout": 0.2}), true, "timed out")
	s.expect("invalid input", s.call("execute_command", map[string]any{"command": "ls", "timeout": "soon"}), true,
		`field "timeout" must be a number, not string`)
	s.expect("missing field", s.call("execute_command", map[string]any{}), true, `field "command" is required`)
	s.expect("empty field", s.call("execute_command", map[string]any{"command": ""}), true, `field "command" must not be empty`)
	s.expect("bad env name", s.call("execute_command", map[string]any{"command": "env", "env": map[string]string{"NOT-A-NAME": "x"}}), true,
		`invalid input for execute_command: field "env" has the name "NOT-A-NAME"`)
	_, err := s.cs.CallTool(s.t.Context(), &mcp.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}})
	if err == nil || !strings.Contains(err.Error(), `unknown tool "no_such_tool"`) {
		s.t.Errorf("unknown tool: %v", err)
	}
}

func (s *session) background() {
	res := s.call("execute_command", map[string]any{"command": "echo started; while true; do sleep 0.05; done", "background": true})
	s.expect("background", res, false, "Started in the background with pid ")
	pid := structured[struct{ PID string }](s, res).PID
	for { // until its first line arrived; the wait bounds each round
		out := structured[struct{ Stdout string }](s, s.call("get_process_output", map[string]any{"pid": pid, "wait": 0.05}))
		if out.Stdout == "started\n" {
			break
		}
	}
	s.expect("still running", s.call("get_process_output", map[string]any{"pid": pid, "tail": 5}), false, "still running")
	s.expect("kill", s.call("kill_process", map[string]any{"pid": pid}), false, "Killed process "+pid, "exited with code 137")
	s.expect("unknown pid", s.call("get_process_output", map[string]any{"pid": "nope"}), true, `no background process with pid "nope"`)
}

// progress runs a command with a progress token that prints its first
// line, waits until the test lets it go on (another call, while this one
// is pending, creates a file), then prints four more; it checks that the
// first notification arrives while the call is pending.
func (s *session) progress(rec *Recorder) {
	const tok = "progress-1"
	gate := fmt.Sprintf("/tmp/mcptest-gate-%d-%d", os.Getpid(), time.Now().UnixNano())
	p := &mcp.CallToolParams{Name: "execute_command",
		Arguments: map[string]any{"command": "echo tick 1; until [ -e " + gate + " ]; do sleep 0.02; done; rm -f " + gate +
			"; for i in 2 3 4 5; do sleep 0.02; echo tick $i; done"}}
	p.SetProgressToken(tok)
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := s.cs.CallTool(s.t.Context(), p)
		if err != nil {
			s.t.Errorf("progress call: %v", err)
		}
		done <- res
	}()
	select {
	case <-rec.First(tok):
	case res := <-done:
		s.t.Fatalf("the result came before any progress notification: %+v", res)
	case <-time.After(deadline):
		s.t.Fatal("no progress notification")
	}
	select {
	case <-done:
		s.t.Fatal("the result came with the first notification: the command waits for the test")
	default:
	}
	s.expect("letting the command go on", s.call("execute_command", map[string]any{"command": "touch " + gate}), false, "Exit code: 0")
	res := <-done
	if res == nil {
		return
	}
	s.expect("progress result", res, false, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\nExit code: 0")
	// The last notifications may reach the client's handler after the
	// result (over HTTP they do): wait until the 35 bytes are reported.
	notes := waitProgress(rec, tok, 35)
	slices.SortFunc(notes, func(a, b *mcp.ProgressNotificationParams) int { return int(a.Progress - b.Progress) })
	var all strings.Builder
	for _, n := range notes {
		all.WriteString(n.Message)
	}
	if len(notes) < 2 || all.String() != "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n" || notes[len(notes)-1].Progress != 35 {
		s.t.Errorf("%d notifications: %q", len(notes), all.String())
	}
}

// waitProgress returns the notifications for tok once one reports total
// bytes, or after the deadline.
func waitProgress(rec *Recorder, tok string, total float64) []*mcp.ProgressNotificationParams {
	end := time.Now().Add(deadline)
	for {
		notes := rec.Progress(tok)
		if time.Now().After(end) || slices.ContainsFunc(notes, func(n *mcp.ProgressNotificationParams) bool { return n.Progress >= total }) {
			return notes
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *session) files() {
	s.expect("write", s.call("write_file", map[string]any{"path": "notes/todo.txt", "content": "one\ntwo\nthree\n"}), false, "Wrote 14 bytes")
	s.expect("read", s.call("read_file", map[string]any{"path": "notes/todo.txt", "offset": 2}), false, "     2\ttwo\n     3\tthree\n")
	s.expect("edit", s.call("edit_file", map[string]any{"path": "notes/todo.txt", "old_string": "two", "new_string": "2"}), false, "Replaced 1 occurrence")
	s.expect("list", s.call("list_files", map[string]any{"path": "notes", "recursive": true}), false, "todo.txt (12 bytes)")
	s.expect("cat", s.call("execute_command", map[string]any{"command": "cat notes/todo.txt"}), false, "one\n2\nthree\n")
	s.expect("rejected path", s.call("read_file", map[string]any{"path": "../../etc/passwd"}), true, "read_file: ")
}
