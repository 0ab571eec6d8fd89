package daytona_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/fakeproc"
	"github.com/agentworkspace/daytona/workspace"
)

// The benchmarks in this file measure the client alone: the fake Daytona
// runs in a process of its own (cmd/daytonatest, built for the run), so
// that the CPU time and the heap reported are this process's, the
// library's.

// externalServer starts cmd/daytonatest in a process of its own (see
// package fakeproc) and returns its API URL and key.
func externalServer(b *testing.B, flags ...string) (apiURL, key string) {
	b.Helper()
	return fakeproc.Start(b, flags...)
}

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration { return fakeproc.CPUTime() }

// externalSandbox starts a Sandbox on the external server.
func externalSandbox(b *testing.B, apiURL, key string) *daytona.Sandbox {
	b.Helper()
	sb, err := daytona.New(daytona.WithEndpoint(apiURL, key))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Destroy(context.Background()) })
	if err := sb.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	return sb
}

// BenchmarkClientCPU runs `echo hi` without and with writers and reports
// the CPU time the client (this process) spends per command.
func BenchmarkClientCPU(b *testing.B) {
	apiURL, key := externalServer(b)
	for _, writers := range []bool{false, true} {
		b.Run(fmt.Sprintf("writers=%v", writers), func(b *testing.B) {
			sb := externalSandbox(b, apiURL, key)
			var opts *workspace.ExecOptions
			if writers {
				opts = &workspace.ExecOptions{Stdout: &countingWriter{}, Stderr: &countingWriter{}}
			}
			for range 5 { // warm up: sessions, connections
				if _, err := sb.ExecuteCommand(b.Context(), "echo hi", nil, opts); err != nil {
					b.Fatal(err)
				}
			}
			start := cpuTime()
			for b.Loop() {
				if _, err := sb.ExecuteCommand(b.Context(), "echo hi", nil, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "client-cpu-ms/op")
		})
	}
}

// BenchmarkClientStream64MiB streams 64 MiB with and without writers and
// reports the throughput and the client's peak heap (sampled).
func BenchmarkClientStream64MiB(b *testing.B) {
	apiURL, key := externalServer(b)
	for _, writers := range []bool{true, false} {
		b.Run(fmt.Sprintf("writers=%v", writers), func(b *testing.B) {
			sb := externalSandbox(b, apiURL, key)
			b.SetBytes(streamBytes)
			var peak uint64
			for b.Loop() {
				var out countingWriter
				opts := &workspace.ExecOptions{Timeout: workspace.NoTimeout}
				if writers {
					opts.Stdout = &out
				}
				runtime.GC()
				h := startHeapSampler()
				res, err := sb.ExecuteCommand(b.Context(), streamCommand, nil, opts)
				peak = max(peak, h.Stop())
				if err != nil {
					b.Fatal(err)
				}
				got := out.n.Load()
				if !writers {
					got = int64(len(res.Stdout)) + res.StdoutDroppedBytes
				}
				if got != streamBytes {
					b.Fatalf("got %d bytes, want %d", got, streamBytes)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "client-peak-heap-MiB")
		})
	}
}
