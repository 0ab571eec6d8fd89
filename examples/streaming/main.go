// Streaming shows a command's output arriving while it runs, a command
// hitting its timeout, and a command cancelled through its context.
//
//	go run ./examples/streaming
//
// ExecuteCommand streams output to the io.Writers in ExecOptions (with
// os/exec semantics) and returns the result when the command ends. A
// timeout kills the command and is a result (exit code 124, TimedOut), not
// an error. Cancelling the context kills the command too; ExecuteCommand
// then returns the partial result (exit code 137, Killed) and an error
// matching the context's. Press Ctrl-C while it runs to cancel the command
// in flight the same way; the example also cancels one by itself.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
)

func main() {
	// Ctrl-C cancels ctx, which kills the remote command in flight.
	examplesupport.Main(run)
}

func run(ctx context.Context, w io.Writer) error {
	sb, cleanup, err := examplesupport.Connect(ctx, w)
	if err != nil {
		return err
	}
	defer cleanup()
	// Start is optional (the first command would start the sandbox), but
	// starting first keeps the sandbox's start-up out of the timings below.
	if err := sb.Start(ctx); err != nil {
		return err
	}
	if err := streamLines(ctx, w, sb); err != nil {
		return fmt.Errorf("streaming: %w", err)
	}
	if err := timeout(ctx, w, sb); err != nil {
		return fmt.Errorf("timeout: %w", err)
	}
	if err := cancel(ctx, w, sb); err != nil {
		return fmt.Errorf("cancellation: %w", err)
	}
	return nil
}

// streamLines runs the seed's loop and prints each line when it arrives.
func streamLines(ctx context.Context, w io.Writer, sb *daytona.Sandbox) error {
	fmt.Fprintln(w, "\n1. Streaming: each line is printed as it arrives.")
	out := newLines(w)
	res, err := sb.ExecuteCommand(ctx,
		`for i in 1 2 3; do echo "line $i"; echo "warning $i" >&2; sleep 0.5; done`, nil,
		&workspace.ExecOptions{Stdout: out.prefixed("stdout"), Stderr: out.prefixed("stderr")})
	out.flush()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   result: exit code %d after %v; the result also keeps the output: %q\n",
		res.ExitCode, res.Duration.Round(time.Millisecond), res.Stdout)
	if !res.Success() || out.count() != 6 {
		return fmt.Errorf("want 6 lines and exit code 0, got %d lines and exit code %d", out.count(), res.ExitCode)
	}
	return nil
}

// timeout runs a command that outlives its timeout.
func timeout(ctx context.Context, w io.Writer, sb *daytona.Sandbox) error {
	fmt.Fprintln(w, "\n2. Timeout: `sleep 30` with a 1s timeout.")
	res, err := sb.ExecuteCommand(ctx, "sleep", []string{"30"}, &workspace.ExecOptions{Timeout: time.Second})
	if err != nil {
		return err // a timeout is a result, not an error
	}
	fmt.Fprintf(w, "   result: exit code %d, TimedOut %v, Killed %v, after %v, stderr %q\n",
		res.ExitCode, res.TimedOut, res.Killed, res.Duration.Round(100*time.Millisecond), res.Stderr)
	if res.ExitCode != daytona.ExitCodeTimeout || !res.TimedOut {
		return fmt.Errorf("want exit code 124 and TimedOut, got %d and %v", res.ExitCode, res.TimedOut)
	}
	return nil
}

// cancel runs a long loop and cancels its context as soon as the first line
// arrives, as Ctrl-C would.
func cancel(ctx context.Context, w io.Writer, sb *daytona.Sandbox) error {
	fmt.Fprintln(w, "\n3. Cancellation: a loop printing a line every 2s, cancelled when its first line arrives.")
	ctx, cancelCmd := context.WithCancel(ctx)
	defer cancelCmd()
	out := newLines(w)
	out.onLine = cancelCmd
	res, err := sb.ExecuteCommand(ctx,
		`for i in 1 2 3 4 5 6 7 8 9 10; do echo "tick $i"; sleep 2; done`, nil,
		&workspace.ExecOptions{Stdout: out.prefixed("stdout")})
	out.flush()
	if res == nil {
		return fmt.Errorf("no partial result: %w", err)
	}
	fmt.Fprintf(w, "   result: exit code %d, Killed %v, after %v, stdout %q\n",
		res.ExitCode, res.Killed, res.Duration.Round(time.Millisecond), res.Stdout)
	fmt.Fprintf(w, "   error: %v\n   errors.Is(err, context.Canceled): %v\n", err, errors.Is(err, context.Canceled))
	if !errors.Is(err, context.Canceled) || !res.Killed || res.ExitCode != daytona.ExitCodeKilled {
		return fmt.Errorf("want Killed, exit code 137 and context.Canceled, got %v, %d and %v", res.Killed, res.ExitCode, err)
	}
	return nil
}

// lines prints whole lines written to its writers, each with its stream's
// name and the time since it was created. Its writers may be used from
// several goroutines.
type lines struct {
	mu      sync.Mutex // guards the fields below
	w       io.Writer
	start   time.Time
	n       int
	writers []*lineWriter
	onLine  func() // called, outside the lock, after each line
}

func newLines(w io.Writer) *lines { return &lines{w: w, start: time.Now()} }

// prefixed returns a writer whose lines are printed after "name:".
func (l *lines) prefixed(name string) io.Writer {
	lw := &lineWriter{l: l, name: name}
	l.mu.Lock()
	l.writers = append(l.writers, lw)
	l.mu.Unlock()
	return lw
}

// count returns how many lines were printed.
func (l *lines) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// printLocked prints one line.
func (l *lines) printLocked(name string, line []byte) {
	l.n++
	fmt.Fprintf(l.w, "   [%4.1fs] %s: %s\n", time.Since(l.start).Seconds(), name, line)
}

// flush prints what is left of unfinished lines: output that did not end
// in a newline.
func (l *lines) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lw := range l.writers {
		if len(lw.partial) > 0 {
			l.printLocked(lw.name, lw.partial)
			lw.partial = nil
		}
	}
}

// lineWriter is an io.Writer that hands complete lines to its lines.
type lineWriter struct {
	l       *lines
	name    string
	partial []byte // guarded by l.mu
}

// Write prints each line that p completes. Like every io.Writer it does
// not keep p.
func (lw *lineWriter) Write(p []byte) (int, error) {
	l := lw.l
	l.mu.Lock()
	buf := append(lw.partial, p...)
	printed := 0
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		l.printLocked(lw.name, buf[:i])
		buf = buf[i+1:]
		printed++
	}
	lw.partial = append([]byte(nil), buf...)
	f := l.onLine
	l.mu.Unlock()
	for ; f != nil && printed > 0; printed-- {
		f()
	}
	return len(p), nil
}
