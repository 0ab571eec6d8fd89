package pool_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/pool"
)

// newServer starts a daytonatest server with instant transitions, unless
// opts say otherwise.
func newServer(t testing.TB, opts ...daytonatest.Option) *daytonatest.Server {
	t.Helper()
	base := []daytonatest.Option{
		daytonatest.WithCloseDelay(0),
		daytonatest.WithTransitionDelay(0),
		daytonatest.WithKillGrace(time.Second),
	}
	return daytonatest.NewServer(t, append(base, opts...)...)
}

// endpoint returns the sandbox options that connect to srv, with an HTTP
// client of the test's own whose idle connections are closed before srv
// is (a connection dialled but never used makes the server's shutdown
// wait five seconds for it).
func endpoint(t testing.TB, srv *daytonatest.Server) pool.Option {
	t.Helper()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(hc.CloseIdleConnections)
	return pool.WithSandboxOptions(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()), daytona.WithHTTPClient(hc))
}

// open opens a pool on srv and closes it at cleanup.
func open(t testing.TB, srv *daytonatest.Server, name string, opts ...pool.Option) *pool.Pool {
	t.Helper()
	base := []pool.Option{endpoint(t, srv)}
	p, err := pool.Open(t.Context(), name, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

// manualClock is a Clock that moves only when told to.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []manualTimer
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, manualTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock by d and fires the timers due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.timers = slices.DeleteFunc(c.timers, func(t manualTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.ch <- c.now
		return true
	})
}

// events records the messages a Pool logs, and lets a test wait for one.
type events struct {
	mu   sync.Mutex
	msgs []string
	text strings.Builder
	ch   chan string
}

func newEvents() *events { return &events{ch: make(chan string, 10000)} }

func (ev *events) logger() *slog.Logger { return slog.New(&eventHandler{ev: ev}) }

// count returns how many events start with prefix.
func (ev *events) count(prefix string) int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	n := 0
	for _, m := range ev.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// all returns everything logged, as text.
func (ev *events) all() string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.text.String()
}

// waitFor waits until n events starting with prefix have been logged.
func (ev *events) waitFor(t testing.TB, prefix string, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for ev.count(prefix) < n {
		select {
		case <-ev.ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %d %q events; log:\n%s", n, prefix, ev.all())
		}
	}
}

type eventHandler struct {
	ev    *events
	attrs []slog.Attr
}

func (h *eventHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *eventHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.ev.mu.Lock()
	h.ev.msgs = append(h.ev.msgs, r.Message)
	h.ev.text.WriteString(b.String() + "\n")
	h.ev.mu.Unlock()
	select {
	case h.ev.ch <- r.Message:
	default:
	}
	return nil
}

func (h *eventHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &eventHandler{ev: h.ev, attrs: append(slices.Clone(h.attrs), attrs...)}
}

func (h *eventHandler) WithGroup(string) slog.Handler { return h }

// keyed returns the server's sandboxes labelled for a key of pool name,
// alive, by key hash.
func keyed(srv *daytonatest.Server, name string) map[string][]daytonatest.Sandbox {
	out := map[string][]daytonatest.Sandbox{}
	for _, sb := range srv.Sandboxes() {
		if sb.Labels["daytona-pool"] != name || sb.Labels["daytona-pool-role"] != "key" {
			continue
		}
		if sb.State == daytonatest.StateDestroying || sb.State == daytonatest.StateDestroyed {
			continue
		}
		out[sb.Labels["daytona-pool-key"]] = append(out[sb.Labels["daytona-pool-key"]], sb)
	}
	return out
}

// spares returns the server's spares of pool name.
func spares(srv *daytonatest.Server, name string) []daytonatest.Sandbox {
	var out []daytonatest.Sandbox
	for _, sb := range srv.Sandboxes() {
		if sb.Labels["daytona-pool"] == name && sb.Labels["daytona-pool-role"] == "spare" &&
			sb.State != daytonatest.StateDestroying && sb.State != daytonatest.StateDestroyed {
			out = append(out, sb)
		}
	}
	return out
}

// run runs a command in the lease's sandbox and returns its stdout.
func run(t testing.TB, l *pool.Lease, cmd string) string {
	t.Helper()
	res, err := l.Sandbox().ExecuteCommand(t.Context(), cmd, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	return res.Stdout
}
