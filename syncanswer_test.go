package daytona_test

import (
	"errors"
	"io"
	"net/http"
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

// cutAnswers is a transport that breaks off the body of the next answer
// to a synchronous command after afterBytes bytes, as a dropped connection
// would.
type cutAnswers struct {
	base       http.RoundTripper
	afterBytes int64
	armed      atomic.Bool
}

func (c *cutAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/exec") && c.armed.CompareAndSwap(true, false) {
		resp.Body = &cutBody{ReadCloser: resp.Body, left: c.afterBytes}
	}
	return resp, err
}

type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection reset by peer (test)")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// TestSyncAnswerCutIsRecovered: an answer that breaks off while its output
// is read is not reported as a failure of a command that ran: the log is
// read again, exactly, and the command is not run again.
func TestSyncAnswerCutIsRecovered(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	// Raw, the answer holds the output twice: labelled (skipped), then
	// stdout. Cut inside each. Otherwise the output is in a file, and the
	// answer holds the header and the markers: cut inside them.
	for _, tc := range []struct {
		after int64
		raw   bool
	}{{100, false}, {400, false}, {100_000, true}, {700_000, true}} {
		raw := tc.raw
		cut := &cutAnswers{base: http.DefaultTransport.(*http.Transport).Clone(), afterBytes: tc.after}
		opts := []daytona.Option{daytona.WithHTTPClient(&http.Client{Transport: cut})}
		if raw {
			opts = append(opts, daytona.WithRawOutput())
		}
		sb := startedSandbox(t, srv, opts...)
		srv.ResetRequests()
		cut.armed.Store(true)
		res, err := sb.ExecuteCommand(t.Context(), `seq 1 100000; echo err >&2; touch ran-$(date +%s%N)`, nil, nil)
		require.NoError(t, err, "raw %v", raw)
		assert.Equal(t, seqOutput(100000), res.Stdout, "raw %v", raw)
		assert.Equal(t, "err\n", res.Stderr)
		assert.Equal(t, 1, srv.Count(daytonatest.OpSessionExec), "submitted once")
		assert.Equal(t, 1, srv.Count(daytonatest.OpFollowLogs), "the log was read again")
		ls, err := sb.ExecuteCommand(t.Context(), "ls ran-* | wc -l", nil, nil)
		require.NoError(t, err)
		assert.Equal(t, "1\n", strings.TrimLeft(ls.Stdout, " "), "the command ran once")
		_, err = sb.ExecuteCommand(t.Context(), "rm ran-*", nil, nil)
		require.NoError(t, err)
	}
}

// seqOutput is what seq 1 n prints.
func seqOutput(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(buf[n:])
		}
	}
}

// TestRawOutputIsExact: without the encoder (a sandbox without perl), the
// daemon's JSON answers turn invalid UTF-8 into U+FFFD; such output is read
// from the binary log stream instead, on the synchronous path and when a
// timed-out command's rest is read.
func TestRawOutputIsExact(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithRawOutput())
	srv.ResetRequests()
	res, err := sb.ExecuteCommand(t.Context(), `printf 'a\377b\n'; printf 'c\376' >&2`, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "a\xffb\n", res.Stdout)
	assert.Equal(t, "c\xfe", res.Stderr)
	assert.Equal(t, 1, srv.Count(daytonatest.OpFollowLogs), "re-read from the binary stream")

	res, err = sb.ExecuteCommand(t.Context(), `echo plain`, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "plain\n", res.Stdout)
	assert.Equal(t, 1, srv.Count(daytonatest.OpFollowLogs), "valid UTF-8 needs no second read")

	var out syncBuffer
	res, err = sb.ExecuteCommand(t.Context(), `printf 'x\377y\n'; sleep 30`, nil,
		&workspace.ExecOptions{Timeout: 800 * time.Millisecond, Stdout: &out})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Equal(t, "x\xffy\n", res.Stdout)
	assert.Equal(t, "x\xffy\n", out.String())
}
