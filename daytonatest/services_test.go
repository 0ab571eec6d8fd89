//go:build unix

package daytonatest_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// backend serves HTTP on a loopback port of this machine, where a
// sandbox's processes run, echoing what reached it.
func backend(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"path": r.URL.Path, "query": r.URL.RawQuery, "token": r.Header.Get("X-Daytona-Preview-Token"),
			"authorization": r.Header.Get("Authorization"), "forwardedHost": r.Header.Get("X-Forwarded-Host"),
		})
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// previewClient does not follow redirects, so that a test sees the
// proxy's 307, and keeps no idle connection.
var previewClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// get sends a GET through the preview proxy with the given headers.
func get(t *testing.T, rawURL string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", rawURL, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := previewClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// TestPreviewLinkProxiesWithTokenCheck follows
// apps/api/src/sandbox/services/sandbox.service.ts:1556-1603 and
// apps/proxy/pkg/proxy/auth.go:17-105 (v0.173.0): a private sandbox's
// preview needs its token (header, query parameter) or the API key, which
// the proxy removes; without one it redirects to the login page.
func TestPreviewLinkProxiesWithTokenCheck(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	port := backend(t)
	link, err := sb.GetPreviewLink(t.Context(), port)
	require.NoError(t, err)
	require.Len(t, link.Token, 32)

	ok := get(t, link.URL+"/some/path?x=1", map[string]string{"X-Daytona-Preview-Token": link.Token})
	require.Equal(t, http.StatusOK, ok.Status, "body: %s", ok.Body)
	got := ok.JSON(t)
	require.Equal(t, "/some/path", got["path"])
	require.Equal(t, "x=1", got["query"])
	require.Empty(t, got["token"], "the token reached the sandbox's server")

	byQuery := get(t, link.URL+"/?DAYTONA_SANDBOX_AUTH_KEY="+link.Token+"&y=2", nil)
	require.Equal(t, http.StatusOK, byQuery.Status)
	require.Equal(t, "y=2", byQuery.JSON(t)["query"])

	byKey := get(t, link.URL+"/", map[string]string{"Authorization": "Bearer " + srv.APIKey()})
	require.Equal(t, http.StatusOK, byKey.Status)
	require.Empty(t, byKey.JSON(t)["authorization"])

	for _, h := range []map[string]string{nil, {"X-Daytona-Preview-Token": "wrong"}} {
		refused := get(t, link.URL+"/", h)
		require.Equal(t, http.StatusTemporaryRedirect, refused.Status)
		login := get(t, refused.Header.Get("Location"), nil)
		require.Equal(t, http.StatusUnauthorized, login.Status)
	}
}

// TestPreviewPublicSandboxNeedsNoToken follows get_sandbox_target.go:60-80
// (v0.173.0): a public sandbox's ports need no token.
func TestPreviewPublicSandboxNeedsNoToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := createSandbox(t, newClient(t, srv), types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Public: true}})
	link, err := sb.GetPreviewLink(t.Context(), backend(t))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, get(t, link.URL, nil).Status)
}

// TestPreviewTokenRotatesOnStart follows sandbox.service.ts:1785
// (v0.173.0): every start gives the sandbox a new token.
func TestPreviewTokenRotatesOnStart(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	port := backend(t)
	before, err := sb.GetPreviewLink(t.Context(), port)
	require.NoError(t, err)
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Start(t.Context()))
	after, err := sb.GetPreviewLink(t.Context(), port)
	require.NoError(t, err)
	require.Equal(t, before.URL, after.URL)
	require.NotEqual(t, before.Token, after.Token)
	require.Equal(t, http.StatusTemporaryRedirect, get(t, after.URL, map[string]string{"X-Daytona-Preview-Token": before.Token}).Status)
	require.Equal(t, http.StatusOK, get(t, after.URL, map[string]string{"X-Daytona-Preview-Token": after.Token}).Status)
}

