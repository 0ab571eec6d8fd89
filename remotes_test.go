package daytona_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

func endpoint(srv *daytonatest.Server) daytona.Option {
	return daytona.WithEndpoint(srv.APIURL(), srv.APIKey())
}

// mustClient returns a Client made with opts.
func mustClient(t *testing.T, opts ...daytona.Option) *daytona.Client {
	t.Helper()
	cl, err := daytona.NewClient(opts...)
	require.NoError(t, err)
	return cl
}

// newClient returns a Client of srv.
func newClient(t *testing.T, srv *daytonatest.Server, opts ...daytona.Option) *daytona.Client {
	t.Helper()
	cl, err := daytona.NewClient(append([]daytona.Option{endpoint(srv)}, opts...)...)
	require.NoError(t, err)
	return cl
}

func TestLookup(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithName("looked-up"), daytona.WithLabels(map[string]string{"team": "a"}))

	byName, err := newClient(t, srv).Lookup(t.Context(), "looked-up")
	require.NoError(t, err)
	assert.Equal(t, sb.DaytonaID(), byName.ID)
	assert.Equal(t, "looked-up", byName.Name)
	assert.True(t, byName.Running())
	assert.False(t, byName.Parked())
	assert.False(t, byName.Dead())
	assert.Equal(t, "a", byName.Labels["team"])
	assert.False(t, byName.CreatedAt.IsZero())
	assert.False(t, byName.LastActivityAt.IsZero())

	byID, err := newClient(t, srv).Lookup(t.Context(), sb.DaytonaID())
	require.NoError(t, err)
	assert.Equal(t, byName.ID, byID.ID)

	_, err = newClient(t, srv).Lookup(t.Context(), "nobody")
	require.ErrorIs(t, err, daytona.ErrSandboxNotFound)
	assert.Equal(t, http.StatusNotFound, daytona.StatusCode(err))
	assert.NotContains(t, err.Error(), srv.APIKey())

	_, err = newClient(t, srv).Lookup(t.Context(), " ")
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	_, err = newClient(t, srv).Lookup(t.Context(), "a\nb")
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	_, err = daytona.NewClient(endpoint(srv), daytona.WithExistingSandbox("y"))
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	var zero daytona.Client
	_, err = zero.Lookup(t.Context(), "x")
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	var nilClient *daytona.Client
	_, err = nilClient.List(t.Context(), nil)
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.PanicsWithValue(t, "daytona: Client.Lookup called with a nil Context", func() {
		//lint:ignore SA1012 the point is a nil Context
		_, _ = newClient(t, srv).Lookup(nil, "x") //nolint:staticcheck
	})
}

func TestLookupFaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	startedSandbox(t, srv, daytona.WithName("faulty"))
	// Transient failures are retried.
	require.NoError(t, srv.FailNext(daytonatest.OpGet, 2, http.StatusServiceUnavailable, "busy"))
	_, err := newClient(t, srv).Lookup(t.Context(), "faulty")
	require.NoError(t, err)
	// Others are not.
	require.NoError(t, srv.FailNext(daytonatest.OpGet, 1, http.StatusInternalServerError, "boom"))
	_, err = newClient(t, srv).Lookup(t.Context(), "faulty")
	require.Error(t, err)
	assert.Equal(t, http.StatusInternalServerError, daytona.StatusCode(err))
	assert.NotErrorIs(t, err, daytona.ErrSandboxNotFound)
	// A refused key is explained, never shown.
	_, err = mustClient(t, daytona.WithEndpoint(srv.APIURL(), "wrong-key-123")).Lookup(t.Context(), "faulty")
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, daytona.StatusCode(err))
	assert.NotContains(t, err.Error(), "wrong-key-123")
	// A cancelled context ends it.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = newClient(t, srv).Lookup(ctx, "faulty")
	require.ErrorIs(t, err, context.Canceled)
}

