package tools_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// BenchmarkListFilesRecursive: list_files, recursive, of a tree of 84
// directories (4 × 4 × 4 under 4 × 4 under 4) and 256 files, with 20 ms
// of latency on every request; it reports the requests a listing makes.
func BenchmarkListFilesRecursive(b *testing.B) {
	srv := daytonatest.NewServer(b, daytonatest.WithCloseDelay(0), daytonatest.WithLatency(20*time.Millisecond))
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Destroy(context.Background()) })
	if err := sb.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	for i := range 4 {
		for j := range 4 {
			for k := range 4 {
				dir := filepath.Join(root, "d"+strconv.Itoa(i), "e"+strconv.Itoa(j), "f"+strconv.Itoa(k))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				for n := range 4 {
					if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(n)+".txt"), []byte("x"), 0o644); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	kit, err := tools.New(sb, nil)
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(`{"path":"` + root + `","recursive":true,"max_entries":5000}`)
	srv.ResetRequests()
	b.ResetTimer()
	for b.Loop() {
		res, err := kit.Call(b.Context(), tools.ListFiles, input)
		if err != nil || res.IsError {
			b.Fatal(err, res.Text)
		}
	}
	b.ReportMetric(float64(srv.TotalCount())/float64(b.N), "requests/op")
}
