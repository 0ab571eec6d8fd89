package workspace

import (
	"encoding/json"
	"io"
	"time"

	"github.com/agentworkspace/daytona/workspace/internal/jsonenc"
)

// ExecOptions are the per-call settings of ExecuteCommand. The zero value
// (or a nil *ExecOptions) runs the command in the sandbox's default working
// directory with its environment and default timeout.
type ExecOptions struct {
	// Cwd is the working directory. Empty means the sandbox's default.
	Cwd string
	// Env is added to the sandbox's environment for this call; it wins over
	// variables of the same name. Names must match [A-Za-z_][A-Za-z0-9_]*.
	Env map[string]string
	// Timeout bounds the command's run time. Zero means the sandbox's
	// default; NoTimeout disables it. On expiry the command is killed and
	// the result has ExitCode 124 and TimedOut set.
	Timeout time.Duration
	// Stdout and Stderr receive the command's output as it arrives, with
	// os/exec semantics: nil discards; ExecuteCommand returns only after all
	// output was written; a Write error stops the command and is returned.
	// If both are the same writer (==), the command's stderr is merged into
	// its stdout where it runs, as 2>&1 does (and as os/exec does by giving
	// the command one pipe): the writer receives both in the command's own
	// order, one Write at a time, and the result holds the merged output in
	// Stdout, with Stderr empty.
	Stdout io.Writer
	Stderr io.Writer
	// MaxRetainedBytes is how many bytes of each stream the result keeps
	// (the rest is counted in StdoutDroppedBytes/StderrDroppedBytes). Zero
	// means DefaultMaxRetainedBytes (1 MiB); RetainNone keeps nothing;
	// Unlimited keeps everything. Writers receive all output regardless.
	MaxRetainedBytes int
}

// CommandResult is the outcome of a command that ran.
//
// Its JSON encoding has the field names of Mastra's CommandResult, and the
// struct tags say so: the JSON schema that reflection infers from this type
// (as the MCP SDK and github.com/google/jsonschema-go do) describes exactly
// what json.Marshal writes. Only two values need the custom MarshalJSON:
// success, which is always Success(), and executionTimeMs, which is
// Duration in whole milliseconds.
type CommandResult struct {
	// Succeeded is Success() in JSON ("success"). MarshalJSON always writes
	// Success(), whatever this field holds, and UnmarshalJSON sets it. It
	// is a field so that a schema inferred from this type lists success;
	// in Go, call Success.
	Succeeded bool `json:"success"`
	// ExitCode is the command's exit status: 124 after a timeout, 137 after
	// a kill, -1 when unknown (the result then comes with an error).
	ExitCode int `json:"exitCode"`
	// Stdout and Stderr hold the retained output (see MaxRetainedBytes).
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	// Duration is the run time measured by the client. JSON carries it in
	// whole milliseconds, as executionTimeMs.
	Duration time.Duration `json:"executionTimeMs"`
	// TimedOut reports that the timeout expired and the command was killed.
	TimedOut bool `json:"timedOut,omitempty"`
	// Killed reports that the command was killed before it exited on its
	// own: after a timeout, a kill, or the caller's cancellation.
	Killed bool `json:"killed,omitempty"`
	// StdoutTruncated and StderrTruncated report that output was dropped
	// from the result because of MaxRetainedBytes; the Dropped counts say
	// how many bytes.
	StdoutTruncated    bool  `json:"stdoutTruncated"`
	StderrTruncated    bool  `json:"stderrTruncated"`
	StdoutDroppedBytes int64 `json:"stdoutDroppedBytes"`
	StderrDroppedBytes int64 `json:"stderrDroppedBytes"`
	// Command and Args are as given to ExecuteCommand.
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
}

// Success reports whether the command exited with status 0 on its own.
func (r *CommandResult) Success() bool {
	return r != nil && r.ExitCode == 0 && !r.TimedOut && !r.Killed
}

// plainResult is CommandResult without its JSON methods.
type plainResult CommandResult

// MarshalJSON encodes the result with the field names of Mastra's
// CommandResult (success, exitCode, stdout, stderr, executionTimeMs, ...),
// the shape an agent's tool call usually returns: the struct tags, with
// success set to Success() and the duration in milliseconds. To keep <, >
// and & in output readable (json.Marshal escapes them), encode with a
// json.Encoder and SetEscapeHTML(false).
func (r CommandResult) MarshalJSON() ([]byte, error) {
	p := plainResult(r)
	p.Succeeded = r.Success()
	p.Duration = time.Duration(r.Duration.Milliseconds())
	return jsonenc.Marshal(p)
}

// UnmarshalJSON decodes the shape written by MarshalJSON.
func (r *CommandResult) UnmarshalJSON(b []byte) error {
	var p plainResult
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	p.Duration *= time.Millisecond
	*r = CommandResult(p)
	return nil
}
