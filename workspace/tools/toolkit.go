package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/agentworkspace/daytona/workspace"
)

// Toolkit is the set of tools that let a model work in one sandbox. It is
// safe for concurrent use; calls may run in parallel.
type Toolkit struct {
	sb      workspace.Sandbox
	budget  Budget // with defaults
	policy  Policy
	secrets *secrets
	tools   []*Tool
	byName  map[string]*Tool
	names   map[string]string // default name -> name
	procs   *procTable        // background processes spawned by execute_command
}

// Tool is one tool: what a model needs to call it, and Call.
type Tool struct {
	// ID is the tool's default name, such as ExecuteCommand.
	ID string
	// Name is the name the model calls it by (Options.Names, Prefix).
	Name string
	// Description tells the model what the tool does; execute_command's
	// includes the sandbox's GetInstructions.
	Description string
	// InputSchema is the JSON Schema (draft 2020-12) of the tool's input,
	// always an object.
	InputSchema json.RawMessage
	// OutputSchema is the JSON Schema of Result.Structured.
	OutputSchema json.RawMessage
	// Annotations are hints about the tool's effects.
	Annotations Annotations

	kit    *Toolkit
	decode func(json.RawMessage) (any, error)        // checks input; returns the decoded value
	run    func(ctx context.Context, in any) *Result // runs a checked input
}

// Annotations are hints for clients about a tool's effects, as in MCP's
// tool annotations. They are hints, not guarantees.
type Annotations struct {
	// Title is a human-readable name.
	Title string
	// ReadOnly: the tool does not change its environment.
	ReadOnly bool
	// Destructive: the tool may destroy or overwrite things (meaningful
	// when not ReadOnly).
	Destructive bool
	// Idempotent: calling it again with the same input has no further
	// effect (meaningful when not ReadOnly).
	Idempotent bool
	// OpenWorld: the tool may reach outside the sandbox (the network).
	OpenWorld bool
}

// Result is the outcome of a call.
type Result struct {
	// Text is what the model reads: output shaped for its context, or what
	// went wrong.
	Text string
	// Structured is the result as JSON matching the tool's OutputSchema,
	// for programs (nil with most errors). Decode it into the tool's
	// output type, such as CommandOutput.
	Structured json.RawMessage
	// IsError reports a call that failed: invalid input, a refusal by the
	// policy, an unknown process, a file the filesystem rejects, a command
	// that timed out or could not run. Text says why, for the model to
	// correct itself.
	IsError bool
	// Err is set, with IsError, when the call failed for a reason the
	// model can do nothing about: the sandbox could not be reached,
	// refused the client, failed, or is gone. It is the sandbox's error
	// (such as a *daytona.Error, or one matching workspace.ErrNotReady);
	// Text still describes it. An adapter returns Err to its caller
	// instead of giving Text to the model. It is nil for everything a
	// model can correct: input, refusals, files that do not exist, unknown
	// processes, timeouts.
	Err error
}

// New returns the toolkit of sb. It makes no request. opts may be nil.
// execute_command's description and Instructions include
// sb.GetInstructions() as it is now: start the sandbox first, so that
// they describe it as it is (a daytona.Sandbox knows how its commands run
// only once started).
func New(sb workspace.Sandbox, opts *Options) (*Toolkit, error) {
	if sb == nil {
		return nil, errors.New("tools: New: nil sandbox")
	}
	if opts == nil {
		opts = &Options{}
	}
	_, spawner := sb.(workspace.ProcessSpawner)
	_, files := sb.(workspace.FilesystemProvider)
	supported := map[string]bool{
		ExecuteCommand: true, GetProcessOutput: spawner, KillProcess: spawner,
		ReadFile: files, WriteFile: files, EditFile: files, ListFiles: files,
	}
	ids, names, err := opts.check(supported)
	if err != nil {
		return nil, fmt.Errorf("tools: %w", err)
	}
	k := &Toolkit{
		sb: sb, budget: opts.Budget.withDefaults(), policy: opts.Policy,
		secrets: newSecrets(opts.Redact), byName: map[string]*Tool{}, names: names,
		procs: newProcTable(),
	}
	for _, id := range ids {
		t := k.build(id)
		t.ID, t.Name, t.kit = id, names[id], k
		k.tools = append(k.tools, t)
		k.byName[t.Name] = t
	}
	return k, nil
}

