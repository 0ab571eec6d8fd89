// Package einotools gives a sandbox's tools (package
// github.com/agentworkspace/daytona/workspace/tools) to CloudWeGo Eino
// agents: each tool is an Eino tool.InvokableTool, and execute_command is
// also a tool.StreamableTool that streams the command's output as it
// arrives. New returns a compose.ToolsNodeConfig ready for
// compose.NewToolNode and for the ReAct agent (flow/agent/react):
//
//	cfg, err := einotools.New(sb, nil)
//	if err != nil { ... }
//	agent, err := react.NewAgent(ctx, &react.AgentConfig{ToolCallingModel: chatModel, ToolsConfig: cfg})
//
// # Errors
//
// What a model can correct (invalid arguments, a refusal by the policy, a
// file that does not exist, a command that timed out, a tool that does
// not exist) is the tool's result, text the model reads, since Eino's
// ToolsNode fails the whole node when a tool returns an error. Failures
// the model can do nothing about (the sandbox's service failed or cannot
// be reached, the sandbox is gone: tools.Result.Err) and the end of the
// context are errors, which stop the node and reach the caller. Ending
// the context stops a running command in the sandbox.
//
// # Progress
//
// Run in streaming mode (ToolsNode.Stream, the agent's Stream),
// execute_command streams the first lines of the command's standard
// output as they arrive, then the rest of its result when it ends; the
// chunks join up to exactly the text InvokableRun returns. In either
// mode, a context from tools.WithProgress given to the node or agent
// receives all of the output as it arrives (InvokableRun passes it on).
//
// This package is a module of its own, so that a program that does not
// use Eino does not build it.
package einotools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/schema"
	"github.com/eino-contrib/jsonschema"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// New returns the configuration of a ToolsNode with the tools of sb (as
// tools.New(sb, opts) makes them): see Config. opts may be nil.
func New(sb workspace.Sandbox, opts *tools.Options) (compose.ToolsNodeConfig, error) {
	kit, err := tools.New(sb, opts)
	if err != nil {
		return compose.ToolsNodeConfig{}, fmt.Errorf("einotools: %w", err)
	}
	return Config(kit), nil
}

// Config returns the configuration of a ToolsNode with kit's tools
// (Tools) and an UnknownToolsHandler that answers a call of a tool that
// does not exist with a message naming the tools, for the model to correct
// itself, instead of failing the node. A nil kit has no tools.
func Config(kit *tools.Toolkit) compose.ToolsNodeConfig {
	var ts []*tools.Tool
	if kit != nil {
		ts = kit.Tools()
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	known := strings.Join(names, ", ")
	return compose.ToolsNodeConfig{
		Tools: Tools(kit),
		UnknownToolsHandler: func(_ context.Context, name, _ string) (string, error) {
			return fmt.Sprintf("unknown tool %q; the tools are %s", name, known), nil
		},
	}
}

// Tools returns kit's tools as Eino tools, in kit's order: each a
// tool.InvokableTool, and execute_command also a tool.StreamableTool.
// A nil kit has none.
func Tools(kit *tools.Toolkit) []tool.BaseTool {
	var out []tool.BaseTool
	if kit == nil {
		return nil
	}
	for _, t := range kit.Tools() {
		it := newInvokable(t)
		if t.ID == tools.ExecuteCommand {
			out = append(out, &streamable{invokable: it, budget: kit.Budget()})
			continue
		}
		out = append(out, it)
	}
	return out
}

// invokable is one tool of a toolkit as an Eino tool.
type invokable struct {
	tool    *tools.Tool
	info    schema.ToolInfo
	infoErr error
}

var _ tool.InvokableTool = (*invokable)(nil)

func newInvokable(t *tools.Tool) *invokable {
	it := &invokable{tool: t, info: schema.ToolInfo{Name: t.Name, Desc: t.Description}}
	var s jsonschema.Schema
	if err := json.Unmarshal(t.InputSchema, &s); err != nil {
		it.infoErr = fmt.Errorf("einotools: the input schema of %s: %w", t.Name, err)
	}
	it.info.ParamsOneOf = schema.NewParamsOneOfByJSONSchema(&s)
	return it
}

// Info describes the tool to a model: its name, description and input
// schema, the toolkit's.
func (t *invokable) Info(context.Context) (*schema.ToolInfo, error) {
	if t.infoErr != nil {
		return nil, t.infoErr
	}
	info := t.info
	return &info, nil
}

// InvokableRun calls the tool with the model's arguments and returns the
// text for the model; tool errors are such text. It returns an error only
// for an infrastructure failure (tools.Result.Err) or when ctx ended.
func (t *invokable) InvokableRun(ctx context.Context, argumentsInJSON string, _ ...tool.Option) (string, error) {
	res, err := t.tool.Call(ctx, json.RawMessage(argumentsInJSON))
	if err != nil {
		return "", fmt.Errorf("einotools: %w", err)
	}
	if res.Err != nil {
		return "", fmt.Errorf("einotools: %s: %w", t.tool.Name, res.Err)
	}
	return res.Text, nil
}
