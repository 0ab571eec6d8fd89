package daytona_test

// Benchmarks of ExecuteCommand against an anchor that does what Mastra's
// @mastra/daytona 0.4.1 does per command (anchorExec below), both talking to
// the same in-process daytonatest server with the daemon-faithful follow
// stream close delay (1 s after the command exits). See BENCHMARKS.md for
// the commands, the numbers and their caveats.

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Implementations compared by every benchmark.
const (
	implOursNoWriters = "ours-no-writers" // ExecuteCommand, no writers: one synchronous request
	implOursWriters   = "ours-writers"    // ExecuteCommand with io.Writers: async exec + follow stream
	implAnchor        = "anchor"          // anchorExec: what Mastra 0.4.1 does
)

var benchLatencies = []time.Duration{0, 20 * time.Millisecond}

// anchorSeq numbers the anchor's sessions, like 0.4.1's spawnCounter.
var anchorSeq atomic.Int64

// anchorExec runs command the way @mastra/daytona 0.4.1 runs
// executeCommand on a running sandbox (spec §C.6, §H):
//
//  1. createSession("mastra-proc-<base36 ms>-<n>") — a new session per call;
//  2. executeSessionCommand(sid, "(" + command + ")", runAsync: true);
//  3. follow the command's log over the WebSocket until the server closes
//     it (the daemon closes about a second after the command exits);
//  4. getSessionCommand twice, concurrently (the stream-end hook and wait()
//     both resolve the exit code; neither sees the other's result in time),
//     exitCode = cmd.exitCode ?? 0, or 1 if the call fails;
//  5. no deleteSession: the session stays in the sandbox.
//
// Output is concatenated, as the process handle does (0.4.1 keeps up to
// 1 MiB of each stream; the commands benchmarked with anchorExec print a
// few bytes).
func anchorExec(ctx context.Context, sb *sdk.Sandbox, command string) (exitCode int, stdout, stderr string, err error) {
	var out, errOut strings.Builder
	exitCode, err = anchorRun(ctx, sb, command,
		func(s string) { out.WriteString(s) },
		func(s string) { errOut.WriteString(s) })
	return exitCode, out.String(), errOut.String(), err
}

// anchorRun is anchorExec with the output handed to callbacks (0.4.1's
// onStdout/onStderr), each called from its own goroutine.
func anchorRun(ctx context.Context, sb *sdk.Sandbox, command string, onStdout, onStderr func(string)) (int, error) {
	sid := "mastra-proc-" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.FormatInt(anchorSeq.Add(1), 10)
	if err := sb.Process.CreateSession(ctx, sid); err != nil {
		return 0, fmt.Errorf("anchor: create session: %w", err)
	}
	m, err := sb.Process.ExecuteSessionCommand(ctx, sid, "("+command+")", true, false)
	if err != nil {
		return 0, fmt.Errorf("anchor: execute session command: %w", err)
	}
	cmdID, _ := m["id"].(string)

	// getSessionCommandLogs with callbacks: a WebSocket followed until the
	// server closes it. Errors are swallowed, as in 0.4.1.
	outCh, errCh := make(chan string, 64), make(chan string, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		for s := range outCh {
			onStdout(s)
		}
	})
	wg.Go(func() {
		for s := range errCh {
			onStderr(s)
		}
	})
	_ = sb.Process.GetSessionCommandLogsStream(ctx, sid, cmdID, outCh, errCh) // closes both channels
	wg.Wait()

	// _resolveExitCode() twice, racing.
	var codes [2]int
	var rg sync.WaitGroup
	for i := range codes {
		rg.Go(func() {
			cmd, err := sb.Process.GetSessionCommand(ctx, sid, cmdID)
			switch {
			case err != nil:
				codes[i] = 1
			default:
				c, _ := cmd["exitCode"].(int32) // null/undefined -> 0
				codes[i] = int(c)
			}
		})
	}
	rg.Wait()
	return codes[0], ctx.Err()
}

// benchServer starts a daytonatest server with the daemon-faithful follow
// stream close delay (newServer's default is 0, for fast tests).
func benchServer(b *testing.B) *daytonatest.Server {
	b.Helper()
	return newServer(b, daytonatest.WithCloseDelay(daytonatest.DefaultCloseDelay))
}

// settle waits until the server has seen no new request for 100 ms, so that
// the background upkeep of warm-up (or of the last op) is not counted in the
// wrong place.
func settle(b *testing.B, srv *daytonatest.Server) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := srv.TotalCount()
		time.Sleep(100 * time.Millisecond)
		if srv.TotalCount() == n && inFlight(srv) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("server did not settle: %v", srv.Counts())
		}
	}
}

// inFlight counts requests still being served, ignoring follow streams that
// the daemon keeps open after their command exited.
func inFlight(srv *daytonatest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Status == 0 && r.Op != daytonatest.OpFollowLogs {
			n++
		}
	}
	return n
}

