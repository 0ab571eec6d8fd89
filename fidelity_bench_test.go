package daytona_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// rateLines lines of 100 bytes are the output of one op of
// BenchmarkOutputRate: 4 MB.
const (
	rateLines = 41943
	rateBytes = rateLines * 100
)

// rateCommand prints rateBytes in lines of 100 bytes.
var rateCommand = fmt.Sprintf("yes %s | head -n %d", strings.Repeat("x", 99), rateLines)

// BenchmarkOutputRate measures the throughput of command output through
// daytonatest without a rate limit and with the real daemon's
// (daytonatest.DaemonOutputRate, about 2.3 MB/s per stream), as the SDK
// sees it (impl=sdk-sync: one synchronous session exec, the fake alone)
// and as ExecuteCommand delivers it (with writers: async exec and follow
// stream; without: one synchronous request). MB/s counts the command's
// output bytes.
//
//	go test -run '^$' -bench OutputRate -benchtime 3x -count 3 .
func BenchmarkOutputRate(b *testing.B) {
	for _, rate := range []int{0, daytonatest.DaemonOutputRate} {
		for _, impl := range []string{"sdk-sync", implOursWriters, implOursNoWriters} {
			name := "rate=unlimited"
			if rate > 0 {
				name = fmt.Sprintf("rate=%d", rate)
			}
			b.Run(name+"/impl="+impl, func(b *testing.B) {
				srv := newServer(b, daytonatest.WithOutputRate(rate))
				sb := startedSandbox(b, srv)
				op := rateOp(b, sb, impl)
				if err := op(); err != nil { // warm up: sessions, streams
					b.Fatal(err)
				}
				b.SetBytes(rateBytes)
				for b.Loop() {
					if err := op(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// rateOp returns one op of BenchmarkOutputRate for impl, which checks that
// all the output came through.
func rateOp(b *testing.B, sb *daytona.Sandbox, impl string) func() error {
	ctx := b.Context()
	if impl == "sdk-sync" {
		inst, err := sb.Instance()
		if err != nil {
			b.Fatal(err)
		}
		if err := inst.Process.CreateSession(ctx, "rate"); err != nil {
			b.Fatal(err)
		}
		return func() error {
			m, err := inst.Process.ExecuteSessionCommand(ctx, "rate", rateCommand, false, true)
			if err != nil {
				return err
			}
			if out, _ := m["stdout"].(string); len(out) != rateBytes {
				return fmt.Errorf("sdk-sync: %d bytes of stdout, want %d", len(out), rateBytes)
			}
			return nil
		}
	}
	return func() error {
		var out, errOut countingWriter
		opts := &workspace.ExecOptions{Timeout: workspace.NoTimeout}
		if impl == implOursWriters {
			opts.Stdout, opts.Stderr = &out, &errOut
		}
		res, err := sb.ExecuteCommand(ctx, rateCommand, nil, opts)
		if err != nil {
			return err
		}
		n := out.n.Load()
		if impl == implOursNoWriters {
			n = int64(len(res.Stdout)) + res.StdoutDroppedBytes
		}
		if res.ExitCode != 0 || n != rateBytes {
			return fmt.Errorf("%s: exit %d, %d bytes of stdout, want %d", impl, res.ExitCode, n, rateBytes)
		}
		return nil
	}
}
