// Package genkittools gives a sandbox's tools (package
// github.com/agentworkspace/daytona/workspace/tools) to Genkit for Go: it
// registers them as Genkit tools on a *genkit.Genkit, with the toolkit's
// names, descriptions and input schemas, for genkit.Generate and prompts:
//
//	refs, err := genkittools.Define(g, sb, nil)
//	if err != nil { ... }
//	resp, err := genkit.Generate(ctx, g, ai.WithPrompt("..."), ai.WithTools(refs...))
//
// # Errors
//
// A tool's output is the text the model reads. What a model can correct
// once its call reaches the tool (a refusal by the policy, a file that
// does not exist, a command that timed out, a field out of range) is such
// text, since Genkit fails Generate when a tool returns an error. Genkit
// itself checks a tool request's input against the tool's schema and
// resolves its name before the tool runs: input that does not match the
// schema, and a tool that does not exist, fail Generate with Genkit's
// error, and nothing runs in the sandbox. Failures the model can do
// nothing about (the sandbox's service failed or cannot be reached, the
// sandbox is gone: tools.Result.Err) and the end of the context fail
// Generate too; Genkit keeps only their message (it formats the tool's
// error with %v). Ending the context stops a running command.
//
// # Progress
//
// Genkit has no channel for a tool's progress; a context from
// tools.WithProgress given to Generate receives the output of commands as
// it arrives.
//
// This package is a module of its own, so that a program that does not
// use Genkit does not build it. It cannot share a module with package
// anthropictools: Genkit and the Anthropic SDK need different versions of
// github.com/invopop/jsonschema.
package genkittools

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/genkit"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// Define registers the tools of sb (as tools.New(sb, opts) makes them) on
// g and returns them, for ai.WithTools. opts may be nil. A name already
// registered on g is an error, and then nothing is registered.
func Define(g *genkit.Genkit, sb workspace.Sandbox, opts *tools.Options) ([]ai.ToolRef, error) {
	kit, err := tools.New(sb, opts)
	if err != nil {
		return nil, fmt.Errorf("genkittools: %w", err)
	}
	return DefineToolkit(g, kit)
}

// DefineToolkit registers kit's tools on g and returns them, in kit's
// order, for ai.WithTools. A name already registered on g is an error,
// and then nothing is registered.
func DefineToolkit(g *genkit.Genkit, kit *tools.Toolkit) ([]ai.ToolRef, error) {
	switch {
	case g == nil:
		return nil, errors.New("genkittools: nil *genkit.Genkit")
	case kit == nil:
		return nil, errors.New("genkittools: nil *tools.Toolkit")
	}
	ts := kit.Tools()
	schemas := make([]map[string]any, len(ts))
	for i, t := range ts {
		if genkit.LookupTool(g, t.Name) != nil {
			return nil, fmt.Errorf("genkittools: a tool named %s is already registered; rename the sandbox's tools with tools.Options.Prefix or Names", t.Name)
		}
		if err := json.Unmarshal(t.InputSchema, &schemas[i]); err != nil {
			return nil, fmt.Errorf("genkittools: the input schema of %s: %w", t.Name, err)
		}
	}
	refs := make([]ai.ToolRef, len(ts))
	for i, t := range ts {
		refs[i] = genkit.DefineTool(g, t.Name, t.Description, run(t), ai.WithInputSchema(schemas[i]))
	}
	return refs, nil
}

// run returns the function of tool t: it passes the input Genkit checked
// on to the toolkit and returns the text for the model.
func run(t *tools.Tool) ai.ToolFunc[any, string] {
	return func(tc *ai.ToolContext, input any) (string, error) {
		in, err := json.Marshal(input)
		if err != nil { // Genkit decoded it from JSON
			return "", fmt.Errorf("genkittools: %s: encode the input: %w", t.Name, err)
		}
		res, err := t.Call(tc.Context, in)
		if err != nil {
			return "", fmt.Errorf("genkittools: %w", err)
		}
		if res.Err != nil {
			return "", fmt.Errorf("genkittools: %s: %w", t.Name, res.Err)
		}
		return res.Text, nil
	}
}
