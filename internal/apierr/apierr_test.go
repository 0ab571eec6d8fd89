package apierr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

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
