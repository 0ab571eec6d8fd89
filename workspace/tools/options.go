package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
)

// The tools' default names. Options.Names and Options.Prefix change the
// names the model sees; Tool.ID keeps the default.
const (
	ExecuteCommand   = "execute_command"
	GetProcessOutput = "get_process_output"
	KillProcess      = "kill_process"
	ReadFile         = "read_file"
	WriteFile        = "write_file"
	EditFile         = "edit_file"
	ListFiles        = "list_files"
)

// allTools lists the default names in the order Tools returns them.
var allTools = []string{ExecuteCommand, GetProcessOutput, KillProcess, ReadFile, WriteFile, EditFile, ListFiles}

// Options configure New. The zero value (or nil) offers every tool the
// sandbox supports under its default name, with the default output budget,
// no policy and nothing redacted.
type Options struct {
	// Tools lists the tools to offer, by default name (ExecuteCommand, ...).
	// Empty means every tool the sandbox supports: execute_command always;
	// get_process_output and kill_process when it implements
	// workspace.ProcessSpawner; the file tools when it implements
	// workspace.FilesystemProvider. Naming a tool the sandbox cannot
	// support is an error.
	Tools []string
	// Names renames tools: it maps a default name to the name the model
	// sees. Unlisted tools keep their default name.
	Names map[string]string
	// Prefix is put before every name (after Names), such as "sandbox_".
	// Names must match [A-Za-z0-9_.-]{1,128}, as MCP requires.
	Prefix string
	// Budget bounds each stream of command output shown to the model.
	Budget Budget
	// Policy, if set, is called before every call; see Policy.
	Policy Policy
	// Redact lists secrets (such as API keys) that are replaced with
	// Redacted wherever they would appear in a result or progress report:
	// output, file contents, error messages. Empty strings are ignored.
	// This catches accidents (a command printing the environment); it is
	// no security boundary, since a command can print a secret encoded.
	Redact []string
}

// String describes the options without the secrets of Redact, which it
// counts.
func (o Options) String() string {
	return fmt.Sprintf("tools.Options{Tools: %q, Names: %q, Prefix: %q, Budget: %+v, Policy: %t, Redact: %d secrets}",
		o.Tools, o.Names, o.Prefix, o.Budget, o.Policy != nil, len(o.Redact))
}

// Format prints the options as String does whatever the verb, so that no
// verb (%#v, %d, ...) reaches the secrets of Redact.
func (o Options) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, o.String()) }

// LogValue makes slog print the options as String does.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Policy decides whether a call may run. It is called before every call,
// after the input was checked against the tool's schema, with the tool's
// name and input. A non-nil error refuses the call: the model gets a tool
// error with the error's message, and nothing runs. Use it for approval
// flows (ask a person, with ctx bounding the wait) and deny-lists.
// It may be called concurrently.
type Policy func(ctx context.Context, req Request) error

// Request is a tool call, as a Policy sees it.
type Request struct {
	// Tool is the tool's default name, such as ExecuteCommand, whatever it
	// is called.
	Tool string
	// Name is the name the model called it by.
	Name string
	// Input is the call's input, a JSON object valid for the tool.
	Input json.RawMessage
}

// Decode decodes the input into v, such as a struct with a Command field
// tagged `json:"command"`.
func (r Request) Decode(v any) error { return json.Unmarshal(r.Input, v) }

// validName is the MCP rule for tool names.
var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// check validates opts against the tools the sandbox supports and returns
// the default names to offer, in order, and their final names.
func (o *Options) check(supported map[string]bool) ([]string, map[string]string, error) {
	if err := o.Budget.validate(); err != nil {
		return nil, nil, err
	}
	for id := range o.Names {
		if !slices.Contains(allTools, id) {
			return nil, nil, fmt.Errorf("Options.Names renames %q, which is no tool; the tools are %q", id, allTools)
		}
	}
	ids, err := o.chosen(supported)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(ids))
	seen := map[string]string{}
	for _, id := range ids {
		name := id
		if n, ok := o.Names[id]; ok {
			name = n
		}
		name = o.Prefix + name
		if !validName.MatchString(name) {
			return nil, nil, fmt.Errorf("tool name %q (for %s) must match %s", name, id, validName)
		}
		if other, dup := seen[name]; dup {
			return nil, nil, fmt.Errorf("tools %s and %s are both named %q", other, id, name)
		}
		seen[name], names[id] = id, name
	}
	return ids, names, nil
}

// chosen returns the default names of the tools to offer.
func (o *Options) chosen(supported map[string]bool) ([]string, error) {
	if len(o.Tools) == 0 {
		var ids []string
		for _, id := range allTools {
			if supported[id] {
				ids = append(ids, id)
			}
		}
		return ids, nil
	}
	var ids []string
	for _, id := range allTools {
		if slices.Contains(o.Tools, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range o.Tools {
		switch {
		case !slices.Contains(allTools, id):
			return nil, fmt.Errorf("Options.Tools names %q, which is no tool; the tools are %q", id, allTools)
		case !supported[id]:
			return nil, fmt.Errorf("Options.Tools names %s, which this sandbox cannot support (%s)", id, needs[id])
		}
	}
	return ids, nil
}

// needs says what each optional tool needs of the sandbox.
var needs = map[string]string{
	GetProcessOutput: "it needs workspace.ProcessSpawner",
	KillProcess:      "it needs workspace.ProcessSpawner",
	ReadFile:         "it needs workspace.FilesystemProvider",
	WriteFile:        "it needs workspace.FilesystemProvider",
	EditFile:         "it needs workspace.FilesystemProvider",
	ListFiles:        "it needs workspace.FilesystemProvider",
}
