//go:build unix

package daytonatest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t, daytonatest.WithServiceVersion(daytonatest.Service0190)) // SDK v0.173.0's List: /paginated
	ctx := t.Context()

	srv.ResetRequests()
	require.Empty(t, srv.Requests())
	require.Empty(t, srv.Counts())
	require.Equal(t, 0, srv.TotalCount())

	_, err := c.Get(ctx, sb.ID)
	require.NoError(t, err)
	_, err = sb.Process.ExecuteCommand(ctx, "echo hi")
	require.NoError(t, err)
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	requireDaytonaError(t, sb.Process.CreateSession(ctx, "s"), http.StatusConflict, "conflict: session already exists")
	_, err = c.List(ctx, map[string]string{"k": "v"}, nil, nil)
	require.NoError(t, err)
	// Requests to the test controls are not logged; unknown routes are.
	require.Equal(t, http.StatusOK, authed(t, srv, "GET", "/_daytonatest/counts", nil).Status)
	require.Equal(t, http.StatusNotFound, authed(t, srv, "GET", "/api/nope", nil).Status)
	require.Equal(t, http.StatusBadRequest, authed(t, srv, "POST", "/api/sandbox", "not json").Status)

	reqs := srv.Requests()
	type entry struct {
		Method, Path string
		Op           daytonatest.Op
		Status       int
	}
	var got []entry
	for _, r := range reqs {
		got = append(got, entry{r.Method, r.Path, r.Op, r.Status})
		require.WithinDuration(t, time.Now(), r.Time, time.Minute)
		require.Positive(t, r.Duration)
	}
	tb := "/toolbox/" + sb.ID
	require.Equal(t, []entry{
		{"GET", "/api/sandbox/" + sb.ID, daytonatest.OpGet, 200},
		{"POST", tb + "/process/execute", daytonatest.OpExecute, 200},
		{"POST", tb + "/process/session", daytonatest.OpCreateSession, 201},
		{"POST", tb + "/process/session", daytonatest.OpCreateSession, 409},
		{"GET", "/api/sandbox/paginated", daytonatest.OpListPaginated, 200},
		{"GET", "/api/nope", daytonatest.OpUnknown, 404},
		{"POST", "/api/sandbox", daytonatest.OpCreate, 400},
	}, got)

	// Bodies are kept when they are JSON, and queries are kept.
	require.Nil(t, reqs[0].Body)
	require.JSONEq(t, `{"command":"echo hi"}`, string(reqs[1].Body))
	require.JSONEq(t, `{"sessionId":"s"}`, string(reqs[2].Body))
	require.Contains(t, reqs[4].Query, "labels=")
	require.Nil(t, reqs[6].Body, "a body that is not JSON is not kept")

	require.Equal(t, map[daytonatest.Op]int{
		daytonatest.OpGet: 1, daytonatest.OpExecute: 1, daytonatest.OpCreateSession: 2,
		daytonatest.OpListPaginated: 1, daytonatest.OpUnknown: 1, daytonatest.OpCreate: 1,
	}, srv.Counts())
	require.Equal(t, 2, srv.Count(daytonatest.OpCreateSession))
	require.Equal(t, 0, srv.Count(daytonatest.OpDelete))
	require.Equal(t, 7, srv.TotalCount())
	require.Len(t, srv.RequestsFor(daytonatest.OpCreateSession), 2)
	require.Empty(t, srv.RequestsFor(daytonatest.OpDelete))

	// The log is a copy.
	reqs[0].Path = "changed"
	require.Equal(t, "/api/sandbox/"+sb.ID, srv.Requests()[0].Path)

	srv.ResetRequests()
	require.Empty(t, srv.Requests())
	require.Equal(t, 0, srv.Count(daytonatest.OpCreateSession))
}

func TestRequestLogInFlight(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	id := execAsync(t, sb, "s", gateCmd)
	s := follow(ctx, sb, "s", id)
	waitFor(t, 10*time.Second, "the stream to be logged", func() bool {
		return srv.Count(daytonatest.OpFollowLogs) == 1
	})
	// An open stream is logged with status 0 until it ends.
	require.Equal(t, 0, lastRequest(t, srv, daytonatest.OpFollowLogs).Status)
	openGate(t, home)
	_, err := s.wait(t, 10*time.Second)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the stream's status", func() bool {
		return lastRequest(t, srv, daytonatest.OpFollowLogs).Status == http.StatusSwitchingProtocols
	})
}

