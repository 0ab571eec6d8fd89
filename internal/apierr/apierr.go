// Package apierr decodes the errors Daytona answers (the control plane,
// its proxy and the toolbox daemon, as the Daytona SDK's error types carry
// them) and says what they mean for trying again. It is the one place
// that reads a status code or a message out of an error.
//
// Decoding an answer: FromResponse and FromBody (an error answer's body),
// FromAPI and FromToolbox (the generated clients' errors), NoAnswer (a
// request that got none). Reading an error: StatusCode, Message,
// NotFound, Describe, and today's structured fields Code, Source and
// FromDaemon (structured.go). Classifying it: Transient, Classify (see
// classify.go), and Safe, the loop that repeats a request that is safe to
// repeat.
package apierr

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"

	"github.com/agentworkspace/daytona/internal/follow"
)

// maxErrorBody bounds how much of an error answer's body is read.
const maxErrorBody = 64 << 10

// FromResponse turns an error answer (status 300 or more) into the SDK's
// error types, so that StatusCode, Message and errors.As work as for the
// SDK's own calls, reading at most 64 KiB of its body. The caller closes
// the body.
func FromResponse(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return FromBody(resp.StatusCode, resp.Header, data)
}

// FromBody is FromResponse for a body already read. Today's code and
// source, when the body has them, are kept (Code, Source).
func FromBody(status int, header http.Header, body []byte) error {
	return withDetail(sdkerrors.NewDaytonaErrorFromBody(body, status, header), body)
}

// NoAnswer is the error of a request that got no answer (a network
// failure, a context that ended): the SDK's error type with status 0, so
// that Transient sees it, also matching err with errors.Is (context
// errors included).
func NoAnswer(err error) error {
	return &withCause{err: sdkerrors.NewDaytonaError(err.Error(), 0, nil), cause: err}
}

// withCause is err, also matching cause with errors.Is and errors.As.
type withCause struct {
	err   error
	cause error
}

func (w *withCause) Error() string   { return w.err.Error() }
func (w *withCause) Unwrap() []error { return []error{w.err, w.cause} }

// WithCause returns err, also matching cause with errors.Is and errors.As
// (when it does not already).
func WithCause(err, cause error) error {
	if cause == nil || errors.Is(err, cause) {
		return err
	}
	return &withCause{err: err, cause: cause}
}

// StatusCode returns the HTTP status code carried by a Daytona SDK error
// anywhere in err's chain (including the SDK's not-found, rate-limit and
// timeout types, which errors.As to *errors.DaytonaError does not match),
// or by a refused log stream, or 0.
func StatusCode(err error) int {
	var he *follow.HandshakeError
	if errors.As(err, &he) {
		return he.StatusCode
	}
	if de := sdkError(err); de != nil {
		return de.StatusCode
	}
	return 0
}

// Message returns the message of a Daytona SDK error in err's chain.
func Message(err error) (string, bool) {
	if de := sdkError(err); de != nil {
		return de.Message, true
	}
	return "", false
}

// sdkError returns the SDK's *DaytonaError in err's chain, looking inside
// the subtypes that embed it without unwrapping to it.
func sdkError(err error) *sdkerrors.DaytonaError {
	var nf *sdkerrors.DaytonaNotFoundError
	if errors.As(err, &nf) && nf.DaytonaError != nil {
		return nf.DaytonaError
	}
	var rl *sdkerrors.DaytonaRateLimitError
	if errors.As(err, &rl) && rl.DaytonaError != nil {
		return rl.DaytonaError
	}
	var to *sdkerrors.DaytonaTimeoutError
	if errors.As(err, &to) && to.DaytonaError != nil {
		return to.DaytonaError
	}
	var de *sdkerrors.DaytonaError
	if errors.As(err, &de) {
		return de
	}
	return nil
}

// NotFound reports whether err is the SDK's 404.
func NotFound(err error) bool {
	var nf *sdkerrors.DaytonaNotFoundError
	return errors.As(err, &nf)
}

// Describe renders an SDK error without the SDK's capitalised prefix,
// with the HTTP status when there is one; any other error as it is.
func Describe(err error) string {
	msg, ok := Message(err)
	if !ok {
		return err.Error()
	}
	if code := StatusCode(err); code != 0 {
		return fmt.Sprintf("HTTP %d: %s", code, msg)
	}
	return msg
}
