// Package fakeproc runs the fake Daytona (cmd/daytonatest) in a process of
// its own, for benchmarks that measure the client alone: the CPU time and
// the heap of the benchmark's process are then the client's.
package fakeproc

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start builds and starts cmd/daytonatest with "-close-delay 0s -latency
// 0s" and then flags (later ones win), and returns its API URL and key; it
// is stopped when tb ends.
func Start(tb testing.TB, flags ...string) (apiURL, key string) {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "daytonatest")
	build := exec.Command("go", "build", "-o", bin, "github.com/agentworkspace/daytona/cmd/daytonatest")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build cmd/daytonatest: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"-close-delay", "0s", "-latency", "0s"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
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
		tb.Fatal("cmd/daytonatest did not print its URL and key")
	}
	go func() { // keep draining what it prints
		for sc.Scan() {
		}
	}()
	return apiURL, key
}

// CPUTime returns the CPU time this process has used.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