// TestPreviewClosedPortAndStoppedSandbox: nothing listening is the reverse
// proxy's 502 (apps/daemon/pkg/toolbox/proxy/proxy.go:17-47, v0.173.0); a
// stopped sandbox is the runner's 400.
func TestPreviewClosedPortAndStoppedSandbox(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	link, err := sb.GetPreviewLink(t.Context(), closed)
	require.NoError(t, err)
	auth := map[string]string{"X-Daytona-Preview-Token": link.Token}
	require.Equal(t, http.StatusBadGateway, get(t, link.URL, auth).Status)
	require.NoError(t, sb.Stop(t.Context()))
	stopped := get(t, link.URL, auth)
	require.Equal(t, http.StatusBadRequest, stopped.Status)
	require.Contains(t, string(stopped.Body), "Is the Sandbox started?")
}

// TestSignedPreviewLink follows sandbox.service.ts:1605-1691 and
// controller :1198-1230 (v0.173.0): a signed URL carries its own 16
// character token, works without headers until expired, expiring answers
// 201 and is idempotent, and expiresInSeconds must be 1-86400.
func TestSignedPreviewLink(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	port := backend(t)
	signed, err := sb.GetSignedPreviewLink(t.Context(), port, 120)
	require.NoError(t, err)
	require.Regexp(t, `^[a-z0-9]{16}$`, signed.Token)
	require.Equal(t, port, signed.Port)
	require.Equal(t, sb.ID, signed.SandboxID)
	require.Equal(t, http.StatusOK, get(t, signed.URL+"/x", nil).Status)

	require.NoError(t, sb.ExpireSignedPreviewLink(t.Context(), port, signed.Token))
	require.Equal(t, http.StatusCreated, lastRequest(t, srv, daytonatest.OpExpirePreviewURL).Status)
	require.Equal(t, http.StatusTemporaryRedirect, get(t, signed.URL+"/x", nil).Status)
	require.NoError(t, sb.ExpireSignedPreviewLink(t.Context(), port, signed.Token), "expiring twice")

	_, err = sb.GetSignedPreviewLink(t.Context(), port, 0)
	requireDaytonaError(t, err, 400, "400 Bad Request")
	r := authed(t, srv, "GET", "/api/sandbox/"+sb.ID+"/ports/3000/signed-preview-url?expiresInSeconds=86401", nil)
	requireAPIError(t, r, 400, "expiresInSeconds must be between 1 second and 24 hours", "/api/sandbox/"+sb.ID+"/ports/3000/signed-preview-url?expiresInSeconds=86401") // request.url
}

// TestPreviewURLPortRange follows sandbox.service.ts:1556-1559 (v0.173.0).
func TestPreviewURLPortRange(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	for _, port := range []string{"0", "65536", "http"} {
		path := "/api/sandbox/" + sb.ID + "/ports/" + port + "/preview-url"
		requireAPIError(t, authed(t, srv, "GET", path, nil), 400, "Invalid port", path)
	}
	r := authed(t, srv, "GET", "/api/sandbox/nope/ports/3000/preview-url", nil)
	requireAPIError(t, r, 404, "Sandbox with ID or name nope not found", "/api/sandbox/nope/ports/3000/preview-url")
}

// freePortInDaemonRange returns a port between 3000 and 9999 that nothing
// on this machine listens on, with a listener that takes it until the
// returned function closes it.
func freePortInDaemonRange(t *testing.T) (int, net.Listener) {
	t.Helper()
	for p := 3000 + time.Now().Nanosecond()%6000; ; p = 3000 + (p-3000+7)%7000 {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			return p, ln
		}
	}
}

// TestPortInUse follows apps/daemon/pkg/toolbox/port/detector.go:98-133
// (v0.173.0): {"isInUse"} for 3000-9999, else 400 with an empty body.
func TestPortInUse(t *testing.T) {
	srv, _, sb := newSandbox(t)
	port, ln := freePortInDaemonRange(t)
	inUse := func() bool {
		res, _, err := sb.ToolboxClient.PortAPI.IsPortInUse(t.Context(), int32(port)).Execute()
		require.NoError(t, err)
		return res.GetIsInUse()
	}
	require.True(t, inUse())
	require.NoError(t, ln.Close())
	require.False(t, inUse())
	for _, p := range []string{"2999", "10000", "x"} {
		r := authed(t, srv, "GET", "/toolbox/"+sb.ID+"/port/"+p+"/in-use", nil)
		require.Equal(t, 400, r.Status)
		require.Empty(t, r.Body)
	}
}

