package daytona

import (
	"context"
	"errors"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/workspace"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrNotReady is workspace.ErrNotReady: the sandbox was destroyed, or
	// is not running where that is required (Instance before Start). Use
	// errors.Is(err, ErrNotReady).
	ErrNotReady = workspace.ErrNotReady
	// ErrNoCredentials means no API key (nor JWT token with organization
	// id) was found in the options, the environment or .env files. Use
	// errors.Is(err, ErrNoCredentials).
	ErrNoCredentials = errors.New("no Daytona credentials: set DAYTONA_API_KEY (in the environment or a .env file) or use WithAPIKey; or set DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID")
	// ErrSandboxNotFound means the sandbox given to WithExistingSandbox
	// does not exist (or is dead: destroyed, or in an error state), and
	// WithCreateIfMissing was not given. Use
	// errors.Is(err, ErrSandboxNotFound).
	ErrSandboxNotFound = errors.New("sandbox not found")
	// ErrInvalidInput is wrapped by every error about a bad argument or
	// option, returned before any request is sent. Use
	// errors.Is(err, ErrInvalidInput).
	ErrInvalidInput = errors.New("invalid input")
	// ErrStorageUnreachable is matched (errors.Is) by the error of a
	// mount whose storage endpoint the sandbox cannot reach, such as on
	// Daytona's tiers with restricted network access.
	ErrStorageUnreachable = errors.New("storage unreachable from the sandbox")
	// ErrOutputIncomplete: a command ended, but its output, left in a file
	// in the sandbox, could not be downloaded in full (the result has what came).
	ErrOutputIncomplete = command.ErrOutputIncomplete
)

// Error is a failure of the Daytona service, or of the connection to it,
// during an operation: Op is what was being done (such as "create
// sandbox"), StatusCode the HTTP status of the failed request (0 when there
// was no response: network errors, timeouts), Err the underlying error.
// Its message is "daytona: <op>: <cause>". It wraps the Daytona SDK's
// error, so errors.As still finds *errors.DaytonaError,
// *errors.DaytonaNotFoundError and the other SDK types, and errors.Is
// still finds context.Canceled and context.DeadlineExceeded. Find it with
// errors.As.
//
// It is declared in an internal package, where every layer of this module
// makes it, and is the same type under this name.
type Error = fault.Error

// invalid returns an error matching ErrInvalidInput: "daytona: invalid
// input: " and the message.
func invalid(format string, args ...any) error {
	return fault.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// invalidErr returns err as an error matching ErrInvalidInput.
func invalidErr(err error) error { return fault.Errorf("%w: %w", ErrInvalidInput, err) }

// StatusCode returns the HTTP status code carried by a Daytona SDK error
// anywhere in err's chain (including the SDK's not-found and rate-limit
// types, which errors.As to *errors.DaytonaError does not match), or by a
// refused log stream, or 0.
func StatusCode(err error) int { return apierr.StatusCode(err) }

// isContextErr reports whether err comes from a context ending.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// StartHookError is the error of a start whose own work failed once the
// remote sandbox ran: the restoration of a mount (Mount names it) or the
// start hook. The remote sandbox is left running; the next start
// reconnects to it and does the work again (the hook with created true
// again if this start had created it). Destroy deletes it.
type StartHookError struct {
	DaytonaID string // the remote sandbox, left running
	Created   bool   // the start work was for a sandbox created by this (or an earlier failed) start
	Mount     string // the mount path whose restoration failed; "" when the start hook failed
	Err       error  // what went wrong
}

// Error says what failed, and that the sandbox was left running.
func (e *StartHookError) Error() string {
	what := "the start hook failed"
	if e.Mount != "" {
		what = "mounting " + e.Mount + " failed"
	}
	state := "the existing sandbox " + e.DaytonaID + " was left running; the next start runs the start work again"
	if e.Created {
		state = "the sandbox " + e.DaytonaID + ", created for it, was left running; the next start runs the start work again with created=true, Destroy deletes it"
	}
	return fault.Errorf("start: %s (%s): %v", what, state, e.Err).Error()
}

// Unwrap returns the hook's or the mount's error.
func (e *StartHookError) Unwrap() error { return e.Err }
