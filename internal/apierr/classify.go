package apierr

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"

	"github.com/agentworkspace/daytona/internal/retry"
)

// Transient trouble between the proxy and the runner: the proxy answers an
// empty 502, or 400 "failed to get runner info" before it forwards a
// request (apps/proxy/pkg/proxy/get_sandbox_target.go:84, v0.190.0), and
// the API or a load balancer 503 or 504. A request that is safe to repeat
// (a lookup, creating our own session, deleting one) is tried again, up to
// TransientTries times in all (Safe). A command's submission is repeated
// only after "failed to get runner info", which proves it never reached the
// daemon (see Classify).
const (
	TransientTries    = 4
	transientPauseMin = 100 * time.Millisecond
	transientPauseMax = time.Second
)

// TransientPause paces the tries after transient trouble.
func TransientPause() retry.Backoff {
	return retry.Backoff{Next: transientPauseMin, Max: transientPauseMax}
}

// RunnerUnreachable reports the proxy's answer when it could not find the
// sandbox's runner.
func RunnerUnreachable(err error) bool {
	msg, _ := Message(err)
	return StatusCode(err) == http.StatusBadRequest && strings.Contains(msg, "failed to get runner info")
}

// Transient reports trouble that a request safe to repeat may not meet
// again: 502, 503, 504, 429, the runner being unreachable, or no answer at
// all.
func Transient(err error) bool {
	switch StatusCode(err) {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests:
		return true
	case 0:
		var de *sdkerrors.DaytonaError
		return errors.As(err, &de) // the SDK's error for a request with no answer
	}
	return RunnerUnreachable(err)
}

// Safe calls f, a request that is safe to repeat, until it succeeds,
// fails with an error that is not transient, ctx ends, or TransientTries
// calls failed.
func Safe(ctx context.Context, f func() error) error {
	pause := TransientPause()
	for tries := 1; ; tries++ {
		err := f()
		if err == nil || !Transient(err) || ctx.Err() != nil || tries == TransientTries {
			return err // no pause after the last try
		}
		if pause.Wait(ctx) != nil {
			return err
		}
	}
}

// NotStarted is an error the toolbox answered before a command (or a
// file request) started, so that sending it again cannot run it twice; it
// says what a new try needs.
type NotStarted struct {
	Err         error
	Dead        bool // the sandbox is not running: restart it first
	LostSession bool // the session is unknown to the daemon: use a new one
	ShellDead   bool // the session's shell has died: use a new session
	Transient   bool // the proxy could not reach the runner; it may next time
}

func (e *NotStarted) Error() string { return e.Err.Error() }
func (e *NotStarted) Unwrap() error { return e.Err }

// Classify inspects a toolbox error that came before a command started
// (creating its session, or submitting it) and returns a *NotStarted when
// the command cannot have run and a fresh try may work, else nil:
//   - code PROCESS_NOT_FOUND, or "session not found" (404 or 500): the
//     daemon lost our sessions (the sandbox restarted behind our back):
//     try again in a new session;
//   - "failed to write command" (500, or 400): the session's shell has
//     died (a command killed it, or the kernel did), so the daemon could
//     not give it the command (apps/daemon/pkg/session/execute.go:79-82,
//     v0.190.0): try again in a new session;
//   - any other answer of the daemon itself (FromDaemon: its source, a
//     file code, a 404 in plain text) proves the sandbox runs: nil;
//   - 401: the proxy no longer grants access because the sandbox was
//     deleted; 404: the sandbox's container is gone (deleted, archived);
//     400 "is the sandbox started?", "failed to resolve container ip" or
//     "sandbox is not running": the sandbox is stopped. Restart it and try
//     again. Today these carry source DAYTONA_PROXY (or DAYTONA_API);
//     older services, no source.
func Classify(err error) *NotStarted {
	code := StatusCode(err)
	msg, _ := Message(err)
	msg = strings.ToLower(msg)
	switch {
	case RunnerUnreachable(err):
		return &NotStarted{Err: err, Transient: true}
	case lostSession(err, code, msg):
		return &NotStarted{Err: err, LostSession: true}
	case strings.Contains(msg, "failed to write command") && (code == http.StatusInternalServerError || code == http.StatusBadRequest):
		return &NotStarted{Err: err, ShellDead: true}
	case FromDaemon(err):
		return nil
	case code == http.StatusUnauthorized:
		return &NotStarted{Err: err, Dead: true}
	case code == http.StatusBadRequest && (strings.Contains(msg, "is the sandbox started") ||
		strings.Contains(msg, "failed to resolve container ip") || strings.Contains(msg, "sandbox is not running")):
		return &NotStarted{Err: err, Dead: true}
	case code == http.StatusNotFound:
		return &NotStarted{Err: err, Dead: true}
	}
	return nil
}

// lostSession reports the daemon's answer for a session it does not know:
// code PROCESS_NOT_FOUND today; before, a 404 (or 500) "session not
// found" (msg in lower case).
func lostSession(err error, status int, msg string) bool {
	if Code(err) == CodeProcessNotFound {
		return true
	}
	return strings.Contains(msg, "session not found") && (status == http.StatusNotFound || status == http.StatusInternalServerError)
}

// IsNotStarted reports whether err is a *NotStarted.
func IsNotStarted(err error) bool {
	var ns *NotStarted
	return errors.As(err, &ns)
}

// RetryAfter returns how long the answer of err (a 429 or 503) asks to
// wait before trying again: the largest of its Retry-After headers, the
// standard one and the per-throttler ones of NestJS's throttler
// (Retry-After-{name}, such as Retry-After-sandbox-lifecycle;
// @nestjs/throttler 6.4.0, dist/throttler.guard.js:118-128), in seconds or
// as an HTTP date; 0 when it asks nothing.
func RetryAfter(err error, now time.Time) time.Duration {
	de := sdkError(err)
	if de == nil {
		return 0
	}
	var longest time.Duration
	for k, vs := range de.Headers {
		k = http.CanonicalHeaderKey(k)
		if (k != "Retry-After" && !strings.HasPrefix(k, "Retry-After-")) || len(vs) == 0 {
			continue
		}
		longest = max(longest, retryAfterValue(strings.TrimSpace(vs[0]), now))
	}
	return longest
}

// retryAfterValue reads a Retry-After value: delay-seconds or an
// HTTP-date (RFC 9110, 10.2.3).
func retryAfterValue(v string, now time.Time) time.Duration {
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) { // also NaN
			return 0
		}
		return time.Duration(min(secs, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return min(at.Sub(now), maxRetryAfter)
	}
	return 0
}

// maxRetryAfter bounds what a Retry-After header can ask for.
const maxRetryAfter = time.Hour
