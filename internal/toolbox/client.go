// Package toolbox is the wire to one sandbox's toolbox (the daemon behind
// Daytona's proxy): the requests this module sends itself, where the
// SDK's wrappers do not fit (Do, File, ExecSync), the SDK's session calls
// with the retries each needs (sessions.go), the follow stream of a
// command's log (Follow), uploads to the route the daemon serves
// (upload.go), and the decoding of what the daemon answers: file
// information (fileinfo.go), a synchronous command's answer (sync.go), and
// its refusals (File's *Refusal). Errors are the SDK's
// types, decoded and classified by package apierr.
package toolbox

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	"github.com/gorilla/websocket"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/follow"
)

// Client sends requests to one sandbox's toolbox, all with the SDK's
// headers (the credential, the SDK version: the daemon labels output only
// for a recent SDK) and through one HTTP client. It is safe for
// concurrent use.
type Client struct {
	sdk    *sdk.Sandbox      // the SDK's view, whose toolbox client holds the base URL and headers
	hc     *http.Client      // for the requests sent without the SDK
	dialer *websocket.Dialer // for log streams
	route  atomic.Int32      // the upload route the daemon serves (upload.go)
}

// New returns the client of the sandbox sb (the SDK's view, made on a
// toolbox client whose configuration carries the base URL and headers),
// sending through hc and dialling log streams with dialer.
func New(sb *sdk.Sandbox, hc *http.Client, dialer *websocket.Dialer) *Client {
	return &Client{sdk: sb, hc: hc, dialer: dialer}
}

// ID returns the sandbox's Daytona id.
func (c *Client) ID() string { return c.sdk.ID }

// SDK returns the SDK's view of the sandbox. It is not safe for
// concurrent use.
func (c *Client) SDK() *sdk.Sandbox { return c.sdk }

// Request builds a request to the toolbox: path (such as
// "/files/download") under its base URL, with the SDK's headers, and
// contentType if body is not nil. Send it with Send.
func (c *Client) Request(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Request, error) {
	cfg := c.sdk.ToolboxClient.GetConfig()
	u := strings.TrimRight(cfg.Servers[0].URL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range cfg.DefaultHeader {
		req.Header.Set(k, v)
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if cfg.UserAgent != "" {
		req.Header.Set("User-Agent", cfg.UserAgent)
	}
	return req, nil
}

// Send sends req with the client's HTTP client (which has no overall
// timeout: req's context bounds it). No answer at all is
// apierr.NoAnswer's error.
func (c *Client) Send(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, apierr.NoAnswer(err)
	}
	return resp, nil
}

// Do sends a request built as Request builds it and returns the answer,
// whose body the caller closes; an error answer (status 300 or more)
// becomes the SDK's error types (apierr.FromResponse).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Response, error) {
	req, err := c.Request(ctx, method, path, query, body, contentType)
	if err != nil {
		return nil, err
	}
	resp, err := c.Send(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, apierr.FromResponse(resp)
	}
	return resp, nil
}

// Follow opens the follow stream of command cmdID's log in session
// sessID, which replays the log from its first byte.
func (c *Client) Follow(ctx context.Context, sessID, cmdID string) (*follow.Stream, error) {
	cfg := c.sdk.ToolboxClient.GetConfig()
	u, err := follow.URL(cfg.Servers[0].URL, sessID, cmdID)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	for k, v := range cfg.DefaultHeader {
		header.Set(k, v)
	}
	return follow.Dial(ctx, c.dialer, u, header)
}