// reqMeter counts the requests made by the measured ops, leaving out what the
// harness does between ops with the timer stopped.
type reqMeter struct {
	srv    *daytonatest.Server
	counts map[daytonatest.Op]int
}

// start forgets everything before the loop.
func (m *reqMeter) start(b *testing.B) {
	settle(b, m.srv)
	m.srv.ResetRequests()
	m.counts = map[daytonatest.Op]int{}
}

// pause banks the requests so far; the harness may then send its own.
func (m *reqMeter) pause() {
	for op, n := range m.srv.Counts() {
		m.counts[op] += n
	}
}

// resume forgets the harness's requests.
func (m *reqMeter) resume() { m.srv.ResetRequests() }

// report adds the requests up to now (after the last op's background upkeep
// has settled) and reports them per op; -v logs them by operation.
func (m *reqMeter) report(b *testing.B) {
	settle(b, m.srv)
	m.pause()
	total := 0
	ops := make([]string, 0, len(m.counts))
	for op, n := range m.counts {
		total += n
		ops = append(ops, fmt.Sprintf("%s=%.2f", op, float64(n)/float64(b.N)))
	}
	slices.Sort(ops)
	b.ReportMetric(float64(total)/float64(b.N), "req/op")
	b.Logf("requests per op (N=%d): %s", b.N, strings.Join(ops, " "))
}

