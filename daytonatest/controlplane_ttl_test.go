//go:build unix

package daytonatest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestTTL: today a create's ttlMinutes puts autoDestroyAt on the record,
// POST /sandbox/{id}/ttl/{minutes} re-anchors it from now (0 removes
// it), and a sandbox whose TTL ran out is destroyed whatever its state
// (@daytonaio/api-client 0.220.0, models/create-sandbox.d.ts,
// models/sandbox.d.ts, api/sandbox-api.js setTtl); before, neither the
// field nor the route exists.
func TestTTL(t *testing.T) {
	t.Parallel()
	const unit = 200 * time.Millisecond
	srv := newServer(t, daytonatest.WithServiceVersion(daytonatest.ServiceCurrent), daytonatest.WithAutoStopUnit(unit))
	before := time.Now()
	r := authed(t, srv, "POST", "/api/sandbox", map[string]any{"name": "short-lived", "ttlMinutes": 5})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	at, err := time.Parse(time.RFC3339Nano, r.JSON(t)["autoDestroyAt"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, before.Add(5*unit), at, time.Second)
	rec, _ := srv.Sandbox("short-lived")
	require.Equal(t, at.UnixMilli(), rec.AutoDestroyAt.UnixMilli())

	r = authed(t, srv, "POST", "/api/sandbox/short-lived/ttl/0", nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.NotContains(t, r.JSON(t), "autoDestroyAt")
	r = authed(t, srv, "POST", "/api/sandbox/short-lived/ttl/-1", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.NoError(t, srv.StopSandbox("short-lived"))
	r = authed(t, srv, "POST", "/api/sandbox/short-lived/ttl/1", nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Eventually(t, func() bool {
		rec, ok := srv.Sandbox("short-lived")
		return !ok || rec.State == daytonatest.StateDestroying
	}, 10*time.Second, 10*time.Millisecond, "a stopped sandbox is destroyed when its TTL runs out")
	require.Equal(t, 3, srv.Count(daytonatest.OpSetTTL))

	old := newServer(t, daytonatest.WithServiceVersion(daytonatest.Service0190))
	r = authed(t, old, "POST", "/api/sandbox", map[string]any{"name": "plain", "ttlMinutes": 5})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotContains(t, r.JSON(t), "autoDestroyAt")
	require.Equal(t, http.StatusNotFound, authed(t, old, "POST", "/api/sandbox/plain/ttl/1", nil).Status)
}
