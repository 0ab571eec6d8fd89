package toolbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/agentworkspace/daytona/internal/apierr"
)

// FileRequest is one request to the toolbox's file endpoints.
type FileRequest struct {
	Method string
	Path   string // such as "/files/download"
	Query  url.Values
	Header http.Header // added to the request
	// Body returns a fresh request body, its content type and its length
	// (-1 if unknown); nil for no body.
	Body func() (io.ReadCloser, string, int64)
}

// Refusal is a refusal by the daemon's own file handlers: up to v0.190.0
// a status and no body (the proxy and the runner answer JSON, which File
// decodes as the SDK does), today a structured answer of the daemon (see
// refusal). The status, and today's code, are what it says about the file.
type Refusal struct {
	StatusCode int
	Code       string // such as FILE_NOT_FOUND; "" from older daemons
}

func (r *Refusal) Error() string { return fmt.Sprintf("refused by the daemon (HTTP %d)", r.StatusCode) }

// File sends req and returns its 2xx answer, whose body the caller
// closes. A refusal by the daemon's file handlers (see refusal) is a
// *Refusal; another error answer the SDK's error types
// (apierr.FromBody); no answer apierr.NoAnswer's error, which also matches
// the cause (a reader's error, a context's).
func (c *Client) File(ctx context.Context, req FileRequest) (*http.Response, error) {
	var body io.ReadCloser
	var ctype string
	length := int64(-1)
	if req.Body != nil {
		body, ctype, length = req.Body()
		defer body.Close()
	}
	hreq, err := c.Request(ctx, req.Method, req.Path, req.Query, body, ctype)
	if err != nil {
		return nil, err
	}
	if length >= 0 {
		hreq.ContentLength = length
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	resp, err := c.Send(hreq)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, answerError(resp)
}

// answerError reads and closes the body of an error answer (status 300 or
// more) and returns its error: a *Refusal for a refusal of the daemon's
// file handlers, else the SDK's error types.
func answerError(resp *http.Response) error {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	err := apierr.FromBody(resp.StatusCode, resp.Header, data)
	if refusal(resp.StatusCode, data, err) {
		return &Refusal{StatusCode: resp.StatusCode, Code: apierr.Code(err)}
	}
	return err
}

// refusal reports an error answer of the daemon's file handlers, 400,
// 403, 404 or 409: with an empty body (up to v0.190.0), answered by the
// daemon itself (apierr.FromDaemon: today's source DAYTONA_DAEMON, a
// FILE_* code, or a 404 in plain text such as "404 page not found"), or
// the 403 of a download that could not be opened. err is the answer
// decoded.
func refusal(status int, body []byte, err error) bool {
	switch status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict:
	default:
		return false
	}
	return len(body) == 0 || apierr.FromDaemon(err) ||
		(status == http.StatusForbidden && bytes.Equal(body, []byte("403 Forbidden\n")))
}
