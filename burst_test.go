package daytona_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/workspace"
)

// countingClient returns an HTTP client whose transport counts the TCP
// connections it opens, sized like the library's shared one.
func countingClient(dials *atomic.Int64) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: controlplane.NewTransport(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	})}
}

// burst runs n commands at once and waits for them.
func burst(t *testing.T, sb *daytona.Sandbox, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			res, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
			if assert.NoError(t, err) {
				assert.Equal(t, 0, res.ExitCode)
			}
		})
	}
	wg.Wait()
}

// TestSteadyBurst: on a warm sandbox, a burst of 64 commands that follows
// one of the same size creates and deletes no session, sends exactly one
// request per command, and opens no TCP connection (but for a race of
// net/http's pool, below).
func TestSteadyBurst(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithHTTPClient(countingClient(&dials)))
	warmBurst(t, sb, 64)
	require.GreaterOrEqual(t, idleSessions(srv, sb), 64, "sessions after the warm-up")
	srv.ResetRequests()
	dialsBefore := dials.Load()

	burst(t, sb, 64)
	assert.Equal(t, 64, srv.TotalCount(), "requests in a steady-state burst: %v", srv.Counts())
	assert.Equal(t, 64, srv.Count(daytonatest.OpSessionExec))
	assert.Zero(t, srv.Count(daytonatest.OpCreateSession), "sessions created")
	assert.Zero(t, srv.Count(daytonatest.OpDeleteSession), "sessions deleted")
	// net/http puts a connection back in its pool just after its answer
	// was read, on a goroutine of its own: on a loaded machine a request
	// of the next burst may come a moment before and dial (the connection
	// is then kept). A pool that kept no connection would open 64.
	assert.LessOrEqual(t, dials.Load()-dialsBefore, int64(2), "TCP connections opened")
}

// warmBurst runs n commands that are all running at once before any of
// them ends, so that sb has the n sessions and connections such a burst
// needs: each says it runs (a file in a directory of this test), then
// reads a line from a FIFO, which the test fills once all n have.
func warmBurst(t *testing.T, sb *daytona.Sandbox, n int) {
	t.Helper()
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	require.NoError(t, syscall.Mkfifo(gate, 0o600))
	// Opened for reading and writing, the FIFO never blocks an opener and
	// never gives a reader end of file.
	f, err := os.OpenFile(gate, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := fmt.Sprintf("touch %s/running-%d; read line < %s", dir, i, gate)
			res, err := sb.ExecuteCommand(t.Context(), cmd, nil, nil)
			if assert.NoError(t, err) {
				assert.Equal(t, 0, res.ExitCode, "stderr %q", res.Stderr)
			}
		})
	}
	waitFor(t, "all the warm-up commands to run", func() bool {
		entries, _ := os.ReadDir(dir)
		return len(entries) == n+1 // and the FIFO
	})
	_, err = f.WriteString(strings.Repeat("go\n", n))
	require.NoError(t, err)
	wg.Wait()
}

// TestWithHTTPClient: every request and every log stream of a Sandbox goes
// through the client it was given.
func TestWithHTTPClient(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithHTTPClient(countingClient(&dials)))
	var out syncBuffer
	_, err := sb.ExecuteCommand(t.Context(), "echo hi", nil, nil)
	require.NoError(t, err)
	afterSync := dials.Load()
	require.Positive(t, afterSync, "control-plane and toolbox requests use the client")
	_, err = sb.ExecuteCommand(t.Context(), "echo streamed", nil, &workspace.ExecOptions{Stdout: &out})
	require.NoError(t, err)
	assert.Greater(t, dials.Load(), afterSync, "the log stream is dialled through the client's transport")
	assert.Equal(t, "streamed\n", out.String())

	_, err = daytona.New(daytona.WithHTTPClient(nil))
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
}
