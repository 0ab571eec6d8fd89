package daytona_test

import (
	"crypto/sha256"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/workspace"
)

// The constant-memory promise of Filesystem: a 256 MiB upload and download
// each grow the heap by less than 16 MiB. The daytonatest server runs in
// this process, so its memory counts too (it streams both ways). The test
// moves 64 MiB each way, four times the budget; 256 MiB with the stress
// tag.

const (
	bigFile      = 256 << 20
	heapBudget   = 16 << 20
	sampleEvery  = 20 * time.Millisecond
	patternShift = 3
)

// patternReader yields n bytes of a fixed pattern (every byte value),
// without holding them.
type patternReader struct{ n, off int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = byte((r.off + int64(i)) * 131 >> patternShift)
	}
	r.off += int64(len(p))
	return len(p), nil
}

// patternSum is the SHA-256 of n bytes of patternReader.
func patternSum(n int64) [32]byte {
	h := sha256.New()
	_, _ = io.Copy(h, &patternReader{n: n})
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// heapGrowth runs f while a sampler collects garbage every sampleEvery and
// records the live heap, and returns the largest growth over the live heap
// before f.
func heapGrowth(f func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak - min(base, peak)
}

// transfer uploads and downloads size bytes through fsys, checking the
// content, and returns the heap growth of each direction.
func transfer(t testing.TB, fsys workspace.Filesystem, size int64) (up, down uint64) {
	ctx := t.Context()
	want := patternSum(size)
	up = heapGrowth(func() {
		require.NoError(t, fsys.Create(ctx, "big.bin", &patternReader{n: size}, 0o644))
	})
	down = heapGrowth(func() {
		rc, err := fsys.Open(ctx, "big.bin")
		require.NoError(t, err)
		defer rc.Close()
		h := sha256.New()
		n, err := io.Copy(h, rc)
		require.NoError(t, err)
		require.Equal(t, size, n)
		require.Equal(t, want[:], h.Sum(nil))
	})
	return up, down
}

// TestFilesystemConstantMemory: 64 MiB (256 MiB with the stress tag) each
// way within the heap budget, and the content intact.
func TestFilesystemConstantMemory(t *testing.T) {
	size := int64(4 * heapBudget)
	if stress {
		size = bigFile
	}
	if testing.Short() {
		t.Skipf("moves %d MiB", 2*size>>20)
	}
	srv := newServer(t)
	_, fsys, _ := filesSandbox(t, srv)
	up, down := transfer(t, fsys, size)
	t.Logf("heap growth: upload %.1f MiB, download %.1f MiB", float64(up)/(1<<20), float64(down)/(1<<20))
	require.Less(t, up, uint64(heapBudget), "upload heap growth")
	require.Less(t, down, uint64(heapBudget), "download heap growth")
}

// BenchmarkFiles256MiB measures the throughput of a 256 MiB upload
// (Create from a reader) and download (Open, read to the end) against the
// in-process daytonatest server, and reports the heap growth of the last
// iteration (heap-MiB):
//
//	go test -run '^$' -bench Files256MiB -benchtime 3x -count 3 .
func BenchmarkFiles256MiB(b *testing.B) {
	srv := newServer(b)
	_, fsys, _ := filesSandbox(b, srv)
	ctx := b.Context()
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(bigFile)
		var growth uint64
		for b.Loop() {
			growth = heapGrowth(func() {
				if err := fsys.Create(ctx, "big.bin", &patternReader{n: bigFile}, 0o644); err != nil {
					b.Fatal(err)
				}
			})
		}
		b.ReportMetric(float64(growth)/(1<<20), "heap-MiB")
	})
	b.Run("download", func(b *testing.B) {
		b.SetBytes(bigFile)
		var growth uint64
		for b.Loop() {
			growth = heapGrowth(func() {
				rc, err := fsys.Open(ctx, "big.bin")
				if err != nil {
					b.Fatal(err)
				}
				defer rc.Close()
				if n, err := io.Copy(io.Discard, rc); err != nil || n != bigFile {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			})
		}
		b.ReportMetric(float64(growth)/(1<<20), "heap-MiB")
	})
}
