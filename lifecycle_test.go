package daytona_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

func TestStartCreatesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	require.NoError(t, sb.Start(t.Context()))
	require.NoError(t, sb.Start(t.Context()))
	assert.Equal(t, workspace.StatusRunning, sb.Status())
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
	assert.Equal(t, 1, srv.Count(daytonatest.OpGet), "one lookup by name before the create")
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	assert.Equal(t, daytonatest.StateStarted, rec.State)
	assert.Equal(t, sb.ID(), rec.Name)
	assert.Equal(t, sb.ID(), rec.Labels["mastra-sandbox-id"])

	inst, err := sb.Instance()
	require.NoError(t, err)
	assert.Equal(t, sb.DaytonaID(), inst.ID)
}

func TestStatusTransitions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithLatency(50*time.Millisecond))
	sb := newSandbox(t, srv)
	assert.Equal(t, workspace.StatusPending, sb.Status())

	done := make(chan error, 1)
	go func() { done <- sb.Start(context.Background()) }()
	waitFor(t, "status starting", func() bool { return sb.Status() == workspace.StatusStarting })
	require.NoError(t, <-done)
	assert.Equal(t, workspace.StatusRunning, sb.Status())

	go func() { done <- sb.Stop(context.Background()) }()
	waitFor(t, "status stopping", func() bool { return sb.Status() == workspace.StatusStopping })
	require.NoError(t, <-done)
	assert.Equal(t, workspace.StatusStopped, sb.Status())

	go func() { done <- sb.Destroy(context.Background()) }()
	waitFor(t, "status destroying", func() bool { return sb.Status() == workspace.StatusDestroying })
	require.NoError(t, <-done)
	assert.Equal(t, workspace.StatusDestroyed, sb.Status())
}

func TestConcurrentFirstCallsShareOneCreate(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(20*time.Millisecond))
	sb := newSandbox(t, srv)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- sb.Start(t.Context()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
	assert.Equal(t, workspace.StatusRunning, sb.Status())
}

func TestFailedStartIsRetried(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	srv.FailNext(daytonatest.OpCreate, 1, http.StatusInternalServerError, "quota exceeded")

	err := sb.Start(t.Context())
	require.Error(t, err)
	assert.Equal(t, workspace.StatusError, sb.Status())
	var de *sdkerrors.DaytonaError
	require.True(t, errors.As(err, &de), "the SDK's error type must stay reachable: %v", err)
	assert.Equal(t, 500, de.StatusCode)
	var ours *daytona.Error
	require.True(t, errors.As(err, &ours))
	assert.Equal(t, 500, ours.StatusCode)
	assert.Contains(t, err.Error(), "daytona: create sandbox: HTTP 500: quota exceeded")

	require.NoError(t, sb.Start(t.Context()), "a failed start must not be remembered")
	assert.Equal(t, workspace.StatusRunning, sb.Status())
	assert.Equal(t, 2, srv.Count(daytonatest.OpCreate))
}

func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithLatency(100*time.Millisecond))
	sb := newSandbox(t, srv)

	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { errA <- sb.Start(ctxA) }()
	waitFor(t, "the lookup to arrive", func() bool { return srv.Count(daytonatest.OpGet) >= 1 })

	errB := make(chan error, 1)
	go func() { errB <- sb.Start(context.Background()) }()
	cancelA()

	err := <-errA
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, <-errB)
	assert.Equal(t, workspace.StatusRunning, sb.Status())
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
}

func TestReconnect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		state         daytonatest.State
		wantCreates   int // after the first create
		wantStarts    int
		wantDeletes   int
		wantSameDayID bool
	}{
		{daytonatest.StateStarted, 0, 0, 0, true},
		{daytonatest.StateStopped, 0, 1, 0, true},
		{daytonatest.StateArchived, 0, 1, 0, true},
		{daytonatest.StateDestroyed, 1, 0, 1, false},
		{daytonatest.StateDestroying, 1, 0, 1, false},
		{daytonatest.StateError, 1, 0, 1, false},
		{daytonatest.StateBuildFailed, 1, 0, 1, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.state), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			if tc.state == daytonatest.StateDestroying {
				// Keep it visible while destroying; it still holds its name.
				srv.SetTransitionDelay(300 * time.Millisecond)
			}
			first := startedSandbox(t, srv, daytona.WithID("reconnect-me"))
			oldID := first.DaytonaID()
			require.NoError(t, srv.SetSandboxState(oldID, tc.state, "test"))
			srv.ResetRequests()

			// A fresh Sandbox value with the same id looks the remote up by name.
			second := startedSandbox(t, srv, daytona.WithID("reconnect-me"))
			assert.Equal(t, workspace.StatusRunning, second.Status())
			created := 0
			for _, r := range srv.RequestsFor(daytonatest.OpCreate) {
				if r.Status == http.StatusOK {
					created++ // a create may be refused (409) while a destroying sandbox holds the name
				}
			}
			assert.Equal(t, tc.wantCreates, created, "creates")
			assert.Equal(t, tc.wantStarts, srv.Count(daytonatest.OpStart), "starts")
			assert.Equal(t, tc.wantDeletes, srv.Count(daytonatest.OpDelete), "deletes")
			assert.Equal(t, tc.wantSameDayID, second.DaytonaID() == oldID)
			get := srv.RequestsFor(daytonatest.OpGet)
			require.NotEmpty(t, get)
			assert.Equal(t, "/api/sandbox/reconnect-me", get[0].Path, "lookup by name")
			rec, ok := srv.Sandbox(second.DaytonaID())
			require.True(t, ok)
			assert.Equal(t, daytonatest.StateStarted, rec.State)
		})
	}
}

