//go:build unix

package daytonatest_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestLifecycleRateLimit: with a sandbox-lifecycle throttler, the
// lifecycle routes share one counter (authenticated-rate-limit.guard.ts:
// 31-53 @v0.190.0); answers within the limit carry the
// X-RateLimit-*-sandbox-lifecycle headers, the request over it blocks the
// routes for a window with 429 "ThrottlerException: Too Many Requests"
// and Retry-After-sandbox-lifecycle (@nestjs/throttler 6.4.0
// dist/throttler.guard.js:101-134, throttler.exception.js;
// @nest-lab/throttler-storage-redis 1.1.0). Other routes are not counted.
func TestLifecycleRateLimit(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv, _, sb := newSandbox(t, daytonatest.WithServiceVersion(v), daytonatest.WithLifecycleRateLimit(3, time.Hour))
		start := "/api/sandbox/" + sb.ID + "/start"
		for i := range 2 {
			r := authed(t, srv, "POST", start, nil)
			require.Equal(t, http.StatusOK, r.Status)
			require.Equal(t, "3", r.Header.Get("X-RateLimit-Limit-sandbox-lifecycle"))
			require.Equal(t, strconv.Itoa(2-i), r.Header.Get("X-RateLimit-Remaining-sandbox-lifecycle"))
			reset, err := strconv.Atoi(r.Header.Get("X-RateLimit-Reset-sandbox-lifecycle"))
			require.NoError(t, err)
			require.InDelta(t, 3600, reset, 5)
		}
		// The guard runs before the sandbox is looked up.
		require.Equal(t, http.StatusNotFound, authed(t, srv, "DELETE", "/api/sandbox/nope", nil).Status)
		require.Equal(t, http.StatusOK, authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).Status)

		r := authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/stop", nil)
		requireAPIError(t, r, http.StatusTooManyRequests, "ThrottlerException: Too Many Requests", "/api/sandbox/"+sb.ID+"/stop")
		retry, err := strconv.Atoi(r.Header.Get("Retry-After-sandbox-lifecycle"))
		require.NoError(t, err)
		require.InDelta(t, 3600, retry, 5)
		require.Empty(t, r.Header.Get("X-RateLimit-Limit-sandbox-lifecycle"))
		rec, _ := srv.Sandbox(sb.ID)
		require.Equal(t, daytonatest.StateStarted, rec.State, "a refused stop stopped the sandbox")

		// SDK v0.173.0 sees a rate-limit error.
		err = sb.Stop(t.Context())
		var rl *sdkerrors.DaytonaRateLimitError
		require.True(t, errors.As(err, &rl), "%T: %v", err, err)
	}
}

// TestLifecycleRateLimitWindow: the block lasts one window, during which
// requests still count (the storage's script counts every request), so
// that one that waits the window out gets through, and counting starts
// again.
func TestLifecycleRateLimitWindow(t *testing.T) {
	t.Parallel()
	const window = 200 * time.Millisecond
	srv, _, sb := newSandbox(t, daytonatest.WithLifecycleRateLimit(1, window))
	start := "/api/sandbox/" + sb.ID + "/start"
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", start, nil).Status)
	r := authed(t, srv, "POST", start, nil)
	blocked := time.Now()
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "1", r.Header.Get("Retry-After-sandbox-lifecycle"), "seconds, rounded up")
	// The behaviour under test is time: wait out the window without a request.
	waitFor(t, 10*time.Second, "the window to pass", func() bool { return time.Since(blocked) > window })
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", start, nil).Status)
	require.Equal(t, http.StatusTooManyRequests, authed(t, srv, "POST", start, nil).Status, "over the limit again")

	for _, opt := range []daytonatest.Option{
		daytonatest.WithLifecycleRateLimit(0, time.Second),
		daytonatest.WithLifecycleRateLimit(1, 0),
	} {
		_, err := daytonatest.Run(opt)
		require.ErrorContains(t, err, "WithLifecycleRateLimit")
	}
}
