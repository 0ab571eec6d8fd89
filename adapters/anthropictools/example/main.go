// Example runs an agent loop on the official Anthropic Go SDK with a
// Daytona sandbox's tools, given in one call (anthropictools.New): the
// tool definitions go into each request, and Claude's tool_use blocks run
// in the sandbox and go back as tool_result blocks. Without
// ANTHROPIC_API_KEY the model is a local scripted server speaking the
// Messages API, so the example needs no model key; with it, the model is
// Claude (ANTHROPIC_MODEL, or claude-haiku-4-5). With DAYTONA_API_KEY the
// sandbox is a real Daytona sandbox; without it, an in-process Daytona
// (package daytonatest) runs the commands on this machine.
//
//	go run ./example
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/anthropictools"
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
	client, model, closeModel := newClient(w)
	defer closeModel()

	kit, err := anthropictools.New(sb, &anthropictools.Options{ // the sandbox's tools
		Progress: func(id string, p tools.Progress) { fmt.Fprintf(w, "[%s %s] %s", id, p.Stream, p.Text) },
	})
	if err != nil {
		return err
	}
	params := anthropic.MessageNewParams{
		Model:     model,
		MaxTokens: 2048,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What system is the sandbox? Use the tools."))},
		Tools:     kit.Tools(),
	}
	for turn := 0; turn < 10; turn++ {
		msg, err := client.Messages.New(ctx, params)
		if err != nil {
			return err
		}
		if msg.StopReason != anthropic.StopReasonToolUse {
			for _, b := range msg.Content {
				fmt.Fprintln(w, "Claude:", b.Text)
			}
			return nil
		}
		results, err := kit.Call(ctx, msg.Content) // runs the tool_use blocks in the sandbox
		if err != nil {
			return err
		}
		params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(results...))
	}
	return fmt.Errorf("no answer after 10 turns")
}

// newClient returns an Anthropic client and model: Anthropic's with
// ANTHROPIC_API_KEY, else a scripted local server's.
func newClient(w io.Writer) (anthropic.Client, anthropic.Model, func()) {
	if os.Getenv("ANTHROPIC_API_KEY") != "" {
		model := anthropic.Model(os.Getenv("ANTHROPIC_MODEL"))
		if model == "" {
			model = anthropic.ModelClaudeHaiku4_5
		}
		return anthropic.NewClient(), model, func() {}
	}
	fmt.Fprintln(w, "No ANTHROPIC_API_KEY: the model is a scripted local server.")
	srv := httptest.NewServer(http.HandlerFunc(scripted))
	return anthropic.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("none")), "scripted", srv.Close
}

// scripted answers Messages requests as Claude might: tool_use blocks
// (one of them wrong) after the user's message, then what the tools said.
func scripted(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				Type    string `json:"type"`
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	stop, content := "tool_use", `[{"type":"text","text":"Let me look."},
		{"type":"tool_use","id":"toolu_1","name":"execute_command","input":{"command":"uname -s; echo 6 x 7 = $((6*7))"}},
		{"type":"tool_use","id":"toolu_2","name":"read_file","input":{"file":"go.mod"}}]`
	if last := req.Messages[len(req.Messages)-1]; len(last.Content) > 0 && last.Content[0].Type == "tool_result" {
		var said []string
		for _, b := range last.Content {
			for _, c := range b.Content {
				said = append(said, c.Text)
			}
		}
		text, _ := json.Marshal("The tools said:\n" + strings.Join(said, "\n"))
		stop, content = "end_turn", `[{"type":"text","text":`+string(text)+`}]`
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"msg","type":"message","role":"assistant","model":"scripted","stop_reason":%q,"stop_sequence":null,
		"usage":{"input_tokens":0,"output_tokens":0},"content":%s}`, stop, content)
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
