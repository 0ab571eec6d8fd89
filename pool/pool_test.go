package pool_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/pool"
)

func TestAcquireOneSandboxPerKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := open(t, srv, "chat")

	l, err := p.Acquire(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice", l.Key())
	assert.False(t, l.Exclusive())
	run(t, l, "echo hello > note")
	id := l.Sandbox().DaytonaID()
	l.Release()
	l.Release() // idempotent

	// A warm key: one request (is it still running?), the same sandbox,
	// its files.
	srv.ResetRequests()
	l, err = p.Acquire(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, srv.TotalCount(), "%v", srv.Counts())
	assert.Equal(t, 1, srv.Count(daytonatest.OpGet))
	assert.Equal(t, id, l.Sandbox().DaytonaID())
	assert.Equal(t, "hello\n", run(t, l, "cat note"))

	// While a lease is held, another costs nothing.
	srv.ResetRequests()
	l2, err := p.Acquire(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, 0, srv.TotalCount())
	assert.Same(t, l.Sandbox(), l2.Sandbox())
	l2.Release()
	l.Release()

	// Another key, another sandbox.
	b, err := p.Acquire(t.Context(), "bob")
	require.NoError(t, err)
	assert.NotEqual(t, id, b.Sandbox().DaytonaID())
	assert.Equal(t, "", run(t, b, "cat note 2>/dev/null || true"))
	b.Release()

	got := keyed(srv, "chat")
	assert.Len(t, got, 2)
	for _, sbs := range got {
		require.Len(t, sbs, 1)
		assert.Equal(t, "ok", sbs[0].Labels["daytona-pool-claim"])
		assert.Equal(t, 15, sbs[0].AutoStopInterval, "auto-stop agrees with the default idle policy")
		assert.NotContains(t, sbs[0].Name, "alice")
	}
	s := p.Stats()
	assert.Equal(t, 2, s.Idle)
	assert.Equal(t, int64(2), s.Creates)
	assert.Equal(t, int64(2), s.SpareMisses)
	assert.Equal(t, int64(1), s.WarmHits)
	assert.Equal(t, int64(1), s.LocalHits)
}

func TestManyGoroutinesManyKeys(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	t0 := time.Now()
	p := open(t, srv, "many", pool.WithSpares(3))
	const keys, workers, rounds = 12, 24, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				key := fmt.Sprintf("user-%d", (w+r)%keys)
				l, err := p.Acquire(t.Context(), key)
				if err != nil {
					errs <- err
					return
				}
				res, err := l.Sandbox().ExecuteCommand(t.Context(), "echo "+key+" >> seen; head -1 seen", nil, nil)
				l.Release()
				if err != nil {
					errs <- err
					return
				}
				if res.Stdout != key+"\n" {
					errs <- fmt.Errorf("key %s: sandbox holds %q", key, res.Stdout)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("work done at %v", time.Since(t0))
	t.Cleanup(func() { t.Logf("cleanup at %v", time.Since(t0)) })
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := keyed(srv, "many")
	assert.Len(t, got, keys)
	for h, sbs := range got {
		assert.Len(t, sbs, 1, "key %s", h)
	}
	s := p.Stats()
	assert.Equal(t, int64(keys), s.SpareHits+s.SpareMisses)
	assert.Zero(t, s.Conflicts)
}

// TestTwoReplicasRace has two Pools (two replicas of a service) on one
// Daytona acquire the same new keys at the same moment, with and without
// spares: every key ends with one sandbox, which both replicas use.
func TestTwoReplicasRace(t *testing.T) {
	t.Parallel()
	for _, spares := range []int{0, 2} {
		t.Run(fmt.Sprintf("spares=%d", spares), func(t *testing.T) {
			srv := newServer(t)
			evA, evB := newEvents(), newEvents()
			a := open(t, srv, "race", pool.WithReplica("a"), pool.WithSpares(spares), pool.WithLogger(evA.logger()))
			b := open(t, srv, "race", pool.WithReplica("b"), pool.WithSpares(spares), pool.WithLogger(evB.logger()))
			evA.waitFor(t, "pool.spare: ready", spares)
			evB.waitFor(t, "pool.spare: ready", spares)
			const keys = 6
			ids := make([][2]string, keys)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for k := range keys {
				for i, p := range []*pool.Pool{a, b} {
					wg.Go(func() {
						<-start
						l, err := p.Acquire(t.Context(), fmt.Sprintf("k%d", k))
						if !assert.NoError(t, err) {
							return
						}
						ids[k][i] = l.Sandbox().DaytonaID()
						l.Release()
					})
				}
			}
			close(start)
			wg.Wait()
			for k := range keys {
				assert.Equal(t, ids[k][0], ids[k][1], "key k%d", k)
			}
			got := keyed(srv, "race")
			assert.Len(t, got, keys)
			for h, sbs := range got {
				assert.Len(t, sbs, 1, "key %s", h)
			}
			sa, sb := a.Stats(), b.Stats()
			assert.Zero(t, sa.Conflicts+sb.Conflicts)
		})
	}
}

func TestExclusiveLeases(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	p := open(t, srv, "excl", pool.WithLogger(ev.logger()))
	first, err := p.AcquireExclusive(t.Context(), "k")
	require.NoError(t, err)
	assert.True(t, first.Exclusive())

	order := make(chan string, 3)
	var wg sync.WaitGroup
	acquire := func(name string, excl bool) {
		wg.Go(func() {
			var l *pool.Lease
			var err error
			if excl {
				l, err = p.AcquireExclusive(t.Context(), "k")
			} else {
				l, err = p.Acquire(t.Context(), "k")
			}
			if !assert.NoError(t, err) {
				return
			}
			order <- name
			l.Release()
		})
	}
	acquire("second", true)
	ev.waitFor(t, "pool.wait", 1)
	acquire("shared", false)
	ev.waitFor(t, "pool.wait", 2)

	// A bounded wait ends with ctx.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	_, err = p.AcquireExclusive(ctx, "k")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)

	first.Release()
	wg.Wait()
	close(order)
	var got []string
	for n := range order {
		got = append(got, n)
	}
	assert.Equal(t, []string{"second", "shared"}, got, "served in the order they waited")
}
