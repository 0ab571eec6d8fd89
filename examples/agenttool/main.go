// Agenttool shows how a Go agent framework offers a sandbox to an LLM as a
// tool: a JSON-schema tool definition whose description is the sandbox's
// GetInstructions, and a handler that turns a tool call into ExecuteCommand
// and the result into JSON. No LLM is called: the example feeds the
// handler canned tool calls, as a model would send them.
//
//	go run ./examples/agenttool
//
// The tool is written against workspace.Sandbox, so it works with any
// provider.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
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

// Tool is a function tool in the shape LLM APIs accept: a name, a
// description the model reads, and the JSON schema of its input.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Handler runs one tool call. Its input is the model's JSON arguments; its
// output is the JSON the model gets back. Mistakes the model can fix (bad
// input) come back as a JSON result with an "error" field; a Go error means
// the call could not be served at all (the sandbox failed, or ctx ended).
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// executeCommandSchema is the JSON schema of the tool's input.
const executeCommandSchema = `{
  "type": "object",
  "properties": {
    "command": {"type": "string", "description": "Shell command to run, such as \"ls\" or \"npm test\"."},
    "args": {"type": "array", "items": {"type": "string"}, "description": "Arguments, each passed as one word (quoted for the shell)."},
    "cwd": {"type": "string", "description": "Working directory; the sandbox's default if omitted."},
    "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra environment variables."},
    "timeout_seconds": {"type": "number", "description": "Kill the command after this many seconds; the sandbox's default if omitted."}
  },
  "required": ["command"],
  "additionalProperties": false
}`

// executeCommandInput is the decoded input of a tool call.
type executeCommandInput struct {
	Command        string            `json:"command"`
	Args           []string          `json:"args"`
	Cwd            string            `json:"cwd"`
	Env            map[string]string `json:"env"`
	TimeoutSeconds *float64          `json:"timeout_seconds"`
}

// ExecuteCommandTool returns the "execute_command" tool of sb and its
// handler.
func ExecuteCommandTool(sb workspace.Sandbox) (Tool, Handler) {
	tool := Tool{
		Name:        "execute_command",
		Description: sb.GetInstructions(),
		Parameters:  json.RawMessage(executeCommandSchema),
	}
	handler := func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var in executeCommandInput
		dec := json.NewDecoder(bytes.NewReader(input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return errorResult("invalid arguments: " + err.Error())
		}
		if in.Command == "" {
			return errorResult(`invalid arguments: "command" is required`)
		}
		opts := &workspace.ExecOptions{Cwd: in.Cwd, Env: in.Env}
		if t := in.TimeoutSeconds; t != nil {
			if *t <= 0 || math.IsInf(*t, 0) || math.IsNaN(*t) || *t > 24*60*60 {
				return errorResult(`invalid arguments: "timeout_seconds" must be a positive number of seconds, at most one day`)
			}
			opts.Timeout = time.Duration(*t * float64(time.Second))
		}
		res, err := sb.ExecuteCommand(ctx, in.Command, in.Args, opts)
		switch {
		case errors.Is(err, daytona.ErrInvalidInput):
			// Input the sandbox refused before running anything, such as an
			// environment variable name no shell accepts: the model can fix
			// it. (Other providers have their own sentinel for this.)
			return errorResult(err.Error())
		case err != nil:
			return nil, err
		}
		// A non-zero exit code or a timeout is a result for the model to
		// read, in Mastra's shape: success, exitCode, stdout, stderr, ...
		return marshal(res)
	}
	return tool, handler
}

// marshal encodes v as JSON without escaping <, > and & (json.Marshal
// would turn "a && b" into "a \u0026\u0026 b": valid, but harder for a
// model to read, and more tokens).
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// errorResult is what the model gets back for a call it can fix.
func errorResult(msg string) (json.RawMessage, error) {
	return marshal(struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}{false, msg})
}

// calls are tool calls as a model would make them, and what each must do.
var calls = []struct {
	input   string
	success bool // the command must succeed (else: must fail, or be refused)
	refused bool // the handler must refuse the input
}{
	{input: `{"command":"echo","args":["Hello from the agent"]}`, success: true},
	{input: `{"command":"ls","args":["-la"],"cwd":"/tmp","timeout_seconds":10}`, success: true},
	{input: `{"command":"echo \"$GREETING\" && cat missing.txt","env":{"GREETING":"hi"}}`},
	{input: `{"args":["-la"]}`, refused: true},
}

func run(ctx context.Context, w io.Writer) error {
	sb, cleanup, err := examplesupport.Connect(ctx, w)
	if err != nil {
		return err
	}
	defer cleanup()

	tool, handle := ExecuteCommandTool(sb)
	def, err := json.MarshalIndent(tool, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nTool definition:\n%s\n", def)

	for i, call := range calls {
		fmt.Fprintf(w, "\nTool call %d: %s\n", i+1, call.input)
		out, err := handle(ctx, json.RawMessage(call.input))
		if err != nil {
			return fmt.Errorf("tool call %d: %w", i+1, err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, out, "", "  "); err != nil {
			return err
		}
		fmt.Fprintf(w, "Result:\n%s\n", pretty.Bytes())

		var res struct {
			Success bool    `json:"success"`
			Error   *string `json:"error"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			return err
		}
		if res.Success != call.success || (res.Error != nil) != call.refused {
			return fmt.Errorf("tool call %d: got success %v, error %v; want success %v, refused %v",
				i+1, res.Success, res.Error != nil, call.success, call.refused)
		}
	}
	return nil
}
