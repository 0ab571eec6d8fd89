// Package mcpserver serves a sandbox's tools (package workspace/tools) over
// the Model Context Protocol, with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk), so that any MCP client (Claude
// Desktop, an IDE, an agent framework) can work in the sandbox.
//
//	server, err := mcpserver.New(sb, nil)
//	if err != nil { ... }
//	err = server.Run(ctx, &mcp.StdioTransport{})
//
// Tool errors (invalid input, a refusal by the policy, a command that timed
// out, an unknown process) are tool results with isError set, which the
// model reads; an unknown tool name is a protocol error, as the MCP
// specification says. When the client sends a progress token with a call,
// command output streams as progress notifications (the output in the
// message, the bytes so far as the progress). The sandbox's instructions
// go into the server's instructions.
//
// Over HTTP the server is a remote shell: NewHTTPHandler requires a bearer
// token on every request and refuses browser origins not allowed
// explicitly.
//
// The package is part of module github.com/agentworkspace/daytona; a
// program that does not import it does not compile the MCP SDK.
package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// DefaultName is the server's name in the MCP handshake, unless
// Options.Implementation says otherwise.
const DefaultName = "daytona-mcp"

// Options configure New. The zero value (or nil) serves every tool the
// sandbox supports, as tools.New does.
type Options struct {
	// Tools configures the toolkit: which tools, their names, the output
	// budget, the policy, secrets to redact.
	Tools tools.Options
	// Implementation names the server in the handshake. Nil means
	// DefaultName, version "v0.1.0".
	Implementation *mcp.Implementation
	// Logger logs the SDK's server activity (never tool output). Nil
	// logs nothing.
	Logger *slog.Logger
}

// New returns an MCP server offering the tools of sb, with the toolkit's
// instructions (the sandbox's GetInstructions and the tools) as the
// server's instructions. It makes no request. opts may be nil. Start the
// sandbox first, so that the instructions describe it as it is.
func New(sb workspace.Sandbox, opts *Options) (*mcp.Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	kit, err := tools.New(sb, &opts.Tools)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	impl := opts.Implementation
	if impl == nil {
		impl = &mcp.Implementation{Name: DefaultName, Version: "v0.1.0"}
	}
	server := mcp.NewServer(impl, &mcp.ServerOptions{
		Instructions: kit.Instructions(),
		Logger:       opts.Logger,
		Capabilities: &mcp.ServerCapabilities{}, // no logging capability: the server sends no log messages
	})
	AddTools(server, kit)
	return server, nil
}

// AddTools registers every tool of kit on server, for a server of your
// own. Give it kit.Instructions() as instructions.
func AddTools(server *mcp.Server, kit *tools.Toolkit) {
	for _, t := range kit.Tools() {
		server.AddTool(&mcp.Tool{
			Name:         t.Name,
			Title:        t.Annotations.Title,
			Description:  t.Description,
			InputSchema:  t.InputSchema,
			OutputSchema: t.OutputSchema,
			Annotations:  annotations(t.Annotations),
		}, handler(t))
	}
}

func annotations(a tools.Annotations) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{
		Title:           a.Title,
		ReadOnlyHint:    a.ReadOnly,
		DestructiveHint: &a.Destructive,
		IdempotentHint:  a.Idempotent,
		OpenWorldHint:   &a.OpenWorld,
	}
}

// handler runs a tool for a tools/call request. The toolkit checks the
// input itself, so that the model reads the same messages (naming the
// field at fault) over MCP as elsewhere.
func handler(t *tools.Tool) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if token := req.Params.GetProgressToken(); token != nil && req.Session != nil {
			ctx = tools.WithProgress(ctx, func(p tools.Progress) {
				// A failed notification (the client went away) must not
				// fail the command; the call's own answer reports the end.
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: token, Progress: float64(p.Bytes), Message: p.Text,
				})
			})
		}
		res, err := t.Call(ctx, req.Params.Arguments)
		if res == nil {
			return nil, errors.Join(errors.New("mcpserver: "+t.Name+": no result"), err)
		}
		out := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.Text}}, IsError: res.IsError}
		if res.Structured != nil {
			out.StructuredContent = res.Structured
		}
		return out, nil
	}
}
