package daytona_test

// Today's service (issue #20): the library against daytonatest in each
// service version it models.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// serviceVersions are the services daytonatest reproduces.
var serviceVersions = []daytonatest.ServiceVersion{daytonatest.Service0173, daytonatest.Service0190, daytonatest.ServiceCurrent}

// forVersions runs f as a subtest for each of versions (all when none).
// The test and its subtests run in parallel with others: each subtest has
// a server of its own, and mostly waits for the fake's transitions. Call
// it first in a test.
func forVersions(t *testing.T, f func(t *testing.T, v daytonatest.ServiceVersion), versions ...daytonatest.ServiceVersion) {
	t.Parallel()
	if len(versions) == 0 {
		versions = serviceVersions
	}
	for _, v := range versions {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			f(t, v)
		})
	}
}

// apiCall sends a request to srv's control plane as another client would,
// and returns the status and the decoded body (nil if none).
func apiCall(t testing.TB, srv *daytonatest.Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, srv.APIURL()+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// state returns the state of the sandbox named or numbered ref ("" if it
// is gone).
func state(srv *daytonatest.Server, ref string) daytonatest.State {
	rec, ok := srv.Sandbox(ref)
	if !ok {
		return ""
	}
	return rec.State
}

// statuses returns the statuses of srv's answers to op, in order.
func statuses(srv *daytonatest.Server, op daytonatest.Op) []int {
	var out []int
	for _, r := range srv.RequestsFor(op) {
		out = append(out, r.Status)
	}
	return out
}

// debugLog returns a logger that writes everything to the returned buffer.
func debugLog() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// losingCreateAnswers is a transport that sends every request, but drops
// the answers of the next creates (POST .../sandbox) it is told to: it
// lets the server make the sandbox (made reports that), then fails the
// request as a broken connection would, and calls after.
type losingCreateAnswers struct {
	base  http.RoundTripper
	mu    sync.Mutex
	lose  int
	made  func() bool
	after func()
}

var errConnectionLost = errors.New("connection reset by peer (test)")

func (l *losingCreateAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	lose := req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/sandbox") && l.lose > 0
	if lose {
		l.lose--
	}
	l.mu.Unlock()
	if !lose {
		return l.base.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := l.base.RoundTrip(req.WithContext(ctx)); err == nil {
			resp.Body.Close()
		}
	}()
	for !l.made() {
		select {
		case <-done:
			return nil, errors.New("the create failed before the sandbox was made")
		case <-time.After(time.Millisecond): // polling the fake's state
		}
	}
	cancel()
	<-done
	if l.after != nil {
		l.after()
	}
	return nil, errConnectionLost
}

// loseCreateAnswer returns an HTTP client that loses the answer of the
// first create (see losingCreateAnswers).
func loseCreateAnswer(made func() bool, after func()) *http.Client {
	return &http.Client{Transport: &losingCreateAnswers{base: http.DefaultTransport, lose: 1, made: made, after: after}}
}

// TestEphemeralStopSucceeds (issue #20, 1): the stop of an ephemeral
// sandbox, which Daytona destroys, succeeds while it is destroying or
// once it is gone; a later Destroy succeeds without a request to delete;
// the name is free for the next start, also under v0.173.0, whose stop
// kept it (held by the destroyed record).
func TestEphemeralStopSucceeds(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithTransitionDelay(200*time.Millisecond))
		sb := startedSandbox(t, srv, daytona.WithEphemeral(true), daytona.WithName("brief"))
		first := sb.DaytonaID()
		require.NoError(t, sb.Stop(t.Context()))
		assert.Contains(t, []daytonatest.State{daytonatest.StateDestroying, ""}, state(srv, first))
		assert.Equal(t, workspace.StatusStopped, sb.Status())

		require.NoError(t, sb.Start(t.Context()), "the name is free again")
		assert.NotEqual(t, first, sb.DaytonaID())
		require.NoError(t, sb.Stop(t.Context()))
		deletes := srv.Count(daytonatest.OpDelete)
		require.NoError(t, sb.Destroy(t.Context()))
		assert.Equal(t, deletes, srv.Count(daytonatest.OpDelete), "nothing left to delete")
		assert.Equal(t, workspace.StatusDestroyed, sb.Status())
	})
}

