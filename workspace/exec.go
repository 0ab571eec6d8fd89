package workspace

import (
	"bytes"
	"encoding/json"
	"io"
	"time"
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
type CommandResult struct {
	// Command and Args are as given to ExecuteCommand.
	Command string
	Args    []string
	// ExitCode is the command's exit status: 124 after a timeout, 137 after
	// a kill, -1 when unknown (the result then comes with an error).
	ExitCode int
	// Stdout and Stderr hold the retained output (see MaxRetainedBytes).
	Stdout string
	Stderr string
	// Duration is the run time measured by the client.
	Duration time.Duration
	// TimedOut reports that the timeout expired and the command was killed.
	TimedOut bool
	// Killed reports that the command was killed before it exited on its
	// own: after a timeout, a kill, or the caller's cancellation.
	Killed bool
	// StdoutTruncated and StderrTruncated report that output was dropped
	// from the result because of MaxRetainedBytes; the Dropped counts say
	// how many bytes.
	StdoutTruncated    bool
	StderrTruncated    bool
	StdoutDroppedBytes int64
	StderrDroppedBytes int64
}

// Success reports whether the command exited with status 0 on its own.
func (r *CommandResult) Success() bool {
	return r != nil && r.ExitCode == 0 && !r.TimedOut && !r.Killed
}

// commandResultJSON is the JSON shape of Mastra's CommandResult.
type commandResultJSON struct {
	Success            bool     `json:"success"`
	ExitCode           int      `json:"exitCode"`
	Stdout             string   `json:"stdout"`
	Stderr             string   `json:"stderr"`
	ExecutionTimeMs    int64    `json:"executionTimeMs"`
	TimedOut           bool     `json:"timedOut,omitempty"`
	Killed             bool     `json:"killed,omitempty"`
	StdoutTruncated    bool     `json:"stdoutTruncated"`
	StderrTruncated    bool     `json:"stderrTruncated"`
	StdoutDroppedBytes int64    `json:"stdoutDroppedBytes"`
	StderrDroppedBytes int64    `json:"stderrDroppedBytes"`
	Command            string   `json:"command,omitempty"`
	Args               []string `json:"args,omitempty"`
}

// MarshalJSON encodes the result with the field names of Mastra's
// CommandResult (success, exitCode, stdout, stderr, executionTimeMs, ...),
// the shape an agent's tool call usually returns. To keep <, > and & in
// output readable (json.Marshal escapes them), encode with a json.Encoder
// and SetEscapeHTML(false).
func (r CommandResult) MarshalJSON() ([]byte, error) {
	return marshalNoHTMLEscape(commandResultJSON{
		Success:            r.Success(),
		ExitCode:           r.ExitCode,
		Stdout:             r.Stdout,
		Stderr:             r.Stderr,
		ExecutionTimeMs:    r.Duration.Milliseconds(),
		TimedOut:           r.TimedOut,
		Killed:             r.Killed,
		StdoutTruncated:    r.StdoutTruncated,
		StderrTruncated:    r.StderrTruncated,
		StdoutDroppedBytes: r.StdoutDroppedBytes,
		StderrDroppedBytes: r.StderrDroppedBytes,
		Command:            r.Command,
		Args:               r.Args,
	})
}

// marshalNoHTMLEscape encodes v without escaping <, > and &, and without
// the Encoder's trailing newline. (json.Marshal escapes them again in the
// outer document unless the caller's Encoder has SetEscapeHTML(false).)
func marshalNoHTMLEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes the shape written by MarshalJSON.
func (r *CommandResult) UnmarshalJSON(b []byte) error {
	var j commandResultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = CommandResult{
		Command:            j.Command,
		Args:               j.Args,
		ExitCode:           j.ExitCode,
		Stdout:             j.Stdout,
		Stderr:             j.Stderr,
		Duration:           time.Duration(j.ExecutionTimeMs) * time.Millisecond,
		TimedOut:           j.TimedOut,
		Killed:             j.Killed,
		StdoutTruncated:    j.StdoutTruncated,
		StderrTruncated:    j.StderrTruncated,
		StdoutDroppedBytes: j.StdoutDroppedBytes,
		StderrDroppedBytes: j.StderrDroppedBytes,
	}
	return nil
}
