package pool_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/pool"
)

// state returns the server-side state of the sandbox id ("gone" if none).
func state(srv *daytonatest.Server, id string) daytonatest.State {
	sb, ok := srv.Sandbox(id)
	if !ok {
		return "gone"
	}
	return sb.State
}

func TestIdlePolicy(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	clk := newManualClock()
	p := open(t, srv, "idle", pool.WithClock(clk), pool.WithManualSweeps(),
		pool.WithIdle(pool.Idle{Park: 5 * time.Minute, Archive: 30 * time.Minute, Destroy: 2 * time.Hour}))

	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	run(t, l, "echo kept > f")
	id := l.Sandbox().DaytonaID()
	l.Release()
	rec, _ := srv.Sandbox(id)
	assert.Equal(t, 5, rec.AutoStopInterval, "Daytona's auto-stop agrees with Park")
	assert.Equal(t, 25, rec.AutoArchiveInterval, "auto-archive counts from the stop")
	assert.Equal(t, 115, rec.AutoDeleteInterval, "auto-delete counts from the stop")

	clk.Advance(4 * time.Minute)
	p.Sweep(t.Context())
	assert.Equal(t, daytonatest.StateStarted, state(srv, id))

	clk.Advance(2 * time.Minute)
	p.Sweep(t.Context())
	assert.Equal(t, daytonatest.StateStopped, state(srv, id))
	s := p.Stats()
	assert.Equal(t, 1, s.Parked)
	assert.Equal(t, int64(1), s.Parks)
	assert.Equal(t, 0, s.Started)

	// The next Acquire wakes it, files and all.
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, id, l.Sandbox().DaytonaID())
	assert.Equal(t, "kept\n", run(t, l, "cat f"))
	l.Release()
	assert.Equal(t, int64(1), p.Stats().Wakes)

	// Idle for longer: parked and archived; longer still: destroyed.
	clk.Advance(31 * time.Minute)
	p.Sweep(t.Context())
	assert.Equal(t, daytonatest.StateArchived, state(srv, id))
	s = p.Stats()
	assert.Equal(t, 1, s.Archived)
	assert.Equal(t, int64(1), s.Archives)

	clk.Advance(2 * time.Hour)
	p.Sweep(t.Context())
	assert.Equal(t, daytonatest.State("gone"), state(srv, id))
	s = p.Stats()
	assert.Equal(t, int64(1), s.Destroys)
	assert.Equal(t, 0, s.Total)
	assert.Empty(t, keyed(srv, "idle"))

	// A key whose sandbox was destroyed starts afresh.
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.NotEqual(t, id, l.Sandbox().DaytonaID())
	assert.Equal(t, "", run(t, l, "cat f 2>/dev/null || true"))
	l.Release()
}

// TestParkSparesASandboxInUseElsewhere: a sandbox another replica used
// after this Pool released it (Daytona's last activity says so) is not
// parked under that replica's feet.
func TestParkSparesASandboxInUseElsewhere(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	clk := newManualClock()
	a := open(t, srv, "shared", pool.WithReplica("a"), pool.WithClock(clk), pool.WithManualSweeps(), pool.WithIdle(pool.Idle{Park: 5 * time.Minute}))
	l, err := a.Acquire(t.Context(), "k")
	require.NoError(t, err)
	id := l.Sandbox().DaytonaID()
	l.Release()

	// Replica b uses it later than a's release, past the guard: a's
	// release is made to look older than it is.
	a.AgeRelease("k", 3*time.Minute)
	b := open(t, srv, "shared", pool.WithReplica("b"))
	lb, err := b.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, id, lb.Sandbox().DaytonaID())
	run(t, lb, "true")

	clk.Advance(6 * time.Minute)
	a.Sweep(t.Context())
	assert.Equal(t, daytonatest.StateStarted, state(srv, id), "in use by b: not parked")
	lb.Release()
}

func TestMaxStartedParksTheLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	p := open(t, srv, "caps", pool.WithMaxStarted(2), pool.WithLogger(ev.logger()))
	a, err := p.Acquire(t.Context(), "a")
	require.NoError(t, err)
	b, err := p.Acquire(t.Context(), "b")
	require.NoError(t, err)
	aID, bID := a.Sandbox().DaytonaID(), b.Sandbox().DaytonaID()

	got := map[string]chan *pool.Lease{"c": make(chan *pool.Lease, 1), "d": make(chan *pool.Lease, 1)}
	for i, k := range []string{"c", "d"} {
		go func() {
			l, err := p.Acquire(t.Context(), k)
			assert.NoError(t, err)
			got[k] <- l
		}()
		ev.waitFor(t, "pool.wait", i+1)
	}
	assert.Equal(t, 2, p.Stats().Waiting)

	// a's release makes room: a is parked, and c (first in line) runs.
	a.Release()
	c := <-got["c"]
	require.NotNil(t, c)
	assert.Equal(t, daytonatest.StateStopped, state(srv, aID))
	assert.Equal(t, daytonatest.StateStarted, state(srv, bID))
	assert.Equal(t, 1, p.Stats().Waiting)

	b.Release()
	d := <-got["d"]
	require.NotNil(t, d)
	assert.Equal(t, daytonatest.StateStopped, state(srv, bID))
	s := p.Stats()
	assert.Equal(t, 2, s.Started)
	assert.Equal(t, 4, s.Total)
	assert.Equal(t, int64(2), s.Parks)
	c.Release()
	d.Release()

	// Waking a parked key takes room too: the least recently used goes.
	l, err := p.Acquire(t.Context(), "a")
	require.NoError(t, err)
	assert.Equal(t, aID, l.Sandbox().DaytonaID())
	assert.Equal(t, daytonatest.StateStarted, state(srv, aID))
	assert.Equal(t, 2, p.Stats().Started)
	l.Release()
}

func TestMaxTotalWaitsAndCountsSpares(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	p := open(t, srv, "total", pool.WithMaxTotal(2), pool.WithSpares(2), pool.WithLogger(ev.logger()))
	ev.waitFor(t, "pool.spare: ready", 2)

	// New keys take the spares; the refill cannot go past the cap.
	a, err := p.Acquire(t.Context(), "a")
	require.NoError(t, err)
	b, err := p.Acquire(t.Context(), "b")
	require.NoError(t, err)
	s := p.Stats()
	assert.Equal(t, int64(2), s.SpareHits)
	assert.Equal(t, 2, s.Total)
	assert.Zero(t, s.Spares+s.SparesMaking)

	// A third key waits, bounded by ctx.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	_, err = p.Acquire(ctx, "c")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, p.Stats().Waiting)
	a.Release()
	b.Release()
	assert.Len(t, keyed(srv, "total"), 2)
}

func TestSandboxKilledUnderALease(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := open(t, srv, "kill")
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	run(t, l, "echo data > f")
	id, name := l.Sandbox().DaytonaID(), l.Sandbox().RemoteName()
	require.NoError(t, srv.DeleteSandbox(id))

	// The lease's commands fail: its files are gone, and nothing silently
	// takes the sandbox's place.
	_, err = l.Sandbox().ExecuteCommand(t.Context(), "cat f", nil, nil)
	require.ErrorIs(t, err, daytona.ErrSandboxNotFound)
	l.Release()

	// The next Acquire replaces it, under the same name.
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.NotEqual(t, id, l.Sandbox().DaytonaID())
	assert.Equal(t, name, l.Sandbox().RemoteName())
	run(t, l, "true")
	l.Release()
	assert.Equal(t, int64(1), p.Stats().Replaced)
	for _, sbs := range keyed(srv, "kill") {
		assert.Len(t, sbs, 1)
		assert.Equal(t, name, sbs[0].Name)
	}
}