// TestStopDuringAutoStop (issue #20, 2): a Stop that lands while
// Daytona's own auto-stop runs (409 "state change in progress") waits for
// it and succeeds.
func TestStopDuringAutoStop(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		// A minute of auto-stop lasts longer than the start takes.
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithAutoStopUnit(time.Second),
			daytonatest.WithTransitionDelay(300*time.Millisecond))
		sb := startedSandbox(t, srv, daytona.WithAutoStopInterval(time.Minute))
		id := sb.DaytonaID()
		waitFor(t, "the auto-stop", func() bool { return state(srv, id) == daytonatest.StateStopping })
		require.NoError(t, sb.Stop(t.Context()))
		assert.Equal(t, daytonatest.StateStopped, state(srv, id))
		assert.Contains(t, statuses(srv, daytonatest.OpStop), http.StatusConflict)
	})
}

// TestStopWaitsForAStartThenStops (issue #20, 2): a Stop refused while
// another client starts the sandbox waits for the start to settle, then
// stops it.
func TestStopWaitsForAStartThenStops(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(300*time.Millisecond))
	sb := startedSandbox(t, srv)
	id := sb.DaytonaID()
	require.NoError(t, srv.StopSandbox(id))
	started := make(chan int, 1)
	go func() {
		status, _ := apiCall(t, srv, "POST", "/sandbox/"+id+"/start", nil)
		started <- status
	}()
	waitFor(t, "the other start", func() bool { return state(srv, id) == daytonatest.StateStarting })
	require.NoError(t, sb.Stop(t.Context()))
	assert.Equal(t, http.StatusOK, <-started)
	assert.Equal(t, daytonatest.StateStopped, state(srv, id))
	assert.Equal(t, []int{http.StatusConflict, http.StatusOK}, statuses(srv, daytonatest.OpStop))
}

// TestDestroyOfADestroyingSandbox (issue #20, 2): a sandbox another
// client is destroying counts as destroyed.
func TestDestroyOfADestroyingSandbox(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithTransitionDelay(300*time.Millisecond))
		sb := startedSandbox(t, srv)
		status, _ := apiCall(t, srv, "DELETE", "/sandbox/"+sb.DaytonaID(), nil)
		require.Equal(t, http.StatusOK, status)
		require.NoError(t, sb.Destroy(t.Context()))
		assert.Equal(t, workspace.StatusDestroyed, sb.Status())
	})
}

// TestErroredRecoverableIsRecovered (issue #20, 3): a sandbox in error
// whose record says it is recoverable is recovered in place, its files
// kept, and no other is created.
func TestErroredRecoverableIsRecovered(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v))
		sb := startedSandbox(t, srv)
		id := sb.DaytonaID()
		require.NoError(t, sb.Filesystem().WriteFile(t.Context(), "kept.txt", []byte("still here"), 0o644))
		require.NoError(t, sb.Stop(t.Context()))
		require.NoError(t, srv.FailSandbox(id, "the runner restarted", true))
		srv.ResetRequests()

		require.NoError(t, sb.Start(t.Context()))
		assert.Equal(t, id, sb.DaytonaID())
		assert.Equal(t, 1, srv.Count(daytonatest.OpRecover))
		assert.Zero(t, srv.Count(daytonatest.OpCreate)+srv.Count(daytonatest.OpDelete))
		got, err := sb.Filesystem().ReadFile(t.Context(), "kept.txt")
		require.NoError(t, err)
		assert.Equal(t, "still here", string(got))
	})
}

// TestRestartEndingInErrorIsReplaced (issue #20, 3): a start that ends in
// an error that cannot be recovered deletes the sandbox, then creates its
// replacement under the same name (not beside it: a name conflict).
func TestRestartEndingInErrorIsReplaced(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithTransitionDelay(300*time.Millisecond))
		sb := startedSandbox(t, srv, daytona.WithName("phoenix"))
		old := sb.DaytonaID()
		require.NoError(t, sb.Stop(t.Context()))
		srv.ResetRequests()
		done := make(chan error, 1)
		go func() { done <- sb.Start(t.Context()) }()
		waitFor(t, "the restart", func() bool { return state(srv, old) == daytonatest.StateStarting })
		require.NoError(t, srv.FailSandbox(old, "no space left on device", false))

		require.NoError(t, <-done)
		assert.NotEqual(t, old, sb.DaytonaID())
		rec, ok := srv.Sandbox("phoenix")
		require.True(t, ok)
		assert.Equal(t, sb.DaytonaID(), rec.ID)
		assert.Equal(t, []int{http.StatusOK}, statuses(srv, daytonatest.OpCreate), "one create, after the delete")
		assert.Equal(t, 1, srv.Count(daytonatest.OpDelete))
		assert.Zero(t, srv.Count(daytonatest.OpRecover))
	})
}

