package daytona

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/agentworkspace/daytona/internal/apierr"
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
)

// Error is a failure of the Daytona service, or of the connection to it,
// during an operation. It wraps the Daytona SDK's error, so errors.As still
// finds *errors.DaytonaError, *errors.DaytonaNotFoundError and the other SDK
// types, and errors.Is still finds context.Canceled and
// context.DeadlineExceeded.
type Error struct {
	// Op is what was being done, such as "create sandbox".
	Op string
	// StatusCode is the HTTP status of the failed request, or 0 when there
	// was no response (network errors, timeouts).
	StatusCode int
	// Err is the underlying error.
	Err error

	hint string // what the status means here, such as which key was refused
}

// Error returns "daytona: <op>: <cause>".
func (e *Error) Error() string {
	msg := "daytona: " + e.Op + ": " + apierr.Describe(e.Err)
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// wrapErr wraps a failure of op. Errors that are already ours, and context
// errors of the caller, are wrapped so that errors.Is keeps working.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ours *Error
	if errors.As(err, &ours) {
		return fmt.Errorf("daytona: %s: %w", op, stripPrefix(err))
	}
	return &Error{Op: op, StatusCode: StatusCode(err), Err: err}
}

func stripPrefix(err error) error {
	return prefixStripped{err}
}

// prefixStripped prints an error without its "daytona: " prefix, so that
// wrapping does not repeat it.
type prefixStripped struct{ err error }

func (p prefixStripped) Error() string { return strings.TrimPrefix(p.err.Error(), "daytona: ") }
func (p prefixStripped) Unwrap() error { return p.err }

func invalid(format string, args ...any) error {
	return fmt.Errorf("daytona: %w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// StatusCode returns the HTTP status code carried by a Daytona SDK error
// anywhere in err's chain (including the SDK's not-found and rate-limit
// types, which errors.As to *errors.DaytonaError does not match), or by a
// refused log stream, or 0.
func StatusCode(err error) int { return apierr.StatusCode(err) }

// wrapCtx wraps err as a failure of op; if ctx has ended, the result also
// matches ctx.Err() with errors.Is (the SDK turns context errors into its
// own type).
func wrapCtx(ctx context.Context, op string, err error) error {
	return wrapErr(op, apierr.WithCause(err, ctx.Err()))
}

// explainRefusedKey adds to an error the control plane answered with 401
// which credential was refused and where it came from (never the
// credential).
func (s *Sandbox) explainRefusedKey(err error) error {
	var e *Error
	if err == nil || StatusCode(err) != http.StatusUnauthorized || !errors.As(err, &e) {
		return err
	}
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	what, from := "API key", "the options"
	if c != nil {
		if c.conn.apiKey == nil {
			what = "JWT token"
		}
		if c.conn.keySource != "" {
			from = c.conn.keySource
		}
	}
	e.hint = "the " + what + " from " + from + " was refused"
	return err
}

// isContextErr reports whether err comes from a context ending.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
