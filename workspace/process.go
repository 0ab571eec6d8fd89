package workspace

import (
	"context"
	"io"
	"time"
)

// ProcessSpawner is the optional capability of sandboxes that run
// background processes (dev servers, watchers, REPLs). Discover it with a
// type assertion:
//
//	ps, ok := sb.(workspace.ProcessSpawner)
type ProcessSpawner interface {
	// Processes returns the sandbox's process manager.
	Processes() ProcessManager
}

// ProcessManager starts and tracks background processes. It is safe for
// concurrent use.
type ProcessManager interface {
	// Spawn starts command (a shell snippet) in the background and returns
	// as soon as it has started, starting the sandbox first if needed. The
	// process keeps running when the returned Process is dropped; only
	// Kill, its timeout, or stopping or destroying the sandbox end it.
	Spawn(ctx context.Context, command string, opts *SpawnOptions) (Process, error)
	// List reports the processes this manager spawned (or reattached with
	// Get) and has not released.
	List(ctx context.Context) ([]ProcessInfo, error)
	// Get returns the process with this id. A provider may reattach to a
	// process started by an earlier program (for example by its session).
	// An unknown id is an error matching ErrProcessNotFound.
	Get(ctx context.Context, pid string) (Process, error)
	// Kill kills the process with this id; see Process.Kill.
	Kill(ctx context.Context, pid string) error
}

// Process is a background process.
type Process interface {
	// PID returns the process's id in the manager (not an OS pid).
	PID() string
	// Command returns the command line it runs.
	Command() string
	// Wait waits for the process to end and returns its result: its exit
	// code, or 124 and TimedOut after its timeout, or 137 and Killed after
	// Kill. If ctx ends first, Wait returns ctx's error and the process
	// goes on. Wait may be called any number of times, concurrently.
	Wait(ctx context.Context) (*CommandResult, error)
	// Kill ends the process and everything it started. It is idempotent,
	// and does nothing to a process that has already exited.
	Kill(ctx context.Context) error
	// SendStdin writes data to the process's standard input.
	SendStdin(ctx context.Context, data []byte) error
	// CloseStdin closes the process's standard input, or returns an error
	// matching ErrUnsupported where the provider cannot.
	CloseStdin(ctx context.Context) error
	// ExitCode returns the exit code and true once the process has ended.
	ExitCode() (int, bool)
	// Stdout and Stderr return the output retained so far (see
	// SpawnOptions.MaxRetainedBytes).
	Stdout() string
	Stderr() string
}

// SpawnOptions are the settings of Spawn. The zero value (or nil) runs the
// process in the sandbox's default directory and environment, with no
// timeout.
type SpawnOptions struct {
	// Cwd is the working directory. Empty means the sandbox's default.
	Cwd string
	// Env is added to the sandbox's environment for this process.
	Env map[string]string
	// Timeout, if positive, kills the process that long after it started
	// (exit code 124). Zero means none.
	Timeout time.Duration
	// Stdout and Stderr receive the process's output for its whole life,
	// with os/exec semantics (one Write at a time, never after Wait
	// returned the result; the same writer for both merges stderr into
	// stdout, as in ExecOptions).
	Stdout io.Writer
	Stderr io.Writer
	// MaxRetainedBytes works as in ExecOptions.
	MaxRetainedBytes int
}

// ProcessInfo describes a process in List.
type ProcessInfo struct {
	PID      string `json:"pid"`
	Command  string `json:"command"`
	Running  bool   `json:"running"`
	ExitCode *int   `json:"exitCode,omitempty"`
}
