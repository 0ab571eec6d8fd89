package pool_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/pool"
)

func TestOpenRefusesBadInputBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ep := endpoint(t, srv)
	for _, tc := range []struct {
		name string
		pool string
		opts []pool.Option
		want string
	}{
		{"empty name", "", nil, "name"},
		{"upper case", "Chat", nil, "name"},
		{"long name", "a234567890123456789012345", nil, "name"},
		{"nil option", "p", []pool.Option{nil}, "option 1 is nil"},
		{"nil sandbox option", "p", []pool.Option{pool.WithSandboxOptions(nil)}, "WithSandboxOptions"},
		{"bad sandbox option", "p", []pool.Option{pool.WithSandboxOptions(daytona.WithTimeout(-2))}, "WithTimeout"},
		{"negative spares", "p", []pool.Option{pool.WithSpares(-1)}, "WithSpares"},
		{"too many spares", "p", []pool.Option{pool.WithSpares(1001)}, "WithSpares"},
		{"negative cap", "p", []pool.Option{pool.WithMaxStarted(-1)}, "WithMaxStarted"},
		{"negative total", "p", []pool.Option{pool.WithMaxTotal(-1)}, "WithMaxTotal"},
		{"negative idle", "p", []pool.Option{pool.WithIdle(pool.Idle{Park: -1})}, "negative"},
		{"archive before park", "p", []pool.Option{pool.WithIdle(pool.Idle{Park: time.Hour, Archive: time.Minute})}, "Archive"},
		{"archive without park", "p", []pool.Option{pool.WithIdle(pool.Idle{Archive: time.Minute})}, "Archive"},
		{"destroy before archive", "p", []pool.Option{pool.WithIdle(pool.Idle{Park: time.Minute, Archive: time.Hour, Destroy: 2 * time.Minute})}, "Destroy"},
		{"bad close", "p", []pool.Option{pool.WithOnClose(7)}, "WithOnClose"},
		{"bad replica", "p", []pool.Option{pool.WithReplica("a b")}, "WithReplica"},
		{"empty replica", "p", []pool.Option{pool.WithReplica("")}, "WithReplica"},
		{"nil clock", "p", []pool.Option{pool.WithClock(nil)}, "WithClock"},
		{"nil logger", "p", []pool.Option{pool.WithLogger(nil)}, "WithLogger"},
		{"empty label", "p", []pool.Option{pool.WithLabels(map[string]string{" ": "x"})}, "WithLabels"},
		{"zero cool-down", "p", []pool.Option{pool.WithSpareCoolDown(0)}, "WithSpareCoolDown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pool.Open(t.Context(), tc.pool, append([]pool.Option{ep}, tc.opts...)...)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, srv.TotalCount(), "no request")
	assert.PanicsWithValue(t, "pool: Open called with a nil Context", func() {
		//lint:ignore SA1012 the point is a nil Context
		_, _ = pool.Open(nil, "p", ep) //nolint:staticcheck
	})
}

func TestOneReplicaNameAtATime(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := open(t, srv, "once", pool.WithReplica("r"))
	_, err := pool.Open(t.Context(), "once", endpoint(t, srv), pool.WithReplica("r"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already open")
	require.NoError(t, p.Close(t.Context()))
	again, err := pool.Open(t.Context(), "once", endpoint(t, srv), pool.WithReplica("r"))
	require.NoError(t, err)
	require.NoError(t, again.Close(t.Context()))
}

func TestAcquireBadInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := open(t, srv, "bad")
	_, err := p.Acquire(t.Context(), "")
	require.ErrorIs(t, err, pool.ErrInvalidKey)
	assert.PanicsWithValue(t, "pool: Acquire called with a nil Context", func() {
		//lint:ignore SA1012 the point is a nil Context
		_, _ = p.Acquire(nil, "k") //nolint:staticcheck
	})
	assert.PanicsWithValue(t, "pool: Close called with a nil Context", func() {
		//lint:ignore SA1012 the point is a nil Context
		_ = p.Close(nil) //nolint:staticcheck
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = p.Acquire(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, srv.TotalCount()-srv.Count("list"), "no request but the Open's list")

	var zero pool.Pool
	_, err = zero.Acquire(t.Context(), "k")
	require.Error(t, err)
	assert.Equal(t, pool.Stats{}, zero.Stats())
	require.ErrorIs(t, zero.Close(t.Context()), daytona.ErrInvalidInput, "issue #19 item 18: a Pool not made by Open refuses")
	var nilPool *pool.Pool
	assert.Equal(t, pool.Stats{}, nilPool.Stats())
	var nilLease *pool.Lease
	nilLease.Release()

	// Any bytes make a key; the key never shows.
	l, err := p.Acquire(t.Context(), "weird\x00key/../\n😀")
	require.NoError(t, err)
	assert.NotContains(t, l.Sandbox().RemoteName(), "weird")
	l.Release()
}

// TestNoSecretsInLogsOrErrors: neither the API key nor a key (a user's
// identity) appears in the Pool's logs, errors or formatted values.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := open(t, srv, "secret", pool.WithSpares(1), pool.WithLogger(logger),
		pool.WithSandboxOptions(daytona.WithLogger(logger)))
	const user = "alice@example.com"
	l, err := p.Acquire(t.Context(), user)
	require.NoError(t, err)
	run(t, l, "true")
	printed := fmt.Sprintf("%v %+v %#v %v", p, p, l, p.Stats())
	l.Release()

	_, err = pool.Open(t.Context(), "wrongkey", pool.WithSandboxOptions(daytona.WithEndpoint(srv.APIURL(), "not-the-key-42")))
	require.Error(t, err)
	require.NoError(t, p.Close(t.Context()))

	for what, text := range map[string]string{"logs": logs.String(), "error": err.Error(), "printed": printed} {
		assert.NotContains(t, text, srv.APIKey(), what)
		assert.NotContains(t, text, "not-the-key-42", what)
		assert.NotContains(t, text, user, what)
	}
	assert.Contains(t, logs.String(), "pool.claim")
}
