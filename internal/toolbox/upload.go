package toolbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
)

// Uploads. Up to v0.190.0 the daemon takes a file at POST /files/upload,
// as a multipart body with the part "file" (apps/daemon/pkg/toolbox/fs/
// upload_file.go:25-47 @v0.190.0). Since the 0.201.0 release of the
// toolbox client that route is no longer in the spec; POST
// /files/upload-v2 "accepts either multipart/form-data (field "file") or
// a raw request body (e.g. application/octet-stream). Parent directories
// are created if missing; an existing file is overwritten"
// (@daytona/toolbox-api-client 0.218.0, api/file-system-api.js:421-459).
// The old route is presumably still served, for the Go SDKs up to
// v0.190.0 that call it; Upload uses it first, and on the daemon's 404 for
// it moves to upload-v2 with a raw body, for good on this sandbox.
const (
	uploadPath   = "/files/upload"
	uploadV2Path = "/files/upload-v2"
)

// Routes an upload can take, as Client.route remembers them.
const (
	routeUnknown int32 = iota
	routeV1            // /files/upload answered something other than a 404
	routeV2            // /files/upload is not served: /files/upload-v2
)

// Upload is the content of an upload.
type Upload struct {
	Query url.Values // path, the destination
	// Body returns a fresh body of one attempt, its content type and its
	// length (-1 if unknown): raw for upload-v2, else multipart with the
	// part "file".
	Body func(raw bool) (io.ReadCloser, string, int64)
	// Once says the content can be read only once (a stream), and
	// Replayable whether it can still be sent again (nothing of it read).
	Once       bool
	Replayable func() bool
}

// Upload sends u to the daemon's upload route, as File sends a request
// (same answers and errors). While it does not know whether the daemon
// serves /files/upload, content that cannot be sent again is preceded by
// a request without content to the old route, which a daemon that serves
// it refuses (400: no path) and one that does not answers 404.
func (c *Client) Upload(ctx context.Context, u Upload) (*http.Response, error) {
	if c.route.Load() == routeUnknown && u.Once {
		if err := c.probeUpload(ctx); err != nil {
			return nil, err
		}
	}
	if c.route.Load() != routeV2 {
		resp, err := c.File(ctx, FileRequest{Method: http.MethodPost, Path: uploadPath, Query: u.Query,
			Body: func() (io.ReadCloser, string, int64) { return u.Body(false) }})
		if !routeGone(err) {
			if err == nil {
				c.route.Store(routeV1)
			}
			return resp, err
		}
		c.route.Store(routeV2)
		if !u.Replayable() {
			return nil, err
		}
	}
	return c.File(ctx, FileRequest{Method: http.MethodPost, Path: uploadV2Path, Query: u.Query,
		Body: func() (io.ReadCloser, string, int64) { return u.Body(true) }})
}

// probeUpload learns whether the daemon serves /files/upload; it returns
// only the errors that are not the daemon's answer about the route (the
// sandbox not running, the connection).
func (c *Client) probeUpload(ctx context.Context) error {
	resp, err := c.File(ctx, FileRequest{Method: http.MethodPost, Path: uploadPath})
	var refused *Refusal
	switch {
	case err == nil:
		resp.Body.Close()
		c.route.Store(routeV1)
	case routeGone(err):
		c.route.Store(routeV2)
	case errors.As(err, &refused):
		c.route.Store(routeV1)
	default:
		return err
	}
	return nil
}

// routeGone reports the daemon's 404 for the upload route itself.
func routeGone(err error) bool {
	var refused *Refusal
	return errors.As(err, &refused) && refused.StatusCode == http.StatusNotFound
}
