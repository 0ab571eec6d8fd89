package daytona_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Issue #19 item 7: a failed kill request (5xx, reset, timeout) is tried
// again with a backoff within a bounded time; only then is the failure
// reported.

// deleteFaults is a transport whose first n session deletes fail as
// fail says; everything else goes through.
type deleteFaults struct {
	n    atomic.Int32
	fail func(req *http.Request) (*http.Response, error)
}

func (d *deleteFaults) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodDelete && strings.Contains(req.URL.Path, "/process/session/") && d.n.Add(-1) >= 0 {
		return d.fail(req)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// resetFirst resets the connection of the first n deletes before they
// reach the server.
func resetFirst(n int32) *deleteFaults {
	d := &deleteFaults{fail: func(*http.Request) (*http.Response, error) { return nil, syscall.ECONNRESET }}
	d.n.Store(n)
	return d
}

// hangFirst holds the first n deletes until their request ends; with
// reach, the request reaches the server first and only its answer is held.
func hangFirst(n int32, reach bool) *deleteFaults {
	d := &deleteFaults{fail: func(req *http.Request) (*http.Response, error) {
		if reach {
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
		}
		<-req.Context().Done()
		return nil, req.Context().Err()
	}}
	d.n.Store(n)
	return d
}

// spawnSleeper starts a process that runs until it is killed.
func spawnSleeper(t *testing.T, sb *daytona.Sandbox) workspace.Process {
	t.Helper()
	p, err := sb.Processes().Spawn(t.Context(), "echo ready; sleep 60", nil)
	require.NoError(t, err)
	waitFor(t, "the process's output", func() bool { return p.Stdout() == "ready\n" })
	return p
}

// requireKilled checks that p was killed, and its session is gone.
func requireKilled(t *testing.T, srv *daytonatest.Server, sb *daytona.Sandbox, p workspace.Process) {
	t.Helper()
	res, err := p.Wait(t.Context())
	require.NoError(t, err)
	assert.True(t, res.Killed)
	assert.Equal(t, daytona.ExitCodeKilled, res.ExitCode)
	rec, _ := srv.Sandbox(sb.DaytonaID())
	for _, s := range rec.Sessions {
		assert.NotEqual(t, p.PID(), s, "the process's session is gone")
	}
}

func TestKillTriesAgainAfterA5xx(t *testing.T) {
	t.Parallel()
	kill := daytona.WithKillTimes(2*time.Second, 10*time.Second)
	srv := newServer(t)
	sb := startedSandbox(t, srv, kill)
	p := spawnSleeper(t, sb)
	require.NoError(t, srv.FailNext(daytonatest.OpDeleteSession, 1, http.StatusInternalServerError, "boom"))
	require.NoError(t, srv.FailNext(daytonatest.OpDeleteSession, 1, http.StatusBadGateway, "bad gateway"))
	require.NoError(t, p.Kill(t.Context()))
	requireKilled(t, srv, sb, p)
	assert.GreaterOrEqual(t, srv.Count(daytonatest.OpDeleteSession), 3)
}

func TestKillTriesAgainAfterAReset(t *testing.T) {
	t.Parallel()
	kill := daytona.WithKillTimes(2*time.Second, 10*time.Second)
	srv := newServer(t)
	sb := startedSandbox(t, srv, kill, daytona.WithHTTPClient(&http.Client{Transport: resetFirst(5)}))
	p := spawnSleeper(t, sb)
	require.NoError(t, p.Kill(t.Context()))
	requireKilled(t, srv, sb, p)
}

func TestKillTriesAgainAfterASlowAnswer(t *testing.T) {
	t.Parallel()
	kill := daytona.WithKillTimes(300*time.Millisecond, 10*time.Second)
	for _, reach := range []bool{false, true} {
		srv := newServer(t)
		sb := startedSandbox(t, srv, kill, daytona.WithHTTPClient(&http.Client{Transport: hangFirst(1, reach)}))
		p := spawnSleeper(t, sb)
		start := time.Now()
		require.NoError(t, p.Kill(t.Context()), "reach %v", reach)
		requireKilled(t, srv, sb, p)
		assert.Less(t, time.Since(start), 5*time.Second, "the held try was given up after KillAttempt")
	}
}

// A command past its timeout is killed even when the first delete fails.
func TestTimeoutKillTriesAgain(t *testing.T) {
	t.Parallel()
	kill := daytona.WithKillTimes(2*time.Second, 10*time.Second)
	srv := newServer(t)
	sb := startedSandbox(t, srv, kill)
	require.NoError(t, srv.FailNext(daytonatest.OpDeleteSession, 2, http.StatusServiceUnavailable, "unavailable"))
	res, err := sb.ExecuteCommand(t.Context(), "sleep 30", nil, &workspace.ExecOptions{Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.True(t, res.Killed)
	assert.Equal(t, daytona.ExitCodeTimeout, res.ExitCode)
}

// A kill that keeps failing is reported, honestly, once its time is up;
// one refused for good (a 4xx) is reported at once.
func TestKillGivesUpWithinItsBudget(t *testing.T) {
	t.Parallel()
	kill := daytona.WithKillTimes(300*time.Millisecond, 1500*time.Millisecond)
	srv := newServer(t)
	sb := startedSandbox(t, srv, kill)
	p := spawnSleeper(t, sb)
	require.NoError(t, srv.FailNext(daytonatest.OpDeleteSession, 1000, http.StatusInternalServerError, "boom"))
	start := time.Now()
	err := p.Kill(t.Context())
	require.Error(t, err)
	assert.Equal(t, http.StatusInternalServerError, daytona.StatusCode(err))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Greater(t, srv.Count(daytonatest.OpDeleteSession), 1, "tried again")
	_, ended := p.ExitCode()
	assert.False(t, ended, "not reported killed")
	srv.ClearFaults()

	srv.ResetRequests()
	require.NoError(t, srv.FailNext(daytonatest.OpDeleteSession, 1, http.StatusBadRequest, "can't delete"))
	err = p.Kill(t.Context())
	require.Error(t, err)
	assert.Equal(t, 1, srv.Count(daytonatest.OpDeleteSession), "a 400 is not tried again")
	require.NoError(t, p.Kill(t.Context()))
	requireKilled(t, srv, sb, p)
}

// The kill's tries end with the Sandbox: nothing is left behind when the
// caller's context ends during a kill that keeps failing.
func TestKillTriesEndWithTheirBudget(t *testing.T) {
	t.Parallel()
	kill := daytona.WithKillTimes(200*time.Millisecond, 800*time.Millisecond)
	srv := newServer(t)
	sb := startedSandbox(t, srv, kill)
	require.NoError(t, srv.FailNext(daytonatest.OpDeleteSession, 1000, http.StatusInternalServerError, "boom"))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	res, err := sb.ExecuteCommand(ctx, "sleep 30", nil, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	assert.Contains(t, err.Error(), "may still run")
	assert.Equal(t, daytona.ExitCodeUnknown, res.ExitCode)
	srv.ClearFaults()
}
