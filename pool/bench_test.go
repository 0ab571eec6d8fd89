package pool_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/fakeproc"
	"github.com/agentworkspace/daytona/pool"
)

// benchLatency is added to every request, as a nearby region's network
// would; benchTransition is how long the fake's sandboxes spend in each
// transitional state (creating, starting, stopping).
const (
	benchLatency    = 20 * time.Millisecond
	benchTransition = 50 * time.Millisecond
)

func benchServer(b *testing.B) *daytonatest.Server {
	b.Helper()
	return newServer(b, daytonatest.WithLatency(benchLatency), daytonatest.WithTransitionDelay(benchTransition))
}

// perOp reports the requests the server received since mark, per op.
func perOp(b *testing.B, srv *daytonatest.Server, mark int, n int) {
	b.ReportMetric(float64(srv.TotalCount()-mark)/float64(n), "requests/op")
}

// BenchmarkAcquire measures Acquire and Release at 20 ms of latency: of a
// key whose lease is already held here (local), of an idle running key
// (warm), of a new key with a spare ready and without, and of a parked
// key.
func BenchmarkAcquire(b *testing.B) {
	b.Run("local", benchLocal)
	b.Run("warm", func(b *testing.B) {
		srv := benchServer(b)
		p := open(b, srv, "bench")
		acquireRelease(b, p, "k")
		mark := srv.TotalCount()
		for b.Loop() {
			acquireRelease(b, p, "k")
		}
		perOp(b, srv, mark, b.N)
	})
	for _, spare := range []bool{true, false} {
		b.Run(fmt.Sprintf("new-key/spare=%v", spare), func(b *testing.B) { benchNewKey(b, spare) })
	}
	b.Run("parked", benchParked)
}

func benchLocal(b *testing.B) {
	srv := benchServer(b)
	p := open(b, srv, "bench")
	held, err := p.Acquire(b.Context(), "k")
	if err != nil {
		b.Fatal(err)
	}
	defer held.Release()
	mark := srv.TotalCount()
	for b.Loop() {
		acquireRelease(b, p, "k")
	}
	perOp(b, srv, mark, b.N)
}

// benchNewKey acquires a new key per op, with a spare ready (waited for
// outside the measured time) or none.
func benchNewKey(b *testing.B, spare bool) {
	srv := benchServer(b)
	ev := newEvents()
	opts := []pool.Option{pool.WithLogger(ev.logger())}
	if spare {
		opts = append(opts, pool.WithSpares(1))
	}
	p := open(b, srv, "bench", opts...)
	var ready, requests int
	var took time.Duration
	for i := 0; b.Loop(); i++ {
		if spare {
			ready++
			ev.waitFor(b, "pool.spare: ready", ready)
		}
		mark := srv.TotalCount()
		start := time.Now()
		acquireRelease(b, p, fmt.Sprintf("key-%d", i))
		took += time.Since(start)
		requests += srv.TotalCount() - mark
	}
	reportAcquire(b, took, requests)
	if s := p.Stats(); spare && s.SpareHits != int64(b.N) {
		b.Fatalf("%d spare hits in %d", s.SpareHits, b.N)
	}
}

// benchParked acquires a key the idle policy parked.
func benchParked(b *testing.B) {
	srv := benchServer(b)
	clk := newManualClock()
	p := open(b, srv, "bench", pool.WithClock(clk), pool.WithManualSweeps(), pool.WithIdle(pool.Idle{Park: time.Minute}))
	acquireRelease(b, p, "k")
	var requests int
	var took time.Duration
	for b.Loop() {
		clk.Advance(2 * time.Minute)
		p.Sweep(b.Context())
		mark := srv.TotalCount()
		start := time.Now()
		acquireRelease(b, p, "k")
		took += time.Since(start)
		requests += srv.TotalCount() - mark
	}
	reportAcquire(b, took, requests)
	if s := p.Stats(); s.Wakes != int64(b.N) {
		b.Fatalf("%d wakes in %d", s.Wakes, b.N)
	}
}

// reportAcquire reports the time and requests of the measured Acquires
// (the loop's ns/op includes the waits outside them).
func reportAcquire(b *testing.B, took time.Duration, requests int) {
	b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "ms/acquire")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

func acquireRelease(b *testing.B, p *pool.Pool, key string) {
	b.Helper()
	l, err := p.Acquire(b.Context(), key)
	if err != nil {
		b.Fatal(err)
	}
	l.Release()
}