func TestSandboxStoppedOrBrokenWhileIdle(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	p := open(t, srv, "idlefail", pool.WithSpares(1), pool.WithLogger(ev.logger()))
	ev.waitFor(t, "pool.spare: ready", 1)
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	id, name := l.Sandbox().DaytonaID(), l.Sandbox().RemoteName()
	assert.Contains(t, name, "-s-", "a spare")
	run(t, l, "echo data > f")
	l.Release()

	// Stopped behind the Pool's back (Daytona's auto-stop): woken.
	require.NoError(t, srv.StopSandbox(id))
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, id, l.Sandbox().DaytonaID())
	assert.Equal(t, "data\n", run(t, l, "cat f"))
	l.Release()
	assert.Equal(t, int64(1), p.Stats().Wakes)

	// Broken: replaced under the spare's name, which the key keeps.
	require.NoError(t, srv.SetSandboxState(id, daytonatest.StateError, "disk failure"))
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.NotEqual(t, id, l.Sandbox().DaytonaID())
	assert.Equal(t, name, l.Sandbox().RemoteName())
	l.Release()
	assert.Equal(t, int64(1), p.Stats().Replaced)
	for _, sbs := range keyed(srv, "idlefail") {
		assert.Len(t, sbs, 1)
	}
}

func TestCloseLeavesWhatThePolicySays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action            pool.OnClose
		keyed, keyStarted int
	}{
		{pool.ClosePark, 2, 0},
		{pool.CloseDestroy, 0, 0},
		{pool.CloseLeave, 2, 2},
	} {
		t.Run(map[pool.OnClose]string{pool.ClosePark: "park", pool.CloseDestroy: "destroy", pool.CloseLeave: "leave"}[tc.action], func(t *testing.T) {
			srv := newServer(t)
			ev := newEvents()
			p, err := pool.Open(t.Context(), "closing", endpoint(t, srv), pool.WithSpares(2),
				pool.WithOnClose(tc.action), pool.WithLogger(ev.logger()))
			require.NoError(t, err)
			ev.waitFor(t, "pool.spare: ready", 2)
			for _, k := range []string{"a", "b"} {
				l, err := p.Acquire(t.Context(), k)
				require.NoError(t, err)
				l.Release()
			}
			ev.waitFor(t, "pool.spare: ready", 4) // refilled
			require.NoError(t, p.Close(t.Context()))
			require.NoError(t, p.Close(t.Context()), "idempotent")

			assert.Empty(t, spares(srv, "closing"))
			got := keyed(srv, "closing")
			started := 0
			for _, sbs := range got {
				for _, sb := range sbs {
					if sb.State == daytonatest.StateStarted {
						started++
					}
				}
			}
			assert.Len(t, got, tc.keyed)
			assert.Equal(t, tc.keyStarted, started)
			if tc.action == pool.CloseDestroy {
				assert.Empty(t, srv.Sandboxes())
			}
			_, err = p.Acquire(t.Context(), "a")
			require.ErrorIs(t, err, pool.ErrClosed)
		})
	}
}

func TestCloseWithALeaseHeld(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p, err := pool.Open(t.Context(), "held", endpoint(t, srv))
	require.NoError(t, err)
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)

	// Waiters end with ErrClosed.
	waited := make(chan error, 1)
	go func() {
		_, err := p.AcquireExclusive(t.Context(), "k")
		waited <- err
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err = p.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, <-waited, pool.ErrClosed)
	assert.Equal(t, daytonatest.StateStopped, state(srv, l.Sandbox().DaytonaID()), "parked under the lease, as documented")
	l.Release()
}

// TestCloseWaitsForLeases: Close returns once the leases are released.
func TestCloseWaitsForLeases(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p, err := pool.Open(t.Context(), "wait", endpoint(t, srv))
	require.NoError(t, err)
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	closed := make(chan error, 1)
	go func() { closed <- p.Close(t.Context()) }()
	run(t, l, "echo still working") // the lease still works while Close waits
	l.Release()
	require.NoError(t, <-closed)
	assert.Equal(t, daytonatest.StateStopped, state(srv, l.Sandbox().DaytonaID()))
}