func TestReconnectWaitsThroughTransitionalStates(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(300*time.Millisecond))
	first := startedSandbox(t, srv, daytona.WithID("busy"))
	// Another client stops it: the sandbox is "stopping" for a while. (Raw
	// HTTP: the SDK's Stop would wait for a "stopped" it may never see once
	// our Start has begun.)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.APIURL()+"/sandbox/"+first.DaytonaID()+"/stop", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rec, _ := srv.Sandbox("busy")
	require.Equal(t, daytonatest.StateStopping, rec.State)

	second := newSandbox(t, srv, daytona.WithID("busy"))
	require.NoError(t, second.Start(t.Context()))
	assert.Equal(t, first.DaytonaID(), second.DaytonaID())
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
	assert.Equal(t, 1, srv.Count(daytonatest.OpStart), "started once, after the stop finished")
	rec, _ = srv.Sandbox("busy")
	assert.Equal(t, daytonatest.StateStarted, rec.State)
}

func TestReconnectRetriesStateChangeInProgress(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	first := startedSandbox(t, srv, daytona.WithID("contended"))
	require.NoError(t, srv.StopSandbox(first.DaytonaID()))
	srv.FailNext(daytonatest.OpStart, 2, http.StatusConflict, "Sandbox state change in progress")

	second := startedSandbox(t, srv, daytona.WithID("contended"))
	assert.Equal(t, first.DaytonaID(), second.DaytonaID())
	assert.Equal(t, 3, srv.Count(daytonatest.OpStart))
}

func TestReconnectNotFoundCreates(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	first := startedSandbox(t, srv, daytona.WithID("gone"))
	require.NoError(t, srv.DeleteSandbox(first.DaytonaID()))
	second := startedSandbox(t, srv, daytona.WithID("gone"))
	assert.NotEqual(t, first.DaytonaID(), second.DaytonaID())
	assert.Equal(t, 2, srv.Count(daytonatest.OpCreate))
}

func TestLookupErrorFailsClosed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	srv.FailNext(daytonatest.OpGet, 1, http.StatusInternalServerError, "Internal Server Error")
	err := sb.Start(t.Context())
	require.Error(t, err)
	assert.Equal(t, 500, daytona.StatusCode(err))
	assert.Contains(t, err.Error(), "look up sandbox "+sb.ID())
	assert.Zero(t, srv.Count(daytonatest.OpCreate), "a failed lookup must never create a duplicate")
	assert.Equal(t, workspace.StatusError, sb.Status())
}

func TestStopThenStartReconnectsByDaytonaID(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithName("by-name"))
	id := sb.DaytonaID()
	require.NoError(t, sb.Stop(t.Context()))
	assert.Equal(t, workspace.StatusStopped, sb.Status())
	rec, _ := srv.Sandbox(id)
	assert.Equal(t, daytonatest.StateStopped, rec.State)
	_, err := sb.Instance()
	assert.ErrorIs(t, err, daytona.ErrNotReady)

	srv.ResetRequests()
	require.NoError(t, sb.Start(t.Context()))
	assert.Equal(t, id, sb.DaytonaID())
	get := srv.RequestsFor(daytonatest.OpGet)
	require.NotEmpty(t, get)
	assert.Equal(t, "/api/sandbox/"+id, get[0].Path, "lookup by the stored Daytona id")
	assert.Equal(t, 1, srv.Count(daytonatest.OpStart))
	assert.Zero(t, srv.Count(daytonatest.OpCreate))
}

func TestWithExistingSandbox(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	first := startedSandbox(t, srv, daytona.WithName("persisted"))
	id := first.DaytonaID()
	require.NoError(t, first.Stop(t.Context()))

	// Another process, with another logical id, attaches by Daytona id.
	second := newSandbox(t, srv, daytona.WithExistingSandbox(id))
	assert.Equal(t, id, second.DaytonaID(), "known before start")
	srv.ResetRequests()
	require.NoError(t, second.Start(t.Context()))
	assert.Equal(t, id, second.DaytonaID())
	assert.Zero(t, srv.Count(daytonatest.OpCreate))
	assert.Equal(t, 1, srv.Count(daytonatest.OpStart))
}

