package daytona_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/workspace"
)

// Benchmarks of scale (see BENCHMARKS.md, "Scale"): bursts on one warm
// sandbox, many sandboxes started at once, and the first streamed byte.
// They run against a fake with 20 ms of latency per request, like a
// nearby region, and count TCP connections with a dialer of their own
// (WithHTTPClient).

const scaleLatency = 20 * time.Millisecond

// singleMedian returns the median time of n single commands on sb, with
// opts.
func singleMedian(b *testing.B, sb *daytona.Sandbox, n int, opts *workspace.ExecOptions) time.Duration {
	b.Helper()
	var ds []time.Duration
	for range n {
		start := time.Now()
		if _, err := sb.ExecuteCommand(b.Context(), "true", nil, opts); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkBurst runs bursts of 8, 64 and 256 concurrent commands on one
// warm sandbox, after one burst of the same size (steady state). It
// reports the burst's time against a single command's, and per burst the
// requests, the sessions created and deleted, and the TCP connections
// opened; and the sandbox's CPU time per command (session shells and what
// they ran, counted once the sandbox is destroyed: see
// daytonatest.Server.SandboxCPU).
//
// output=exact is the default (output through files, exact);
// output=writers is the same with writers (async exec and the log stream
// per command); output=raw sends output through the log as it is, as
// when no file can be written in the sandbox, to show what the runner
// costs.
//
//	go test -run '^$' -bench 'BenchmarkBurst' -benchtime 10x -count 3 .
func BenchmarkBurst(b *testing.B) {
	for _, mode := range []string{"exact", "writers", "raw"} {
		for _, n := range []int{8, 64, 256} {
			b.Run(fmt.Sprintf("output=%s/n=%d", mode, n), func(b *testing.B) { benchBurst(b, mode, n) })
		}
	}
}

func benchBurst(b *testing.B, mode string, n int) {
	var dials atomic.Int64
	srv := newServer(b, daytonatest.WithLatency(scaleLatency))
	opts := []daytona.Option{daytona.WithHTTPClient(countingClient(&dials))}
	if mode == "raw" {
		opts = append(opts, daytona.WithRawOutput())
	}
	var eo *workspace.ExecOptions
	if mode == "writers" {
		eo = &workspace.ExecOptions{Stdout: &countingWriter{}, Stderr: &countingWriter{}}
	}
	sb := startedSandbox(b, srv, opts...)
	single := singleMedian(b, sb, 10, eo)
	runBurst(b, sb, n, eo) // warm up
	settle(b, srv)
	srv.ResetRequests()
	d0 := dials.Load()
	for b.Loop() {
		runBurst(b, sb, n, eo)
	}
	perBurst := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perBurst)/float64(single), "x-single")
	b.ReportMetric(float64(single.Microseconds())/1000, "single-ms")
	b.ReportMetric(float64(n)/perBurst.Seconds(), "cmds/s")
	b.ReportMetric(float64(srv.TotalCount())/float64(b.N), "req/burst")
	b.ReportMetric(float64(srv.Count(daytonatest.OpCreateSession))/float64(b.N), "sessions-created/burst")
	b.ReportMetric(float64(srv.Count(daytonatest.OpDeleteSession))/float64(b.N), "sessions-deleted/burst")
	b.ReportMetric(float64(dials.Load()-d0)/float64(b.N), "conns/burst")
	cmds := 10 + n*(b.N+1)
	b.ReportMetric(float64(sandboxCPU(b, srv, sb).Microseconds())/1000/float64(cmds), "sandbox-cpu-ms/cmd")
}

// sandboxCPU destroys sb and returns the CPU time its session shells used,
// once their exits have been counted (the count has grown, and then not
// changed for half a second).
func sandboxCPU(b *testing.B, srv *daytonatest.Server, sb *daytona.Sandbox) time.Duration {
	before := srv.SandboxCPU()
	if err := sb.Destroy(b.Context()); err != nil {
		b.Fatal(err)
	}
	last, same := before, 0
	for range 300 {
		time.Sleep(100 * time.Millisecond) // polling a counter the shells' exits feed
		cpu := srv.SandboxCPU()
		if cpu > before && cpu == last {
			if same++; same == 5 {
				return cpu
			}
			continue
		}
		last, same = cpu, 0
	}
	return last
}