func TestRequestLogLimit(t *testing.T) {
	t.Parallel()
	srv, c, sb := newSandbox(t, daytonatest.WithRequestLogLimit(2))
	for range 3 {
		_, err := c.Get(t.Context(), sb.ID)
		require.NoError(t, err)
	}
	require.Len(t, srv.Requests(), 2, "the oldest entries are dropped")
	require.Equal(t, 3, srv.Count(daytonatest.OpGet), "counts are kept for all")
	require.Equal(t, daytonatest.OpGet, srv.Requests()[0].Op)
}

func TestRequestLogOverHTTP(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	_, err := sb.Process.ExecuteCommand(t.Context(), "echo hi")
	require.NoError(t, err)

	r := authed(t, srv, "GET", "/_daytonatest/requests", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var out struct {
		Requests []map[string]any `json:"requests"`
		Counts   map[string]int   `json:"counts"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	require.Equal(t, map[string]int{"create": 1, "execute": 1}, out.Counts)
	require.Len(t, out.Requests, 2)
	exe := out.Requests[1]
	require.Equal(t, "POST", exe["method"])
	require.Equal(t, "/toolbox/"+sb.ID+"/process/execute", exe["path"])
	require.Equal(t, "execute", exe["op"])
	require.EqualValues(t, 200, exe["status"])
	require.Equal(t, map[string]any{"command": "echo hi"}, exe["body"])
	require.Contains(t, exe, "time")
	ms, ok := exe["durationMs"].(float64)
	require.True(t, ok, "durationMs is %T", exe["durationMs"])
	require.Positive(t, ms)
	require.Equal(t, "create", out.Requests[0]["op"])

	r = authed(t, srv, "GET", "/_daytonatest/counts", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, map[string]any{"create": 1.0, "execute": 1.0}, r.JSON(t))

	require.Equal(t, http.StatusNoContent, authed(t, srv, "DELETE", "/_daytonatest/requests", nil).Status)
	require.Empty(t, srv.Requests())
	r = authed(t, srv, "GET", "/_daytonatest/requests", nil)
	require.JSONEq(t, `{"requests":[],"counts":{}}`, string(r.Body))
}

func TestCloseDelayControl(t *testing.T) {
	t.Parallel()
	srv := daytonatest.NewServer(t, daytonatest.WithTransitionDelay(0))
	sb := createSandbox(t, newClient(t, srv), types.SnapshotParams{})
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	id := execAsync(t, sb, "s", "echo hi")
	waitExit(t, sb, "s", id)

	require.Equal(t, map[string]any{"closeDelay": "1s"}, authed(t, srv, "GET", "/_daytonatest/close-delay", nil).JSON(t))
	r := authed(t, srv, "PUT", "/_daytonatest/close-delay", `{"closeDelay":"0s"}`)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, map[string]any{"closeDelay": "0s"}, r.JSON(t))
	require.Equal(t, time.Duration(0), srv.CloseDelay())

	s := follow(ctx, sb, "s", id)
	d, err := s.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.Less(t, d, 300*time.Millisecond)

	for _, bad := range []string{`{"closeDelay":"later"}`, `{"closeDelay":"-1ms"}`, `[`} {
		require.Equal(t, http.StatusBadRequest, authed(t, srv, "PUT", "/_daytonatest/close-delay", bad).Status, bad)
	}
	srv.SetCloseDelay(250 * time.Millisecond)
	require.Equal(t, 250*time.Millisecond, srv.CloseDelay())
	s = follow(ctx, sb, "s", id)
	d, err = s.wait(t, 10*time.Second)
	require.NoError(t, err)
	require.GreaterOrEqual(t, d, 250*time.Millisecond)
	srv.SetCloseDelay(-1)
	require.Equal(t, time.Duration(0), srv.CloseDelay())
}

func TestSandboxControlsOverHTTP(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	ctx := t.Context()
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "ctl"}})
	other := createSandbox(t, c, types.SnapshotParams{})
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	execAsync(t, sb, "s", "sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	// Records.
	r := authed(t, srv, "GET", "/_daytonatest/sandboxes", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var recs []daytonatest.Sandbox
	require.NoError(t, json.Unmarshal(r.Body, &recs))
	require.Len(t, recs, 2)
	require.Equal(t, other.ID, recs[0].ID, "newest first")
	require.Equal(t, sb.ID, recs[1].ID)
	require.Equal(t, []string{"s"}, recs[1].Sessions)
	require.Equal(t, home, recs[1].Dir)
	require.Equal(t, srv.Sandboxes(), recs)

	for _, ref := range []string{"ctl", sb.ID} {
		r = authed(t, srv, "GET", "/_daytonatest/sandboxes/"+ref, nil)
		require.Equal(t, http.StatusOK, r.Status)
		var rec daytonatest.Sandbox
		require.NoError(t, json.Unmarshal(r.Body, &rec))
		require.Equal(t, sb.ID, rec.ID)
		require.Equal(t, daytonatest.StateStarted, rec.State)
	}
	requireAPIError(t, authed(t, srv, "GET", "/_daytonatest/sandboxes/nope", nil), http.StatusNotFound,
		"Sandbox with ID or name nope not found", "/_daytonatest/sandboxes/nope")

	// Stop behind the client's back.
	require.Equal(t, http.StatusNoContent, authed(t, srv, "POST", "/_daytonatest/sandboxes/ctl/stop", nil).Status)
	require.False(t, processAlive(pid), "the stop control returned before killing the processes")
	_, err := sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)
	got, err := c.Get(ctx, sb.ID)
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_STOPPED, got.State)

	// Force a state.
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/state", `{"state":"error","reason":"disk failure"}`)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	got, err = c.Get(ctx, sb.ID)
	require.NoError(t, err)
	require.Equal(t, apiclient.SANDBOXSTATE_ERROR, got.State)
	require.Equal(t, "disk failure", authed(t, srv, "GET", "/api/sandbox/ctl", nil).JSON(t)["errorReason"])
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, "disk failure", rec.ErrorReason)
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/state", `{"state":"bogus"}`)
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/state", `{"state":`)
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/state", `{"state":"started"}`)
	require.Equal(t, http.StatusNoContent, r.Status)
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	require.NoError(t, err)

	// Delete behind the client's back.
	require.Equal(t, http.StatusNoContent, authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/delete", nil).Status)
	_, err = os.Stat(home)
	require.True(t, errors.Is(err, os.ErrNotExist), "the delete control returned before removing the directory")
	_, err = c.Get(ctx, sb.ID)
	requireNotFound(t, err, "Sandbox with ID or name "+sb.ID+" not found")
	_, err = sb.Process.ExecuteCommand(ctx, "true")
	requireDaytonaError(t, err, http.StatusUnauthorized, tokenInvalid)

	// Unknown sandboxes and actions.
	for _, action := range []string{"stop", "delete", "state"} {
		r := authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/"+action, `{"state":"stopped"}`)
		require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", action, r.Body)
	}
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+other.ID+"/explode", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	r = authed(t, srv, "GET", "/_daytonatest/nothing", nil)
	requireAPIError(t, r, http.StatusNotFound, "unknown control: GET nothing", "/_daytonatest/nothing")
}

func TestControlsRequireTheKey(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	controls := []struct{ method, path, body string }{
		{"GET", "/_daytonatest/requests", ""},
		{"DELETE", "/_daytonatest/requests", ""},
		{"GET", "/_daytonatest/counts", ""},
		{"GET", "/_daytonatest/latency", ""},
		{"PUT", "/_daytonatest/latency", `{"latency":"5s"}`},
		{"PUT", "/_daytonatest/close-delay", `{"closeDelay":"5s"}`},
		{"POST", "/_daytonatest/faults", `{"op":"get","status":500}`},
		{"DELETE", "/_daytonatest/faults", ""},
		{"POST", "/_daytonatest/stream-cuts", `{"count":1}`},
		{"GET", "/_daytonatest/sandboxes", ""},
		{"GET", "/_daytonatest/sandboxes/" + sb.ID, ""},
		{"POST", "/_daytonatest/sandboxes/" + sb.ID + "/stop", ""},
		{"POST", "/_daytonatest/sandboxes/" + sb.ID + "/delete", ""},
		{"POST", "/_daytonatest/sandboxes/" + sb.ID + "/state", `{"state":"error"}`},
		{"GET", "/_daytonatest", ""},
	}
	for _, ctl := range controls {
		var body []byte
		if ctl.body != "" {
			body = []byte(ctl.body)
		}
		for _, key := range []string{"", "wrong-key"} {
			r := do(t, srv, ctl.method, ctl.path, key, body)
			requireAPIError(t, r, http.StatusUnauthorized, "Unauthorized", ctl.path)
		}
	}
	// Nothing changed.
	require.Equal(t, time.Duration(0), srv.Latency())
	require.Equal(t, time.Duration(0), srv.CloseDelay())
	rec, ok := srv.Sandbox(sb.ID)
	require.True(t, ok)
	require.Equal(t, daytonatest.StateStarted, rec.State)
	_, err := sb.Process.ExecuteCommand(t.Context(), "true")
	require.NoError(t, err)
}

func TestRunAndClose(t *testing.T) {
	t.Parallel()
	srv, err := daytonatest.Run(daytonatest.WithCloseDelay(0), daytonatest.WithTransitionDelay(0))
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			srv.Close()
		}
	})
	require.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"), srv.URL())
	require.Equal(t, srv.URL()+"/api", srv.APIURL())
	require.True(t, strings.HasPrefix(srv.APIKey(), "dtn_"))
	root := srv.Root()
	require.DirExists(t, root)

	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{})
	home := homeDir(t, srv, sb.ID)
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	id := execAsync(t, sb, "s", "echo up; sleep 300 & echo $! > sleep.pid; wait")
	pid := readPID(t, filepath.Join(home, "sleep.pid"))
	s := follow(ctx, sb, "s", id)
	waitFor(t, 10*time.Second, "the stream", func() bool { return strings.HasPrefix(s.Stdout(), "u") })
	// Another sandbox, stopped, keeps its files until Close.
	sb2 := createSandbox(t, c, types.SnapshotParams{})
	require.NoError(t, sb2.Stop(ctx))

	start := time.Now()
	srv.Close()
	closed = true
	require.Less(t, time.Since(start), 5*time.Second)
	require.False(t, processAlive(pid), "Close left a session process running")
	require.NoDirExists(t, root, "Close left the temporary root")
	_, err = s.wait(t, 10*time.Second)
	require.Error(t, err, "Close drops open streams")

	srv.Close() // idempotent
	_, err = c.Get(ctx, sb.ID)
	require.Error(t, err, "the server still answers after Close")

	var nilServer *daytonatest.Server
	nilServer.Close()
}

func TestCloseWhileExecuteRuns(t *testing.T) {
	t.Parallel()
	srv, err := daytonatest.Run(daytonatest.WithTransitionDelay(0))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{})
	home := homeDir(t, srv, sb.ID)

	done := make(chan error, 1)
	go func() {
		_, err := sb.Process.ExecuteCommand(t.Context(), "sleep 300 & echo $! > sleep.pid; wait")
		done <- err
	}()
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	start := time.Now()
	srv.Close()
	require.Less(t, time.Since(start), 3*time.Second, "Close waited for a running execute")
	require.False(t, processAlive(pid), "Close left an execute process running")
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("ExecuteCommand still running after Close")
	}
}

func TestCloseWhileSyncSessionCommandRuns(t *testing.T) {
	t.Parallel()
	srv, err := daytonatest.Run(daytonatest.WithTransitionDelay(0))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{})
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))

	done := make(chan error, 1)
	go func() {
		_, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "sleep 300 & echo $! > sleep.pid; wait", false, false)
		done <- err
	}()
	pid := readPID(t, filepath.Join(home, "sleep.pid"))

	start := time.Now()
	srv.Close()
	require.Less(t, time.Since(start), 3*time.Second)
	require.False(t, processAlive(pid))
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("ExecuteSessionCommand still running after Close")
	}
}

func TestOptionsTakeEffect(t *testing.T) {
	t.Parallel()

	t.Run("WithAPIKey", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, daytonatest.WithAPIKey("my-key"))
		require.Equal(t, "my-key", srv.APIKey())
		createSandbox(t, newClient(t, srv), types.SnapshotParams{})
	})

	t.Run("WithAddr", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, daytonatest.WithAddr("localhost:0"))
		require.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || strings.HasPrefix(srv.URL(), "http://[::1]:"), srv.URL())
		createSandbox(t, newClient(t, srv), types.SnapshotParams{})
	})

	t.Run("WithRoot", func(t *testing.T) {
		t.Parallel()
		root := filepath.Join(t.TempDir(), "sandboxes")
		srv, err := daytonatest.Run(daytonatest.WithRoot(root), daytonatest.WithTransitionDelay(0))
		require.NoError(t, err)
		t.Cleanup(srv.Close)
		require.Equal(t, root, srv.Root())
		sb := createSandbox(t, newClient(t, srv), types.SnapshotParams{})
		home := homeDir(t, srv, sb.ID)
		require.True(t, strings.HasPrefix(home, root+string(filepath.Separator)))
		srv.Close()
		require.DirExists(t, root, "a root given with WithRoot is kept")
		require.NoDirExists(t, filepath.Dir(home), "the sandbox directories are removed")
	})

	t.Run("WithShell", func(t *testing.T) {
		t.Parallel()
		_, _, sb := newSandbox(t, daytonatest.WithShell("/bin/sh"))
		res, err := sb.Process.ExecuteCommand(t.Context(), "echo $0")
		require.NoError(t, err)
		require.Equal(t, "/bin/sh\n", res.Result)
		require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
		m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "cd / && X=1", false, false)
		require.NoError(t, err)
		require.Equal(t, int32(0), m["exitCode"])
		m, err = sb.Process.ExecuteSessionCommand(t.Context(), "s", `echo "$X $PWD $SHELL"`, false, false)
		require.NoError(t, err)
		require.Equal(t, "1 / /bin/sh\n", m["stdout"])

		_, _, sb = newSandbox(t)
		res, err = sb.Process.ExecuteCommand(t.Context(), "echo $0")
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(strings.TrimSpace(res.Result), "bash"), "default shell %q", res.Result)
	})

	t.Run("WithLogOutput", func(t *testing.T) {
		t.Parallel()
		var buf syncBuffer
		srv, _, sb := newSandbox(t, daytonatest.WithLogOutput(&buf))
		_, err := sb.Process.ExecuteCommand(t.Context(), "echo secret-output")
		require.NoError(t, err)
		waitFor(t, 10*time.Second, "the log line", func() bool {
			return strings.Contains(buf.String(), "POST /toolbox/"+sb.ID+"/process/execute -> 200")
		})
		require.Contains(t, buf.String(), "POST /api/sandbox -> 200")
		require.NotContains(t, buf.String(), srv.APIKey())
		require.NotContains(t, buf.String(), "secret-output")
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFinishTransition: a transition held by a long delay ends when the
// test says so, one step at a time, in Go and over HTTP; without one it is
// an error.
func TestFinishTransition(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{})
	path := "/api/sandbox/" + sb.ID
	state := func() daytonatest.State { rec, _ := srv.Sandbox(sb.ID); return rec.State }
	require.ErrorContains(t, srv.FinishTransition(sb.ID), "no transition in progress")
	srv.SetTransitionDelay(time.Hour)

	r := authed(t, srv, "POST", path+"/stop", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, daytonatest.StateStopping, state())
	require.NoError(t, srv.FinishTransition(sb.ID))
	require.Equal(t, daytonatest.StateStopped, state())
	require.ErrorContains(t, srv.FinishTransition(sb.ID), "no transition in progress")

	require.Equal(t, http.StatusOK, authed(t, srv, "POST", path+"/archive", nil).Status)
	require.Equal(t, daytonatest.StateArchiving, state())
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/finish-transition", nil)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	require.Equal(t, daytonatest.StateArchived, state())

	// The start of an archived sandbox is answered at once; it then
	// restores, then runs: two steps.
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", path+"/start", nil).Status)
	require.NoError(t, srv.FinishTransition(sb.ID))
	require.Equal(t, daytonatest.StateRestoring, state())
	require.NoError(t, srv.FinishTransition(sb.ID))
	require.Equal(t, daytonatest.StateStarted, state())

	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/finish-transition", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.ErrorIs(t, srv.FinishTransition("nope"), daytonatest.ErrSandboxNotFound)
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes/nope/finish-transition", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
}
