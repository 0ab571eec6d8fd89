package tools

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// maxWait bounds get_process_output's wait input, in seconds.
const maxWait = 300

// maxTracked bounds how many background processes a toolkit keeps the
// output of; beyond it, the oldest ended ones are forgotten.
const maxTracked = 64

// ProcessOutput is the structured result of get_process_output and
// kill_process.
type ProcessOutput struct {
	PID     string `json:"pid"`
	Command string `json:"command"`
	// Running reports that the process has not ended.
	Running bool `json:"running"`
	// ExitCode is the exit status once it ended (124 after its timeout,
	// 137 after a kill).
	ExitCode *int `json:"exitCode,omitempty"`
	// Stdout and Stderr are its output so far as the model sees it:
	// escape sequences stripped, trimmed (to the tail input, if given)
	// with a marker.
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	// StdoutBytes and StderrBytes count its output so far, before trimming.
	StdoutBytes int64 `json:"stdoutBytes"`
	StderrBytes int64 `json:"stderrBytes"`
}

var processOutputSchema = object(
	[]string{"pid", "command", "running", "stdout", "stderr", "stdoutBytes", "stderrBytes"},
	map[string]prop{
		"pid":         str("The process id."),
		"command":     str("The command it runs."),
		"running":     boolean("The process has not ended."),
		"exitCode":    integer("The exit status, once it ended: 124 after its timeout, 137 after a kill."),
		"stdout":      str("Standard output so far, trimmed."),
		"stderr":      str("Standard error so far, trimmed."),
		"stdoutBytes": integer("Bytes of standard output so far, before trimming."),
		"stderrBytes": integer("Bytes of standard error so far, before trimming."),
	})

// bgProc is a background process execute_command started: its output,
// kept by the toolkit's own pipelines.
type bgProc struct {
	proc    workspace.Process
	streams streams
	prog    *emitter // reports to a waiting get_process_output, if any
	flushed sync.Once
}

// procTable tracks the background processes of a toolkit.
type procTable struct {
	mu    sync.Mutex // guards the fields below
	procs map[string]*bgProc
	order []string // pids, oldest first
}

func newProcTable() *procTable { return &procTable{procs: map[string]*bgProc{}} }

func (t *procTable) add(p *bgProc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.procs[p.proc.PID()] = p
	t.order = append(t.order, p.proc.PID())
	for i := 0; len(t.order) > maxTracked && i < len(t.order); {
		pid := t.order[i]
		if _, ended := t.procs[pid].proc.ExitCode(); ended {
			delete(t.procs, pid)
			t.order = append(t.order[:i], t.order[i+1:]...)
			continue
		}
		i++
	}
}

func (t *procTable) get(pid string) *bgProc {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs[pid]
}

// spawn starts a background command for execute_command.
func (k *Toolkit) spawn(ctx context.Context, in *execInput) *Result {
	prog := &emitter{}
	s := k.newStreams(prog)
	line := in.commandLine()
	var timeout time.Duration
	if in.Timeout != nil {
		timeout = in.timeout()
	}
	pm := k.sb.(workspace.ProcessSpawner).Processes()
	proc, err := pm.Spawn(ctx, line, &workspace.SpawnOptions{
		Cwd: in.Cwd, Env: in.Env, Timeout: timeout,
		Stdout: s.stdout, Stderr: s.stderr, MaxRetainedBytes: workspace.RetainNone,
	})
	if err != nil {
		return k.sandboxFail(k.name(ExecuteCommand)+": the command could not start in the background: "+err.Error(), err)
	}
	k.procs.add(&bgProc{proc: proc, streams: s, prog: prog})
	out := &CommandOutput{Command: line, Background: true, PID: proc.PID(), Success: true}
	text := "Started in the background with pid " + proc.PID() + ". Read its output with " + k.name(GetProcessOutput) + "."
	if n := k.name(KillProcess); n != "" {
		text += " Stop it with " + n + "."
	}
	return &Result{Text: text, Structured: structured(out)}
}

// processInput is get_process_output's input.
type processInput struct {
	PID  string   `json:"pid"`
	Tail *int     `json:"tail"`
	Wait *float64 `json:"wait"`
}

func (k *Toolkit) getProcessOutputTool() *Tool {
	props := map[string]prop{
		"pid": str("The process id that execute_command returned."),
		"tail": {"type": "integer", "minimum": 0,
			"description": "Return only the last this many lines of each stream (0 or omitted: the first and last lines within the output budget)."},
		"wait": {"type": "number", "minimum": 0, "maximum": maxWait,
			"description": "Wait up to this many seconds for the process to exit before answering (0 or omitted: answer at once)."},
	}
	return &Tool{
		Description: "Read the output so far of a background process started by " + k.name(ExecuteCommand) +
			", and whether it is still running (with its exit code once it ended). Set wait to wait for it to exit.",
		InputSchema:  object([]string{"pid"}, props),
		OutputSchema: processOutputSchema,
		Annotations:  Annotations{Title: "Read a background process's output", ReadOnly: true, Idempotent: true},
		decode:       decodeProcessInput,
		run:          func(ctx context.Context, in any) *Result { return k.runGetOutput(ctx, in.(*processInput)) },
	}
}