func TestList(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	startedSandbox(t, srv, daytona.WithName("l1"), daytona.WithLabels(map[string]string{"pool": "p", "k": "1"}))
	startedSandbox(t, srv, daytona.WithName("l2"), daytona.WithLabels(map[string]string{"pool": "p", "k": "2"}))
	startedSandbox(t, srv, daytona.WithName("l3"), daytona.WithLabels(map[string]string{"pool": "q"}))

	all, err := newClient(t, srv).List(t.Context(), nil)
	require.NoError(t, err)
	assert.Len(t, all, 3)

	inP, err := newClient(t, srv).List(t.Context(), map[string]string{"pool": "p"})
	require.NoError(t, err)
	names := []string{}
	for _, r := range inP {
		names = append(names, r.Name)
	}
	assert.ElementsMatch(t, []string{"l1", "l2"}, names)

	one, err := newClient(t, srv).List(t.Context(), map[string]string{"pool": "p", "k": "2"})
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, "l2", one[0].Name)

	none, err := newClient(t, srv).List(t.Context(), map[string]string{"pool": "nobody"})
	require.NoError(t, err)
	assert.Empty(t, none)

	require.NoError(t, srv.FailNext(daytonatest.OpList, 1, http.StatusBadRequest, "Invalid labels JSON format"))
	_, err = newClient(t, srv).List(t.Context(), map[string]string{"pool": "p"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Invalid labels JSON format")
}

// TestListPages checks the decoding of the current API's answer,
// {items, nextCursor} (apps/api/src/sandbox/dto/list-sandboxes-response.dto.ts
// at v0.190.0), which daytonatest does not serve: a stub serves two pages.
func TestListPages(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var queries []string
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("cursor") {
		case "":
			fmt.Fprint(w, `{"items":[{"id":"1","name":"a","state":"started","labels":{"x":"y"}}],"nextCursor":"c2"}`)
		case "c2":
			fmt.Fprint(w, `{"items":[{"id":"2","name":"b","state":"stopped","labels":null,"futureField":1}],"nextCursor":null}`)
		}
	}))
	defer stub.Close()
	got, err := mustClient(t, daytona.WithEndpoint(stub.URL, "key")).List(t.Context(), map[string]string{"x": "y"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "a", got[0].Name)
	assert.True(t, got[0].Running())
	assert.Equal(t, "b", got[1].Name)
	assert.True(t, got[1].Parked())
	assert.NotNil(t, got[1].Labels)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, queries, 2)
	assert.Contains(t, queries[0], "labels=%7B%22x%22%3A%22y%22%7D")
	assert.Contains(t, queries[1], "cursor=c2")
}

func TestListBadAnswer(t *testing.T) {
	t.Parallel()
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items": 3}`)
	}))
	defer stub.Close()
	_, err := mustClient(t, daytona.WithEndpoint(stub.URL, "key")).List(t.Context(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode the list of sandboxes")

	empty502 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer empty502.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = mustClient(t, daytona.WithEndpoint(empty502.URL, "key")).List(ctx, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusBadGateway, daytona.StatusCode(err))
}

func TestCreate(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	rec, err := newClient(t, srv).Create(t.Context(), daytona.WithName("made"),
		daytona.WithLabels(map[string]string{"role": "spare"}), daytona.WithAutoStopInterval(30*time.Minute))
	require.NoError(t, err)
	assert.True(t, rec.Running())
	assert.Equal(t, "made", rec.Name)
	assert.Equal(t, "spare", rec.Labels["role"])
	got, ok := srv.Sandbox("made")
	require.True(t, ok)
	assert.Equal(t, 30, got.AutoStopInterval)

	// The name is taken: 409, and nothing else is created.
	_, err = newClient(t, srv).Create(t.Context(), daytona.WithName("made"))
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, daytona.StatusCode(err))
	assert.Len(t, srv.Sandboxes(), 1)

	// A Sandbox attaches to it.
	sb := newSandbox(t, srv, daytona.WithExistingSandbox(rec.ID))
	res, err := sb.ExecuteCommand(t.Context(), "echo hi", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "hi\n", res.Stdout)
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate)-1) // the refused one

	// A 429 refused the create: it is sent again.
	require.NoError(t, srv.FailNext(daytonatest.OpCreate, 1, http.StatusTooManyRequests, "slow down"))
	limited, err := newClient(t, srv).Create(t.Context(), daytona.WithName("limited"))
	require.NoError(t, err)
	assert.Equal(t, "limited", limited.Name)
	_, err = newClient(t, srv).Create(t.Context(), daytona.WithExistingSandbox("x"))
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	_, err = newClient(t, srv).Create(t.Context(), nil)
	require.ErrorIs(t, err, daytona.ErrInvalidInput)

	// Without a name, each gets its own; the Client's options are the
	// defaults.
	cl := newClient(t, srv, daytona.WithLabels(map[string]string{"team": "a"}))
	one, err := cl.Create(t.Context())
	require.NoError(t, err)
	two, err := cl.Create(t.Context(), daytona.WithLabels(map[string]string{"n": "2"}))
	require.NoError(t, err)
	assert.NotEqual(t, one.Name, two.Name)
	assert.Equal(t, "a", one.Labels["team"])
	assert.Equal(t, map[string]string{"team": "a", "n": "2", "mastra-sandbox-id": two.Name, "code-toolbox-language": "typescript"}, two.Labels)
	_, hadN := one.Labels["n"]
	assert.False(t, hadN, "one Create's options do not leak into the next")
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithName("refreshed"))

	rec, err := sb.Refresh(t.Context())
	require.NoError(t, err)
	assert.True(t, rec.Running())
	assert.Equal(t, workspace.StatusRunning, sb.Status())

	// Stopped behind its back: the Sandbox lets go, and the next Start
	// starts it again (without creating another).
	require.NoError(t, srv.StopSandbox("refreshed"))
	rec, err = sb.Refresh(t.Context())
	require.NoError(t, err)
	assert.True(t, rec.Parked())
	assert.Equal(t, workspace.StatusStopped, sb.Status())
	starts := srv.Count(daytonatest.OpStart)
	require.NoError(t, sb.Start(t.Context()))
	assert.Equal(t, starts+1, srv.Count(daytonatest.OpStart))
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))

	// Deleted behind its back.
	require.NoError(t, srv.DeleteSandbox("refreshed"))
	_, err = sb.Refresh(t.Context())
	require.ErrorIs(t, err, daytona.ErrSandboxNotFound)
	assert.Equal(t, workspace.StatusStopped, sb.Status())

	// Before the first start it looks up by name.
	fresh := newSandbox(t, srv, daytona.WithName("not-yet"))
	_, err = fresh.Refresh(t.Context())
	require.ErrorIs(t, err, daytona.ErrSandboxNotFound)
	assert.Equal(t, 0, srv.Count(daytonatest.OpCreate)-1)

	require.NoError(t, fresh.Destroy(t.Context()))
	_, err = fresh.Refresh(t.Context())
	require.ErrorIs(t, err, daytona.ErrNotReady)
	var zero daytona.Sandbox
	_, err = zero.Refresh(t.Context())
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
}

