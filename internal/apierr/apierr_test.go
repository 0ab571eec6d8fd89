package apierr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"

	"github.com/agentworkspace/daytona/internal/follow"
)

func answer(status int, body string) error {
	return FromBody(status, http.Header{}, []byte(body))
}

// TestDecodingSeesThroughWrapping: the status and message are found
// inside wrapping, in the SDK's subtypes and in a refused log stream.
func TestDecodingSeesThroughWrapping(t *testing.T) {
	cases := []struct {
		err      error
		status   int
		message  string
		notFound bool
	}{
		{fmt.Errorf("op: %w", answer(404, `{"message":"gone"}`)), 404, "gone", true},
		{fmt.Errorf("op: %w", answer(429, `{"message":"slow down"}`)), 429, "slow down", false},
		{answer(500, `{"error":"boom"}`), 500, "boom", false},
		{&follow.HandshakeError{StatusCode: 502}, 502, "", false},
		{errors.New("plain"), 0, "", false},
	}
	for _, tc := range cases {
		if got := StatusCode(tc.err); got != tc.status {
			t.Errorf("StatusCode(%v) = %d; want %d", tc.err, got, tc.status)
		}
		if got, _ := Message(tc.err); got != tc.message {
			t.Errorf("Message(%v) = %q; want %q", tc.err, got, tc.message)
		}
		if got := NotFound(tc.err); got != tc.notFound {
			t.Errorf("NotFound(%v) = %v", tc.err, got)
		}
	}
	if got := Describe(answer(503, `{"message":"no capacity"}`)); got != "HTTP 503: no capacity" {
		t.Errorf("Describe = %q", got)
	}
	cut := NoAnswer(context.DeadlineExceeded)
	if StatusCode(cut) != 0 || !Transient(cut) || !errors.Is(cut, context.DeadlineExceeded) {
		t.Errorf("NoAnswer: status %d, transient %v, is deadline %v", StatusCode(cut), Transient(cut), errors.Is(cut, context.DeadlineExceeded))
	}
	var de *sdkerrors.DaytonaError
	if !errors.As(cut, &de) {
		t.Error("NoAnswer is not the SDK's error type")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err                          error
		dead, lostSession, transient bool
		notStarted                   bool
	}{
		{answer(400, `{"message":"failed to get runner info"}`), false, false, true, true},
		{answer(404, `{"message":"session not found"}`), false, true, false, true},
		{answer(500, `{"message":"Session not found"}`), false, true, false, true},
		{answer(401, `{"message":"unauthorized"}`), true, false, false, true},
		{answer(400, `{"message":"bad request: is the sandbox started?"}`), true, false, false, true},
		{answer(404, `{"message":"no such container"}`), true, false, false, true},
		{answer(500, `{"message":"failed to convert exit code"}`), false, false, false, false},
		{answer(400, `{"message":"invalid command"}`), false, false, false, false},
		// Today's structured answers: the daemon's own are never a dead
		// sandbox; the proxy's and the API's are read as before.
		{answer(404, `{"message":"process gone","code":"PROCESS_NOT_FOUND","source":"DAYTONA_DAEMON"}`), false, true, false, true},
		{answer(404, `{"message":"not found: session not found","code":"NOT_FOUND","source":"DAYTONA_DAEMON"}`), false, true, false, true},
		{answer(404, `{"message":"file not found: /x","code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}`), false, false, false, false},
		{answer(404, `{"message":"file not found: /x","code":"FILE_NOT_FOUND"}`), false, false, false, false},
		{answer(404, `{"message":"not found: route not found","code":"NOT_FOUND","source":"DAYTONA_DAEMON"}`), false, false, false, false},
		{answer(404, "404 page not found"), false, false, false, false},
		{answer(400, `{"message":"bad request: is the sandbox started?","source":"DAYTONA_DAEMON"}`), false, false, false, false},
		{answer(404, `{"message":"no such container","source":"DAYTONA_PROXY"}`), true, false, false, true},
		{answer(401, `{"message":"unauthorized","code":"UNAUTHORIZED","source":"DAYTONA_PROXY"}`), true, false, false, true},
		{answer(404, `{"message":"Sandbox not found","source":"DAYTONA_API"}`), true, false, false, true},
		{answer(400, `{"message":"failed to get runner info","source":"DAYTONA_PROXY"}`), false, false, true, true},
	}
	for _, tc := range cases {
		ns := Classify(tc.err)
		if (ns != nil) != tc.notStarted {
			t.Errorf("Classify(%v) = %v; want not started %v", tc.err, ns, tc.notStarted)
			continue
		}
		if ns != nil && (ns.Dead != tc.dead || ns.LostSession != tc.lostSession || ns.Transient != tc.transient) {
			t.Errorf("Classify(%v) = %+v", tc.err, *ns)
		}
	}
}

