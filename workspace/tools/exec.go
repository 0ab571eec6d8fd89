package tools

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// maxTimeout bounds execute_command's timeout input, in seconds (a day).
const maxTimeout = 24 * 60 * 60

// CommandOutput is the structured result of execute_command.
type CommandOutput struct {
	// Command is the command line, with the arguments quoted.
	Command string `json:"command"`
	// Background reports a command started in the background; then PID is
	// its process id and the fields after it are zero.
	Background bool   `json:"background"`
	PID        string `json:"pid,omitempty"`
	// ExitCode is the exit status (124 after a timeout, 137 after a kill);
	// absent for a background command.
	ExitCode *int `json:"exitCode,omitempty"`
	// Success: it exited with status 0 on its own (or, in the background,
	// it started).
	Success  bool `json:"success"`
	TimedOut bool `json:"timedOut"`
	Killed   bool `json:"killed"`
	// ExecutionTimeMs is its run time in milliseconds.
	ExecutionTimeMs int64 `json:"executionTimeMs"`
	// Stdout and Stderr are the output as the model sees it: escape
	// sequences stripped, trimmed to the budget with a marker.
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	// StdoutBytes and StderrBytes count all the output, before trimming.
	StdoutBytes int64 `json:"stdoutBytes"`
	StderrBytes int64 `json:"stderrBytes"`
}

// execInput is execute_command's input.
type execInput struct {
	Command    string            `json:"command"`
	Args       []string          `json:"args"`
	Cwd        string            `json:"cwd"`
	Env        map[string]string `json:"env"`
	Timeout    *float64          `json:"timeout"`
	Background bool              `json:"background"`
}

// background reports whether execute_command offers background mode: the
// sandbox spawns processes and get_process_output is offered to read them.
func (k *Toolkit) background() bool {
	_, ok := k.sb.(workspace.ProcessSpawner)
	return ok && k.name(GetProcessOutput) != ""
}

func (k *Toolkit) executeCommandTool() *Tool {
	props := map[string]prop{
		"command": str(`The shell command to run, such as "npm test" or "grep -rn TODO src | head". Pipes, redirects, && and ; work.`),
		"args": {"type": "array", "items": prop{"type": "string"},
			"description": "Arguments appended to the command, each quoted for the shell (one word each)."},
		"cwd": str("Working directory; the sandbox's default when omitted."),
		"env": {"type": "object", "additionalProperties": prop{"type": "string"},
			"description": "Environment variables for this command, added to the sandbox's."},
		"timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": maxTimeout,
			"description": "Kill the command after this many seconds; the sandbox's default when omitted."},
	}
	desc := "Run a shell command in the sandbox and return its output and exit code.\n\n" + k.sb.GetInstructions() +
		"\n\nEach command runs in a fresh shell: cd and export do not carry over (use cwd and env). " +
		"Long output is shortened to its first and last lines. A non-zero exit code is reported, not an error."
	if k.background() {
		props["background"] = boolean("Start the command in the background and return its pid at once, for servers and watchers. " +
			"Read its output with " + k.name(GetProcessOutput) + ".")
		desc += " Set background to true for servers, watchers and other long-running commands: you get a pid to pass to " +
			k.name(GetProcessOutput) + orKill(k) + "."
	}
	return &Tool{
		Description:  desc,
		InputSchema:  object([]string{"command"}, props),
		OutputSchema: commandOutputSchema,
		Annotations:  Annotations{Title: "Run a shell command", Destructive: true, OpenWorld: true},
		decode:       k.decodeExec,
		run:          func(ctx context.Context, in any) *Result { return k.runExec(ctx, in.(*execInput)) },
	}
}

func orKill(k *Toolkit) string {
	if n := k.name(KillProcess); n != "" {
		return " and " + n
	}
	return ""
}

var commandOutputSchema = object(
	[]string{"command", "background", "success", "timedOut", "killed", "executionTimeMs", "stdout", "stderr", "stdoutBytes", "stderrBytes"},
	map[string]prop{
		"command":         str("The command line, with the arguments quoted."),
		"background":      boolean("The command was started in the background."),
		"pid":             str("The background process's id."),
		"exitCode":        integer("The exit status: 124 after a timeout, 137 after a kill; absent in the background."),
		"success":         boolean("It exited with status 0 on its own (in the background: it started)."),
		"timedOut":        boolean("The timeout expired and the command was killed."),
		"killed":          boolean("The command was killed."),
		"executionTimeMs": integer("Run time in milliseconds."),
		"stdout":          str("Standard output, trimmed to the output budget."),
		"stderr":          str("Standard error, trimmed to the output budget."),
		"stdoutBytes":     integer("Bytes of standard output before trimming."),
		"stderrBytes":     integer("Bytes of standard error before trimming."),
	})

