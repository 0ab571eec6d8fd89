// Package tools gives an LLM agent ready-made tools for any
// workspace.Sandbox, in any framework: execute_command (with a background
// mode), get_process_output and kill_process, and read_file, write_file,
// edit_file and list_files. Each Tool has a name, a description, a JSON
// Schema of its input and of its structured output, hints about its
// effects, and Call, which takes the model's JSON input and returns text
// for the model plus structured data. Adapters turn them into the tool
// definitions of an LLM API or an MCP server (package
// github.com/agentworkspace/daytona/mcpserver).
//
//	kit, err := tools.New(sb, nil)
//	if err != nil { ... }
//	for _, t := range kit.Tools() {
//		// offer t.Name, t.Description, t.InputSchema to the model
//	}
//	// when the model calls a tool:
//	res, err := kit.Call(ctx, name, input)
//	// give res.Text to the model (res.IsError marks a failed call)
//
// The toolkit offers what the sandbox supports: execute_command always;
// its background mode, get_process_output and kill_process when the
// sandbox implements workspace.ProcessSpawner; the file tools when it
// implements workspace.FilesystemProvider. Options choose, rename and
// prefix tools, set the output budget, install a Policy called before
// every call (approval flows, deny-lists), and list secrets to redact.
//
// # Output for a model
//
// Command output is shaped for a model's context: escape sequences are
// stripped (StripANSI), and each stream is cut to a Budget (16 KiB and
// 200 lines by default), keeping its first and last lines with a marker
// such as "[… 1234 lines omitted …]" between them (Trim). Memory stays
// bounded whatever a command prints. A call with a context from
// WithProgress reports output as it arrives, for adapters to forward.
//
// # Errors
//
// Everything a model can correct comes back as a Result with IsError set
// and a message that names the problem: input that does not match the
// schema (naming the field), an unknown tool or process id, a path the
// filesystem rejects, a refusal by the policy, a command that timed out.
// Failures the model can do nothing about (the sandbox's service failed or
// cannot be reached, the sandbox is gone) are tool errors too, which also
// carry the sandbox's error in Result.Err, for an adapter to return to its
// caller. Call returns a Go error only when its context ended.
//
// This package imports only package workspace, workspace/internal/jsonenc (a
// standard-library JSON helper) and the standard library.
package tools
