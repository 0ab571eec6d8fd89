//go:build unix

package daytonatest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// newServer starts a server tuned for speed: follow streams close at once
// and sandbox transitions are immediate. Later options override these.
// Its service is today's unless opts say otherwise, whatever
// DAYTONATEST_SERVICE_VERSION says: these tests name the versions they
// test.
func newServer(t *testing.T, opts ...daytonatest.Option) *daytonatest.Server {
	t.Helper()
	base := []daytonatest.Option{
		daytonatest.WithServiceVersion(daytonatest.ServiceCurrent),
		daytonatest.WithCloseDelay(0),
		daytonatest.WithTransitionDelay(0),
	}
	return daytonatest.NewServer(t, append(base, opts...)...)
}

// newClient returns a real SDK client pointed at srv.
func newClient(t *testing.T, srv *daytonatest.Server) *sdk.Client {
	t.Helper()
	return newClientWithConfig(t, &types.DaytonaConfig{APIKey: srv.APIKey(), APIUrl: srv.APIURL()})
}

func newClientWithConfig(t *testing.T, cfg *types.DaytonaConfig) *sdk.Client {
	t.Helper()
	c, err := sdk.NewClientWithConfig(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		// The SDK uses http.DefaultTransport: drop its idle keep-alive
		// connections so that their goroutines do not outlive the test.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	})
	return c
}

// createSandbox creates a sandbox through the SDK and fails the test on error.
func createSandbox(t *testing.T, c *sdk.Client, params any) *sdk.Sandbox {
	t.Helper()
	sb, err := c.Create(t.Context(), params)
	require.NoError(t, err)
	require.NotNil(t, sb)
	return sb
}

// newSandbox is the common setup: a fast server, a client and a started
// sandbox.
func newSandbox(t *testing.T, opts ...daytonatest.Option) (*daytonatest.Server, *sdk.Client, *sdk.Sandbox) {
	t.Helper()
	srv := newServer(t, opts...)
	c := newClient(t, srv)
	return srv, c, createSandbox(t, c, types.SnapshotParams{})
}

// waitFor polls cond until it is true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, not synchronisation
	}
}

// holdsFor checks that cond stays true for d (a bounded wait to show that
// something does not happen).
func holdsFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// homeDir returns the sandbox's home directory on this machine.
func homeDir(t *testing.T, srv *daytonatest.Server, id string) string {
	t.Helper()
	rec, ok := srv.Sandbox(id)
	require.True(t, ok, "sandbox %s not found", id)
	return rec.Dir
}

// readPID waits until path holds a PID and returns it.
func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	waitFor(t, 10*time.Second, "PID file "+filepath.Base(path), func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		s := strings.TrimSpace(string(b))
		if !strings.HasSuffix(string(b), "\n") || s == "" {
			return false
		}
		pid, err = strconv.Atoi(s)
		return err == nil && pid > 0
	})
	return pid
}

// processAlive reports whether pid is a live (not zombie) process. Orphans
// may not be reaped promptly in a container, so a zombie counts as dead.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	st := b[i+2]
	return st != 'Z' && st != 'X'
}

// exitCode returns the exit code in a GetSessionCommand or
// ExecuteSessionCommand result, if any.
func exitCode(m map[string]any) (int32, bool) {
	v, ok := m["exitCode"]
	if !ok {
		return 0, false
	}
	code, ok := v.(int32)
	return code, ok
}

// waitExit polls GetSessionCommand until the command has an exit code.
func waitExit(t *testing.T, sb *sdk.Sandbox, sid, cid string) int32 {
	t.Helper()
	var code int32
	waitFor(t, 10*time.Second, "exit code of "+cid, func() bool {
		m, err := sb.Process.GetSessionCommand(t.Context(), sid, cid)
		require.NoError(t, err)
		var ok bool
		code, ok = exitCode(m)
		return ok
	})
	return code
}

// execAsync runs command asynchronously in session sid and returns its id.
func execAsync(t *testing.T, sb *sdk.Sandbox, sid, command string) string {
	t.Helper()
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), sid, command, true, false)
	require.NoError(t, err)
	id, _ := m["id"].(string)
	require.NotEmpty(t, id)
	_, has := exitCode(m)
	require.False(t, has, "async exec returned an exit code: %v", m)
	return id
}

// stream is a follow log stream read through the SDK in the background.
type stream struct {
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
	start  time.Time
	end    time.Time
	err    error
	done   chan struct{}
}

// follow opens sb's follow log stream for a command with the SDK's
// GetSessionCommandLogsStream and drains both channels.
func follow(ctx context.Context, sb *sdk.Sandbox, sid, cid string) *stream {
	s := &stream{done: make(chan struct{}), start: time.Now()}
	outc := make(chan string)
	errc := make(chan string)
	var wg sync.WaitGroup
	drain := func(ch <-chan string, b *strings.Builder) {
		defer wg.Done()
		for chunk := range ch {
			s.mu.Lock()
			b.WriteString(chunk)
			s.mu.Unlock()
		}
	}
	wg.Add(2)
	go drain(outc, &s.stdout)
	go drain(errc, &s.stderr)
	go func() {
		err := sb.Process.GetSessionCommandLogsStream(ctx, sid, cid, outc, errc)
		wg.Wait()
		s.mu.Lock()
		s.err, s.end = err, time.Now()
		s.mu.Unlock()
		close(s.done)
	}()
	return s
}

