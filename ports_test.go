package daytona_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// freePort returns a TCP port that nothing on this machine (where the
// fake's sandboxes run) listens on, between lo and hi.
func freePort(t *testing.T, lo, hi int) int {
	t.Helper()
	for p := lo + time.Now().Nanosecond()%(hi-lo); ; p = lo + (p-lo+7919)%(hi-lo) {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			require.NoError(t, ln.Close())
			return p
		}
	}
}

// serveHTTP spawns an HTTP server on port in the sandbox, serving a page
// that says hello, and kills it at cleanup.
func serveHTTP(t *testing.T, sb *daytona.Sandbox, port int) workspace.Process {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: it serves HTTP inside the sandbox")
	}
	res, err := sb.ExecuteCommand(t.Context(), "mkdir -p site && echo 'hello from the sandbox' > site/index.html", nil, nil)
	require.NoError(t, err)
	require.True(t, res.Success(), res.Stderr)
	proc, err := sb.Processes().Spawn(t.Context(), "exec python3 -m http.server "+strconv.Itoa(port)+" --bind 127.0.0.1 --directory site", nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = proc.Kill(ctx)
	})
	return proc
}

// servedURL serves HTTP on a free port of the daemon's range in sb, waits
// for it, and returns its URL and port.
func servedURL(t *testing.T, sb *daytona.Sandbox) (*workspace.PortURL, int) {
	t.Helper()
	port := freePort(t, 3000, 10000)
	serveHTTP(t, sb, port)
	require.NoError(t, sb.WaitForPort(t.Context(), port))
	u, err := sb.PortURL(t.Context(), port)
	require.NoError(t, err)
	return u, port
}

// fetch GETs path under u with u's headers, not following redirects.
func fetch(t *testing.T, u *workspace.PortURL, path string, withHeaders bool) (int, string) {
	t.Helper()
	req, err := u.NewRequest(t.Context(), "GET", path, nil)
	require.NoError(t, err)
	if !withHeaders {
		req.Header = http.Header{}
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestPortURLReachesSpawnedServer(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	u, port := servedURL(t, sb)
	assert.Equal(t, port, u.Port)
	assert.Len(t, u.Token, 32)
	assert.Equal(t, map[string]string{daytona.PreviewTokenHeader: u.Token, daytona.PreviewSkipWarningHeader: "true"}, u.Headers)

	status, body := fetch(t, u, "/index.html", true)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello from the sandbox\n", body)
	status, _ = fetch(t, u, "/index.html", false)
	assert.Equal(t, http.StatusTemporaryRedirect, status, "a private sandbox refuses a request without the token")
	assert.Positive(t, srv.Count(daytonatest.OpPortInUse))
}

func TestPortURLPublicSandboxNeedsNoToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithPublic(true))
	u, _ := servedURL(t, sb)
	status, body := fetch(t, u, "/", false)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello from the sandbox\n", body)
}

func TestSignedPortURL(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	port := freePort(t, 3000, 10000)
	serveHTTP(t, sb, port)
	require.NoError(t, sb.WaitForPort(t.Context(), port))
	before := time.Now()
	u, err := sb.SignedPortURL(t.Context(), port, 90*time.Second+time.Millisecond)
	require.NoError(t, err)
	assert.Regexp(t, `^[a-z0-9]{16}$`, u.Token)
	assert.WithinDuration(t, before.Add(91*time.Second), u.ExpiresAt, 2*time.Second, "rounded up to whole seconds")
	assert.Equal(t, "91", lastQuery(t, srv, daytonatest.OpSignedPreviewURL).Get("expiresInSeconds"))
	status, body := fetch(t, u, "/index.html", false)
	assert.Equal(t, http.StatusOK, status, "a signed URL needs no header")
	assert.Equal(t, "hello from the sandbox\n", body)

	require.NoError(t, sb.ExpirePortURL(t.Context(), u))
	status, _ = fetch(t, u, "/index.html", false)
	assert.Equal(t, http.StatusTemporaryRedirect, status, "an expired signed URL is refused")
	require.NoError(t, sb.ExpirePortURL(t.Context(), u), "expiring twice succeeds")
}

// lastQuery returns the query of the last request of op.
func lastQuery(t *testing.T, srv *daytonatest.Server, op daytonatest.Op) url.Values {
	t.Helper()
	reqs := srv.RequestsFor(op)
	require.NotEmpty(t, reqs)
	q, err := url.ParseQuery(reqs[len(reqs)-1].Query)
	require.NoError(t, err)
	return q
}

func TestWaitForPortOutsideTheDaemonRange(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	port := freePort(t, 20000, 30000)
	done := make(chan error, 1)
	go func() { done <- sb.WaitForPort(t.Context(), port) }()
	serveHTTP(t, sb, port)
	require.NoError(t, <-done)
	assert.Zero(t, srv.Count(daytonatest.OpPortInUse), "the daemon checks only 3000-9999: a probe command waits instead")
}

func TestWaitForPortEndsWithContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, port := range []int{freePort(t, 3000, 10000), freePort(t, 20000, 30000)} {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		err := sb.WaitForPort(ctx, port)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "port %d", port)
	}
}

func TestPortsBadInputBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	ctx := t.Context()
	for _, port := range []int{0, -1, 65536} {
		_, err := sb.PortURL(ctx, port)
		assert.ErrorIs(t, err, daytona.ErrInvalidInput)
		assert.ErrorIs(t, sb.WaitForPort(ctx, port), daytona.ErrInvalidInput)
		_, err = sb.SignedPortURL(ctx, port, time.Minute)
		assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	}
	for _, ttl := range []time.Duration{0, time.Millisecond, 25 * time.Hour} {
		_, err := sb.SignedPortURL(ctx, 3000, ttl)
		assert.ErrorIs(t, err, daytona.ErrInvalidInput, "ttl %v", ttl)
	}
	assert.ErrorIs(t, sb.ExpirePortURL(ctx, &workspace.PortURL{Port: 3000}), daytona.ErrInvalidInput)
	assert.ErrorIs(t, sb.ExpirePortURL(ctx, nil), daytona.ErrInvalidInput)
	assert.Zero(t, srv.TotalCount())
	assert.Equal(t, workspace.StatusPending, sb.Status())
}

func TestPortURLServiceError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	require.NoError(t, srv.FailNext(daytonatest.OpPreviewURL, 1, http.StatusServiceUnavailable, "proxy down"))
	_, err := sb.PortURL(t.Context(), 3000)
	assert.Equal(t, 503, daytona.StatusCode(err))
	var de *daytona.Error
	assert.True(t, errors.As(err, &de))
	require.NoError(t, srv.FailNext(daytonatest.OpPortInUse, 1, http.StatusInternalServerError, "daemon trouble"))
	err = sb.WaitForPort(t.Context(), 3000)
	assert.Equal(t, 500, daytona.StatusCode(err))
	assert.ErrorContains(t, err, "check port 3000")
}