func (k *Toolkit) decodeExec(input json.RawMessage) (any, error) {
	var in execInput
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	if err := k.checkExec(input, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Timeout != nil && (math.IsNaN(*in.Timeout) || *in.Timeout <= 0 || *in.Timeout > maxTimeout):
		return nil, fieldError("timeout", "must be a number of seconds greater than 0 and at most %d", maxTimeout)
	case in.Background && !k.background():
		return nil, fieldError("background", "is not available: this sandbox cannot run background processes here")
	}
	return &in, nil
}

// checkExec checks the strings of execute_command's input: a command,
// and nothing a command line or an environment cannot hold.
func (k *Toolkit) checkExec(input json.RawMessage, in *execInput) error {
	if err := required(input, "command", in.Command, false, "the shell command to run"); err != nil {
		return err
	}
	for i, a := range in.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fieldError("args", "must not contain NUL bytes; element %d does", i)
		}
	}
	if err := noNUL("cwd", in.Cwd); err != nil {
		return err
	}
	return checkEnv(in.Env)
}

// timeout converts the timeout input; zero means the sandbox's default.
func (in *execInput) timeout() time.Duration {
	if in.Timeout == nil {
		return 0
	}
	return max(time.Duration(*in.Timeout*float64(time.Second)), time.Millisecond)
}

// commandLine is the command with its arguments quoted, as run.
func (in *execInput) commandLine() string {
	line := in.Command
	for _, a := range in.Args {
		line += " " + quote(a)
	}
	return line
}

// streams are the two pipelines of one command.
type streams struct{ stdout, stderr *pipeline }

func (k *Toolkit) newStreams(prog *emitter) streams {
	return streams{stdout: newPipeline(k, "stdout", prog), stderr: newPipeline(k, "stderr", prog)}
}

func (s streams) flush() {
	s.stdout.flush()
	s.stderr.flush()
}

func (k *Toolkit) runExec(ctx context.Context, in *execInput) *Result {
	if in.Background {
		return k.spawn(ctx, in)
	}
	s := k.newStreams(&emitter{fn: ProgressFrom(ctx)})
	res, err := k.sb.ExecuteCommand(ctx, in.Command, in.Args, &workspace.ExecOptions{
		Cwd: in.Cwd, Env: in.Env, Timeout: in.timeout(),
		Stdout: s.stdout, Stderr: s.stderr, MaxRetainedBytes: workspace.RetainNone,
	})
	s.flush()
	if res == nil {
		return k.sandboxFail(k.name(ExecuteCommand)+": the command could not run: "+err.Error(), err)
	}
	out := k.commandOutput(in.commandLine(), res, s)
	r := &Result{Text: commandText(out, err), Structured: structured(out), IsError: err != nil || res.TimedOut || res.Killed}
	if infrastructure(err) {
		r.Err = k.secrets.wrap(err)
	}
	return r
}

// commandOutput builds the structured result of a finished command.
func (k *Toolkit) commandOutput(line string, res *workspace.CommandResult, s streams) *CommandOutput {
	code := res.ExitCode
	return &CommandOutput{
		Command: line, ExitCode: &code, Success: res.Success(), TimedOut: res.TimedOut, Killed: res.Killed,
		ExecutionTimeMs: res.Duration.Milliseconds(),
		Stdout:          s.stdout.save.view().trim(k.budget.headAndTail()),
		Stderr:          s.stderr.save.view().trim(k.budget.headAndTail()),
		StdoutBytes:     s.stdout.save.bytesWritten(),
		StderrBytes:     s.stderr.save.bytesWritten(),
	}
}

// commandText is what the model reads of a command: its output, then a
// line with its fate.
func commandText(out *CommandOutput, err error) string {
	var b strings.Builder
	writeOutput(&b, out.Stdout, out.Stderr)
	switch {
	case out.TimedOut:
		b.WriteString("The command timed out after " + seconds(out.ExecutionTimeMs) + " and was killed (exit code " + strconv.Itoa(*out.ExitCode) + ").")
	case err != nil:
		b.WriteString("The command was interrupted: " + err.Error())
	case out.Killed:
		b.WriteString("The command was killed (exit code " + strconv.Itoa(*out.ExitCode) + ").")
	default:
		b.WriteString("Exit code: " + strconv.Itoa(*out.ExitCode))
	}
	return b.String()
}

// writeOutput writes stdout, and stderr under a label, each ending with a
// newline; or "(no output)".
func writeOutput(b *strings.Builder, stdout, stderr string) {
	if stdout == "" && stderr == "" {
		b.WriteString("(no output)\n")
		return
	}
	for _, part := range []struct{ label, text string }{{"", stdout}, {"stderr:\n", stderr}} {
		if part.text == "" {
			continue
		}
		b.WriteString(part.label + part.text)
		if !strings.HasSuffix(part.text, "\n") {
			b.WriteString("\n")
		}
	}
}

func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + "s"
}
