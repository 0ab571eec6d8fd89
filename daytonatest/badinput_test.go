//go:build unix

package daytonatest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

func TestMalformedJSON(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", "true", false, false)
	require.NoError(t, err)
	cid := m["id"].(string)

	t.Run("control plane", func(t *testing.T) {
		// See TestCreateInvalidJSON and TestCreateValidation.
		for body, msg := range map[string]string{
			`{"name":1}`:    "name must not contain HTML tags, URLs, or control characters, name must be a string",
			`{"cpu":"two"}`: "cpu must not be less than 0, cpu must be a number conforming to the specified constraints",
			`{"labels":[]}`: "labels must be an object",
		} {
			requireAPIError(t, authed(t, srv, "POST", "/api/sandbox", body), http.StatusBadRequest, msg, "/api/sandbox")
		}
		for _, body := range []string{`{"name":`, `{"name":"x"`, `[1,2`, `nope`} {
			r := authed(t, srv, "POST", "/api/sandbox", body)
			require.Equal(t, http.StatusBadRequest, r.Status)
			require.Equal(t, "Invalid JSON in request body", r.message(t))
		}
		require.Len(t, srv.Sandboxes(), 1, "a malformed create created a sandbox")
	})

	t.Run("toolbox", func(t *testing.T) {
		tb := "/toolbox/" + sb.ID
		for _, path := range []string{
			tb + "/process/execute",
			tb + "/process/session",
			tb + "/process/session/s/exec",
			tb + "/process/session/s/command/" + cid + "/input",
		} {
			for _, body := range []string{`{"command":`, `{"command":1,"sessionId":2,"data":3}`} {
				r := authed(t, srv, "POST", path, body)
				msg := r.message(t)
				require.True(t, strings.HasPrefix(msg, "bad request: invalid"), "%s %s: %q", path, body, msg)
				requireToolboxError(t, r, http.StatusBadRequest, msg, path, "POST")
			}
		}
		list, err := sb.Process.ListSessions(t.Context())
		require.NoError(t, err)
		require.Len(t, list, 1)
	})
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	tb := "/toolbox/" + sb.ID

	for _, path := range []string{"/api/nope", "/api", "/api/", "/api/sandbox/" + sb.ID + "/nope", "/api/sandbox/a/b/c/d", "/nothing", "/"} {
		r := authed(t, srv, "GET", path, nil)
		requireAPIError(t, r, http.StatusNotFound, "Cannot GET "+path, path)
	}
	for _, path := range []string{tb + "/nope", tb, tb + "/process", tb + "/process/session/s/command/c/logs/extra", "/toolbox/"} {
		r := authed(t, srv, "GET", path, nil)
		requireToolboxError(t, r, http.StatusNotFound, "not found: route not found", path, "GET")
	}
	// A sandbox the toolbox does not know: the token grants nothing.
	r := authed(t, srv, "GET", "/toolbox/no-such-sandbox/process/session", nil)
	requireToolboxError(t, r, http.StatusUnauthorized, tokenInvalid, "/toolbox/no-such-sandbox/process/session", "GET")

	// Logged as unknown: the ones under /api and /toolbox (not /nothing and /).
	require.Equal(t, 10, srv.Count(daytonatest.OpUnknown))
}