// TestAutoStopWithoutActivity follows
// apps/api/src/sandbox/managers/sandbox.manager.ts:92-160 (v0.173.0): a
// started sandbox idle for longer than its autoStopInterval is stopped, an
// ephemeral one deleted; 0 never.
func TestAutoStopWithoutActivity(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithAutoStopUnit(50*time.Millisecond))
	c := newClient(t, srv)
	one, zero := 1, 0
	idle := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{AutoStopInterval: &one}})
	never := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{AutoStopInterval: &zero}})
	ephemeral := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{AutoStopInterval: &one, Ephemeral: true}})
	waitFor(t, 5*time.Second, "auto-stop", func() bool {
		rec, _ := srv.Sandbox(idle.ID)
		return rec.State == daytonatest.StateStopped
	})
	waitFor(t, 5*time.Second, "the ephemeral sandbox's deletion", func() bool {
		_, ok := srv.Sandbox(ephemeral.ID)
		return !ok
	})
	rec, _ := srv.Sandbox(never.ID)
	require.Equal(t, daytonatest.StateStarted, rec.State)
}

// TestActivityKeepsSandboxRunning follows controller :888-908 and
// get_sandbox_target.go:88-96 (v0.173.0): last-activity answers 201 with no
// body and, like toolbox requests (unless they carry
// X-Daytona-Skip-Last-Activity-Update), resets the idle time.
func TestActivityKeepsSandboxRunning(t *testing.T) {
	srv := newServer(t, daytonatest.WithAutoStopUnit(200*time.Millisecond))
	c := newClient(t, srv)
	one := 1
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{AutoStopInterval: &one}})
	started := func() bool { rec, _ := srv.Sandbox(sb.ID); return rec.State == daytonatest.StateStarted }
	refresh := func() response { return authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/last-activity", nil) }
	tick := time.NewTicker(40 * time.Millisecond) // the client's keep-alive
	defer tick.Stop()
	for deadline := time.Now().Add(600 * time.Millisecond); time.Now().Before(deadline); <-tick.C { // three idle limits
		r := refresh()
		require.Equal(t, http.StatusCreated, r.Status)
		require.Empty(t, r.Body)
		require.True(t, started(), "stopped although active")
	}
	var record map[string]any
	require.NoError(t, json.Unmarshal(authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).Body, &record))
	last, err := time.Parse(time.RFC3339, record["lastActivityAt"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), last, time.Second)

	waitFor(t, 5*time.Second, "auto-stop once idle", func() bool { return !started() })
	requireAPIError(t, authed(t, srv, "POST", "/api/sandbox/nope/last-activity", nil), 404, "Sandbox with ID or name nope not found", "/api/sandbox/nope/last-activity")
}

// TestSetAutoStopInterval follows controller :910-950 and
// sandbox.service.ts:2535-2543, 2738-2744 (v0.173.0): a POST without
// @HttpCode, so 201.
func TestSetAutoStopInterval(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	r := authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/autostop/42", nil)
	require.Equal(t, 201, r.Status)
	require.EqualValues(t, 42, r.JSON(t)["autoStopInterval"])
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, 42, rec.AutoStopInterval)
	path := "/api/sandbox/" + sb.ID + "/autostop/-1"
	requireAPIError(t, authed(t, srv, "POST", path, nil), 400, "Auto-stop interval must be non-negative", path)
}