func TestRestartAdopts(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	p1, err := pool.Open(t.Context(), "svc", endpoint(t, srv), pool.WithReplica("r1"), pool.WithSpares(2), pool.WithLogger(ev.logger()))
	require.NoError(t, err)
	ev.waitFor(t, "pool.spare: ready", 2)
	ids := map[string]string{}
	for _, k := range []string{"a", "b", "c"} {
		l, err := p1.Acquire(t.Context(), k)
		require.NoError(t, err)
		run(t, l, "echo "+k+" > f")
		ids[k] = l.Sandbox().DaytonaID()
		l.Release()
	}
	ev.waitFor(t, "pool.spare: ready", 2+int(p1.Stats().SpareHits)) // refilled
	// A stopped spare of another replica, and a claim abandoned long ago:
	// garbage the next Pool clears.
	cl, err := daytona.NewClient(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	require.NoError(t, err)
	_, err = cl.Create(t.Context(), daytona.WithName("svc-s-orphan"),
		daytona.WithLabels(map[string]string{"daytona-pool": "svc", "daytona-pool-role": "spare", "daytona-pool-replica": "gone"}))
	require.NoError(t, err)
	require.NoError(t, srv.StopSandbox("svc-s-orphan"))
	_, err = cl.Create(t.Context(), daytona.WithName("svc-abandoned"),
		daytona.WithLabels(map[string]string{"daytona-pool": "svc", "daytona-pool-role": "key", "daytona-pool-key": "0123",
			"daytona-pool-claim": "pending", "daytona-pool-token": "1000-gone-x"}))
	require.NoError(t, err)
	p1.Crash()
	creates := srv.Count(daytonatest.OpCreate)

	ev2 := newEvents()
	p2 := open(t, srv, "svc", pool.WithReplica("r1"), pool.WithSpares(2), pool.WithLogger(ev2.logger()))
	ev2.waitFor(t, "pool.spare: adopted", 2)
	ev2.waitFor(t, "pool.destroy", 2)
	s := p2.Stats()
	assert.Equal(t, 3, s.Idle)
	assert.Equal(t, 2, s.Spares)
	for k, id := range ids {
		l, err := p2.Acquire(t.Context(), k)
		require.NoError(t, err)
		assert.Equal(t, id, l.Sandbox().DaytonaID())
		assert.Equal(t, k+"\n", run(t, l, "cat f"))
		l.Release()
	}
	assert.Equal(t, creates, srv.Count(daytonatest.OpCreate), "nothing created")
	_, ok := srv.Sandbox("svc-s-orphan")
	assert.False(t, ok)
	_, ok = srv.Sandbox("svc-abandoned")
	assert.False(t, ok)
	assert.Len(t, spares(srv, "svc"), 2)
}

func TestSpareRefillRestsAfterFailures(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	clk := newManualClock()
	require.NoError(t, srv.FailNext(daytonatest.OpCreate, 3, 500, "no runner available"))
	p := open(t, srv, "storm", pool.WithSpares(1), pool.WithClock(clk), pool.WithSpareCoolDown(time.Minute), pool.WithLogger(ev.logger()))
	ev.waitFor(t, "pool.spare: could not create", 1)
	p.NudgeRefill() // a nudge does not cut the pause short
	ev.waitFor(t, "pool.spare: could not create", 1)
	clk.Advance(time.Second)
	p.NudgeRefill()
	ev.waitFor(t, "pool.spare: could not create", 2)
	clk.Advance(2 * time.Second)
	p.NudgeRefill()
	ev.waitFor(t, "pool.spare: could not create", 3)
	ev.waitFor(t, "pool.spare: resting", 1)

	// A new key, created meanwhile, nudges the refill: it keeps resting.
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	l.Release()
	ev.waitFor(t, "pool.spare: resting", 2)
	assert.Equal(t, 4, srv.Count(daytonatest.OpCreate), "three failed spares and the key's sandbox")
	assert.Equal(t, int64(1), p.Stats().SpareMisses)

	clk.Advance(time.Minute)
	p.NudgeRefill()
	ev.waitFor(t, "pool.spare: ready", 1)
	assert.Equal(t, 5, srv.Count(daytonatest.OpCreate))
	assert.Equal(t, 1, p.Stats().Spares)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := open(t, srv, "faults")

	// Transient failures of create (503, 429) are retried: one sandbox.
	require.NoError(t, srv.FailNext(daytonatest.OpCreate, 1, 503, "busy"))
	require.NoError(t, srv.FailNext(daytonatest.OpCreate, 1, 429, "Too many requests"))
	l, err := p.Acquire(t.Context(), "a")
	require.NoError(t, err)
	l.Release()
	assert.Len(t, keyed(srv, "faults"), 1)
	assert.Equal(t, 3, srv.Count(daytonatest.OpCreate))

	// Others fail the Acquire, and leave nothing behind.
	require.NoError(t, srv.FailNext(daytonatest.OpCreate, 1, 400, "bad snapshot"))
	_, err = p.Acquire(t.Context(), "b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad snapshot")
	assert.Len(t, keyed(srv, "faults"), 1)
	l, err = p.Acquire(t.Context(), "b")
	require.NoError(t, err)
	l.Release()

	require.NoError(t, srv.FailNext(daytonatest.OpList, 1, 500, "search index down"))
	_, err = p.Acquire(t.Context(), "c")
	require.Error(t, err)
	require.NoError(t, srv.FailNext(daytonatest.OpList, 2, 503, "busy"))
	l, err = p.Acquire(t.Context(), "c")
	require.NoError(t, err)
	l.Release()

	// A failed check of a warm key fails the Acquire; the next one works.
	require.NoError(t, srv.FailNext(daytonatest.OpGet, 1, 500, "db down"))
	_, err = p.Acquire(t.Context(), "a")
	require.Error(t, err)
	l, err = p.Acquire(t.Context(), "a")
	require.NoError(t, err)
	l.Release()

	// A failed label write of a claim: nothing is left claimed.
	require.NoError(t, srv.FailNext(daytonatest.OpReplaceLabels, 1, 500, "boom"))
	_, err = p.Acquire(t.Context(), "d")
	require.Error(t, err)
	l, err = p.Acquire(t.Context(), "d")
	require.NoError(t, err)
	l.Release()
	for h, sbs := range keyed(srv, "faults") {
		assert.Len(t, sbs, 1, "key %s", h)
	}
	assert.Positive(t, p.Stats().Failures)
}

func TestSlowAnswers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := open(t, srv, "slow")
	// Slow answers: an Acquire is bounded by its ctx; nothing is left half
	// done.
	srv.SetLatency(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	_, err := p.Acquire(ctx, "e")
	cancel()
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	srv.SetLatency(0)
	l, err := p.Acquire(t.Context(), "e")
	require.NoError(t, err)
	l.Release()
	for h, sbs := range keyed(srv, "slow") {
		assert.Len(t, sbs, 1, "key %s", h)
	}
	assert.Len(t, keyed(srv, "slow"), 1)
}

// TestCancelledAcquireLeavesNoClaim: an Acquire whose ctx ends while its
// sandbox is being created clears the claim it started, so that nobody
// waits for it.
func TestCancelledAcquireLeavesNoClaim(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithTransitionDelay(300*time.Millisecond))
	ev := newEvents()
	p := open(t, srv, "cancel", pool.WithLogger(ev.logger()))
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	_, err := p.Acquire(ctx, "k")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate), "the create went through")
	assert.Equal(t, 1, ev.count("pool.abandon"))
	assert.Empty(t, keyed(srv, "cancel"), "and its claim was cleared")
	s := p.Stats()
	assert.Zero(t, s.Started+s.Total)

	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	l.Release()
	assert.Len(t, keyed(srv, "cancel"), 1)
}