// runBurst runs n commands at once, with opts.
func runBurst(b *testing.B, sb *daytona.Sandbox, n int, opts *workspace.ExecOptions) {
	var wg sync.WaitGroup
	var failed atomic.Value
	for range n {
		wg.Go(func() {
			if _, err := sb.ExecuteCommand(b.Context(), "true", nil, opts); err != nil {
				failed.Store(err)
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
}

// BenchmarkStartSandboxes creates n Sandboxes, starts them all at once,
// runs one command in each, and reports per sandbox the requests and the
// TCP connections opened, the peak number of goroutines, the heap of an
// idle Sandbox (after New), and the goroutines of this package left
// running once every command has returned.
//
// proto=http1 is what the library's shared transport speaks to an http://
// endpoint such as the fake; proto=h2 multiplexes requests over HTTP/2 (the
// fake speaks it without TLS, with prior knowledge), as the shared
// transport does with Daytona over TLS.
func BenchmarkStartSandboxes(b *testing.B) {
	for _, proto := range []string{"http1", "h2"} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("proto=%s/n=%d", proto, n), func(b *testing.B) {
				for b.Loop() {
					startSandboxes(b, n, proto == "h2")
				}
			})
		}
	}
}

func startSandboxes(b *testing.B, n int, h2 bool) {
	var dials atomic.Int64
	hc := countingClient(&dials)
	if h2 {
		t := hc.Transport.(*controlplane.Transport)
		t.Protocols = new(http.Protocols)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	srv := newServer(b, daytonatest.WithLatency(scaleLatency), daytonatest.WithTransitionDelay(50*time.Millisecond))
	sbs, heapPer := newSandboxes(b, srv, n, daytona.WithHTTPClient(hc))
	peak := &goroutinePeak{}
	stop := peak.sample()
	var wg sync.WaitGroup
	start := time.Now()
	for _, sb := range sbs {
		wg.Go(func() {
			if _, err := sb.ExecuteCommand(b.Context(), "true", nil, nil); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	stop()
	b.ReportMetric(float64(wall.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(srv.TotalCount())/float64(n), "req/sandbox")
	b.ReportMetric(float64(dials.Load())/float64(n), "conns/sandbox")
	b.ReportMetric(float64(peak.max.Load()), "peak-goroutines")
	b.ReportMetric(heapPer, "heap-B/idle-sandbox")
	b.ReportMetric(float64(libraryGoroutines())/float64(n), "goroutines/started-idle-sandbox")
	b.Logf("requests: %v", srv.Counts())
}

// newSandboxes makes n Sandboxes on srv and measures the heap each holds
// before it starts.
func newSandboxes(b *testing.B, srv *daytonatest.Server, n int, opts ...daytona.Option) ([]*daytona.Sandbox, float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sbs := make([]*daytona.Sandbox, n)
	for i := range sbs {
		sb, err := daytona.New(append([]daytona.Option{daytona.WithEndpoint(srv.APIURL(), srv.APIKey())}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		sbs[i] = sb
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapPer := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		for _, sb := range sbs {
			wg.Go(func() { _ = sb.Destroy(ctx) })
		}
		wg.Wait()
	})
	return sbs, heapPer
}

// goroutinePeak samples the number of goroutines.
type goroutinePeak struct{ max atomic.Int64 }

func (p *goroutinePeak) sample() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if n := int64(runtime.NumGoroutine()); n > p.max.Load() {
				p.max.Store(n)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// libraryGoroutines counts the goroutines running code of package daytona
// itself (not of daytonatest, nor net/http's connection pool).
func libraryGoroutines() int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	n := 0
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, "github.com/agentworkspace/daytona.") && !strings.Contains(g, "_test.") {
			n++
		}
	}
	return n
}

// BenchmarkFirstByte measures the time from ExecuteCommand to the first
// byte written to Stdout, for a command that prints a line and then waits.
func BenchmarkFirstByte(b *testing.B) {
	srv := newServer(b, daytonatest.WithLatency(scaleLatency))
	sb := startedSandbox(b, srv)
	var total time.Duration
	for b.Loop() {
		ctx, cancel := context.WithCancel(b.Context())
		w := &firstByte{start: time.Now(), got: make(chan time.Duration, 1), cancel: cancel}
		_, _ = sb.ExecuteCommand(ctx, "echo ready; sleep 30", nil, &workspace.ExecOptions{Stdout: w})
		total += <-w.got
		cancel()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "first-byte-ms")
}

// firstByte records when the first byte arrives, then cancels the command.
type firstByte struct {
	start  time.Time
	once   sync.Once
	got    chan time.Duration
	cancel func()
}

func (w *firstByte) Write(p []byte) (int, error) {
	w.once.Do(func() {
		w.got <- time.Since(w.start)
		w.cancel()
	})
	return len(p), nil
}
