// Package workspace is the provider-neutral contract between a Go agent
// framework and a sandbox provider: start a sandbox, run commands in it,
// describe it to an agent, and tear it down.
//
// A framework codes against [Sandbox]; providers (such as
// github.com/agentworkspace/daytona) implement it. Optional capabilities are
// separate interfaces, discovered with a type assertion, so that a provider
// without them still satisfies Sandbox:
//
//	if ps, ok := sb.(workspace.ProcessSpawner); ok {
//		p, err := ps.Processes().Spawn(ctx, "npm run dev", nil)
//		...
//	}
//
// The types mirror Mastra's WorkspaceSandbox (TypeScript), and Info and
// CommandResult encode to the same JSON, so Go and TypeScript services
// report sandboxes and results alike.
package workspace

import (
	"context"
	"errors"
	"time"
)

// Sandbox is an isolated environment that runs shell commands for an agent.
//
// Implementations must be safe for concurrent use by multiple goroutines.
// Operations that need the sandbox start it on first use ("lazy start");
// Start does so explicitly, for callers that want to fail fast.
type Sandbox interface {
	// ID returns the sandbox's logical id, stable for its lifetime.
	ID() string
	// Name returns the implementation's human-readable name, such as
	// "DaytonaSandbox".
	Name() string
	// Provider returns the provider's short name, such as "daytona".
	Provider() string
	// Status returns the current lifecycle status. It makes no request.
	Status() Status

	// Start creates or reconnects to the remote sandbox and waits until it
	// runs. It is idempotent; concurrent calls share one start.
	Start(ctx context.Context) error
	// Stop stops the remote sandbox, keeping its files, so that a later
	// Start (or lazy start) resumes it. It is idempotent.
	Stop(ctx context.Context) error
	// Destroy deletes the remote sandbox and its files. It is idempotent;
	// afterwards operations return an error that matches ErrNotReady.
	Destroy(ctx context.Context) error

	// GetInfo reports the sandbox's status, resources and metadata.
	GetInfo(ctx context.Context) (*Info, error)
	// GetInstructions returns a description of the environment for an LLM
	// agent, such as the text of a tool description. It makes no request.
	GetInstructions() string

	// ExecuteCommand runs command, a shell snippet, with args shell-quoted
	// and appended, and waits for it to finish. A non-zero exit code, a
	// timeout (exit code 124), a kill and a malformed command (the shell's
	// exit code, 2) are results, not errors; errors are for bad input,
	// infrastructure failures and the caller's cancellation, which comes
	// with the partial result (exit code 137 and Killed once the command
	// had started; -1, ExitCodeUnknown in providers that name it, when ctx
	// ended before anything ran). opts may be nil.
	ExecuteCommand(ctx context.Context, command string, args []string, opts *ExecOptions) (*CommandResult, error)
}

// Status is a sandbox's lifecycle status.
type Status string

// Statuses. A new sandbox is pending; Start moves it through starting to
// running (or error); Stop through stopping to stopped; Destroy through
// destroying to destroyed, which is final.
const (
	StatusPending    Status = "pending"
	StatusStarting   Status = "starting"
	StatusRunning    Status = "running"
	StatusStopping   Status = "stopping"
	StatusStopped    Status = "stopped"
	StatusDestroying Status = "destroying"
	StatusDestroyed  Status = "destroyed"
	StatusError      Status = "error"
)

// Sentinel errors. Implementations wrap them; test with errors.Is.
var (
	// ErrNotReady means the sandbox cannot serve the call: it was destroyed,
	// or it is not running where a running sandbox is required (Mastra's
	// SandboxNotReadyError). Use errors.Is(err, ErrNotReady).
	ErrNotReady = errors.New("sandbox is not ready")
	// ErrProcessNotFound means no process with the given id is known. Use
	// errors.Is(err, ErrProcessNotFound).
	ErrProcessNotFound = errors.New("process not found")
	// ErrUnsupported means the provider cannot do what was asked, such as
	// closing a process's stdin. Use errors.Is(err, ErrUnsupported).
	ErrUnsupported = errors.New("not supported by this sandbox provider")
)

// Timeouts and output retention.
const (
	// NoTimeout as ExecOptions.Timeout disables the timeout: the command
	// runs until it exits or the caller's context ends.
	NoTimeout time.Duration = -1
	// DefaultMaxRetainedBytes is how many bytes of each stream a result
	// keeps when ExecOptions.MaxRetainedBytes is zero.
	DefaultMaxRetainedBytes = 1 << 20
	// RetainNone as MaxRetainedBytes keeps no output in the result (use
	// with Stdout/Stderr writers to stream large output in constant memory).
	RetainNone = -1
	// Unlimited as MaxRetainedBytes keeps all output.
	Unlimited = -2
)
