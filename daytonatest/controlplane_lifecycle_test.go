//go:build unix

package daytonatest_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// destroyedName is the name Sandbox.getSoftDeleteName gives
// (sandbox.entity.ts:310-312 @v0.190.0, 284 @v0.173.0).
func destroyedName(name string) *regexp.Regexp {
	return regexp.MustCompile(`^DESTROYED_` + regexp.QuoteMeta(name) + `_\d{13}$`)
}

// TestDeleteFreesTheNameAtOnce: DELETE renames the sandbox to
// DESTROYED_{name}_{ms} and answers it destroying, so its name is free
// while it is destroyed (destroy and getSoftDeleteUpdate,
// sandbox.service.ts:2013-2040, sandbox.entity.ts:317-324 @v0.190.0;
// sandbox.service.ts:1693-1720, sandbox.entity.ts:279-286 @v0.173.0).
func TestDeleteFreesTheNameAtOnce(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv := newServerAt(t, v, daytonatest.WithTransitionDelay(time.Hour))
		c := newClient(t, srv)
		old := createWithoutWaiting(t, srv, "reused")
		require.NoError(t, srv.SetSandboxState(old, daytonatest.StateStarted, ""))

		r := authed(t, srv, "DELETE", "/api/sandbox/reused", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.JSON(t)
		require.Equal(t, "destroying", m["state"])
		require.Equal(t, "destroyed", m["desiredState"])
		require.Regexp(t, destroyedName("reused"), m["name"])

		// The name is free at once; the old sandbox is there by id.
		fresh := createWithoutWaiting(t, srv, "reused")
		require.NotEqual(t, old, fresh)
		got, err := c.Get(t.Context(), old)
		require.NoError(t, err)
		require.Equal(t, apiclient.SANDBOXSTATE_DESTROYING, got.State)
		require.Regexp(t, destroyedName("reused"), got.Name)
		got, err = c.Get(t.Context(), "reused")
		require.NoError(t, err)
		require.Equal(t, fresh, got.ID)

		// Deleting it again by id is a change in progress.
		r = authed(t, srv, "DELETE", "/api/sandbox/"+old, nil)
		requireAPIError(t, r, http.StatusConflict, "Sandbox state change in progress", "/api/sandbox/"+old)
	}
}

