package mcpserver_test

import (
	"os/user"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/mcptest"
	"github.com/agentworkspace/daytona/mcpserver"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// TestInMemory drives the server with the SDK's client over an in-memory
// transport: every tool, schemas, progress, a policy refusal.
func TestInMemory(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	cs, rec := connect(t, newServer(t, sb, true))
	init := cs.InitializeResult()
	if init.ServerInfo.Name != mcpserver.DefaultName || !strings.HasPrefix(init.Instructions, "Cloud sandbox with isolated execution") ||
		!strings.Contains(init.Instructions, "execute_command") {
		t.Errorf("handshake: %+v, instructions %q", init.ServerInfo, init.Instructions)
	}
	//lint:ignore SA1019 the server must not claim the (deprecated) logging capability
	if init.Capabilities.Logging != nil {
		t.Error("the server claims the logging capability")
	}
	mcptest.Exercise(t, cs, rec, mcptest.Want{Files: true, Refused: "echo forbidden", RefusedText: "execute_command was refused: this command is forbidden here"})
}

func TestWithoutFiles(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	cs, rec := connect(t, newServer(t, sb, false))
	mcptest.Exercise(t, cs, rec, mcptest.Want{Refused: "forbidden", RefusedText: "was refused"})
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	_, err := mcpserver.New(withoutFiles(sb), &mcpserver.Options{Tools: tools.Options{Tools: []string{tools.ReadFile}}})
	if err == nil || !strings.HasPrefix(err.Error(), "mcpserver: tools: ") {
		t.Errorf("New with an unsupported tool: %v", err)
	}
}

// TestInstructionsOfAStartedSandbox: the instructions the agent reads
// (the server's, and execute_command's description) describe the
// sandbox it has: on daytonatest, no isolation and the user running it.
func TestInstructionsOfAStartedSandbox(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	if err := sb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := connect(t, newServer(t, sb, true))
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"server instructions": cs.InitializeResult().Instructions}
	for _, tool := range tools.Tools {
		if tool.Name == "execute_command" {
			texts["execute_command"] = tool.Description
		}
	}
	for what, text := range texts {
		if !strings.Contains(text, "Sandbox without isolation (typescript runtime): commands run directly on the host machine") ||
			!strings.Contains(text, "Running as user: "+me.Username+".") || strings.Contains(text, "isolated execution") {
			t.Errorf("%s: %s", what, text)
		}
	}
	if len(texts) != 2 {
		t.Errorf("no execute_command in %+v", tools.Tools)
	}
}
