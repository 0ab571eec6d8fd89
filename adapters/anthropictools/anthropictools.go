// Package anthropictools gives a sandbox's tools (package
// github.com/agentworkspace/daytona/workspace/tools) to Claude models
// called through the official Anthropic Go SDK
// (github.com/anthropics/anthropic-sdk-go/v2): the tool definitions, and a
// dispatcher that runs a message's tool_use blocks in the sandbox and
// returns tool_result blocks in the SDK's own types.
//
//	kit, err := anthropictools.New(sb, nil)
//	params.Tools = kit.Tools()
//	msg, err := client.Messages.New(ctx, params)
//	results, err := kit.Call(ctx, msg.Content) // one tool_result per tool_use
//	params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(results...))
//
// # Errors
//
// Every tool_use block gets a tool_result, since the API rejects a turn
// that leaves one unanswered. What a model can correct (invalid input, an
// unknown tool, a refusal by the policy, a file that does not exist, a
// command that timed out) is a tool_result with is_error set and a text
// that says what went wrong. Failures the model can do nothing about (the
// sandbox's service failed or cannot be reached, the sandbox is gone:
// tools.Result.Err) and the end of the context are returned as errors,
// with no results. Ending the context stops the commands running in the
// sandbox.
//
// The tool_use blocks of one message run at the same time; their results
// come in the order of the blocks. Options.Progress receives command
// output as it arrives, with the id of its tool_use block.
//
// This package is a module of its own, so that a program that does not
// use the Anthropic SDK does not build it. It cannot share a module with
// package genkittools: Genkit and the Anthropic SDK need different
// versions of github.com/invopop/jsonschema.
package anthropictools

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// Options configure New. The zero value (or nil) offers every tool the
// sandbox supports, as tools.New does.
type Options struct {
	// Tools configures the toolkit: which tools, their names, the output
	// budget, the policy hook and the secrets to redact.
	Tools tools.Options
	// Progress, if set, receives the output of commands as it arrives
	// (see tools.Progress), with the id of the tool_use block it belongs
	// to. Blocks of one message run at the same time, so it may be called
	// concurrently for different blocks; reports of one block come one at
	// a time, in order. It should return quickly.
	Progress func(toolUseID string, p tools.Progress)
}

// Toolkit is a sandbox's toolkit for Claude models. It is safe for
// concurrent use.
type Toolkit struct {
	kit      *tools.Toolkit
	progress func(toolUseID string, p tools.Progress)
	schemas  []schema // the tools' input schemas, decoded
}

// schema is a tool's input schema, split as ToolInputSchemaParam wants it.
type schema struct {
	properties any
	required   []string
	extra      map[string]any // every other keyword, such as additionalProperties
}

// New returns the toolkit of sb (tools.New(sb, &opts.Tools)) for Claude
// models. It makes no request. opts may be nil.
func New(sb workspace.Sandbox, opts *Options) (*Toolkit, error) {
	if opts == nil {
		opts = &Options{}
	}
	kit, err := tools.New(sb, &opts.Tools)
	if err != nil {
		return nil, fmt.Errorf("anthropictools: %w", err)
	}
	t := &Toolkit{kit: kit, progress: opts.Progress}
	for _, tl := range kit.Tools() {
		s, err := splitSchema(tl.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("anthropictools: the input schema of %s: %w", tl.Name, err)
		}
		t.schemas = append(t.schemas, s)
	}
	return t, nil
}

// splitSchema decodes an object schema into properties, required and the
// other keywords but type.
func splitSchema(raw json.RawMessage) (schema, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return schema{}, err
	}
	var s schema
	if err := json.Unmarshal(m["required"], &s.required); m["required"] != nil && err != nil {
		return schema{}, err
	}
	if p, ok := m["properties"]; ok {
		s.properties = p // else nil, which ToolInputSchemaParam leaves out
	}
	delete(m, "properties")
	delete(m, "required")
	delete(m, "type")
	s.extra = map[string]any{}
	for k, v := range m {
		s.extra[k] = v
	}
	return s, nil
}

// Toolkit returns the toolkit the tools come from (nil for a Toolkit not
// made by New).
func (t *Toolkit) Toolkit() *tools.Toolkit {
	if t == nil {
		return nil
	}
	return t.kit
}

// errNoToolkit is the error of the calls of a Toolkit not made by New.
var errNoToolkit = errors.New("anthropictools: a Toolkit not made by New (nil or the zero value)")

// ready reports whether t was made by New.
func (t *Toolkit) ready() bool { return t != nil && t.kit != nil }

// Tools returns the tools as client tools, for MessageNewParams.Tools:
// names, descriptions, and the toolkit's input schemas (keywords other
// than properties and required, such as additionalProperties, in
// ExtraFields).
func (t *Toolkit) Tools() []anthropic.ToolUnionParam {
	var out []anthropic.ToolUnionParam
	if !t.ready() {
		return nil
	}
	for i, tl := range t.kit.Tools() {
		s := t.schemas[i]
		extra := make(map[string]any, len(s.extra))
		for k, v := range s.extra {
			extra[k] = v
		}
		out = append(out, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name:        tl.Name,
			Description: anthropic.String(tl.Description),
			InputSchema: anthropic.ToolInputSchemaParam{
				Properties:  s.properties,
				Required:    append([]string(nil), s.required...),
				ExtraFields: extra,
			},
		}})
	}
	return out
}
