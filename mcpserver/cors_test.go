package mcpserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentworkspace/daytona/internal/mcptest"
	"github.com/agentworkspace/daytona/mcpserver"
)

const allowed = "http://localhost:6274"

// newHTTPServer serves a sandbox's tools over HTTP with the token s3cret,
// for the allowed origin.
func newHTTPServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := mcpserver.NewHTTPHandler(newServer(t, newSandbox(t), false), mcpserver.HTTPOptions{
		Token: "s3cret", AllowedOrigins: []string{allowed},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Client().CloseIdleConnections()
		srv.Close()
	})
	return srv
}

// TestHTTPBrowserClient connects the SDK's client through a browser's CORS
// rules (mcptest.Browser): every preflight is answered without the token,
// and the session header is exposed, so a web page can use the server.
func TestHTTPBrowserClient(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	browser := &mcptest.Browser{Origin: allowed, Base: srv.Client().Transport}
	hc := &http.Client{Transport: bearer{map[string]string{"Authorization": "Bearer s3cret"}, browser}}
	client, rec := mcptest.NewClient()
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mcptest.Exercise(t, cs, rec, mcptest.Want{Refused: "forbidden", RefusedText: "was refused"})
	if err := cs.Close(); err != nil { // DELETE, preflighted
		t.Error(err)
	}
	browser.CloseIdleConnections()

	// From another origin the browser gets nowhere.
	evil := &http.Client{Transport: bearer{map[string]string{"Authorization": "Bearer s3cret"}, &mcptest.Browser{Origin: "http://evil.example", Base: srv.Client().Transport}}}
	if _, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: evil, MaxRetries: -1}, nil); err == nil {
		t.Error("a page from another origin connected")
	}
}

// TestHTTPPreflight checks the answers to preflights, and the CORS headers
// of refusals a page must be able to read.
func TestHTTPPreflight(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	do := func(method string, headers map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/mcp", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	preflight := map[string]string{"Origin": allowed, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization,content-type,mcp-protocol-version,mcp-session-id"}
	resp, _ := do(http.MethodOptions, preflight)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Mcp-Session-Id") ||
		!strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("preflight from an allowed origin: %s %v", resp.Status, resp.Header)
	}

	preflight["Origin"] = "http://evil.example"
	if resp, body := do(http.MethodOptions, preflight); resp.StatusCode != http.StatusForbidden ||
		resp.Header.Get("Access-Control-Allow-Origin") != "" || !strings.Contains(body, "origin http://evil.example is not allowed") {
		t.Errorf("preflight from another origin: %s %v %q", resp.Status, resp.Header, body)
	}

	// OPTIONS that is not a preflight needs the token like any request.
	if resp, _ := do(http.MethodOptions, map[string]string{"Origin": allowed}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("OPTIONS without Access-Control-Request-Method: %s", resp.Status)
	}

	// A page can read why it was refused.
	resp, body := do(http.MethodPost, map[string]string{"Origin": allowed, "Authorization": "Bearer wrong"})
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Errorf("401 to an allowed origin: %s %v", resp.Status, resp.Header)
	}
	if !strings.Contains(body, "the bearer token is invalid") || strings.Contains(body, "required") ||
		resp.Header.Get("WWW-Authenticate") != `Bearer realm="daytona-mcp", error="invalid_token"` {
		t.Errorf("wrong token: %q, WWW-Authenticate %q", body, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestHTTPTokenMessages checks what each refusal says, and that no answer
// holds the token or what was sent in its place.
func TestHTTPTokenMessages(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	for _, tc := range []struct {
		auth     []string
		body     string
		authHdr  string
		noSecret string
	}{
		{nil, "a bearer token is required", `Bearer realm="daytona-mcp"`, ""},
		{[]string{"Basic czNjcmV0"}, "a bearer token is required", `Bearer realm="daytona-mcp"`, "czNjcmV0"},
		{[]string{"Bearer guess-0123"}, "the bearer token is invalid", `Bearer realm="daytona-mcp", error="invalid_token"`, "guess-0123"},
		{[]string{"bearer S3CRET"}, "the bearer token is invalid", `Bearer realm="daytona-mcp", error="invalid_token"`, "S3CRET"},
		{[]string{"Bearer s3cret", "Bearer s3cret"}, "the bearer token is invalid", `Bearer realm="daytona-mcp", error="invalid_token"`, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(initialize))
		for _, a := range tc.auth {
			req.Header.Add("Authorization", a)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		all := string(b) + strings.Join(flatten(resp.Header), "\n")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), tc.body) || resp.Header.Get("WWW-Authenticate") != tc.authHdr {
			t.Errorf("Authorization %q: %s %q, WWW-Authenticate %q", tc.auth, resp.Status, b, resp.Header.Get("WWW-Authenticate"))
		}
		if strings.Contains(all, "s3cret") || (tc.noSecret != "" && strings.Contains(all, tc.noSecret)) {
			t.Errorf("Authorization %q: the answer shows a token:\n%s", tc.auth, all)
		}
	}
}

func flatten(h http.Header) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	return out
}

// TestHTTPConcurrentRequests sends right and wrong tokens, preflights and
// foreign origins at once (for the race detector), each answered as alone.
func TestHTTPConcurrentRequests(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(t)
	cases := []struct {
		method  string
		headers map[string]string
		status  int
	}{
		{http.MethodPost, map[string]string{"Authorization": "Bearer wrong"}, http.StatusUnauthorized},
		{http.MethodPost, map[string]string{"Authorization": "bearer s3cret", "Accept": "application/json, text/event-stream", "Content-Type": "application/json"}, http.StatusOK},
		{http.MethodOptions, map[string]string{"Origin": allowed, "Access-Control-Request-Method": "POST"}, http.StatusNoContent},
		{http.MethodPost, map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer s3cret"}, http.StatusForbidden},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sessions []string
	for i := range 40 {
		tc := cases[i%len(cases)]
		wg.Go(func() {
			req, _ := http.NewRequest(tc.method, srv.URL+"/mcp", strings.NewReader(initialize))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s %v: %s; want %d", tc.method, tc.headers, resp.Status, tc.status)
			}
			if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
				mu.Lock()
				sessions = append(sessions, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, id := range sessions { // end the sessions
		del, _ := http.NewRequest(http.MethodDelete, srv.URL+"/mcp", nil)
		del.Header.Set("Authorization", "Bearer s3cret")
		del.Header.Set("Mcp-Session-Id", id)
		if resp, err := srv.Client().Do(del); err == nil {
			resp.Body.Close()
		}
	}
}
