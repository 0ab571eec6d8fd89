package sandboxtest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

var portTests = []testCase{
	{"BadPort", testPortBadInput},
	{"ServeAndFetch", testPortServeAndFetch},
	{"WaitHonoursContext", testPortWaitContext},
	{"Signed", testPortSigned},
}

// defaultServeCommand serves the current directory over HTTP on port.
func defaultServeCommand(port int) string {
	return "exec python3 -m http.server " + strconv.Itoa(port) + " --bind 127.0.0.1"
}

// freePortCommand prints a TCP port nothing in the sandbox listens on.
const freePortCommand = `python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'`

// ports returns a new sandbox and its PortExposer, or skips t when the
// sandbox has none.
func (h *harness) ports(t *testing.T) (workspace.Sandbox, workspace.PortExposer) {
	t.Helper()
	return capability[workspace.PortExposer](t, h, false, "", "workspace.PortExposer")
}

// port returns a port for a server in sb: Config.Port's, else one the
// sandbox reports free.
func (h *harness) port(t *testing.T, ctx context.Context, sb workspace.Sandbox) int {
	t.Helper()
	if h.cfg.Port != nil {
		return h.cfg.Port(t)
	}
	out := strings.TrimSpace(execOK(t, ctx, sb, freePortCommand))
	port, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("finding a free port printed %q", out)
	}
	return port
}

// serve writes a page with unique content into a new directory of sb and
// serves it on a port, which it returns with the content.
func (h *harness) serve(t *testing.T, ctx context.Context, sb workspace.Sandbox) (port int, content string) {
	t.Helper()
	ps, ok := sb.(workspace.ProcessSpawner)
	if !ok || h.cfg.SkipProcesses {
		t.Skip("serving HTTP needs workspace.ProcessSpawner")
	}
	dir := "/tmp/" + uniqueName("sandboxtest-site")
	content = uniqueName("sandboxtest-page")
	execOK(t, ctx, sb, "mkdir -p "+dir+" && printf '%s' "+content+" > "+dir+"/index.html")
	port = h.port(t, ctx, sb)
	serve := h.cfg.ServeCommand
	if serve == nil {
		serve = defaultServeCommand
	}
	spawn(t, ctx, ps.Processes(), serve(port), &workspace.SpawnOptions{Cwd: dir})
	return port, content
}

// get fetches u's page, with u's headers or without any, not following
// redirects.
func get(t *testing.T, ctx context.Context, u *workspace.PortURL, withHeaders bool) (int, string) {
	t.Helper()
	req, err := u.NewRequest(ctx, "GET", "/index.html", nil)
	if err != nil {
		t.Fatalf("NewRequest for %s: %v", u, err)
	}
	if !withHeaders {
		req.Header = http.Header{}
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

// testPortBadInput: ports outside 1-65535 are refused without starting
// the sandbox.
func testPortBadInput(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pe := h.ports(t)
	for _, port := range []int{0, -1, 65536} {
		if _, err := pe.PortURL(ctx, port); err == nil {
			t.Errorf("PortURL(%d) succeeded", port)
		}
		if err := pe.WaitForPort(ctx, port); err == nil {
			t.Errorf("WaitForPort(%d) succeeded", port)
		}
	}
	wantStatus(t, sb, workspace.StatusPending, "after refused calls")
}

// testPortServeAndFetch: a server spawned in the sandbox is reached
// through PortURL once WaitForPort returns; when the URL comes with
// headers, a request without them is refused.
func testPortServeAndFetch(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pe := h.ports(t)
	port, content := h.serve(t, ctx, sb)
	if err := pe.WaitForPort(ctx, port); err != nil {
		t.Fatalf("WaitForPort(%d): %v", port, err)
	}
	u, err := pe.PortURL(ctx, port)
	if err != nil {
		t.Fatalf("PortURL(%d): %v", port, err)
	}
	equal(t, "PortURL's Port", u.Port, port)
	status, body := get(t, ctx, u, true)
	if status != http.StatusOK || body != content {
		t.Errorf("GET through the port's URL: status %d, body %q; want 200 and %q", status, body, content)
	}
	if len(u.Headers) > 0 {
		if status, body := get(t, ctx, u, false); status == http.StatusOK && body == content {
			t.Errorf("GET without the URL's headers %v reached the server", keys(u.Headers))
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// testPortWaitContext: WaitForPort on a port nothing listens on returns
// promptly with ctx's error when ctx ends.
func testPortWaitContext(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pe := h.ports(t)
	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	port := h.port(t, ctx, sb)
	wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := pe.WaitForPort(wctx, port)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForPort on an unused port: error %v, want one matching context.DeadlineExceeded", err)
	}
	fast(t, "WaitForPort after its context ended", time.Since(start))
}

// testPortSigned: a signed URL reaches the server without headers until
// it is expired.
func testPortSigned(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, pe := h.ports(t)
	spe, ok := pe.(workspace.SignedPortExposer)
	if !ok {
		t.Skipf("%T does not implement workspace.SignedPortExposer", sb)
	}
	port, content := h.serve(t, ctx, sb)
	if err := spe.WaitForPort(ctx, port); err != nil {
		t.Fatalf("WaitForPort(%d): %v", port, err)
	}
	u, err := spe.SignedPortURL(ctx, port, time.Minute)
	if err != nil {
		t.Fatalf("SignedPortURL(%d): %v", port, err)
	}
	if u.ExpiresAt.IsZero() || time.Until(u.ExpiresAt) > time.Minute+5*time.Second {
		t.Errorf("ExpiresAt %v, want about a minute from now", u.ExpiresAt)
	}
	if status, body := get(t, ctx, u, false); status != http.StatusOK || body != content {
		t.Errorf("GET through the signed URL without headers: status %d, body %q; want 200 and %q", status, body, content)
	}
	if err := spe.ExpirePortURL(ctx, u); err != nil {
		t.Fatalf("ExpirePortURL: %v", err)
	}
	if status, body := get(t, ctx, u, false); status == http.StatusOK && body == content {
		t.Error("the expired signed URL still reached the server")
	}
}