func TestCreatedAtFromServerOnReconnect(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	first := startedSandbox(t, srv, daytona.WithID("dated"))
	rec, _ := srv.Sandbox(first.DaytonaID())
	second := startedSandbox(t, srv, daytona.WithID("dated"))
	info, err := second.GetInfo(t.Context())
	require.NoError(t, err)
	assert.WithinDuration(t, rec.CreatedAt, info.CreatedAt, time.Millisecond)
}

func TestStopAndDestroyAreIdempotent(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	id := sb.DaytonaID()
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Stop(t.Context()))
	assert.Equal(t, 1, srv.Count(daytonatest.OpStop))

	require.NoError(t, sb.Destroy(t.Context()))
	require.NoError(t, sb.Destroy(t.Context()))
	assert.Equal(t, workspace.StatusDestroyed, sb.Status())
	_, ok := srv.Sandbox(id)
	waitFor(t, "the sandbox to be gone", func() bool { _, ok = srv.Sandbox(id); return !ok })
	assert.Equal(t, 1, srv.Count(daytonatest.OpDelete))
}

func TestStopWhenSandboxAlreadyStoppedRemotely(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	require.NoError(t, srv.StopSandbox(sb.DaytonaID()))
	require.NoError(t, sb.Stop(t.Context()), "400 'Sandbox is not started' counts as stopped")
	assert.Equal(t, workspace.StatusStopped, sb.Status())
}

func TestStopPendingSandboxMakesNoRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	require.NoError(t, sb.Stop(t.Context()))
	assert.Equal(t, workspace.StatusStopped, sb.Status())
	assert.Zero(t, srv.TotalCount())
}

func TestDestroyNeverStartedMakesNoRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	require.NoError(t, sb.Destroy(t.Context()))
	assert.Equal(t, workspace.StatusDestroyed, sb.Status())
	assert.Zero(t, srv.TotalCount())
}

func TestOperationsAfterDestroy(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	require.NoError(t, sb.Destroy(t.Context()))
	n := srv.TotalCount()

	assert.ErrorIs(t, sb.Start(t.Context()), workspace.ErrNotReady)
	assert.ErrorIs(t, sb.Stop(t.Context()), workspace.ErrNotReady)
	_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
	assert.ErrorIs(t, err, workspace.ErrNotReady)
	_, err = sb.Instance()
	assert.ErrorIs(t, err, workspace.ErrNotReady)
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, workspace.StatusDestroyed, info.Status)
	assert.Equal(t, n, srv.TotalCount(), "no request after Destroy")
}

func TestStopError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	srv.FailNext(daytonatest.OpStop, 1, http.StatusInternalServerError, "runner unavailable")
	err := sb.Stop(t.Context())
	require.Error(t, err)
	assert.Equal(t, 500, daytona.StatusCode(err))
	assert.Contains(t, err.Error(), "runner unavailable")
	assert.Equal(t, workspace.StatusError, sb.Status())
	_, err = sb.Instance()
	assert.ErrorIs(t, err, workspace.ErrNotReady, "the handle is cleared either way")

	// The sandbox still runs remotely: the next start reconnects to it.
	require.NoError(t, sb.Start(t.Context()))
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
}

func TestDestroyErrorThenRetry(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	id := sb.DaytonaID()
	srv.FailNext(daytonatest.OpDelete, 1, http.StatusInternalServerError, "try later")
	err := sb.Destroy(t.Context())
	require.Error(t, err)
	assert.Equal(t, 500, daytona.StatusCode(err))
	assert.Equal(t, workspace.StatusError, sb.Status())
	_, err = sb.ExecuteCommand(t.Context(), "true", nil, nil)
	assert.ErrorIs(t, err, workspace.ErrNotReady, "no operations after Destroy, even a failed one")

	require.NoError(t, sb.Destroy(t.Context()), "a later Destroy tries again")
	assert.Equal(t, workspace.StatusDestroyed, sb.Status())
	waitFor(t, "the sandbox to be gone", func() bool { _, ok := srv.Sandbox(id); return !ok })
}

func TestEphemeralStopDeletes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithEphemeral(true))
	id := sb.DaytonaID()
	require.NoError(t, sb.Stop(t.Context()), "Daytona deletes ephemeral sandboxes on stop; that is success")
	_, exists := srv.Sandbox(id)
	assert.False(t, exists)
	require.NoError(t, sb.Start(t.Context()))
	assert.NotEqual(t, id, sb.DaytonaID(), "a fresh sandbox replaces the deleted one")
}

func TestInstanceBeforeStart(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	_, err := sb.Instance()
	assert.ErrorIs(t, err, workspace.ErrNotReady)
	assert.ErrorIs(t, err, daytona.ErrNotReady)
}

func TestStartWithCancelledContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := sb.Start(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, srv.TotalCount())
}
