package daytona_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/workspace"
)

// severable is a dialer whose connections can all be dropped at once, as
// when the network goes away, with the next dials failing too.
type severable struct {
	mu    sync.Mutex
	conns []net.Conn
	fail  atomic.Int64 // dials still to refuse
}

func (s *severable) client() *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: controlplane.NewTransport(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if s.fail.Add(-1) >= 0 {
			return nil, syscall.ECONNREFUSED
		}
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
		return c, err
	})}
}

// sever closes every connection, and makes the next n dials fail.
func (s *severable) sever(n int64) {
	s.fail.Store(n)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

// slowBuffer keeps what it is given, slowly, so that a transfer is still
// going when the test acts on it; started is closed at the first write.
type slowBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	started chan struct{}
}

func (w *slowBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() == 0 {
		close(w.started)
	}
	time.Sleep(time.Millisecond)
	return w.b.Write(p)
}

// TestBulkOutputConnectionLoss: the connection to the sandbox drops while
// a command's output is being downloaded (the log stream and the download
// break, and the next dials fail). Either the library gets through (the
// download resumes where it stopped, and the output is exact) or it gives
// up with an error (the output incomplete, or a command still running
// killed); no output file is left behind either way, and nothing is
// delivered twice.
func TestBulkOutputConnectionLoss(t *testing.T) {
	t.Parallel()
	const n = 8 << 20
	want := strings.Repeat("x", n) + "end\n"
	for _, tc := range []struct {
		refused int64
		running bool // the command sleeps after its output
	}{{0, false}, {2, false}, {8, false}, {8, true}} {
		refused := tc.refused
		t.Run("refused="+itoa(int(refused))+map[bool]string{true: "/running"}[tc.running], func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			net := &severable{}
			sb := startedSandbox(t, srv, daytona.WithHTTPClient(net.client()))
			w := &slowBuffer{started: make(chan struct{})}
			type outcome struct {
				res *workspace.CommandResult
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				cmd := bulkCommand(n)
				if tc.running {
					cmd += "; sleep 30"
				}
				res, err := sb.ExecuteCommand(t.Context(), cmd, nil, &workspace.ExecOptions{Stdout: w})
				done <- outcome{res, err}
			}()
			<-w.started
			net.sever(refused)
			o := <-done
			require.NotNil(t, o.res)
			w.mu.Lock()
			got := w.b.String()
			w.mu.Unlock()
			if o.err == nil {
				require.False(t, tc.running, "a command that sleeps 30 s ended")
				assert.Equal(t, 0, o.res.ExitCode)
				assert.True(t, got == want, "exact output: %d bytes of %d", len(got), len(want))
			} else {
				t.Logf("given up (exit code %d, killed %v): %v", o.res.ExitCode, o.res.Killed, o.err)
				if tc.running {
					// Killed, or honestly not known to be.
					assert.True(t, o.res.Killed || (o.res.ExitCode == -1 && strings.Contains(o.err.Error(), "may still run")), "%+v", o.res)
				}
				assert.False(t, errors.Is(o.err, context.Canceled))
				assert.True(t, strings.HasPrefix(want, got), "what came is a prefix of the output (%d bytes)", len(got))
			}
			requireNoFiles(t, srv, sb)
		})
	}
}
