// Example runs Genkit's generate loop with a Daytona sandbox's tools,
// registered in one call (genkittools.Define). The model is scripted, so
// the example needs no model key: it asks for the tool calls a model
// would, then answers with what the tools returned. With DAYTONA_API_KEY
// in the environment the sandbox is a real Daytona sandbox; without it, an
// in-process Daytona (package daytonatest) runs the commands on this
// machine.
//
//	go run ./example
//
// A real application passes a model from a Genkit plugin, such as
// googlegenai's, instead of scripted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/genkit"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/genkittools"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	sb, cleanup, err := newSandbox(w)
	if err != nil {
		return err
	}
	defer cleanup()

	g := genkit.Init(ctx)
	refs, err := genkittools.Define(g, sb, nil) // the sandbox's tools, registered on g
	if err != nil {
		return err
	}
	// Command output as it arrives, while Generate runs.
	ctx = tools.WithProgress(ctx, func(p tools.Progress) { fmt.Fprintf(w, "[%s] %s", p.Stream, p.Text) })
	resp, err := genkit.Generate(ctx, g,
		ai.WithModel(defineScripted(g)),
		ai.WithPrompt("What system is the sandbox?"),
		ai.WithTools(refs...))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Model:", resp.Text())
	return nil
}

// defineScripted defines a model that stands in for a real one: it calls
// two tools, then reports what they returned.
func defineScripted(g *genkit.Genkit) ai.Model {
	return genkit.DefineModel(g, "example/scripted", &ai.ModelOptions{Supports: &ai.ModelSupports{Tools: true, Multiturn: true}},
		func(_ context.Context, req *ai.ModelRequest, _ ai.ModelStreamCallback) (*ai.ModelResponse, error) {
			last := req.Messages[len(req.Messages)-1]
			if last.Role == ai.RoleUser {
				return &ai.ModelResponse{Message: ai.NewModelMessage(
					ai.NewToolRequestPart(&ai.ToolRequest{Ref: "1", Name: "execute_command", Input: map[string]any{"command": "uname -s; echo 6 x 7 = $((6*7))"}}),
					ai.NewToolRequestPart(&ai.ToolRequest{Ref: "2", Name: "read_file", Input: map[string]any{"path": "no-such-file"}}),
				)}, nil
			}
			var said []string
			for _, p := range last.Content {
				if p.IsToolResponse() {
					said = append(said, fmt.Sprintf("%s said: %v", p.ToolResponse.Name, p.ToolResponse.Output))
				}
			}
			return &ai.ModelResponse{Message: ai.NewModelTextMessage(strings.Join(said, "\n"))}, nil
		})
}

// newSandbox returns a sandbox on Daytona when DAYTONA_API_KEY is set,
// else on an in-process Daytona, and a function that removes it.
func newSandbox(w io.Writer) (*daytona.Sandbox, func(), error) {
	var opts []daytona.Option
	var srv *daytonatest.Server
	if os.Getenv("DAYTONA_API_KEY") == "" {
		var err error
		if srv, err = daytonatest.Run(); err != nil {
			return nil, nil, err
		}
		opts = append(opts, daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
		fmt.Fprintln(w, "No DAYTONA_API_KEY: commands run on this machine, in an in-process Daytona.")
	}
	sb, err := daytona.New(opts...)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return sb, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sb.Destroy(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "warning:", err)
		}
		srv.Close()
	}, nil
}