// TestArchivedStartsThroughRestoring (issue #20, 4): the start of an
// archived sandbox, answered at once while the sandbox still reads
// archived (desired started), is one request: the library waits through
// the restore rather than starting again into 409s.
func TestArchivedStartsThroughRestoring(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithTransitionDelay(200*time.Millisecond))
		sb := startedSandbox(t, srv)
		require.NoError(t, sb.Archive(t.Context()))
		require.Equal(t, daytonatest.StateArchived, state(srv, sb.DaytonaID()))
		srv.ResetRequests()
		require.NoError(t, sb.Start(t.Context()))
		assert.Equal(t, []int{http.StatusOK}, statuses(srv, daytonatest.OpStart))
		assert.Equal(t, daytonatest.StateStarted, state(srv, sb.DaytonaID()))
	})
}

// TestPausedStates (issue #20, 5): pausing, paused and resuming, which the
// v0.173.0 client reads as "11184809": a start that finds the sandbox
// pausing waits, then resumes it with one request; a stop that finds it
// pausing waits, then stops it; no message shows the sentinel.
func TestPausedStates(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithTransitionDelay(300*time.Millisecond),
			daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "vm", Class: daytonatest.ClassLinuxVM}))
		logger, logs := debugLog()
		first := startedSandbox(t, srv, daytona.WithSnapshot("vm"), daytona.WithName("napper"), daytona.WithLogger(logger))
		id := first.DaytonaID()
		pause := func() {
			status, body := apiCall(t, srv, "POST", "/sandbox/"+id+"/pause", nil)
			require.Equal(t, http.StatusOK, status, "%v", body)
			require.Equal(t, "pausing", body["state"])
		}
		pause()
		srv.ResetRequests()
		second := startedSandbox(t, srv, daytona.WithSnapshot("vm"), daytona.WithName("napper"), daytona.WithLogger(logger))
		assert.Equal(t, id, second.DaytonaID())
		assert.Equal(t, []int{http.StatusOK}, statuses(srv, daytonatest.OpStart), "resumed once it was paused")
		assert.Equal(t, daytonatest.StateStarted, state(srv, id))

		pause()
		require.NoError(t, second.Stop(t.Context()))
		assert.Equal(t, daytonatest.StateStopped, state(srv, id))
		assert.NotContains(t, logs.String(), "11184809")
		assert.Contains(t, logs.String(), "paus", "the log names the real states")
	}, daytonatest.Service0190, daytonatest.ServiceCurrent)
}

// TestRateLimitedLifecycle (issue #20, 6): a 429 of the lifecycle
// throttler is waited out as its Retry-After-sandbox-lifecycle header
// says (no request meanwhile), and a wait that would outlast the call's
// deadline is not begun.
func TestRateLimitedLifecycle(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithLifecycleRateLimit(2, time.Second))
	sb := startedSandbox(t, srv) // a create: not a lifecycle route
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Start(t.Context()))
	began := time.Now()
	require.NoError(t, sb.Stop(t.Context()), "the third lifecycle request in a second is refused, then waited out")
	assert.GreaterOrEqual(t, time.Since(began), 900*time.Millisecond)
	assert.Equal(t, []int{http.StatusOK, http.StatusTooManyRequests, http.StatusOK}, statuses(srv, daytonatest.OpStop))
	require.NoError(t, sb.Destroy(t.Context()))

	slow := newServer(t, daytonatest.WithLifecycleRateLimit(1, time.Hour))
	sb = startedSandbox(t, slow)
	require.NoError(t, sb.Stop(t.Context()))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	began = time.Now()
	err := sb.Start(ctx)
	require.Error(t, err)
	assert.Equal(t, http.StatusTooManyRequests, daytona.StatusCode(err))
	assert.Less(t, time.Since(began), 5*time.Second, "an hour's wait is not begun")
}

// TestCreateRateLimited (issue #20, 6): a create refused with 429 is sent
// again.
func TestCreateRateLimited(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.FailNext(daytonatest.OpCreate, 1, http.StatusTooManyRequests, "ThrottlerException: Too Many Requests"))
	sb := startedSandbox(t, srv)
	assert.Equal(t, []int{http.StatusTooManyRequests, http.StatusOK}, statuses(srv, daytonatest.OpCreate))
	assert.Len(t, srv.Sandboxes(), 1)
	assert.Equal(t, workspace.StatusRunning, sb.Status())
}

// TestLostCreateAnswer (issue #20, 6): a create whose answer was lost is
// looked up by name before it is sent again: one sandbox, not two.
func TestLostCreateAnswer(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v))
		made := func() bool { _, ok := srv.Sandbox("once"); return ok }
		sb := startedSandbox(t, srv, daytona.WithName("once"), daytona.WithHTTPClient(loseCreateAnswer(made, nil)))
		assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
		assert.Len(t, srv.Sandboxes(), 1)
		rec, _ := srv.Sandbox("once")
		assert.Equal(t, rec.ID, sb.DaytonaID())
	})
}