// TestStartAndStopFaults: a wake that Daytona refuses for a moment (503,
// 429) is tried again; one it refuses for good fails the Acquire, and the
// next works; a park that fails is tried again by the next sweep.
func TestStartAndStopFaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	clk := newManualClock()
	p := open(t, srv, "startstop", pool.WithClock(clk), pool.WithManualSweeps(), pool.WithIdle(pool.Idle{Park: time.Minute}))
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	id := l.Sandbox().DaytonaID()
	l.Release()

	park := func() {
		t.Helper()
		clk.Advance(2 * time.Minute)
		p.Sweep(t.Context())
	}
	require.NoError(t, srv.FailNext(daytonatest.OpStop, 1, 500, "runner unreachable"))
	park()
	assert.Equal(t, daytonatest.StateStarted, state(srv, id), "the park failed")
	park()
	assert.Equal(t, daytonatest.StateStopped, state(srv, id), "and the next sweep parked it")

	require.NoError(t, srv.FailNext(daytonatest.OpStart, 1, 503, "busy"))
	require.NoError(t, srv.FailNext(daytonatest.OpStart, 1, 429, "Too many requests"))
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, id, l.Sandbox().DaytonaID())
	l.Release()

	park()
	require.NoError(t, srv.FailNext(daytonatest.OpStart, 1, 500, "no capacity"))
	_, err = p.Acquire(t.Context(), "k")
	require.Error(t, err)
	l, err = p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, id, l.Sandbox().DaytonaID())
	l.Release()
	assert.Len(t, keyed(srv, "startstop"), 1)
}