func TestSetLabels(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithID("lab"), daytona.WithLabels(map[string]string{"old": "1"}))
	require.NoError(t, sb.SetLabels(t.Context(), map[string]string{"new": "2", "mastra-sandbox-id": "mine"}))
	got, _ := srv.Sandbox("lab")
	assert.Equal(t, map[string]string{"new": "2", "mastra-sandbox-id": "lab", "code-toolbox-language": "typescript"}, got.Labels)
	assert.Equal(t, 1, srv.Count(daytonatest.OpReplaceLabels))

	require.ErrorIs(t, sb.SetLabels(t.Context(), map[string]string{" ": "x"}), daytona.ErrInvalidInput)
	assert.Equal(t, 1, srv.Count(daytonatest.OpReplaceLabels))

	// Transient failures are retried; a missing sandbox is not found.
	require.NoError(t, srv.FailNext(daytonatest.OpReplaceLabels, 1, http.StatusBadGateway, "proxy"))
	require.NoError(t, sb.SetLabels(t.Context(), map[string]string{"n": "3"}))
	require.NoError(t, srv.DeleteSandbox("lab"))
	require.ErrorIs(t, sb.SetLabels(t.Context(), map[string]string{"n": "4"}), daytona.ErrSandboxNotFound)

	// A Sandbox attached by id does not start its sandbox to label it,
	// and keeps its logical id.
	other := startedSandbox(t, srv, daytona.WithName("other"), daytona.WithID("other-logical"))
	require.NoError(t, srv.StopSandbox("other"))
	attached := newSandbox(t, srv, daytona.WithExistingSandbox(other.DaytonaID()))
	starts := srv.Count(daytonatest.OpStart)
	require.NoError(t, attached.SetLabels(t.Context(), nil))
	assert.Equal(t, starts, srv.Count(daytonatest.OpStart))
	got, _ = srv.Sandbox("other")
	assert.Equal(t, daytonatest.StateStopped, got.State)
	assert.Equal(t, "other-logical", got.Labels["mastra-sandbox-id"])
}

func TestTouch(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	require.ErrorIs(t, sb.Touch(t.Context()), daytona.ErrNotReady)
	require.NoError(t, sb.Start(t.Context()))
	n := srv.Count(daytonatest.OpLastActivity)
	require.NoError(t, sb.Touch(t.Context()))
	assert.Equal(t, n+1, srv.Count(daytonatest.OpLastActivity))
	require.NoError(t, srv.DeleteSandbox(sb.DaytonaID()))
	require.ErrorIs(t, sb.Touch(t.Context()), daytona.ErrSandboxNotFound)
}

func TestArchive(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var logs strings.Builder
	sb := startedSandbox(t, srv, daytona.WithName("cold"), daytona.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err := sb.ExecuteCommand(t.Context(), "echo kept > f", nil, nil)
	require.NoError(t, err)
	require.NoError(t, sb.Archive(t.Context()))
	got, _ := srv.Sandbox("cold")
	assert.Equal(t, daytonatest.StateArchived, got.State)
	assert.Equal(t, workspace.StatusStopped, sb.Status())
	require.NoError(t, sb.Archive(t.Context())) // again: already archived

	res, err := sb.ExecuteCommand(t.Context(), "cat f", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "kept\n", res.Stdout)
	assert.NotContains(t, logs.String(), srv.APIKey())

	never := newSandbox(t, srv)
	require.NoError(t, never.Archive(t.Context()))
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))

	require.NoError(t, srv.FailNext(daytonatest.OpArchive, 2, http.StatusConflict, "Sandbox state change in progress"))
	require.NoError(t, sb.Archive(t.Context()))
	require.NoError(t, srv.DeleteSandbox("cold"))
	require.ErrorIs(t, sb.Archive(t.Context()), daytona.ErrSandboxNotFound)
}