// TestDestroyFindsOrphanOfFailedStart: a start whose create was made but
// whose answer was lost, and whose lookup then failed, leaves a sandbox
// the Sandbox never learned the id of, still being created (the API holds
// a create until the sandbox starts). Destroy finds it by name, and waits
// out the 409 its DELETE meets while it is created.
func TestDestroyFindsOrphanOfFailedStart(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v), daytonatest.WithTransitionDelay(time.Hour))
		made := func() bool { _, ok := srv.Sandbox("orphan"); return ok }
		flaky := func() {
			assert.NoError(t, srv.FailNext(daytonatest.OpGet, 1, http.StatusInternalServerError, "flaky")) // on the transport's goroutine
		}
		sb := newSandbox(t, srv, daytona.WithName("orphan"), daytona.WithHTTPClient(loseCreateAnswer(made, flaky)))
		require.Error(t, sb.Start(t.Context()))
		assert.Equal(t, workspace.StatusError, sb.Status())
		require.Equal(t, daytonatest.StateCreating, state(srv, "orphan"))

		done := make(chan error, 1)
		go func() { done <- sb.Destroy(t.Context()) }()
		waitFor(t, "the refused delete", func() bool { return srv.Count(daytonatest.OpDelete) == 1 })
		require.NoError(t, srv.SetSandboxState("orphan", daytonatest.StateStarted, ""))
		require.NoError(t, <-done)
		_, exists := srv.Sandbox("orphan")
		assert.False(t, exists, "renamed by the delete")
		assert.Equal(t, []int{http.StatusConflict, http.StatusOK}, statuses(srv, daytonatest.OpDelete))
	})
}

// TestLostSessionByCode (issue #20, 7): today's PROCESS_NOT_FOUND, whatever
// its message, is a lost session: a new session, not a sandbox recovery.
func TestLostSessionByCode(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithServiceVersion(daytonatest.ServiceCurrent))
	sb := startedSandbox(t, srv)
	_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
	require.NoError(t, err)
	srv.ResetRequests()
	require.NoError(t, srv.FailNextWith(daytonatest.OpSessionExec, 1, daytonatest.Fault{Status: 404, Message: "no such process", Code: "PROCESS_NOT_FOUND"}))
	res, err := sb.ExecuteCommand(t.Context(), "echo again", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "again\n", res.Stdout)
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreateSession), "a new session")
	assert.Zero(t, srv.Count(daytonatest.OpGet), "no recovery of the sandbox")
}

// TestDaemonRefusalIsNotADeadSandbox (issue #20, 7; issue #19): a 404 the
// daemon answers itself, structured (FILE_NOT_FOUND, source DAYTONA_DAEMON)
// or in plain text ("404 page not found"), is about the file; only the
// proxy's refusal means the sandbox is gone.
func TestDaemonRefusalIsNotADeadSandbox(t *testing.T) {
	forVersions(t, func(t *testing.T, v daytonatest.ServiceVersion) {
		srv := newServer(t, daytonatest.WithServiceVersion(v))
		sb := startedSandbox(t, srv)
		fsys := sb.Filesystem()
		require.NoError(t, fsys.WriteFile(t.Context(), "here", []byte("x"), 0o644))
		srv.ResetRequests()
		for _, f := range []daytonatest.Fault{
			{Status: 404, Message: "404 page not found", Text: true},
			{Status: 404, Message: "file not found: here", Code: "FILE_NOT_FOUND"},
		} {
			require.NoError(t, srv.FailNextWith(daytonatest.OpFileInfo, 1, f))
			_, err := fsys.Stat(t.Context(), "here")
			assert.ErrorIs(t, err, fs.ErrNotExist, "%+v", f)
		}
		assert.Zero(t, srv.Count(daytonatest.OpGet), "no recovery of the sandbox")

		require.NoError(t, srv.FailNextWith(daytonatest.OpFileInfo, 1, daytonatest.Fault{Status: 401, Message: "unauthorized: authentication failed: Bearer token is invalid", Proxy: true}))
		_, err := fsys.Stat(t.Context(), "here")
		require.NoError(t, err, "the proxy's 401: recovered, then tried once more")
		assert.NotZero(t, srv.Count(daytonatest.OpGet), "the sandbox was looked up")
	})
}

