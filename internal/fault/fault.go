// Package fault makes the errors the daytona package returns: *Error, a
// failure of an operation against Daytona (re-exported as daytona.Error),
// and Errorf's messages. Both start with "daytona: ", which is added here
// and nowhere else: messages are written without it, and an error of this
// module wrapped into another is shown without its own (Errorf, Wrap), so
// that no message repeats it.
package fault

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentworkspace/daytona/internal/apierr"
)

// prefix starts every message.
const prefix = "daytona: "

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
func (e *Error) Error() string { return prefix + e.text() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) text() string {
	msg := e.Op + ": " + describe(e.Err)
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

// SetHint adds to e what its status means here (shown in parentheses).
func SetHint(e *Error, hint string) { e.hint = hint }

// message is an error of this module other than an *Error: Errorf's, or
// Wrap's of an error of this module (which may also match a context's
// error, cause).
type message struct{ err, cause error }

func (m *message) Error() string { return prefix + m.err.Error() }

func (m *message) Unwrap() []error {
	if m.cause == nil {
		return []error{m.err}
	}
	return []error{m.err, m.cause}
}

// Errorf formats an error as fmt.Errorf does (%w wraps), starting with
// "daytona: ". An *Error or an Errorf error among args is shown without
// its own prefix.
func Errorf(format string, args ...any) error {
	for i, a := range args {
		if err, ok := a.(error); ok && ours(err) {
			args[i] = bare{err}
		}
	}
	return &message{err: fmt.Errorf(format, args...)}
}

// Wrap wraps a failure of op: an error of this module in a message that
// names op, any other error (the SDK's, the network's, a context's) in an
// *Error. Wrap(op, nil) is nil.
func Wrap(op string, err error) error { return wrap(op, err, nil) }

// WrapCtx is Wrap; if ctx has ended, the result also matches ctx.Err()
// with errors.Is (the SDK turns context errors into its own type).
func WrapCtx(ctx context.Context, op string, err error) error { return wrap(op, err, ctx.Err()) }

func wrap(op string, err, cause error) error {
	if err == nil {
		return nil
	}
	if cause != nil && errors.Is(err, cause) {
		cause = nil
	}
	var e *Error
	var m *message
	if errors.As(err, &e) || errors.As(err, &m) {
		return &message{err: fmt.Errorf("%s: %w", op, bare{err}), cause: cause}
	}
	return &Error{Op: op, StatusCode: apierr.StatusCode(err), Err: apierr.WithCause(err, cause)}
}

// Text returns err's message, without the prefix when err is an *Error or
// an Errorf error.
func Text(err error) string {
	switch e := err.(type) {
	case *Error:
		return e.text()
	case *message:
		return e.err.Error()
	}
	return err.Error()
}

// ours reports an error made here (at the top of its chain).
func ours(err error) bool {
	switch err.(type) {
	case *Error, *message:
		return true
	}
	return false
}

// bare shows an error of this module without its prefix, and unwraps to
// it.
type bare struct{ err error }

func (b bare) Error() string { return Text(b.err) }
func (b bare) Unwrap() error { return b.err }

// describe renders an *Error's cause: ours without the prefix, the SDK's
// without its own capitalised one.
func describe(err error) string {
	if ours(err) {
		return Text(err)
	}
	return apierr.Describe(err)
}

// New returns an error with the message text, starting with "daytona: ".
func New(text string) error { return &message{err: errors.New(text)} }

// Panic panics with a message made as Errorf makes it: for misuse that is
// the programmer's error, such as a nil Context (as net/http does).
func Panic(format string, args ...any) { panic(Errorf(format, args...).Error()) }
