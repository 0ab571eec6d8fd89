// Package openaitools gives a sandbox's tools (package
// github.com/agentworkspace/daytona/workspace/tools) to models called
// through the official OpenAI Go SDK (github.com/openai/openai-go/v3),
// with Chat Completions or with Responses: the tool definitions, and a
// dispatcher that runs the model's tool calls in the sandbox and returns
// the tool results in the SDK's own types, ready for the next request.
//
//	kit, err := openaitools.New(sb, nil)
//	params.Tools = kit.ChatTools()
//	completion, err := client.Chat.Completions.New(ctx, params)
//	msg := completion.Choices[0].Message
//	results, err := kit.CallChat(ctx, msg) // one tool message per call
//	params.Messages = append(params.Messages, msg.ToParam())
//	params.Messages = append(params.Messages, results...)
//
// With Responses, ResponseTools gives the definitions and CallResponses
// turns a response's function calls into function_call_output items.
//
// # Errors
//
// Every tool call gets a result, since both APIs reject a turn that leaves
// one unanswered. What a model can correct (malformed or invalid
// arguments, an unknown tool, a refusal by the policy, a file that does
// not exist, a command that timed out) is the result's text. Failures the
// model can do nothing about (the sandbox's service failed or cannot be
// reached, the sandbox is gone: tools.Result.Err) and the end of the
// context are returned as errors, with no results. Ending the context
// stops the commands running in the sandbox.
//
// The calls of one turn run at the same time; their results come in the
// order of the calls. Options.Progress receives command output as it
// arrives, with the id of its call.
//
// This package is a module of its own, so that a program that does not
// use the OpenAI SDK does not build it.
package openaitools

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

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
	// (see tools.Progress), with the id of the tool call it belongs to.
	// Calls of one turn run at the same time, so it may be called
	// concurrently for different calls; reports of one call come one at a
	// time, in order. It should return quickly.
	Progress func(callID string, p tools.Progress)
}

// Toolkit is a sandbox's toolkit for OpenAI models. It is safe for
// concurrent use.
type Toolkit struct {
	kit      *tools.Toolkit
	progress func(callID string, p tools.Progress)
	schemas  []map[string]any // the tools' input schemas, decoded
}

// New returns the toolkit of sb (tools.New(sb, &opts.Tools)) for OpenAI
// models. It makes no request. opts may be nil.
func New(sb workspace.Sandbox, opts *Options) (*Toolkit, error) {
	if opts == nil {
		opts = &Options{}
	}
	kit, err := tools.New(sb, &opts.Tools)
	if err != nil {
		return nil, fmt.Errorf("openaitools: %w", err)
	}
	t := &Toolkit{kit: kit, progress: opts.Progress}
	for _, tl := range kit.Tools() {
		var s map[string]any
		if err := json.Unmarshal(tl.InputSchema, &s); err != nil {
			return nil, fmt.Errorf("openaitools: the input schema of %s: %w", tl.Name, err)
		}
		t.schemas = append(t.schemas, s)
	}
	return t, nil
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
var errNoToolkit = errors.New("openaitools: a Toolkit not made by New (nil or the zero value)")

// ready reports whether t was made by New.
func (t *Toolkit) ready() bool { return t != nil && t.kit != nil }

// ChatTools returns the tools as Chat Completions function tools, for
// ChatCompletionNewParams.Tools. Their parameters are the toolkit's JSON
// Schemas; strict mode is off, since those schemas have optional fields.
func (t *Toolkit) ChatTools() []openai.ChatCompletionToolUnionParam {
	var out []openai.ChatCompletionToolUnionParam
	if !t.ready() {
		return nil
	}
	for i, tl := range t.kit.Tools() {
		out = append(out, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        tl.Name,
			Description: openai.String(tl.Description),
			Parameters:  clone(t.schemas[i]),
		}))
	}
	return out
}

// ResponseTools returns the tools as Responses function tools, for
// ResponseNewParams.Tools, with strict mode off as for ChatTools.
func (t *Toolkit) ResponseTools() []responses.ToolUnionParam {
	var out []responses.ToolUnionParam
	if !t.ready() {
		return nil
	}
	for i, tl := range t.kit.Tools() {
		u := responses.ToolParamOfFunction(tl.Name, clone(t.schemas[i]), false)
		u.OfFunction.Description = openai.String(tl.Description)
		out = append(out, u)
	}
	return out
}

// clone copies a decoded schema, so that a caller who changes the
// parameters of one request changes no other.
func clone(s map[string]any) map[string]any {
	b, _ := json.Marshal(s) // decoded from JSON: it encodes
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	return c
}
