package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// commandOnly hides every optional capability of a sandbox.
type commandOnly struct{ workspace.Sandbox }

func names(kit *tools.Toolkit) []string {
	var out []string
	for _, t := range kit.Tools() {
		out = append(out, t.Name)
	}
	return out
}

func TestToolsFollowCapabilities(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	all := []string{"execute_command", "get_process_output", "kill_process", "read_file", "write_file", "edit_file", "list_files"}
	if got := names(newKit(t, sb, nil)); !slices.Equal(got, all) {
		t.Errorf("with processes and files: %q; want %q", got, all)
	}
	if got := names(newKit(t, withoutFiles(sb), nil)); !slices.Equal(got, all[:3]) {
		t.Errorf("processes without files: %q; want %q", got, all[:3])
	}
	kit := newKit(t, commandOnly{sb}, nil)
	if got := names(kit); !slices.Equal(got, all[:1]) {
		t.Errorf("commands only: %q", got)
	}
	if strings.Contains(string(kit.Tool("execute_command").InputSchema), "background") {
		t.Errorf("background offered without ProcessSpawner: %s", kit.Tool("execute_command").InputSchema)
	}
	want(t, call(t, kit, "execute_command", `{"command":"true","background":true}`), true, `field "background" is not available`)
}

func TestToolDefinitions(t *testing.T) {
	t.Parallel()
	sb := newFilesSandbox(t)
	kit := newKit(t, sb, nil)
	for _, tool := range kit.Tools() {
		var in, out map[string]any
		if err := json.Unmarshal(tool.InputSchema, &in); err != nil || in["type"] != "object" {
			t.Errorf("%s: input schema %s: %v", tool.Name, tool.InputSchema, err)
		}
		if err := json.Unmarshal(tool.OutputSchema, &out); err != nil || out["type"] != "object" {
			t.Errorf("%s: output schema %s: %v", tool.Name, tool.OutputSchema, err)
		}
		if tool.Description == "" || tool.Annotations.Title == "" {
			t.Errorf("%s: no description or title", tool.Name)
		}
	}
	exec := kit.Tool("execute_command")
	if !strings.Contains(exec.Description, sb.GetInstructions()) {
		t.Errorf("execute_command's description lacks the sandbox's instructions:\n%s", exec.Description)
	}
	if a := exec.Annotations; a.ReadOnly || !a.Destructive || a.Idempotent || !a.OpenWorld {
		t.Errorf("execute_command's hints: %+v", a)
	}
	if a := kit.Tool("read_file").Annotations; !a.ReadOnly || !a.Idempotent {
		t.Errorf("read_file's hints: %+v", a)
	}
	if !strings.HasPrefix(kit.Instructions(), sb.GetInstructions()) || !strings.Contains(kit.Instructions(), "list_files") {
		t.Errorf("Instructions() = %q", kit.Instructions())
	}
}

func TestOptionsNames(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit := newKit(t, sb, &tools.Options{
		Tools:  []string{tools.KillProcess, tools.ExecuteCommand, tools.GetProcessOutput},
		Names:  map[string]string{tools.ExecuteCommand: "bash"},
		Prefix: "sb_",
	})
	if got := names(kit); !slices.Equal(got, []string{"sb_bash", "sb_get_process_output", "sb_kill_process"}) {
		t.Fatalf("names %q", got)
	}
	if d := kit.Tool("sb_bash").Description; !strings.Contains(d, "sb_get_process_output") {
		t.Errorf("descriptions name tools by their new names: %s", d)
	}
	if tool := kit.Tool("sb_bash"); tool.ID != tools.ExecuteCommand {
		t.Errorf("ID = %q", tool.ID)
	}
	want(t, call(t, kit, "sb_bash", `{"command":"echo hi"}`), false, "hi\n", "Exit code: 0")
	want(t, call(t, kit, "execute_command", `{}`), true, `unknown tool "execute_command"`, "sb_bash")

	// Only execute_command: no background mode without a way to read it.
	kit = newKit(t, sb, &tools.Options{Tools: []string{tools.ExecuteCommand}})
	if strings.Contains(string(kit.Tool("execute_command").InputSchema), "background") {
		t.Error("background offered without get_process_output")
	}
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	sb := withoutFiles(newSandbox(t))
	for _, tc := range []struct {
		opts tools.Options
		want string
	}{
		{tools.Options{Tools: []string{"rm_rf"}}, `Options.Tools names "rm_rf"`},
		{tools.Options{Tools: []string{tools.ReadFile}}, "read_file, which this sandbox cannot support"},
		{tools.Options{Names: map[string]string{"nope": "x"}}, `renames "nope"`},
		{tools.Options{Names: map[string]string{tools.ExecuteCommand: "run command"}}, `tool name "run command"`},
		{tools.Options{Names: map[string]string{tools.ExecuteCommand: "kill_process"}}, `both named "kill_process"`},
		{tools.Options{Prefix: strings.Repeat("p", 120)}, "must match"},
		{tools.Options{Budget: tools.Budget{MaxBytes: 10}}, "Budget.MaxBytes is 10"},
	} {
		_, err := tools.New(sb, &tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tools: ") {
			t.Errorf("New(%+v) = %v; want an error with %q", tc.opts, err, tc.want)
		}
	}
	if _, err := tools.New(nil, nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	var seen []tools.Request
	kit := newKit(t, sb, &tools.Options{
		Prefix: "x_",
		Policy: func(ctx context.Context, req tools.Request) error {
			seen = append(seen, req)
			var in struct{ Command string }
			if err := req.Decode(&in); err != nil {
				return err
			}
			if strings.Contains(in.Command, "rm ") {
				return errors.New("deleting files needs approval")
			}
			return nil
		},
	})
	want(t, call(t, kit, "x_execute_command", `{"command":"rm -rf /tmp/x"}`), true, "x_execute_command was refused: deleting files needs approval")
	want(t, call(t, kit, "x_execute_command", `{"command":"echo allowed"}`), false, "allowed")
	want(t, call(t, kit, "x_execute_command", `{"command":7}`), true, "invalid input") // never reaches the policy
	if len(seen) != 2 || seen[0].Tool != tools.ExecuteCommand || seen[0].Name != "x_execute_command" ||
		!strings.Contains(string(seen[0].Input), "rm -rf") {
		t.Errorf("the policy saw %+v", seen)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	const secret = "sk-live-0123456789abcdef"
	var progress strings.Builder
	kit := newKit(t, sb, &tools.Options{Redact: []string{secret}})
	ctx := tools.WithProgress(t.Context(), func(p tools.Progress) { progress.WriteString(p.Text) })
	// printf in pieces, so that the secret is split across writes.
	res, err := kit.Call(ctx, "execute_command", json.RawMessage(
		`{"command":"printf 'key=sk-live-01'; sleep 0.1; printf '23456789abcdef\\n' >&2; echo $0 sk-live-0123456789abcdef >&2; exit 3"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{res.Text, string(res.Structured), progress.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, "0123456789abcdef") || !strings.Contains(s, tools.Redacted) {
			t.Errorf("not redacted: %q", s)
		}
	}
	res = call(t, kit, "execute_command", `{"command":"echo `+secret+`","cwd":"/no/such/`+secret+`"}`)
	if strings.Contains(res.Text+string(res.Structured), secret) {
		t.Errorf("not redacted: %s", res.Text)
	}
}