// TestMetrics follows sandbox-telemetry.controller.ts:126-150 and
// sandbox-telemetry.service.ts:248-298 (v0.173.0), with the gauges of
// libs/common-go/pkg/telemetry/metrics.go:236-420.
func TestMetrics(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	now := time.Now().UTC()
	q := url.Values{"from": {now.Add(-5 * time.Minute).Format(time.RFC3339)}, "to": {now.Add(time.Minute).Format(time.RFC3339)}}
	q["metricNames"] = []string{"daytona.sandbox.memory.usage", "daytona.sandbox.cpu.utilization", "daytona.sandbox.filesystem.usage"}
	path := "/api/sandbox/" + sb.ID + "/telemetry/metrics?" + q.Encode()
	require.NoError(t, srv.SetMetrics(sb.ID, daytonatest.Metrics{CPUPercent: 12.5, MemoryBytes: 300 << 20, DiskBytes: 2 << 30}))
	r := authed(t, srv, "GET", path, nil)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	got := map[string]float64{}
	for _, s := range r.JSON(t)["series"].([]any) {
		m := s.(map[string]any)
		points := m["dataPoints"].([]any)
		require.Len(t, points, 1)
		got[m["metricName"].(string)] = points[0].(map[string]any)["value"].(float64)
	}
	require.Equal(t, map[string]float64{
		"daytona.sandbox.cpu.utilization": 12.5, "daytona.sandbox.memory.usage": 300 << 20, "daytona.sandbox.filesystem.usage": 2 << 30,
	}, got)

	ctl := authed(t, srv, "POST", "/_daytonatest/sandboxes/"+sb.ID+"/metrics", map[string]any{"cpuPercent": 50})
	require.Equal(t, http.StatusNoContent, ctl.Status, "%s", ctl.Body)
	r = authed(t, srv, "GET", path, nil)
	require.Contains(t, string(r.Body), `"metricName":"daytona.sandbox.cpu.utilization","dataPoints":[{"timestamp"`)
	require.Contains(t, string(r.Body), `"value":50}`)

	bad := "/api/sandbox/" + sb.ID + "/telemetry/metrics"
	requireAPIError(t, authed(t, srv, "GET", bad, nil), 400, "from must be a valid ISO 8601 date string", bad)
	require.ErrorIs(t, srv.SetMetrics("nope", daytonatest.Metrics{}), daytonatest.ErrSandboxNotFound)
}

// TestMountStubsRecordCalls runs the stub tools the way a mount script
// does: the call, its arguments and the credential file it names are
// recorded, and mountpoint and umount see and undo the mark.
func TestMountStubsRecordCalls(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t, daytonatest.WithMountStubs())
	script := `umask 077; printf 'AK:SK' > cred; mkdir -p "$HOME/m" &&
s3fs 'bkt:/pre fix' "$HOME/m" -o passwd_file=$PWD/cred -o ro && mountpoint -q "$HOME/m" && echo mounted
umount "$HOME/m" && ! mountpoint -q "$HOME/m" && echo unmounted`
	res, err := sb.Process.ExecuteCommand(t.Context(), script)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, res.Result)
	require.Equal(t, "mounted\nunmounted\n", res.Result)
	calls, err := srv.MountCalls(sb.ID)
	require.NoError(t, err)
	require.Len(t, calls, 1)
	home := homeDir(t, srv, sb.ID)
	require.Equal(t, "s3fs", calls[0].Tool)
	require.Equal(t, []string{"bkt:/pre fix", home + "/m", "-o", "passwd_file=" + home + "/cred", "-o", "ro"}, calls[0].Args)
	require.Equal(t, []daytonatest.StubFile{{Path: home + "/cred", Content: "AK:SK", Mode: 0o600}}, calls[0].Files)

	res, err = sb.Process.ExecuteCommand(t.Context(), `s3fs bkt "$HOME/m" && mountpoint -q "$HOME/m"`)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, res.Result)
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Start(t.Context()))
	mounted, err := srv.Mounted(sb.ID)
	require.NoError(t, err)
	require.Empty(t, mounted, "a stop ends the mounts, as it ends a container's FUSE mounts")

	require.NoError(t, srv.FailNextMount(sb.ID, "stub: bucket unreachable"))
	res, err = sb.Process.ExecuteCommand(t.Context(), `gcsfuse --only-dir p bkt "$HOME/g"`)
	require.NoError(t, err)
	require.Equal(t, 1, res.ExitCode)
	require.Contains(t, res.Result, "stub: bucket unreachable")
	mounted, err = srv.Mounted(sb.ID)
	require.NoError(t, err)
	require.Empty(t, mounted)
	ctl := authed(t, srv, "GET", "/_daytonatest/sandboxes/"+sb.ID+"/mount-calls", nil).JSON(t)
	require.Len(t, ctl["calls"], 3)
	require.Equal(t, "gcsfuse", ctl["calls"].([]any)[2].(map[string]any)["tool"])
	_, err = srv.MountCalls("nope")
	require.ErrorIs(t, err, daytonatest.ErrSandboxNotFound)
}
