package mcpserver_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentworkspace/daytona/internal/mcptest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// inferred returns the schema the MCP SDK infers for T by reflection, as
// mcp.AddTool does.
func inferred[T any](t *testing.T) (*jsonschema.Schema, *jsonschema.Resolved) {
	t.Helper()
	s, err := jsonschema.For[T](nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

// TestWorkspaceTypesMatchInferredSchemas validates real results of a
// daytona.Sandbox (on daytonatest) against the schemas reflection infers
// for the workspace types.
func TestWorkspaceTypesMatchInferredSchemas(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	ctx := t.Context()
	_, resultSchema := inferred[workspace.CommandResult](t)
	for _, c := range []struct {
		cmd  string
		args []string
		opts *workspace.ExecOptions
	}{
		{"echo hello", nil, nil},
		{"printf '%s' 'a && b <c>'; exit 3", []string{"x"}, nil},
		{"seq 1 1000", nil, &workspace.ExecOptions{MaxRetainedBytes: 100}},
		{"sleep 10", nil, &workspace.ExecOptions{Timeout: 100 * time.Millisecond}},
	} {
		res, err := sb.ExecuteCommand(ctx, c.cmd, c.args, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		mcptest.Validate(t, "CommandResult of "+c.cmd, resultSchema, res)
	}

	info, err := sb.GetInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, infoSchema := inferred[workspace.Info](t)
	mcptest.Validate(t, "Info", infoSchema, info)

	proc, err := sb.Processes().Spawn(ctx, "exit 4", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := proc.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mcptest.Validate(t, "a process's CommandResult", resultSchema, res)
	list, err := sb.Processes().List(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("List: %v %v", list, err)
	}
	_, procSchema := inferred[[]workspace.ProcessInfo](t)
	mcptest.Validate(t, "[]ProcessInfo", procSchema, list)
}

// TestExecuteCommandWithAddTool is the new user's first try: the
// SDK's generic AddTool with *workspace.CommandResult as the output type.
// Before CommandResult had JSON tags, every call failed with "unexpected
// additional properties".
func TestExecuteCommandWithAddTool(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	server := mcp.NewServer(&mcp.Implementation{Name: "mine", Version: "v1"}, nil)
	type in struct {
		Command string `json:"command"`
	}
	mcp.AddTool(server, &mcp.Tool{Name: "run", Description: sb.GetInstructions()},
		func(ctx context.Context, _ *mcp.CallToolRequest, in in) (*mcp.CallToolResult, *workspace.CommandResult, error) {
			res, err := sb.ExecuteCommand(ctx, in.Command, nil, nil)
			return nil, res, err
		})
	cs, _ := connect(t, server)
	for _, cmd := range []string{"echo hi", "exit 2", "echo '<&>' >&2"} {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "run", Arguments: map[string]any{"command": cmd}})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError {
			t.Fatalf("%s: %v", cmd, res.Content[0].(*mcp.TextContent).Text)
		}
		var got workspace.CommandResult
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &got); err != nil || got.Command != cmd {
			t.Errorf("%s: structured %s: %v", cmd, b, err)
		}
	}
}

// TestOutputSchemasMatchTypes checks that each tool's hand-written output
// schema lists the same properties, and requires the same ones, as the
// schema reflection infers for its output type.
func TestOutputSchemasMatchTypes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	kit, err := tools.New(sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]*jsonschema.Schema{}
	types[tools.ExecuteCommand], _ = inferred[tools.CommandOutput](t)
	types[tools.GetProcessOutput], _ = inferred[tools.ProcessOutput](t)
	types[tools.KillProcess] = types[tools.GetProcessOutput]
	types[tools.ReadFile], _ = inferred[tools.FileContent](t)
	types[tools.WriteFile], _ = inferred[tools.FileWritten](t)
	types[tools.EditFile], _ = inferred[tools.FileEdited](t)
	types[tools.ListFiles], _ = inferred[tools.FileList](t)
	for _, tool := range kit.Tools() {
		var hand jsonschema.Schema
		if err := json.Unmarshal(tool.OutputSchema, &hand); err != nil {
			t.Fatal(err)
		}
		want := types[tool.ID]
		if got, w := slices.Sorted(maps.Keys(hand.Properties)), slices.Sorted(maps.Keys(want.Properties)); !slices.Equal(got, w) {
			t.Errorf("%s: properties %q; the type has %q", tool.ID, got, w)
		}
		if got, w := slices.Sorted(slices.Values(hand.Required)), slices.Sorted(slices.Values(want.Required)); !slices.Equal(got, w) {
			t.Errorf("%s: required %q; the type requires %q", tool.ID, got, w)
		}
	}
}
