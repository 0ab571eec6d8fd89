package daytona_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/workspace"
)

// bulkBytes is the output of one op of BenchmarkBulkOutput: 64 MiB of
// random bytes.
const bulkBytes = 64 << 20

// hashWriter hashes what it is given.
type hashWriter struct {
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

// randomFile writes n random bytes (a fixed seed) to a file in dir and
// returns its path and contents' digest, and its last tail bytes.
func randomFile(b *testing.B, dir string, n, tail int) (path string, sum []byte, last []byte) {
	b.Helper()
	data := make([]byte, n)
	r := rand.NewChaCha8([32]byte{21})
	_, _ = r.Read(data)
	path = filepath.Join(dir, "random-"+strconv.Itoa(n))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	s := sha256.Sum256(data)
	return path, s[:], append([]byte(nil), data[n-tail:]...)
}

// BenchmarkBulkOutput prints 64 MiB of random bytes (cat of a file) in a
// sandbox of the fake running in its own process at the real daemon's
// output rate (-output-rate 2300000), with perl in the sandbox's PATH and
// without (-without perl), with a writer (every byte checked against the
// file's SHA-256) and without (the result's 1 MiB tail checked, the rest
// counted as dropped). It reports MB/s of the command's output and the
// growth of the client's heap (its peak, sampled, over the heap before the
// op).
//
//	go test -run '^$' -bench BulkOutput -benchtime 3x -count 3 .
func BenchmarkBulkOutput(b *testing.B) {
	path, sum, tail := randomFile(b, b.TempDir(), bulkBytes, workspace.DefaultMaxRetainedBytes)
	for _, perl := range []bool{true, false} {
		flags := []string{"-output-rate", "2300000"}
		if !perl {
			flags = append(flags, "-without", "perl")
		}
		apiURL, key := externalServer(b, flags...)
		for _, writers := range []bool{true, false} {
			b.Run(fmt.Sprintf("perl=%v/writers=%v", perl, writers), func(b *testing.B) {
				sb := externalSandbox(b, apiURL, key)
				b.SetBytes(bulkBytes)
				var growth uint64
				for b.Loop() {
					runtime.GC()
					base := heapObjects()
					h := startHeapSampler()
					err := bulkOp(b, sb, path, writers, sum, tail)
					growth = max(growth, h.Stop()-min(base, h.peak))
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(growth)/(1<<20), "client-heap-growth-MiB")
			})
		}
	}
}

// bulkOp runs one op of BenchmarkBulkOutput and checks its output.
func bulkOp(b *testing.B, sb *daytona.Sandbox, path string, writers bool, sum, tail []byte) error {
	opts := &workspace.ExecOptions{Timeout: workspace.NoTimeout}
	out := &hashWriter{h: sha256.New()}
	if writers {
		opts.Stdout = out
	}
	start := time.Now()
	res, err := sb.ExecuteCommand(b.Context(), "cat "+path, nil, opts)
	if err != nil {
		return err
	}
	switch {
	case res.ExitCode != 0:
		return fmt.Errorf("exit %d: %s", res.ExitCode, res.Stderr)
	case writers && (out.n != bulkBytes || !bytes.Equal(out.h.Sum(nil), sum)):
		return fmt.Errorf("writer: %d bytes, digest differs: %v", out.n, !bytes.Equal(out.h.Sum(nil), sum))
	case !bytes.Equal([]byte(res.Stdout), tail) || res.StdoutDroppedBytes != bulkBytes-int64(len(tail)):
		return fmt.Errorf("result: %d bytes retained (tail equal: %v), %d dropped", len(res.Stdout), res.Stdout == string(tail), res.StdoutDroppedBytes)
	}
	b.Logf("%.1f MB/s", float64(bulkBytes)/time.Since(start).Seconds()/1e6)
	return nil
}
