// Agenttool shows how a Go agent framework offers a sandbox to an LLM with
// package workspace/tools: the toolkit's definitions (name, description,
// JSON Schema) go to the model, and the model's tool calls go to
// Toolkit.Call, whose text goes back to the model. No LLM is called: a
// scripted "model" makes the calls a model would make, so the example
// runs offline.
//
//	go run ./examples/agenttool
//
// The toolkit works with any workspace.Sandbox.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace/tools"
)

func main() {
	examplesupport.Main(run)
}

// ToolCall is a model's request to call a tool.
type ToolCall struct {
	Name  string
	Input json.RawMessage
}

// Model is the part of an LLM client the loop needs: given the transcript
// so far, the next tool call, or nil when it is done.
type Model interface {
	Next(transcript []string) *ToolCall
}

// scripted is a Model that makes fixed calls, as a model might.
type scripted struct{ calls []ToolCall }

func (m *scripted) Next([]string) *ToolCall {
	if len(m.calls) == 0 {
		return nil
	}
	c := m.calls[0]
	m.calls = m.calls[1:]
	return &c
}

var script = []ToolCall{
	{"execute_command", json.RawMessage(`{"command":"echo","args":["Hello from the agent"]}`)},
	{"execute_command", json.RawMessage(`{"command":"seq 1 500"}`)}, // long output, trimmed
	{"execute_command", json.RawMessage(`{"command":"echo \"$GREETING\" && cat missing.txt","env":{"GREETING":"hi"}}`)},
	{"execute_command", json.RawMessage(`{"command":"sleep 5","timeout":0.5}`)},
	{"execute_command", json.RawMessage(`{"args":["-la"]}`)}, // a mistake the model can correct
	{"execute_command", json.RawMessage(`{"command":"rm -rf /"}`)},
	{"execute_command", json.RawMessage(`{"command":"i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done","background":true}`)},
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
	kit, err := tools.New(sb, &tools.Options{
		Budget: tools.Budget{MaxLines: 10},
		Policy: func(_ context.Context, req tools.Request) error { // a deny-list
			var in struct{ Command string }
			if err := req.Decode(&in); err != nil {
				return err
			}
			if strings.Contains(in.Command, "rm -rf /") {
				return errors.New("deleting the file system is not allowed")
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	for _, t := range kit.Tools() {
		fmt.Fprintf(w, "\nTool %s: %s\nInput schema: %s\n", t.Name, firstLine(t.Description), t.InputSchema)
	}
	return loop(ctx, w, kit, &scripted{calls: script})
}

// loop is the agent loop: call the tools the model asks for and give it
// the results, until it stops.
func loop(ctx context.Context, w io.Writer, kit *tools.Toolkit, model Model) error {
	var transcript []string
	for call := model.Next(transcript); call != nil; call = model.Next(transcript) {
		fmt.Fprintf(w, "\n> %s %s\n", call.Name, call.Input)
		res, err := kit.Call(ctx, call.Name, call.Input)
		if err != nil {
			return err // ctx ended
		}
		if res.IsError {
			fmt.Fprint(w, "[tool error] ")
		}
		fmt.Fprintln(w, res.Text)
		transcript = append(transcript, res.Text)
		if call.Name == "execute_command" && strings.Contains(res.Text, "in the background with pid") {
			if err := followUp(ctx, w, kit, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// followUp reads a background process's output, then stops it, as a
// model would next.
func followUp(ctx context.Context, w io.Writer, kit *tools.Toolkit, started *tools.Result) error {
	var out tools.CommandOutput
	if err := json.Unmarshal(started.Structured, &out); err != nil {
		return err
	}
	for _, c := range []ToolCall{
		{"get_process_output", json.RawMessage(`{"pid":"` + out.PID + `","wait":1,"tail":3}`)},
		{"kill_process", json.RawMessage(`{"pid":"` + out.PID + `"}`)},
	} {
		fmt.Fprintf(w, "\n> %s %s\n", c.Name, c.Input)
		res, err := kit.Call(ctx, c.Name, c.Input)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, res.Text)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
