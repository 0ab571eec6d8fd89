// Processes starts a small server in the background, talks to it through
// its standard input and output, lists it, and kills it: the optional
// workspace.ProcessSpawner capability, for dev servers, watchers and REPLs.
//
//	go run ./examples/processes
//
// A provider that supports background processes implements
// workspace.ProcessSpawner; code written against workspace.Sandbox finds
// out with a type assertion.
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
	examplesupport.Main(run)
}

// server is a line-based server in POSIX sh: it answers each line of its
// standard input until it is killed.
const server = `echo "server ready"
while IFS= read -r line; do
  case "$line" in
    ping) echo "pong" ;;
    *) echo "echo: $line" ;;
  esac
done`

// replyTimeout bounds each wait for the server's output.
const replyTimeout = 30 * time.Second

func run(ctx context.Context, w io.Writer) error {
	// The process's output is printed from the goroutine that reads it,
	// while this one prints too: one lock for every write to w.
	w = &syncWriter{w: w}
	sb, cleanup, err := examplesupport.Connect(ctx, w)
	if err != nil {
		return err
	}
	defer cleanup()

	// Code that holds a workspace.Sandbox discovers the capability.
	var ws workspace.Sandbox = sb
	ps, ok := ws.(workspace.ProcessSpawner)
	if !ok {
		return errors.New("this version of daytona.Sandbox does not implement workspace.ProcessSpawner (background processes)")
	}
	procs := ps.Processes()

	out := newWatcher(w)
	fmt.Fprintln(w, "\nSpawning the server (Spawn returns as soon as it started):")
	proc, err := procs.Spawn(ctx, server, &workspace.SpawnOptions{Stdout: out, Stderr: out})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   pid %s\n", proc.PID())
	if err := out.await(ctx, "server ready"); err != nil {
		return err
	}

	if err := talk(ctx, w, proc, out); err != nil {
		return err
	}

	// The sandbox still runs ordinary commands beside the process.
	res, err := sb.ExecuteCommand(ctx, "echo", []string{"commands still run beside it"}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nExecuteCommand meanwhile: %s", res.Stdout)

	if err := list(ctx, w, procs, true); err != nil {
		return err
	}

	if err := kill(ctx, w, proc); err != nil {
		return err
	}
	return list(ctx, w, procs, false)
}

// talk sends the server lines on its stdin and waits for its answers.
func talk(ctx context.Context, w io.Writer, proc workspace.Process, out *watcher) error {
	fmt.Fprintln(w, "\nTalking to it through stdin:")
	for _, ex := range []struct{ send, want string }{
		{"ping", "pong"},
		{"hello, server", "echo: hello, server"},
	} {
		fmt.Fprintf(w, "   > %s\n", ex.send)
		if err := proc.SendStdin(ctx, []byte(ex.send+"\n")); err != nil {
			return err
		}
		if err := out.await(ctx, ex.want); err != nil {
			return err
		}
	}

	return nil
}

// kill kills the server and checks what Wait then reports.
func kill(ctx context.Context, w io.Writer, proc workspace.Process) error {
	fmt.Fprintln(w, "\nKilling it:")
	if err := proc.Kill(ctx); err != nil {
		return err
	}
	final, err := proc.Wait(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   Wait: exit code %d, Killed %v, ran %v\n   retained stdout: %q\n",
		final.ExitCode, final.Killed, final.Duration.Round(time.Millisecond), final.Stdout)
	if final.ExitCode != daytona.ExitCodeKilled || !final.Killed {
		return fmt.Errorf("want exit code 137 and Killed, got %d and %v", final.ExitCode, final.Killed)
	}
	return nil
}

// list prints the manager's processes and checks that they run, or not.
func list(ctx context.Context, w io.Writer, procs workspace.ProcessManager, running bool) error {
	infos, err := procs.List(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nList:")
	for _, info := range infos {
		fmt.Fprintf(w, "   pid %s, running %v", info.PID, info.Running)
		if info.ExitCode != nil {
			fmt.Fprintf(w, ", exit code %d", *info.ExitCode)
		}
		fmt.Fprintln(w)
	}
	if len(infos) != 1 || infos[0].Running != running {
		return fmt.Errorf("want one process with Running %v", running)
	}
	return nil
}

// watcher is the process's output writer: it prints each line and lets the
// example wait for a given line. The process's reader calls Write on its
// own goroutine.
type watcher struct {
	mu      sync.Mutex // guards the fields below
	w       io.Writer
	partial []byte
	lines   []string
	seen    int           // lines already matched by await
	changed chan struct{} // closed, and replaced, when a line arrives
}

func newWatcher(w io.Writer) *watcher { return &watcher{w: w, changed: make(chan struct{})} }

func (o *watcher) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	buf := append(o.partial, p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := string(buf[:i])
		buf = buf[i+1:]
		fmt.Fprintf(o.w, "   < %s\n", line)
		o.lines = append(o.lines, line)
		close(o.changed)
		o.changed = make(chan struct{})
	}
	o.partial = append([]byte(nil), buf...)
	return len(p), nil
}

// await waits until the process prints want, after the lines an earlier
// await matched.
func (o *watcher) await(ctx context.Context, want string) error {
	timer := time.NewTimer(replyTimeout)
	defer timer.Stop()
	for {
		o.mu.Lock()
		for i := o.seen; i < len(o.lines); i++ {
			if o.lines[i] == want {
				o.seen = i + 1
				o.mu.Unlock()
				return nil
			}
		}
		changed := o.changed
		o.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("the server did not print %q within %v", want, replyTimeout)
		}
	}
}

// syncWriter serialises the writes of several goroutines to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