// createWithoutWaiting creates a sandbox from a build, which the API does
// not wait for, and returns its id.
func createWithoutWaiting(t *testing.T, srv *daytonatest.Server, name string) string {
	t.Helper()
	r := authed(t, srv, "POST", "/api/sandbox", `{"name":"`+name+`",`+build+`}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)["id"].(string)
}

// TestDeleteAnswersByState: a stopped sandbox reads destroying too; an
// archived one reads archived, desired destroyed; an errored one is gone
// at once (sandbox.dto.ts:371-397, findOneByIdOrName,
// sandbox.service.ts:1777-1784 @v0.190.0); archiving is no pending
// change (sandbox.entity.ts:438-444).
func TestDeleteAnswersByState(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(time.Hour))
	for st, want := range map[daytonatest.State]string{
		daytonatest.StateStopped:   "destroying",
		daytonatest.StateArchived:  "archived",
		daytonatest.StateArchiving: "archiving",
		daytonatest.StateError:     "error",
	} {
		id := createWithoutWaiting(t, srv, string(st))
		require.NoError(t, srv.SetSandboxState(id, st, ""))
		r := authed(t, srv, "DELETE", "/api/sandbox/"+id, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", st, r.Body)
		require.Equal(t, want, r.JSON(t)["state"], st)
		require.Equal(t, "destroyed", r.JSON(t)["desiredState"], st)
		status := authed(t, srv, "GET", "/api/sandbox/"+id, nil).Status
		require.Equal(t, map[bool]int{true: 404, false: 200}[st == daytonatest.StateError], status, st)
	}
}

// TestEphemeralStop: stopping an ephemeral sandbox deletes it and answers
// it destroying. Since v0.190.0 it is renamed, as by DELETE, so its name
// is free at once (sandbox.service.ts:2169-2171 @v0.190.0); in v0.173.0
// it keeps its name, and its destroyed record holds the name for a day
// (sandbox.service.ts:1825-1828, 2357-2379 @v0.173.0; the name is unique
// per organization, migrations/post-deploy/1774438866002-migration.ts:18).
// The TypeScript SDK counts destroyed as stopped for it (Sandbox.js:701,
// @daytonaio/sdk 0.218.0).
func TestEphemeralStop(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv := newServerAt(t, v)
		c := newClient(t, srv)
		sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "eph", Ephemeral: true}})
		srv.SetTransitionDelay(map[bool]time.Duration{true: 50 * time.Millisecond, false: time.Hour}[v == daytonatest.Service0173])
		r := authed(t, srv, "POST", "/api/sandbox/eph/stop", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "destroying", r.JSON(t)["state"], v)
		require.Equal(t, "destroyed", r.JSON(t)["desiredState"], v)
		r = authed(t, srv, "POST", "/api/sandbox", `{"name":"eph",`+build+`}`)
		if v == daytonatest.Service0173 {
			require.Equal(t, "eph", authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)["name"])
			requireAPIError(t, r, http.StatusConflict, "Sandbox with name eph already exists", "/api/sandbox")
			waitFor(t, 10*time.Second, "the sandbox to be gone", func() bool {
				return authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).Status == http.StatusNotFound
			})
			r = authed(t, srv, "POST", "/api/sandbox", `{"name":"eph"}`)
			requireAPIError(t, r, http.StatusConflict, "Sandbox with name eph already exists", "/api/sandbox")
			continue
		}
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", v, r.Body)
		require.Regexp(t, destroyedName("eph"), authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)["name"])
	}
}

// TestAutoStopOfAnEphemeralSandboxRenames: the auto-stop deletes an
// ephemeral sandbox with getSoftDeleteUpdate in every version
// (sandbox.manager.ts:138-139 @v0.173.0), so its name is free.
func TestAutoStopOfAnEphemeralSandboxRenames(t *testing.T) {
	t.Parallel()
	srv := newServerAt(t, daytonatest.Service0173, daytonatest.WithAutoStopUnit(50*time.Millisecond))
	c := newClient(t, srv)
	createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "idle", Ephemeral: true, AutoStopInterval: ptr(1)}})
	waitFor(t, 10*time.Second, "the auto-stop", func() bool { _, ok := srv.Sandbox("idle"); return !ok })
	createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "idle"}})
}

// TestStartArchived: starting an archived sandbox answers it archived,
// desired started, without waiting; it then restores and starts
// (sandbox.service.ts:2042-2149, sandbox.controller.ts:515-520
// @v0.190.0; 1722-1806, 517-522 @v0.173.0), with a new preview token.
func TestStartArchived(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(100*time.Millisecond))
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{})
	link, err := sb.GetPreviewLink(t.Context(), 3000)
	require.NoError(t, err)
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Archive(t.Context()))
	waitFor(t, 10*time.Second, "archived", func() bool { rec, _ := srv.Sandbox(sb.ID); return rec.State == daytonatest.StateArchived })

	// The restore is held until FinishTransition, however slow the machine.
	srv.SetTransitionDelay(time.Hour)
	r := authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/start", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "archived", r.JSON(t)["state"])
	require.Equal(t, "started", r.JSON(t)["desiredState"])
	requireConflict := authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/stop", nil)
	require.Equal(t, http.StatusConflict, requireConflict.Status)
	require.NoError(t, srv.FinishTransition(sb.ID)) // archived -> restoring
	rec, _ := srv.Sandbox(sb.ID)
	require.Equal(t, daytonatest.StateRestoring, rec.State)
	require.NoError(t, srv.FinishTransition(sb.ID)) // restoring -> started
	srv.SetTransitionDelay(100 * time.Millisecond)
	require.NoError(t, sb.WaitForStart(t.Context(), 10*time.Second))
	again, err := sb.GetPreviewLink(t.Context(), 3000)
	require.NoError(t, err)
	require.NotEqual(t, link.Token, again.Token)

	// Archiving: an ephemeral sandbox cannot be archived
	// (sandbox.service.ts:372-374 @v0.190.0).
	eph := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Ephemeral: true}})
	require.NoError(t, srv.SetSandboxState(eph.ID, daytonatest.StateStopped, ""))
	requireDaytonaError(t, eph.Archive(t.Context()), http.StatusBadRequest, "Ephemeral sandboxes cannot be archived")
	require.NoError(t, srv.SetSandboxState(eph.ID, daytonatest.StateError, "x"))
	requireDaytonaError(t, eph.Archive(t.Context()), http.StatusBadRequest, "Sandbox is in an errored state")
}

// TestStopForce: force is a boolean query parameter (ParseBoolPipe,
// sandbox.controller.ts:565 @v0.190.0).
func TestStopForce(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	path := "/api/sandbox/" + sb.ID + "/stop?force=yes"
	requireAPIError(t, authed(t, srv, "POST", path, nil), http.StatusBadRequest, "Validation failed (boolean string is expected)", path)
	require.Equal(t, http.StatusOK, authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/stop?force=true", nil).Status)
}

// TestRecover: an errored sandbox is recovered in place, stopped, then
// started unless skipStart, and the API answers once it runs. Since
// v0.190.0 only a sandbox marked recoverable can be
// (sandbox.service.ts:2242-2265, 2345-2450, sandbox.controller.ts:
// 468-481 @v0.190.0; sandbox.service.ts:1844-1960, sandbox.controller.ts:
// 472-485 @v0.173.0).
func TestRecover(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		srv := newServerAt(t, v, daytonatest.WithTransitionDelay(50*time.Millisecond))
		c := newClient(t, srv)
		sb := createSandbox(t, c, types.SnapshotParams{})
		path := "/api/sandbox/" + sb.ID + "/recover"
		notInError := until(daytonatest.Service0173, "Sandbox must be in error state to recover", "Sandbox is not in a recoverable state")
		requireAPIError(t, authed(t, srv, "POST", path, nil), http.StatusBadRequest, notInError[v], path)

		require.NoError(t, srv.FailSandbox(sb.ID, "disk full", false))
		r := authed(t, srv, "POST", path, nil)
		if v != daytonatest.Service0173 {
			requireAPIError(t, r, http.StatusBadRequest, "Sandbox is not in a recoverable state", path)
			require.NoError(t, srv.FailSandbox(sb.ID, "disk full", true))
			rec, _ := srv.Sandbox(sb.ID)
			require.True(t, rec.Recoverable)
			require.Equal(t, true, authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)["recoverable"])
			r = authed(t, srv, "POST", path, nil)
		}
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", v, r.Body)
		require.Equal(t, "started", r.JSON(t)["state"], v)
		require.Nil(t, r.JSON(t)["errorReason"])
		res, err := sb.Process.ExecuteCommand(t.Context(), "echo back")
		require.NoError(t, err)
		require.Equal(t, "back\n", res.Result)

		// skipStart leaves it stopped; a value that is no boolean is a 400.
		require.NoError(t, srv.FailSandbox(sb.ID, "again", true))
		requireAPIError(t, authed(t, srv, "POST", path+"?skipStart=1", nil), http.StatusBadRequest,
			"Validation failed (boolean string is expected)", path+"?skipStart=1")
		r = authed(t, srv, "POST", path+"?skipStart=true", nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, "stopped", r.JSON(t)["state"])
	}
}

// TestStartAnswersAsSoonAsStarted: a start whose sandbox starts before the
// wait begins is answered at once, not after StartWait.
func TestStartAnswersAsSoonAsStarted(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t, daytonatest.WithTransitionDelay(time.Millisecond))
	for range 30 {
		require.NoError(t, srv.SetSandboxState(sb.ID, daytonatest.StateStopped, ""))
		began := time.Now()
		r := authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/start", nil)
		require.Equal(t, "started", r.JSON(t)["state"])
		require.Less(t, time.Since(began), 5*time.Second)
	}
}