// build returns the tool with default name id, without its names.
func (k *Toolkit) build(id string) *Tool {
	switch id {
	case ExecuteCommand:
		return k.executeCommandTool()
	case GetProcessOutput:
		return k.getProcessOutputTool()
	case KillProcess:
		return k.killProcessTool()
	case ReadFile:
		return k.readFileTool()
	case WriteFile:
		return k.writeFileTool()
	case EditFile:
		return k.editFileTool()
	default:
		return k.listFilesTool()
	}
}

// Sandbox returns the sandbox the tools work in.
func (k *Toolkit) Sandbox() workspace.Sandbox { return k.sb }

// Budget returns the output budget of command output, with defaults
// filled in: a result's stdout begins with at most its first
// MaxLines/4 whole lines within MaxBytes/4 bytes when it is trimmed, and
// with all of it when it is not.
func (k *Toolkit) Budget() Budget { return k.budget }

// Tools returns the tools, in a fixed order: execute_command, the process
// tools, the file tools.
func (k *Toolkit) Tools() []*Tool { return append([]*Tool(nil), k.tools...) }

// Tool returns the tool the model calls name, or nil.
func (k *Toolkit) Tool(name string) *Tool { return k.byName[name] }

// Call calls the tool named name; see Tool.Call. An unknown name is a tool
// error that lists the tools.
func (k *Toolkit) Call(ctx context.Context, name string, input json.RawMessage) (*Result, error) {
	if t := k.byName[name]; t != nil {
		return t.Call(ctx, input)
	}
	known := make([]string, len(k.tools))
	for i, t := range k.tools {
		known[i] = t.Name
	}
	return k.fail(fmt.Sprintf("unknown tool %q; the tools are %s", name, strings.Join(known, ", "))), nil
}

// Instructions describes the sandbox and the tools, for a system prompt or
// an MCP server's instructions: the sandbox's GetInstructions and one
// sentence about the tools.
func (k *Toolkit) Instructions() string {
	names := make([]string, len(k.tools))
	for i, t := range k.tools {
		names[i] = t.Name
	}
	return k.secrets.replace(k.sb.GetInstructions()) +
		" Work in it with the tools " + strings.Join(names, ", ") + "."
}

// name returns the name the model sees for the tool with default name id,
// or "" when it is not offered.
func (k *Toolkit) name(id string) string { return k.names[id] }

// Call runs the tool with input, a JSON object (empty or null input means
// {}). Every failure the model can act on comes back as a Result with
// IsError set and a message naming the problem, such as the input field
// at fault. Call returns a non-nil error only when ctx ended before the
// call finished (matching ctx.Err()), together with what result there is.
// To receive a command's output as it arrives, pass a context from
// WithProgress.
func (t *Tool) Call(ctx context.Context, input json.RawMessage) (*Result, error) {
	in, err := t.decode(input)
	if err != nil {
		return t.kit.fail("invalid input for " + t.Name + ": " + err.Error()), nil
	}
	if p := t.kit.policy; p != nil {
		if err := p(ctx, Request{Tool: t.ID, Name: t.Name, Input: canonical(input)}); err != nil {
			return t.kit.fail(t.Name + " was refused: " + err.Error()), nil
		}
	}
	res := t.run(ctx, in)
	res.Text = t.kit.secrets.replace(res.Text)
	res.Structured = t.kit.redactJSON(res.Structured)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("tools: %s: %w", t.Name, err)
	}
	return res, nil
}

// canonical returns input, or {} for empty or null input.
func canonical(input json.RawMessage) json.RawMessage {
	if s := strings.TrimSpace(string(input)); s == "" || s == "null" {
		return json.RawMessage("{}")
	}
	return input
}

// fail returns a tool error with msg, redacted.
func (k *Toolkit) fail(msg string) *Result {
	return &Result{Text: k.secrets.replace(msg), IsError: true}
}

// redactJSON redacts secrets in encoded JSON, as they appear in its
// strings (escaped as the encoder escapes them).
func (k *Toolkit) redactJSON(b json.RawMessage) json.RawMessage {
	if k.secrets == nil || b == nil {
		return b
	}
	s := string(b)
	for _, sec := range k.secrets.list {
		enc, err := marshal(sec)
		if err != nil {
			continue
		}
		s = strings.ReplaceAll(s, strings.Trim(string(enc), `"`), Redacted)
	}
	return json.RawMessage(s)
}
