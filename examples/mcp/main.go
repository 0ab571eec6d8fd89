// Mcp serves a sandbox's tools over the Model Context Protocol
// (package mcpserver) and drives the server with the MCP Go SDK's own
// client, in one process: it lists the tools, runs a command with a
// progress token (its output arrives as progress notifications), and
// starts, reads and stops a background process.
//
//	go run ./examples/mcp
//
// To serve a sandbox to Claude Desktop or an IDE, use cmd/daytona-mcp.
package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/mcpserver"
)

func main() {
	examplesupport.Main(run)
}

func run(ctx context.Context, w io.Writer) error {
	sb, cleanup, err := examplesupport.Connect(ctx, w)
	if err != nil {
		return err
	}
	defer cleanup()
	// Start first, so that the instructions the agent reads describe the
	// sandbox as it is (on the in-process Daytona: no isolation).
	if err := sb.Start(ctx); err != nil {
		return err
	}
	server, err := mcpserver.New(sb, nil)
	if err != nil {
		return err
	}

	// Connect a client and the server through an in-memory transport; a
	// real client would use stdio (mcp.CommandTransport) or HTTP.
	ct, st := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		return err
	}
	defer ss.Wait()
	var mu sync.Mutex // serializes w between progress and the main flow
	client := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "v1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "  progress: %q\n", req.Params.Message)
		},
	})
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		return err
	}
	defer cs.Close()
	fmt.Fprintf(w, "Server instructions: %s\n", cs.InitializeResult().Instructions)
	return drive(ctx, w, &mu, cs)
}

// drive lists the tools and calls them.
func drive(ctx context.Context, w io.Writer, mu *sync.Mutex, cs *mcp.ClientSession) error {
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		return err
	}
	for _, t := range list.Tools {
		fmt.Fprintf(w, "Tool: %s (read-only: %v)\n", t.Name, t.Annotations.ReadOnlyHint)
	}
	p := &mcp.CallToolParams{Name: "execute_command", Arguments: map[string]any{"command": "for i in 1 2 3; do echo step $i; sleep 0.2; done"}}
	p.SetProgressToken("run-1")
	if err := show(ctx, w, mu, cs, p); err != nil {
		return err
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_command", Arguments: map[string]any{"command": "echo serving; sleep 60", "background": true}})
	if err != nil {
		return err
	}
	pid, _ := res.StructuredContent.(map[string]any)["pid"].(string)
	for _, c := range []*mcp.CallToolParams{
		{Name: "get_process_output", Arguments: map[string]any{"pid": pid, "wait": 0.5}},
		{Name: "kill_process", Arguments: map[string]any{"pid": pid}},
		{Name: "execute_command", Arguments: map[string]any{"command": "ls", "timeout": "soon"}},
	} {
		if err := show(ctx, w, mu, cs, c); err != nil {
			return err
		}
	}
	return nil
}

// show calls a tool and prints its result.
func show(ctx context.Context, w io.Writer, mu *sync.Mutex, cs *mcp.ClientSession, p *mcp.CallToolParams) error {
	mu.Lock()
	fmt.Fprintf(w, "\n> %s %v\n", p.Name, p.Arguments)
	mu.Unlock()
	res, err := cs.CallTool(ctx, p)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if res.IsError {
		fmt.Fprint(w, "[isError] ")
	}
	fmt.Fprintln(w, res.Content[0].(*mcp.TextContent).Text)
	return nil
}