// TestUploadFallsBackToV2 (issue #20, 8): when the daemon answers 404 for
// /files/upload, uploads go to /files/upload-v2 (raw body), from then on
// for that sandbox; a stream first asks which route is served, so as not
// to lose what it read.
func TestUploadFallsBackToV2(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithServiceVersion(daytonatest.ServiceCurrent))
	gone := daytonatest.Fault{Status: 404, Message: "404 page not found", Text: true}
	sb := startedSandbox(t, srv)
	fsys := sb.Filesystem()
	require.NoError(t, srv.FailNextWith(daytonatest.OpUploadFile, 1, gone))
	require.NoError(t, fsys.WriteFile(t.Context(), "deep/er/one.txt", []byte("one"), 0o644))
	require.NoError(t, fsys.WriteFile(t.Context(), "two.txt", []byte("two"), 0o600))
	assert.Equal(t, 1, srv.Count(daytonatest.OpUploadFile))
	assert.Equal(t, 2, srv.Count(daytonatest.OpUploadFileV2))
	for name, want := range map[string]string{"deep/er/one.txt": "one", "two.txt": "two"} {
		got, err := fsys.ReadFile(t.Context(), name)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}
	fi, err := fsys.Stat(t.Context(), "two.txt")
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())

	streamed := startedSandbox(t, srv)
	require.NoError(t, srv.FailNextWith(daytonatest.OpUploadFile, 1, gone))
	srv.ResetRequests()
	content := strings.Repeat("streamed ", 100000)
	require.NoError(t, streamed.Filesystem().Create(t.Context(), "s.txt", strings.NewReader(content), 0o644))
	assert.Equal(t, 1, srv.Count(daytonatest.OpUploadFile), "the request without content")
	assert.Equal(t, 1, srv.Count(daytonatest.OpUploadFileV2))
	got, err := streamed.Filesystem().ReadFile(t.Context(), "s.txt")
	require.NoError(t, err)
	assert.Equal(t, content, string(got))
}

// TestNamesDaytonaRefuses (issue #20, 9): WithName and WithID refuse,
// before any request, the names the API refuses, with its reason; the
// names it takes pass.
func TestNamesDaytonaRefuses(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const reason = "name must not contain HTML tags, URLs, or control characters"
	for _, name := range []string{"https://evil.example", "visit www.example.com", "<b>x</b>", "bell\a", "javascript:alert(1)"} {
		for _, opt := range []daytona.Option{daytona.WithName(name), daytona.WithID(name)} {
			_, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()), opt)
			require.Error(t, err, "%q", name)
			assert.ErrorIs(t, err, daytona.ErrInvalidInput)
			assert.Contains(t, err.Error(), reason)
		}
		status, body := apiCall(t, srv, "POST", "/sandbox", map[string]any{"name": name})
		assert.Equal(t, http.StatusBadRequest, status, "%q", name)
		assert.Contains(t, body["message"], reason, "the fake refuses it too")
	}
	assert.Equal(t, 5, srv.Count(daytonatest.OpCreate), "only the raw requests reached the server")
	for _, name := range []string{"plain-name", "a < b", "web.dev"} {
		sb := startedSandbox(t, srv, daytona.WithName(name))
		assert.Equal(t, name, sb.RemoteName())
	}
}

// TestGetInfoHardEnd (issue #20, 10): where today's record carries them,
// GetInfo shows the sandbox's TTL end (autoDestroyAt) and its auto-pause
// interval, and TimeoutAt follows auto-pause.
func TestGetInfoHardEnd(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithServiceVersion(daytonatest.ServiceCurrent),
		daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "vm", Class: daytonatest.ClassLinuxVM}))
	status, body := apiCall(t, srv, "POST", "/sandbox", map[string]any{"name": "mortal", "snapshot": "vm", "ttlMinutes": 120})
	require.Equal(t, http.StatusOK, status, "%v", body)
	sb := startedSandbox(t, srv, daytona.WithExistingSandbox(body["id"].(string)))
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	rec, _ := srv.Sandbox("mortal")
	require.False(t, rec.AutoDestroyAt.IsZero())
	end, ok := info.Metadata["autoDestroyAt"].(time.Time)
	require.True(t, ok, "%v", info.Metadata)
	assert.Equal(t, rec.AutoDestroyAt.UnixMilli(), end.UnixMilli())
	assert.Equal(t, daytonatest.DefaultAutoPause, info.Metadata["autoPauseInterval"])
	assert.Equal(t, info.LastUsedAt.Add(daytonatest.DefaultAutoPause*time.Minute), info.TimeoutAt)

	plain := startedSandbox(t, srv)
	info, err = plain.GetInfo(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, info.Metadata, "autoDestroyAt")
	assert.NotContains(t, info.Metadata, "autoPauseInterval")
}
