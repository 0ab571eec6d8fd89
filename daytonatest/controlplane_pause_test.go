//go:build unix

package daytonatest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

var vmSnapshot = daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "vm", Class: daytonatest.ClassLinuxVM})

// TestPauseAndResume: since v0.190.0 a started VM-class sandbox pauses
// (pausing, then paused) and a start resumes it, keeping its preview token
// (pause and start in sandbox.service.ts:2190-2240, 2042-2149 @v0.190.0);
// the start is answered once it runs. A paused sandbox can be stopped
// (sandbox.service.ts:2160-2162). In v0.173.0 there is no pause route.
func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	srv := newServerAt(t, daytonatest.Service0190, vmSnapshot, daytonatest.WithTransitionDelay(50*time.Millisecond))
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{Snapshot: "vm"})
	require.NoError(t, sb.Process.CreateSession(t.Context(), "kept"))
	link, err := sb.GetPreviewLink(t.Context(), 3000)
	require.NoError(t, err)
	path := "/api/sandbox/" + sb.ID

	// The pause is held until FinishTransition, however slow the machine.
	srv.SetTransitionDelay(time.Hour)
	r := authed(t, srv, "POST", path+"/pause", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "pausing", r.JSON(t)["state"])
	require.Equal(t, "paused", r.JSON(t)["desiredState"])
	requireAPIError(t, authed(t, srv, "POST", path+"/pause", nil), http.StatusBadRequest, "Sandbox must be in started state to pause", path+"/pause")
	requireAPIError(t, authed(t, srv, "POST", path+"/stop", nil), http.StatusConflict, "Sandbox state change in progress", path+"/stop")
	require.NoError(t, srv.FinishTransition(sb.ID))
	srv.SetTransitionDelay(50 * time.Millisecond)
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, daytonatest.StatePaused, rec.State)
	_, err = sb.Process.ExecuteCommand(t.Context(), "true")
	requireDaytonaError(t, err, http.StatusBadRequest, notStartedMsg)

	r = authed(t, srv, "POST", path+"/start", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "started", r.JSON(t)["state"])
	again, err := sb.GetPreviewLink(t.Context(), 3000)
	require.NoError(t, err)
	require.Equal(t, link.Token, again.Token, "a resume keeps the token (sandbox.service.ts:2118-2127)")
	_, err = sb.Process.GetSession(t.Context(), "kept")
	require.NoError(t, err, "the sessions survive a pause")

	// Paused, then stopped.
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", path+"/pause", nil).Status)
	waitFor(t, 10*time.Second, "paused", func() bool { rec, _ := srv.Sandbox(sb.ID); return rec.State == daytonatest.StatePaused })
	r = authed(t, srv, "POST", path+"/stop", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "paused", r.JSON(t)["state"])
	require.Equal(t, "stopped", r.JSON(t)["desiredState"])
	require.NoError(t, sb.WaitForStop(t.Context(), 10*time.Second))
	requireAPIError(t, authed(t, srv, "POST", path+"/pause", nil), http.StatusBadRequest, "Sandbox must be in started state to pause", path+"/pause")
}

// TestPauseRefusals: a container cannot pause (422) and a paused sandbox
// of another class cannot resume (sandbox.service.ts:2201-2203, 2086-2088
// @v0.190.0); before v0.190.0 the route does not exist.
func TestPauseRefusals(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv := newServerAt(t, v)
		c := newClient(t, srv)
		sb := createSandbox(t, c, types.SnapshotParams{})
		path := "/api/sandbox/" + sb.ID + "/pause"
		r := authed(t, srv, "POST", path, nil)
		if v == daytonatest.Service0173 {
			requireAPIError(t, r, http.StatusNotFound, "Cannot POST "+path, path)
			continue
		}
		requireAPIError(t, r, http.StatusUnprocessableEntity, "Pausing is not supported for this sandbox", path)
		require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StatePaused, ""))
		start := "/api/sandbox/" + sb.ID + "/start"
		requireAPIError(t, authed(t, srv, "POST", start, nil), http.StatusUnprocessableEntity, "Resuming is not supported for this sandbox", start)
	}
}

// TestAutoPause (current): a sandbox of a pausable class created with
// neither interval pauses after 60 minutes without activity, auto-stop
// off; POST /autopause/{interval} sets it; auto-pause and auto-stop are
// exclusive, and an ephemeral sandbox cannot auto-pause
// (@daytonaio/api-client 0.220.0, models/create-sandbox.d.ts and
// api/sandbox-api.js setAutoPauseInterval; the refusals in the
// TypeScript SDK 0.218.0's words, Daytona.js:312-320).
func TestAutoPause(t *testing.T) {
	t.Parallel()
	srv := newServer(t, vmSnapshot, daytonatest.WithAutoStopUnit(time.Hour))
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{Snapshot: "vm"})
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, []int{60, 0}, []int{rec.AutoPauseInterval, rec.AutoStopInterval})
	require.EqualValues(t, 60, authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)["autoPauseInterval"])

	path := "/api/sandbox/" + sb.ID + "/autopause/"
	r := authed(t, srv, "POST", path+"5", nil)
	require.Equal(t, http.StatusCreated, r.Status)
	require.EqualValues(t, 5, r.JSON(t)["autoPauseInterval"])
	stopAndPause := "autoStopInterval and autoPauseInterval are mutually exclusive. Set at most one of them to a non-zero value"
	requireAPIError(t, authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/autostop/10", nil), http.StatusBadRequest, stopAndPause,
		"/api/sandbox/"+sb.ID+"/autostop/10")
	requireAPIError(t, authed(t, srv, "POST", path+"-1", nil), http.StatusBadRequest, "autoPauseInterval must be a non-negative integer", path+"-1")

	for body, msg := range map[string]string{
		`{"snapshot":"vm","autoPauseInterval":5,"autoStopInterval":5}`:   stopAndPause,
		`{"snapshot":"vm","autoPauseInterval":5,"autoDeleteInterval":0}`: "Ephemeral sandboxes cannot have auto-pause enabled. Set autoPauseInterval to 0",
		`{"autoPauseInterval":5}`: "Pausing is not supported for this sandbox",
	} {
		requireAPIError(t, authed(t, srv, "POST", "/api/sandbox", body), http.StatusBadRequest, msg, "/api/sandbox")
	}
	// An explicit auto-stop interval keeps auto-pause off.
	m := authed(t, srv, "POST", "/api/sandbox", `{"snapshot":"vm","autoStopInterval":30}`).JSON(t)
	require.EqualValues(t, []any{30.0, 0.0}, []any{m["autoStopInterval"], m["autoPauseInterval"]})

	// Idle for the interval, it pauses by itself.
	fast := newServer(t, vmSnapshot, daytonatest.WithAutoStopUnit(50*time.Millisecond))
	idle := createSandbox(t, newClient(t, fast), types.SnapshotParams{Snapshot: "vm"})
	require.Equal(t, http.StatusCreated, authed(t, fast, "POST", "/api/sandbox/"+idle.ID+"/autopause/1", nil).Status)
	waitFor(t, 10*time.Second, "the auto-pause", func() bool { rec, _ := fast.Sandbox(idle.ID); return rec.State == daytonatest.StatePaused })

	// Before today, the route does not exist.
	old := newServerAt(t, daytonatest.Service0190)
	oldSb := createSandbox(t, newClient(t, old), types.SnapshotParams{})
	p := "/api/sandbox/" + oldSb.ID + "/autopause/5"
	requireAPIError(t, authed(t, old, "POST", p, nil), http.StatusNotFound, "Cannot POST "+p, p)
}