// cleanAnchorSessions deletes the sessions the anchor left behind (0.4.1
// never deletes them), so that shells do not pile up in the fake between
// ops. Callers stop the timer and pause the request meter around it.
func cleanAnchorSessions(b *testing.B, sb *sdk.Sandbox) {
	b.Helper()
	ctx := context.Background()
	list, err := sb.Process.ListSessions(ctx)
	if err != nil {
		b.Fatalf("list sessions: %v", err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, s := range list {
		id, _ := s["sessionId"].(string)
		if !strings.HasPrefix(id, "mastra-proc-") {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = sb.Process.DeleteSession(ctx, id)
		})
	}
	wg.Wait()
}

// countingWriter is io.Discard that counts.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// benchSandbox returns a started sandbox on a fresh server, its SDK
// sandbox, and a function that runs `echo hi` once with impl and checks the
// result.
func benchSandbox(b *testing.B, impl string) (*daytonatest.Server, *sdk.Sandbox, func(ctx context.Context) error) {
	b.Helper()
	srv := benchServer(b)
	sb := startedSandbox(b, srv)
	inst, err := sb.Instance()
	if err != nil {
		b.Fatal(err)
	}
	run := func(ctx context.Context) error {
		switch impl {
		case implAnchor:
			code, out, _, err := anchorExec(ctx, inst, "echo hi")
			if err != nil {
				return err
			}
			if code != 0 || out != "hi\n" {
				return fmt.Errorf("anchor: exit %d, stdout %q", code, out)
			}
			return nil
		default:
			var opts *workspace.ExecOptions
			var w countingWriter
			if impl == implOursWriters {
				opts = &workspace.ExecOptions{Stdout: &w, Stderr: &w}
			}
			res, err := sb.ExecuteCommand(ctx, "echo hi", nil, opts)
			if err != nil {
				return err
			}
			if res.ExitCode != 0 || res.Stdout != "hi\n" {
				return fmt.Errorf("%s: exit %d, stdout %q", impl, res.ExitCode, res.Stdout)
			}
			if impl == implOursWriters && w.n.Load() != 3 {
				return fmt.Errorf("%s: writers got %d bytes, want 3", impl, w.n.Load())
			}
			return nil
		}
	}
	return srv, inst, run
}

// BenchmarkTrivialCommand runs `echo hi` on a started, warmed sandbox.
func BenchmarkTrivialCommand(b *testing.B) {
	for _, lat := range benchLatencies {
		for _, impl := range []string{implOursNoWriters, implOursWriters, implAnchor} {
			b.Run(fmt.Sprintf("latency=%dms/impl=%s", lat.Milliseconds(), impl), func(b *testing.B) {
				srv, inst, run := benchSandbox(b, impl)
				ctx := b.Context()
				srv.SetLatency(lat)
				for range 3 { // warm the session pool and the connections
					if err := run(ctx); err != nil {
						b.Fatal(err)
					}
				}
				m := reqMeter{srv: srv}
				m.start(b)
				b.ReportAllocs()
				for b.Loop() {
					if err := run(ctx); err != nil {
						b.Fatal(err)
					}
					if impl == implAnchor {
						b.StopTimer()
						m.pause()
						cleanAnchorSessions(b, inst)
						m.resume()
						b.StartTimer()
					}
				}
				m.report(b)
			})
		}
	}
}

// BenchmarkConcurrent64 runs 64 concurrent `echo hi` per op on one sandbox.
func BenchmarkConcurrent64(b *testing.B) {
	const n = 64
	for _, lat := range benchLatencies {
		for _, impl := range []string{implOursNoWriters, implOursWriters, implAnchor} {
			b.Run(fmt.Sprintf("latency=%dms/impl=%s", lat.Milliseconds(), impl), func(b *testing.B) {
				srv, inst, run := benchSandbox(b, impl)
				ctx := b.Context()
				srv.SetLatency(lat)
				round := func() error {
					var wg sync.WaitGroup
					errs := make([]error, n)
					for i := range n {
						wg.Go(func() { errs[i] = run(ctx) })
					}
					wg.Wait()
					for _, err := range errs {
						if err != nil {
							return err
						}
					}
					return nil
				}
				clean := func() {
					if impl == implAnchor {
						cleanAnchorSessions(b, inst)
					}
				}
				if err := round(); err != nil { // warm-up
					b.Fatal(err)
				}
				clean()
				m := reqMeter{srv: srv}
				m.start(b)
				b.ReportAllocs()
				for b.Loop() {
					if err := round(); err != nil {
						b.Fatal(err)
					}
					if impl == implAnchor {
						b.StopTimer()
						m.pause()
						clean()
						m.resume()
						b.StartTimer()
					}
				}
				m.report(b)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/cmd")
			})
		}
	}
}

// Stream64MiB output: 671088 lines of 100 x's and a last line of 64.
const (
	streamCommand = `head -c 67108864 /dev/zero | tr '\0' 'x' | fold -w 100`
	streamBytes   = 67108864 + 67108864/100
)

// heapSampler records the peak of the heap (live and not yet swept objects)
// while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

// heapObjects returns the bytes of heap objects (live and not yet swept).
func heapObjects() uint64 {
	sample := []metrics.Sample{{Name: heapObjectsMetric}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			h.peak = max(h.peak, heapObjects())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// Stop stops sampling and returns the peak.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak
}

// BenchmarkStream64MiB streams 64 MiB of lines through io.Writers (ours)
// or the SDK's channels (anchor), counting bytes and keeping nothing else.
// The heap is collected before each op; peak-heap-MiB is the largest heap
// seen during any op, in this process, which also runs the fake server.
func BenchmarkStream64MiB(b *testing.B) {
	for _, impl := range []string{implOursWriters, implAnchor, implOursNoWriters} {
		b.Run("impl="+impl, func(b *testing.B) {
			srv := benchServer(b)
			sb := startedSandbox(b, srv)
			inst, err := sb.Instance()
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			op := func() error {
				var out, errOut countingWriter
				switch impl {
				case implAnchor:
					code, err := anchorRun(ctx, inst, streamCommand,
						func(s string) { out.n.Add(int64(len(s))) },
						func(s string) { errOut.n.Add(int64(len(s))) })
					if err != nil {
						return err
					}
					if code != 0 {
						return fmt.Errorf("anchor: exit %d", code)
					}
				default:
					opts := &workspace.ExecOptions{Timeout: workspace.NoTimeout}
					if impl == implOursWriters {
						opts.Stdout, opts.Stderr = &out, &errOut
					}
					res, err := sb.ExecuteCommand(ctx, streamCommand, nil, opts)
					if err != nil {
						return err
					}
					if res.ExitCode != 0 || len(res.Stdout) != workspace.DefaultMaxRetainedBytes || !res.StdoutTruncated {
						return fmt.Errorf("%s: exit %d, retained %d bytes, truncated %v", impl, res.ExitCode, len(res.Stdout), res.StdoutTruncated)
					}
					if impl == implOursNoWriters {
						// Nothing to write to: count what the result accounts for.
						out.n.Store(int64(len(res.Stdout)) + res.StdoutDroppedBytes)
						errOut.n.Store(int64(len(res.Stderr)) + res.StderrDroppedBytes)
					}
				}
				want := int64(streamBytes)
				if impl == implAnchor {
					// The daemon's log ends a last line without a newline
					// with one; ours delivers the exact output.
					want++
				}
				if out.n.Load() != want || errOut.n.Load() != 0 {
					return fmt.Errorf("%s: got %d stdout and %d stderr bytes, want %d and 0", impl, out.n.Load(), errOut.n.Load(), want)
				}
				return nil
			}
			m := reqMeter{srv: srv}
			m.start(b)
			b.SetBytes(streamBytes)
			b.ReportAllocs()
			var peak, base uint64
			for b.Loop() {
				b.StopTimer()
				m.pause()
				if impl == implAnchor {
					cleanAnchorSessions(b, inst)
				}
				runtime.GC()
				base = max(base, heapObjects())
				m.resume()
				b.StartTimer()

				h := startHeapSampler()
				err := op()
				peak = max(peak, h.Stop())
				if err != nil {
					b.Fatal(err)
				}
			}
			m.report(b)
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(base)/(1<<20), "base-heap-MiB")
		})
	}
}
