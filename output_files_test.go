package daytona_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Output that stays in its file in the sandbox: read while the command
// runs, resumed after a broken download, and removed whatever happens
// (done, cancelled, or the downloads failing for good).

// bulkCommand prints n bytes of x in blocks of 64 KiB, then "end".
func bulkCommand(n int) string {
	return "head -c " + itoa(n) + " /dev/zero | tr '\\0' x; echo end"
}

// downloadedFiles returns the files that the server's downloads read.
func downloadedFiles(t *testing.T, srv *daytonatest.Server) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, r := range srv.RequestsFor(daytonatest.OpDownloadFile) {
		q, err := url.ParseQuery(r.Query)
		require.NoError(t, err)
		if p := q.Get("path"); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// requireNoFiles checks that the command's output files are gone, from the
// downloads that read them and from the daemon's directories (any
// agentws-* file left there with content).
func requireNoFiles(t *testing.T, srv *daytonatest.Server, sb *daytona.Sandbox) {
	t.Helper()
	daytona.WaitBackground(t.Context(), sb)
	files := downloadedFiles(t, srv)
	require.NotEmpty(t, files, "the output was downloaded")
	for _, f := range files {
		_, err := os.Stat(f)
		assert.True(t, os.IsNotExist(err), "%s is still there (%v)", f, err)
	}
}

// slowWriter takes writes slowly, so that a transfer is still going when
// the test acts on it; started is closed at the first write.
type slowWriter struct {
	n       atomic.Int64
	started chan struct{}
	once    atomic.Bool
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.once.CompareAndSwap(false, true) {
		close(w.started)
	}
	w.n.Add(int64(len(p)))
	time.Sleep(time.Millisecond)
	return len(p), nil
}

// TestBulkOutputStreamsWhileTheCommandRuns: with writers, output in files
// reaches them while the command runs, not only at its end.
func TestBulkOutputStreamsWhileTheCommandRuns(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	var out syncBuffer
	gate := filepath.Join(homeDir(t, srv, sb), "gate")
	done := make(chan error, 1)
	go func() {
		_, err := sb.ExecuteCommand(t.Context(), `head -c 100000 /dev/zero | tr '\0' a; while [ ! -e gate ]; do sleep 0.05; done; echo end`, nil,
			&workspace.ExecOptions{Stdout: &out})
		done <- err
	}()
	waitFor(t, "the output before the end", func() bool { return out.Len() == 100000 })
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	require.NoError(t, <-done)
	assert.Equal(t, strings.Repeat("a", 100000)+"end\n", out.String())
	requireNoFiles(t, srv, sb)
}

// TestBulkOutputCancelLeavesNoFile: cancelling a command whose output is
// being downloaded kills it and leaves no file behind.
func TestBulkOutputCancelLeavesNoFile(t *testing.T) {
	for _, running := range []bool{true, false} {
		t.Run(map[bool]string{true: "running", false: "ended"}[running], func(t *testing.T) {
			srv := newServer(t)
			sb := startedSandbox(t, srv)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			w := &slowWriter{started: make(chan struct{})}
			cmd := bulkCommand(8 << 20)
			if running {
				cmd += "; sleep 30"
			}
			done := make(chan error, 1)
			go func() {
				_, err := sb.ExecuteCommand(ctx, cmd, nil, &workspace.ExecOptions{Stdout: w})
				done <- err
			}()
			<-w.started
			cancel()
			err := <-done
			require.ErrorIs(t, err, context.Canceled)
			assert.Less(t, w.n.Load(), int64(8<<20), "cancelled mid-transfer")
			requireNoFiles(t, srv, sb)
		})
	}
}

// TestBulkOutputSurvivesBrokenDownloads: a download that breaks is resumed
// where it stopped, and the output arrives exactly; downloads that keep
// failing end the call with an error saying the output is incomplete,
// after the command's result, and the file is removed all the same.
func TestBulkOutputSurvivesBrokenDownloads(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	const n = 3 << 20
	want := strings.Repeat("x", n) + "end\n"
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv.ResetRequests()
			srv.CutNextDownloads(2, 100_000)
			opts, out, _ := withMode(mode.stream, &workspace.ExecOptions{MaxRetainedBytes: workspace.Unlimited})
			res, err := sb.ExecuteCommand(t.Context(), bulkCommand(n), nil, opts)
			require.NoError(t, err)
			assert.True(t, res.Stdout == want, "result: %d bytes", len(res.Stdout))
			if mode.stream {
				assert.True(t, out.String() == want, "writer: %d bytes", out.Len())
			}
			assert.GreaterOrEqual(t, srv.Count(daytonatest.OpDownloadFile), 3)
			requireNoFiles(t, srv, sb)

			srv.ResetRequests()
			require.NoError(t, srv.FailNext(daytonatest.OpDownloadFile, 100, 503, "unavailable"))
			res, err = sb.ExecuteCommand(t.Context(), bulkCommand(n), nil, opts)
			srv.ClearFaults()
			require.Error(t, err)
			assert.ErrorIs(t, err, daytona.ErrOutputIncomplete)
			assert.Contains(t, err.Error(), "could not be read in full")
			require.NotNil(t, res)
			assert.Equal(t, 0, res.ExitCode, "the command ran and ended")
			daytona.WaitBackground(t.Context(), sb)
			for _, f := range downloadedFiles(t, srv) {
				_, err := os.Stat(f)
				assert.True(t, os.IsNotExist(err), "%s is still there", f)
			}
		})
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full (test)") }

// TestBulkOutputWriterFailure: a writer that fails stops a command whose
// output comes from its file, and nothing is left behind.
func TestBulkOutputWriterFailure(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	res, err := sb.ExecuteCommand(t.Context(), bulkCommand(2<<20)+"; sleep 30", nil, &workspace.ExecOptions{Stdout: errWriter{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full (test)")
	require.NotNil(t, res)
	assert.True(t, res.Killed)
	requireNoFiles(t, srv, sb)
}