func decodeProcessInput(input json.RawMessage) (any, error) {
	var in processInput
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	if err := required(input, "pid", in.PID, false, "the process id that execute_command returned"); err != nil {
		return nil, err
	}
	switch {
	case in.Tail != nil && *in.Tail < 0:
		return nil, fieldError("tail", "must be 0 or more lines")
	case in.Wait != nil && (math.IsNaN(*in.Wait) || *in.Wait < 0 || *in.Wait > maxWait):
		return nil, fieldError("wait", "must be a number of seconds from 0 to %d", maxWait)
	}
	return &in, nil
}

func (k *Toolkit) runGetOutput(ctx context.Context, in *processInput) *Result {
	pm := k.sb.(workspace.ProcessSpawner).Processes()
	proc, err := pm.Get(ctx, in.PID)
	if err != nil {
		return k.processError(in.PID, err)
	}
	bg := k.procs.get(in.PID)
	if in.Wait != nil && *in.Wait > 0 {
		if fn := ProgressFrom(ctx); fn != nil && bg != nil {
			bg.prog.setFunc(fn)
			defer bg.prog.setFunc(nil)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Duration(*in.Wait*float64(time.Second)))
		_, _ = proc.Wait(wctx) // a process that outlives the wait is still running
		cancel()
	}
	tail := 0
	if in.Tail != nil {
		tail = *in.Tail
	}
	return k.processResult(ctx, proc, bg, tail, "")
}

// processError turns an error about pid into a tool error.
func (k *Toolkit) processError(pid string, err error) *Result {
	if errors.Is(err, workspace.ErrProcessNotFound) {
		return k.fail("no background process with pid " + strconv.Quote(pid) + "; start one with " +
			k.name(ExecuteCommand) + " and background set to true")
	}
	return k.sandboxFail("process "+strconv.Quote(pid)+": "+err.Error(), err)
}

// processResult reports a process's state and output. note, if not
// empty, starts the text.
func (k *Toolkit) processResult(ctx context.Context, proc workspace.Process, bg *bgProc, tail int, note string) *Result {
	code, ended := proc.ExitCode()
	stdout, stderr := k.processViews(ctx, proc, bg, ended)
	l := k.budget.headAndTail()
	if tail > 0 {
		l = k.budget.tailOnly(tail)
	}
	out := &ProcessOutput{
		PID: proc.PID(), Command: proc.Command(), Running: !ended,
		Stdout: stdout.trim(l), Stderr: stderr.trim(l),
		StdoutBytes: stdout.totalBytes, StderrBytes: stderr.totalBytes,
	}
	var b strings.Builder
	b.WriteString(note)
	writeOutput(&b, out.Stdout, out.Stderr)
	if ended {
		out.ExitCode = &code
		b.WriteString("The process has exited with code " + strconv.Itoa(code) + ".")
	} else {
		b.WriteString("The process is still running.")
	}
	return &Result{Text: b.String(), Structured: structured(out)}
}

// processViews returns the output of a process: from the toolkit's
// pipelines for one it started (flushed once it ended), else what the
// process retained.
func (k *Toolkit) processViews(ctx context.Context, proc workspace.Process, bg *bgProc, ended bool) (view, view) {
	if bg == nil {
		return k.retainedView(proc.Stdout()), k.retainedView(proc.Stderr())
	}
	if ended {
		_, _ = proc.Wait(ctx) // returns at once; afterwards no more output is written
		if ctx.Err() == nil {
			bg.flushed.Do(bg.streams.flush)
		}
	}
	return bg.streams.stdout.save.view(), bg.streams.stderr.save.view()
}

// retainedView runs retained output through a pipeline of its own.
func (k *Toolkit) retainedView(s string) view {
	p := newPipeline(k, "", &emitter{})
	p.Write([]byte(s))
	p.flush()
	return p.save.view()
}

func (k *Toolkit) killProcessTool() *Tool {
	return &Tool{
		Description: "Stop a background process started by " + k.name(ExecuteCommand) +
			", and everything it started. Returns its last output. Killing a process that has ended does nothing.",
		InputSchema:  object([]string{"pid"}, map[string]prop{"pid": str("The process id that execute_command returned.")}),
		OutputSchema: processOutputSchema,
		Annotations:  Annotations{Title: "Stop a background process", Destructive: true, Idempotent: true},
		decode: func(input json.RawMessage) (any, error) {
			var in struct {
				PID string `json:"pid"`
			}
			if err := decodeInput(input, &in); err != nil {
				return nil, err
			}
			if err := required(input, "pid", in.PID, false, "the process id that execute_command returned"); err != nil {
				return nil, err
			}
			return in.PID, nil
		},
		run: func(ctx context.Context, in any) *Result { return k.runKill(ctx, in.(string)) },
	}
}

func (k *Toolkit) runKill(ctx context.Context, pid string) *Result {
	pm := k.sb.(workspace.ProcessSpawner).Processes()
	proc, err := pm.Get(ctx, pid)
	if err != nil {
		return k.processError(pid, err)
	}
	note := ""
	if _, ended := proc.ExitCode(); !ended {
		if err := proc.Kill(ctx); err != nil {
			return k.processError(pid, err)
		}
		note = "Killed process " + pid + ".\n"
	}
	return k.processResult(ctx, proc, k.procs.get(pid), 0, note)
}