func TestWrongMethod(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	for _, tc := range []struct{ method, path string }{
		{"PUT", "/api/sandbox"},
		{"DELETE", "/api/sandbox"},
		{"PATCH", "/api/sandbox/" + sb.ID},
		{"GET", "/api/sandbox/" + sb.ID + "/start"},
		{"POST", "/api/sandbox/" + sb.ID},
		{"POST", "/api/sandbox/paginated/x"},
	} {
		r := authed(t, srv, tc.method, tc.path, nil)
		requireAPIError(t, r, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", tc.method, tc.path), tc.path)
	}
	tb := "/toolbox/" + sb.ID
	for _, tc := range []struct{ method, path string }{
		{"GET", tb + "/process/execute"},
		{"PUT", tb + "/process/session"},
		{"POST", tb + "/process/session/s"},
		{"DELETE", tb + "/process/session/s/command/c"},
	} {
		r := authed(t, srv, tc.method, tc.path, nil)
		requireToolboxError(t, r, http.StatusNotFound, "not found: route not found", tc.path, tc.method)
	}
	// The server is still fine.
	_, err := sb.Process.ExecuteCommand(t.Context(), "true")
	require.NoError(t, err)
}

// TestRoutingEdgeCases pins how paths are matched: segments are unescaped
// after splitting, slashes at either end are ignored, empty and dot
// segments are plain values, nothing is redirected, and HEAD is no GET.
func TestRoutingEdgeCases(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", "/api/sandbox", `{"name":"a/b"}`).Status)
	srv.ResetRequests()

	r := authed(t, srv, "GET", "/api/sandbox/a%2Fb", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, "a/b", r.JSON(t)["name"])
	r = authed(t, srv, "GET", "/api/sandbox/"+sb.ID+"/", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, sb.ID, r.JSON(t)["id"])
	r = authed(t, srv, "GET", "/api/sandbox/%70aginated", nil) // gone today: a sandbox named paginated
	requireAPIError(t, r, http.StatusNotFound, "Sandbox with ID or name paginated not found", "/api/sandbox/%70aginated")
	r = authed(t, srv, "POST", "/api/sandbox//start", nil)
	requireAPIError(t, r, http.StatusNotFound, "Sandbox with ID or name  not found", "/api/sandbox//start")
	r = authed(t, srv, "POST", "/api/sandbox/./start", nil)
	requireAPIError(t, r, http.StatusNotFound, "Sandbox with ID or name . not found", "/api/sandbox/./start")
	r = authed(t, srv, "HEAD", "/api/sandbox", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	r = authed(t, srv, "POST", "/_daytonatest/sandboxes//stop", nil)
	requireAPIError(t, r, http.StatusNotFound, "daytonatest: sandbox  not found", "/_daytonatest/sandboxes//stop")
	r = authed(t, srv, "HEAD", "/_daytonatest/counts", nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	var ops []daytonatest.Op
	for _, req := range srv.Requests() {
		ops = append(ops, req.Op)
	}
	require.Equal(t, []daytonatest.Op{
		daytonatest.OpGet, daytonatest.OpGet, daytonatest.OpListPaginated,
		daytonatest.OpStart, daytonatest.OpStart, daytonatest.OpUnknown,
	}, ops)
}

func TestOversizedBodies(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	const mib = 1 << 20

	// A JSON body of exactly 1 MiB is accepted...
	prefix, suffix := `{"name":"big","labels":{"pad":"`, `"}}`
	exact := prefix + strings.Repeat("x", mib-len(prefix)-len(suffix)) + suffix
	require.Len(t, exact, mib)
	r := authed(t, srv, "POST", "/api/sandbox", exact)
	require.Equal(t, http.StatusOK, r.Status, "message: %s", r.Body[:min(len(r.Body), 200)])

	// ...one byte more is not.
	r = authed(t, srv, "POST", "/api/sandbox", exact+" ")
	requireAPIError(t, r, http.StatusRequestEntityTooLarge, "request entity too large", "/api/sandbox")
	// Nor is a much larger one (the rest of it is never read).
	r = authed(t, srv, "POST", "/api/sandbox", strings.Repeat(" ", 4*mib))
	requireAPIError(t, r, http.StatusRequestEntityTooLarge, "request entity too large", "/api/sandbox")
	require.Len(t, srv.Sandboxes(), 2)

	// The toolbox takes larger bodies.
	big := `{"sessionId":"big","pad":"` + strings.Repeat("y", 2*mib) + `"}`
	r = authed(t, srv, "POST", "/toolbox/"+sb.ID+"/process/session", big)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)

	// The server still answers.
	_, err := sb.Process.ExecuteCommand(t.Context(), "true")
	require.NoError(t, err)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	tb := "/toolbox/" + sb.ID + "/process/execute"

	for _, key := range []string{"", "wrong", srv.APIKey() + "x"} {
		r := do(t, srv, "GET", "/api/sandbox/"+sb.ID, key, nil)
		requireAPIError(t, r, http.StatusUnauthorized, "Unauthorized", "/api/sandbox/"+sb.ID)
		r = do(t, srv, "POST", "/api/sandbox", key, []byte(`{}`))
		requireAPIError(t, r, http.StatusUnauthorized, "Unauthorized", "/api/sandbox")
		r = do(t, srv, "POST", tb, key, []byte(`{"command":"touch pwned"}`))
		requireToolboxError(t, r, http.StatusUnauthorized, tokenInvalid, tb, "POST")
	}
	require.Len(t, srv.Sandboxes(), 1, "an unauthenticated create created a sandbox")
	require.NoFileExists(t, homeDir(t, srv, sb.ID)+"/pwned")

	// The key must come as a bearer token.
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.APIURL()+"/sandbox", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The SDK with a wrong key.
	c := newClientWithConfig(t, &types.DaytonaConfig{APIKey: "wrong", APIUrl: srv.APIURL()})
	_, err = c.Get(t.Context(), sb.ID)
	requireDaytonaError(t, err, http.StatusUnauthorized, "Unauthorized")
	_, err = c.Create(t.Context(), types.SnapshotParams{})
	requireDaytonaError(t, err, http.StatusUnauthorized, "Unauthorized")
}

// fakeT records Fatalf instead of stopping the test.
type fakeT struct {
	fatal    string
	cleanups []func()
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }
func (f *fakeT) Cleanup(fn func())              { f.cleanups = append(f.cleanups, fn) }

func TestOptionsRejectBadValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt  daytonatest.Option
		want string
	}{
		{daytonatest.WithAddr("0.0.0.0:0"), "loopback"},
		{daytonatest.WithAddr(":0"), "loopback"},
		{daytonatest.WithAddr("192.0.2.1:0"), "loopback"},
		{daytonatest.WithAddr("example.com:0"), "loopback"},
		{daytonatest.WithAddr("127.0.0.1"), "WithAddr"},
		{daytonatest.WithAddr("127.0.0.1:"), "missing port"},
		{daytonatest.WithAPIKey(""), "empty key"},
		{daytonatest.WithAPIKey("   "), "empty key"},
		{daytonatest.WithAPIKey("a b"), "whitespace"},
		{daytonatest.WithRoot(""), "empty directory"},
		{daytonatest.WithShell(""), "empty path"},
		{daytonatest.WithLatency(-time.Millisecond), "negative"},
		{daytonatest.WithCloseDelay(-time.Millisecond), "negative"},
		{daytonatest.WithTransitionDelay(-time.Millisecond), "negative"},
		{daytonatest.WithKillGrace(-time.Millisecond), "negative"},
		{daytonatest.WithFrameSize(0), "at least 1"},
		{daytonatest.WithRequestLogLimit(0), "at least 1"},
	} {
		srv, err := daytonatest.Run(daytonatest.WithTransitionDelay(0), tc.opt)
		if srv != nil {
			srv.Close()
		}
		require.Error(t, err)
		require.Nil(t, srv)
		require.Contains(t, err.Error(), tc.want)
		require.True(t, strings.HasPrefix(err.Error(), "daytonatest: With"), "the error names the option: %v", err)

		var ft fakeT
		require.Nil(t, daytonatest.NewServer(&ft, tc.opt))
		require.Contains(t, ft.fatal, tc.want)
		require.Empty(t, ft.cleanups)
	}

	// A nil option is an error that names its position, as in daytona.New.
	srv, err := daytonatest.Run(daytonatest.WithTransitionDelay(0), nil)
	require.EqualError(t, err, "daytonatest: option 1 is nil")
	require.Nil(t, srv)
	var nilT fakeT
	require.Nil(t, daytonatest.NewServer(&nilT, nil))
	require.Contains(t, nilT.fatal, "option 0 is nil")
	require.Empty(t, nilT.cleanups)

	// The last value of a setting wins.
	srv, err = daytonatest.Run(daytonatest.WithAPIKey("first"), daytonatest.WithAPIKey("second"))
	require.NoError(t, err)
	defer srv.Close()
	require.Equal(t, "second", srv.APIKey())

	// A port in use.
	_, err = daytonatest.Run(daytonatest.WithAddr(strings.TrimPrefix(srv.URL(), "http://")))
	require.ErrorContains(t, err, "listen")

	// NewServer registers Close.
	var ft fakeT
	s2 := daytonatest.NewServer(&ft)
	require.NotNil(t, s2)
	require.Empty(t, ft.fatal)
	require.Len(t, ft.cleanups, 1)
	root := s2.Root()
	require.DirExists(t, root)
	ft.cleanups[0]()
	require.NoDirExists(t, root)
}
