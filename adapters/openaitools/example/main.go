// Example runs an agent loop on the official OpenAI Go SDK with a Daytona
// sandbox's tools, given in one call (openaitools.New): the tool
// definitions go into each request, and the model's tool calls run in the
// sandbox and go back as tool messages. Without OPENAI_API_KEY the model
// is a local scripted server speaking Chat Completions, so the example
// needs no model key; with it, the model is OpenAI's (OPENAI_MODEL, or
// gpt-5.4-mini). With DAYTONA_API_KEY the sandbox is a real Daytona
// sandbox; without it, an in-process Daytona (package daytonatest) runs
// the commands on this machine.
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

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/adapters/openaitools"
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

	kit, err := openaitools.New(sb, &openaitools.Options{ // the sandbox's tools
		Progress: func(id string, p tools.Progress) { fmt.Fprintf(w, "[%s %s] %s", id, p.Stream, p.Text) },
	})
	if err != nil {
		return err
	}
	params := openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What system is the sandbox? Use the tools.")},
		Tools:    kit.ChatTools(),
	}
	for turn := 0; turn < 10; turn++ {
		completion, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			return err
		}
		msg := completion.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			fmt.Fprintln(w, "Model:", msg.Content)
			return nil
		}
		results, err := kit.CallChat(ctx, msg) // runs the calls in the sandbox
		if err != nil {
			return err
		}
		params.Messages = append(params.Messages, msg.ToParam())
		params.Messages = append(params.Messages, results...)
	}
	return fmt.Errorf("no answer after 10 turns")
}

// newClient returns an OpenAI client and model: OpenAI's with
// OPENAI_API_KEY, else a scripted local server's.
func newClient(w io.Writer) (openai.Client, string, func()) {
	if os.Getenv("OPENAI_API_KEY") != "" {
		model := os.Getenv("OPENAI_MODEL")
		if model == "" {
			model = openai.ChatModelGPT5_4Mini
		}
		return openai.NewClient(), model, func() {}
	}
	fmt.Fprintln(w, "No OPENAI_API_KEY: the model is a scripted local server.")
	srv := httptest.NewServer(http.HandlerFunc(scripted))
	return openai.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("none")), "scripted", srv.Close
}

// scripted answers Chat Completions requests as a model might: tool calls
// (one of them wrong) after the user's message, then what the tools said.
func scripted(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	message := `{"role":"assistant","tool_calls":[
		{"id":"call_1","type":"function","function":{"name":"execute_command","arguments":"{\"command\":\"uname -s; echo 6 x 7 = $((6*7))\"}"}},
		{"id":"call_2","type":"function","function":{"name":"read_file","arguments":"{\"file\":\"go.mod\"}"}}]}`
	if req.Messages[len(req.Messages)-1].Role == "tool" {
		var said []string
		for _, m := range req.Messages {
			if m.Role == "tool" {
				said = append(said, fmt.Sprint(m.Content))
			}
		}
		content, _ := json.Marshal("The tools said:\n" + strings.Join(said, "\n"))
		message = `{"role":"assistant","content":` + string(content) + `}`
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":0,"model":"scripted","choices":[{"index":0,"finish_reason":"stop","message":%s}]}`, message)
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
