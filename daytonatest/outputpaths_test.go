//go:build unix

package daytonatest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// The two ways a command's output can leave a sandbox, side by side at the
// daemon's rate: through the session's log, which the labeller moves at
// about DaemonOutputRate (execute.go:211-213, v0.190.0), and through a
// file the command wrote, which /files/download serves with Range
// (fs/download_file.go:59-69: http.ServeFile) at the network's speed.
func TestOutputPaths_logAndDownload(t *testing.T) {
	t.Parallel()
	const size = 2 << 20
	srv, _, sb := newSandbox(t, daytonatest.WithOutputRate(daytonatest.DaemonOutputRate))
	ctx := t.Context()
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	gen := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a", size)

	start := time.Now()
	m, err := sb.Process.ExecuteSessionCommand(ctx, "s", gen, false, true)
	require.NoError(t, err)
	throughLog := time.Since(start)
	// (The labeller ends the last line with a newline.)
	require.True(t, m["stdout"] == strings.Repeat("a", size)+"\n", "the output through the log")
	// The labeller's rate bounds it from below (one stream; a little slack
	// for the pacer's first chunk).
	require.Greater(t, throughLog.Seconds(), float64(size)/daytonatest.DaemonOutputRate*0.8)

	_, err = sb.Process.ExecuteSessionCommand(ctx, "s", gen+" > out.bin", false, true)
	require.NoError(t, err)
	start = time.Now()
	var got []byte
	for off := 0; off < size; off += 1 << 20 {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL()+filesPath(sb, "/files/download", url.Values{"path": {"out.bin"}}), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+1<<20-1))
		r := send(t, req)
		require.Equal(t, http.StatusPartialContent, r.Status)
		got = append(got, r.Body...)
	}
	downloaded := time.Since(start)
	require.True(t, string(got) == strings.Repeat("a", size), "the downloaded output")
	require.Less(t, downloaded, throughLog/4, "through the log %v, downloaded %v", throughLog, downloaded)
	t.Logf("%d bytes: through the log %v (%.1f MB/s), downloaded %v", size, throughLog, float64(size)/throughLog.Seconds()/1e6, downloaded)
}

// CutNextDownloads breaks a download after some bytes: the client gets a
// short body and an error, and the next download is whole.
func TestCutNextDownloads(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.FileSystem.UploadFile(ctx, []byte(strings.Repeat("z", 100000)), "f.bin"))
	srv.CutNextDownloads(1, 1000)
	get := func() ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL()+filesPath(sb, "/files/download", url.Values{"path": {"f.bin"}}), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	b, err := get()
	require.Error(t, err)
	require.Len(t, b, 1000)
	b, err = get()
	require.NoError(t, err)
	require.Len(t, b, 100000)
}