func TestSafeRetriesOnlyTransientTrouble(t *testing.T) {
	calls := 0
	err := Safe(context.Background(), func() error { calls++; return answer(502, "") })
	if calls != TransientTries || StatusCode(err) != 502 {
		t.Errorf("502 every time: %d calls, %v", calls, err)
	}
	calls = 0
	err = Safe(context.Background(), func() error { calls++; return answer(400, `{"message":"bad"}`) })
	if calls != 1 || err == nil {
		t.Errorf("400: %d calls, %v", calls, err)
	}
	calls = 0
	err = Safe(context.Background(), func() error {
		if calls++; calls < 2 {
			return answer(503, "")
		}
		return nil
	})
	if calls != 2 || err != nil {
		t.Errorf("503 then success: %d calls, %v", calls, err)
	}
}

// TestStructuredFields: code (else error_code) and source are kept beside
// the SDK's error, which errors.As still finds; a plain-text body is
// marked; a body with neither is the SDK's error itself.
func TestStructuredFields(t *testing.T) {
	err := answer(404, `{"statusCode":404,"message":"file not found: /x","code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}`)
	if Code(err) != "FILE_NOT_FOUND" || Source(err) != SourceDaemon || !NotFound(err) || !FromDaemon(err) {
		t.Errorf("code %q, source %q, not found %v, daemon %v", Code(err), Source(err), NotFound(err), FromDaemon(err))
	}
	if msg, _ := Message(err); msg != "file not found: /x" || err.Error() != "Resource not found: file not found: /x" {
		t.Errorf("message %q, error %q", msg, err)
	}
	if err := answer(409, `{"message":"x","error_code":"CONFLICT","code":7}`); Code(err) != "CONFLICT" || Source(err) != "" {
		t.Errorf("error_code: code %q, source %q", Code(err), Source(err))
	}
	var de *sdkerrors.DaytonaError
	if err := answer(500, `{"message":"x"}`); !errors.As(err, &de) || Code(err) != "" || FromDaemon(err) {
		t.Errorf("no fields: %T %v", err, err)
	}
	plain := answer(404, "404 page not found\n")
	if !FromDaemon(plain) || !NotFound(plain) || Code(plain) != "" {
		t.Errorf("plain text: daemon %v, not found %v", FromDaemon(plain), NotFound(plain))
	}
	if FromDaemon(answer(500, "upstream connect error")) || FromDaemon(answer(404, "")) {
		t.Error("only a plain-text 404 is the daemon's mux")
	}
	if FromAPI(nil, nil) != nil || FromToolbox(nil, nil) != nil {
		t.Error("nil is not an error")
	}
}

// TestRetryAfter: the largest Retry-After or Retry-After-{name} header, in
// seconds or as an HTTP date, bounded; nothing for other answers.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	withHeader := func(h http.Header) error { return FromBody(429, h, []byte(`{"message":"slow down"}`)) }
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After-Sandbox-Lifecycle": {"2"}, "Retry-After": {"1"}}, 2 * time.Second},
		{http.Header{"retry-after-sandbox-create": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(10 * time.Second).Format(http.TimeFormat)}}, 10 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Second).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"NaN"}}, 0},
		{http.Header{"Retry-After": {"-4"}}, 0},
		{http.Header{"Retry-After": {"1e300"}}, time.Hour},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"X-RateLimit-Reset": {"9"}}, 0},
	}
	for _, tc := range cases {
		if got := RetryAfter(withHeader(tc.h), now); got != tc.want {
			t.Errorf("RetryAfter(%v) = %v; want %v", tc.h, got, tc.want)
		}
	}
	if RetryAfter(errors.New("plain"), now) != 0 || RetryAfter(fmt.Errorf("op: %w", withHeader(http.Header{"Retry-After": {"1"}})), now) != time.Second {
		t.Error("RetryAfter must look through wrapping, and only at the SDK's errors")
	}
}