// TestIdlePolicyInTheBackground: on the system clock, the Pool's own
// sweep parks an idle sandbox, and Daytona's auto-stop agrees (rounded up
// to a minute).
func TestIdlePolicyInTheBackground(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	p := open(t, srv, "background", pool.WithIdle(pool.Idle{Park: 100 * time.Millisecond}), pool.WithLogger(ev.logger()))
	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	id := l.Sandbox().DaytonaID()
	l.Release()
	ev.waitFor(t, "pool.park", 1)
	assert.Equal(t, daytonatest.StateStopped, state(srv, id))
	rec, _ := srv.Sandbox(id)
	assert.Equal(t, 1, rec.AutoStopInterval)
}

// TestSparesKeptAwake: the refill touches its spares every half of the
// auto-stop interval, so that Daytona's auto-stop leaves them running;
// the pool's labels are on them, and on the keys' sandboxes.
func TestSparesKeptAwake(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ev := newEvents()
	clk := newManualClock()
	p := open(t, srv, "awake", pool.WithSpares(1), pool.WithClock(clk), pool.WithManualSweeps(),
		pool.WithIdle(pool.Idle{Park: 2 * time.Minute}), pool.WithLabels(map[string]string{"team": "search"}),
		pool.WithLogger(ev.logger()))
	ev.waitFor(t, "pool.spare: ready", 1)
	sp := spares(srv, "awake")
	require.Len(t, sp, 1)
	assert.Equal(t, "search", sp[0].Labels["team"])
	assert.Equal(t, 2, sp[0].AutoStopInterval)

	touches := srv.Count(daytonatest.OpLastActivity)
	clk.Advance(59 * time.Second)
	p.NudgeRefill()
	clk.Advance(time.Second)
	p.NudgeRefill()
	ev.waitFor(t, "pool.spare: touched", 1)
	assert.Equal(t, touches+1, srv.Count(daytonatest.OpLastActivity))
	assert.Equal(t, 1, ev.count("pool.spare: touched"), "not before it was due")

	l, err := p.Acquire(t.Context(), "k")
	require.NoError(t, err)
	l.Release()
	for _, sbs := range keyed(srv, "awake") {
		assert.Equal(t, "search", sbs[0].Labels["team"])
	}
}