func (s *stream) Stdout() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String()
}

func (s *stream) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// wait waits for the stream to end and returns its duration and error.
func (s *stream) wait(t *testing.T, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		t.Fatalf("follow stream still open after %v", timeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end.Sub(s.start), s.err
}

func (s *stream) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// requireDaytonaError checks that err is a plain *DaytonaError (not a
// subtype) with this status and message.
func requireDaytonaError(t *testing.T, err error, status int, msg string) *sdkerrors.DaytonaError {
	t.Helper()
	require.Error(t, err)
	var de *sdkerrors.DaytonaError
	require.True(t, errors.As(err, &de), "want *DaytonaError, got %T: %v", err, err)
	require.Equal(t, status, de.StatusCode, "status of %v", err)
	require.Equal(t, msg, de.Message)
	return de
}

// requireNotFound checks that err is a *DaytonaNotFoundError with msg.
func requireNotFound(t *testing.T, err error, msg string) {
	t.Helper()
	require.Error(t, err)
	var nf *sdkerrors.DaytonaNotFoundError
	require.True(t, errors.As(err, &nf), "want *DaytonaNotFoundError, got %T: %v", err, err)
	require.Equal(t, 404, nf.StatusCode)
	require.Equal(t, msg, nf.Message)
}

// response is a raw HTTP response, read in full.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// do sends a raw request to srv. key "" sends no Authorization header.
func do(t *testing.T, srv *daytonatest.Server, method, path, key string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// A bounded wait: no request to the server may hang.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL()+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, req)
}

// send sends req and reads the whole response.
func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// authed sends an authenticated raw request; body may be a string, []byte,
// nil, or a value to encode as JSON.
func authed(t *testing.T, srv *daytonatest.Server, method, path string, body any) response {
	t.Helper()
	return do(t, srv, method, path, srv.APIKey(), encodeBody(t, body))
}

func encodeBody(t *testing.T, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case []byte:
		return b
	case string:
		return []byte(b)
	default:
		out, err := json.Marshal(b)
		require.NoError(t, err)
		return out
	}
}

// message returns the message of an error body.
func (r response) message(t *testing.T) string {
	t.Helper()
	m, _ := r.JSON(t)["message"].(string)
	return m
}

// requireAPIError checks the control plane's error body shape:
// {statusCode, error, message, path, timestamp}.
func requireAPIError(t *testing.T, r response, status int, msg, path string) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.Contains(t, r.Header.Get("Content-Type"), "application/json")
	m := r.JSON(t)
	require.ElementsMatch(t, []string{"statusCode", "error", "message", "path", "timestamp"}, keys(m), "body: %s", r.Body)
	require.EqualValues(t, status, m["statusCode"])
	require.Equal(t, http.StatusText(status), m["error"])
	require.Equal(t, msg, m["message"])
	require.Equal(t, path, m["path"])
	requireTimestamp(t, m["timestamp"])
}

// requireToolboxError checks the daemon's and proxy's error body shape:
// {statusCode, message, code, timestamp, path, method}, and the source
// today's service adds (see TestToolboxErrorSources).
func requireToolboxError(t *testing.T, r response, status int, msg, path, method string) {
	t.Helper()
	requireToolboxErrorCode(t, r, status, strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_")), msg, path, method)
}

// requireToolboxErrorCode is requireToolboxError with a code that is not
// the status's name.
func requireToolboxErrorCode(t *testing.T, r response, status int, code, msg, path, method string) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.Contains(t, r.Header.Get("Content-Type"), "application/json")
	m := r.JSON(t)
	want := []string{"statusCode", "message", "code", "timestamp", "path", "method"}
	if _, ok := m["source"]; ok {
		want = append(want, "source")
		require.Contains(t, []any{"DAYTONA_DAEMON", "DAYTONA_PROXY"}, m["source"])
	}
	require.ElementsMatch(t, want, keys(m), "body: %s", r.Body)
	require.EqualValues(t, status, m["statusCode"])
	require.Equal(t, msg, m["message"])
	require.Equal(t, code, m["code"])
	require.Equal(t, path, m["path"])
	require.Equal(t, method, m["method"])
	requireTimestamp(t, m["timestamp"])
}

func requireTimestamp(t *testing.T, v any) {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "timestamp %v is not a string", v)
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), ts, time.Minute)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// lastRequest returns the newest logged request of op.
func lastRequest(t *testing.T, srv *daytonatest.Server, op daytonatest.Op) daytonatest.Request {
	t.Helper()
	rs := srv.RequestsFor(op)
	require.NotEmpty(t, rs, "no %s request logged", op)
	return rs[len(rs)-1]
}

func ptr[T any](v T) *T { return &v }

// mustField returns one field of a JSON object.
func mustField(t *testing.T, body []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m), "body: %s", body)
	v, ok := m[name]
	require.True(t, ok, "no %q in %s", name, body)
	return v
}
