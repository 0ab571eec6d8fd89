package mcpserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentworkspace/daytona/internal/mcptest"
	"github.com/agentworkspace/daytona/mcpserver"
)

// bearer adds headers to every request of a client.
type bearer struct {
	headers map[string]string
	base    http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range b.headers {
		r.Header.Set(k, v)
	}
	return b.base.RoundTrip(r)
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

func TestHTTPRefusals(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	h, err := mcpserver.NewHTTPHandler(newServer(t, sb, false), mcpserver.HTTPOptions{
		Token: "s3cret", AllowedOrigins: []string{"http://localhost:6274"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"not bearer", map[string]string{"Authorization": "Basic czNjcmV0"}, http.StatusUnauthorized},
		{"token prefix", map[string]string{"Authorization": "Bearer s3cre"}, http.StatusUnauthorized},
		{"token and more", map[string]string{"Authorization": "Bearer s3cret2"}, http.StatusUnauthorized},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, http.StatusUnauthorized},
		{"bare token", map[string]string{"Authorization": "s3cret"}, http.StatusUnauthorized},
		{"scheme glued to token", map[string]string{"Authorization": "Bearers3cret"}, http.StatusUnauthorized},
		{"lower-case scheme", map[string]string{"Authorization": "bearer s3cret"}, http.StatusOK},
		{"upper-case scheme", map[string]string{"Authorization": "BEARER s3cret"}, http.StatusOK},
		{"several spaces", map[string]string{"Authorization": "Bearer   s3cret"}, http.StatusOK},
		{"foreign origin", map[string]string{"Authorization": "Bearer s3cret", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"foreign origin without token", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"rebound host", map[string]string{"Authorization": "Bearer s3cret", "Host": "evil.example"}, http.StatusForbidden},
		{"token", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
		{"token and allowed origin", map[string]string{"Authorization": "Bearer s3cret", "Origin": "http://LOCALHOST:6274"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(initialize))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if h, ok := tc.headers["Host"]; ok {
				req.Host = h
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if id := resp.Header.Get("Mcp-Session-Id"); id != "" { // end the session
				del, _ := http.NewRequest(http.MethodDelete, srv.URL+"/mcp", nil)
				del.Header.Set("Authorization", "Bearer s3cret")
				del.Header.Set("Mcp-Session-Id", id)
				if resp, err := srv.Client().Do(del); err == nil {
					resp.Body.Close()
				}
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d; want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	srv.Client().CloseIdleConnections()
}

// TestHTTPWorks drives the server over streamable HTTP with the token.
func TestHTTPWorks(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	h, err := mcpserver.NewHTTPHandler(newServer(t, sb, false), mcpserver.HTTPOptions{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	hc := &http.Client{Transport: bearer{map[string]string{"Authorization": "Bearer s3cret"}, srv.Client().Transport}}
	client, rec := mcptest.NewClient()
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mcptest.Exercise(t, cs, rec, mcptest.Want{Refused: "forbidden", RefusedText: "was refused"})
	if err := cs.Close(); err != nil {
		t.Error(err)
	}
	hc.CloseIdleConnections()
	srv.Client().CloseIdleConnections()
}

func TestHTTPOptionsErrors(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	server := newServer(t, sb, false)
	for _, opts := range []mcpserver.HTTPOptions{
		{},
		{Token: "x", AllowedOrigins: []string{"localhost:3000"}},
		{Token: "x", AllowedOrigins: []string{"http://localhost:3000/app"}},
	} {
		if _, err := mcpserver.NewHTTPHandler(server, opts); err == nil || !strings.HasPrefix(err.Error(), "mcpserver: ") {
			t.Errorf("NewHTTPHandler(%+v) = %v; want an error", opts, err)
		}
	}
	if _, err := mcpserver.NewHTTPHandler(nil, mcpserver.HTTPOptions{Token: "x"}); err == nil || !strings.Contains(err.Error(), "nil server") {
		t.Errorf("NewHTTPHandler(nil) = %v", err)
	}
}