// BenchmarkClientCPUAcquireWarm measures the CPU time this process (the
// Pool and package daytona, without the fake, which runs in a process of
// its own: cmd/daytonatest -latency 20ms) spends per Acquire and Release
// of a warm key, and per shared lease.
func BenchmarkClientCPUAcquireWarm(b *testing.B) {
	apiURL, key := fakeproc.Start(b, "-latency", benchLatency.String())
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(hc.CloseIdleConnections)
	p, err := pool.Open(b.Context(), "cpu", pool.WithSandboxOptions(daytona.WithEndpoint(apiURL, key), daytona.WithHTTPClient(hc)),
		pool.WithOnClose(pool.CloseDestroy))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	for range 5 {
		acquireRelease(b, p, "k")
	}
	b.Run("warm", func(b *testing.B) {
		start := fakeproc.CPUTime()
		for b.Loop() {
			acquireRelease(b, p, "k")
		}
		b.ReportMetric(float64((fakeproc.CPUTime()-start).Microseconds())/1000/float64(b.N), "client-cpu-ms/op")
	})
	b.Run("local", func(b *testing.B) {
		held, err := p.Acquire(b.Context(), "k")
		if err != nil {
			b.Fatal(err)
		}
		defer held.Release()
		start := fakeproc.CPUTime()
		for b.Loop() {
			acquireRelease(b, p, "k")
		}
		b.ReportMetric(float64((fakeproc.CPUTime()-start).Microseconds())/1000/float64(b.N), "client-cpu-ms/op")
	})
}

// turn is one user's turn in the simulation: at second at, key runs a
// command.
type turn struct {
	at  int
	key string
}

// schedule draws the turns of users over seconds: each user starts a
// conversation at a random time in the first 80%, of 1 to 6 turns 15 to 90
// seconds apart, and 30% of them come back 3 to 5 minutes after their last
// turn for one to three more.
func schedule(users, seconds int, seed uint64) [][]turn {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([][]turn, seconds)
	add := func(at int, key string) {
		if at < seconds {
			out[at] = append(out[at], turn{at: at, key: key})
		}
	}
	for u := range users {
		key := fmt.Sprintf("user-%04d", u)
		at := r.IntN(seconds * 8 / 10)
		for range 1 + r.IntN(6) {
			add(at, key)
			at += 15 + r.IntN(76)
		}
		if r.IntN(10) < 3 {
			at += 180 + r.IntN(121)
			for range 1 + r.IntN(3) {
				add(at, key)
				at += 15 + r.IntN(76)
			}
		}
	}
	return out
}

// BenchmarkSimulation runs 10 simulated minutes of 1,000 users taking
// turns (schedule) through one Pool, with the idle policy parking a
// sandbox 2 minutes after its last turn, on a manual clock advanced one
// second at a time (turns due at the same second run at once, 64 at a
// time); each turn runs `true` in the user's sandbox. It reports the
// sandboxes created, the peak started, the parks and wakes, and the
// requests per turn.
func BenchmarkSimulation(b *testing.B) {
	for _, spares := range []int{0, 8} {
		b.Run(fmt.Sprintf("spares=%d", spares), func(b *testing.B) {
			for b.Loop() {
				simulate(b, 1000, 600, spares)
			}
		})
	}
}

func simulate(b *testing.B, users, seconds, spares int) {
	srv := benchServer(b)
	clk := newManualClock()
	p := open(b, srv, "sim", pool.WithClock(clk), pool.WithManualSweeps(), pool.WithSpares(spares),
		pool.WithIdle(pool.Idle{Park: 2 * time.Minute}), pool.WithOnClose(pool.CloseLeave))
	plan := schedule(users, seconds, 1)
	mark := srv.TotalCount()
	controlMark := controlPlane(srv)
	var turns, peak int
	start := time.Now()
	sem := make(chan struct{}, 64)
	for sec := range seconds {
		var wg sync.WaitGroup
		for _, tr := range plan[sec] {
			turns++
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				l, err := p.Acquire(b.Context(), tr.key)
				if err != nil {
					b.Error(err)
					return
				}
				defer l.Release()
				if _, err := l.Sandbox().ExecuteCommand(b.Context(), "true", nil, nil); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		peak = max(peak, p.Stats().Started)
		clk.Advance(time.Second)
		p.Sweep(b.Context())
	}
	s := p.Stats()
	b.ReportMetric(float64(turns), "turns")
	b.ReportMetric(float64(s.Creates), "created")
	b.ReportMetric(float64(peak), "peak-started")
	b.ReportMetric(float64(s.Parks), "parks")
	b.ReportMetric(float64(s.Wakes), "wakes")
	b.ReportMetric(float64(s.SpareHits), "spare-hits")
	b.ReportMetric(float64(srv.TotalCount()-mark)/float64(turns), "requests/turn")
	b.ReportMetric(float64(controlPlane(srv)-controlMark)/float64(turns), "control-requests/turn")
	b.ReportMetric(time.Since(start).Seconds(), "wall-s")
}

// controlPlane counts the requests to the control plane.
func controlPlane(srv *daytonatest.Server) int {
	n := 0
	for op, c := range srv.Counts() {
		switch op {
		case daytonatest.OpCreate, daytonatest.OpGet, daytonatest.OpList, daytonatest.OpStart, daytonatest.OpStop,
			daytonatest.OpArchive, daytonatest.OpDelete, daytonatest.OpReplaceLabels, daytonatest.OpLastActivity,
			daytonatest.OpSetAutoStop, daytonatest.OpToolboxProxyURL:
			n += c
		}
	}
	return n
}
