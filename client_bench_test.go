package daytona_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/workspace"
)

// The benchmarks in this file measure the client alone: the fake Daytona
// runs in a process of its own (cmd/daytonatest, built for the run), so
// that the CPU time and the heap reported are this process's, the
// library's.

// externalServer builds and starts cmd/daytonatest and returns its API URL
// and key; it is stopped at the end of the benchmark.
func externalServer(b *testing.B, flags ...string) (apiURL, key string) {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "daytonatest")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/daytonatest").CombinedOutput(); err != nil {
		b.Fatalf("build cmd/daytonatest: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"-close-delay", "0s", "-latency", "0s"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for (apiURL == "" || key == "") && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "DAYTONA_API_URL="); ok {
			apiURL = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "DAYTONA_API_KEY="); ok {
			key = v
		}
	}
	if apiURL == "" || key == "" {
		b.Fatal("cmd/daytonatest did not print its URL and key")
	}
	go func() { // keep draining what it prints
		for sc.Scan() {
		}
	}()
	return apiURL, key
}

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
