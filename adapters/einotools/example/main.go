// Example runs Eino's ReAct agent with a Daytona sandbox's tools, given in
// one call (einotools.New). The chat model is scripted, so the example
// needs no model key: it asks for the tool calls a model would, then
// answers with what the tools returned. With DAYTONA_API_KEY in the
// environment the sandbox is a real Daytona sandbox; without it, an
// in-process Daytona (package daytonatest) runs the commands on this
// machine.
//
//	go run ./example
//
// A real agent passes a chat model from github.com/cloudwego/eino-ext,
// such as its OpenAI or Claude model, instead of scripted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/flow/agent/react"
	"github.com/cloudwego/eino/schema"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/einotools"
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

	cfg, err := einotools.New(sb, nil) // the sandbox's tools, for a ToolsNode or an agent
	if err != nil {
		return err
	}
	agent, err := react.NewAgent(ctx, &react.AgentConfig{ToolCallingModel: scripted{}, ToolsConfig: cfg})
	if err != nil {
		return err
	}
	// Command output as it arrives, while the agent runs.
	ctx = tools.WithProgress(ctx, func(p tools.Progress) { fmt.Fprintf(w, "[%s] %s", p.Stream, p.Text) })
	answer, err := agent.Generate(ctx, []*schema.Message{schema.UserMessage("What system is the sandbox?")})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Agent:", answer.Content)
	return nil
}

// scripted stands in for a chat model: it calls two tools (one of them
// wrongly, as models do), then reports what they returned.
type scripted struct{}

func (scripted) Generate(_ context.Context, in []*schema.Message, _ ...model.Option) (*schema.Message, error) {
	if in[len(in)-1].Role == schema.User {
		return schema.AssistantMessage("", []schema.ToolCall{
			{ID: "1", Function: schema.FunctionCall{Name: "execute_command", Arguments: `{"command":"uname -s; echo 6 x 7 = $((6*7))"}`}},
			{ID: "2", Function: schema.FunctionCall{Name: "read_file", Arguments: `{"file":"go.mod"}`}},
		}), nil
	}
	var said []string
	for _, m := range in {
		if m.Role == schema.Tool {
			said = append(said, m.ToolName+" said: "+m.Content)
		}
	}
	return schema.AssistantMessage(strings.Join(said, "\n"), nil), nil
}

func (m scripted) Stream(ctx context.Context, in []*schema.Message, opts ...model.Option) (*schema.StreamReader[*schema.Message], error) {
	msg, err := m.Generate(ctx, in, opts...)
	return schema.StreamReaderFromArray([]*schema.Message{msg}), err
}

func (m scripted) WithTools([]*schema.ToolInfo) (model.ToolCallingChatModel, error) { return m, nil }

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
