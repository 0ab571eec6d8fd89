package toolbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Range is a part of a file that ReadRange returned: Body holds the bytes
// from Start on (none when Start is at or past the end), and Size is the
// file's size when the daemon answered.
type Range struct {
	Body  io.ReadCloser
	Start int64
	Size  int64
}

// ReadRange downloads part of the file at path (an absolute path in the
// sandbox): from byte from to its end, or, with last > 0, its last last
// bytes (all of it if it is shorter). The daemon serves /files/download
// with http.ServeFile, which honours Range (fs/download_file.go:59-69,
// v0.190.0): a range that starts at the end is its 416, here an empty
// Range with the size. A server that ignores Range (200) is read from its
// start and skipped forward. The caller closes Body. A missing file is a
// *Refusal with status 404.
func (c *Client) ReadRange(ctx context.Context, path string, from, last int64) (*Range, error) {
	req, err := c.Request(ctx, http.MethodGet, "/files/download", url.Values{"path": {path}}, nil, "")
	if err != nil {
		return nil, err
	}
	if last > 0 {
		req.Header.Set("Range", "bytes=-"+strconv.FormatInt(last, 10))
	} else {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
	}
	req.Header.Set("Accept", "*/*")
	resp, err := c.Send(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, size, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok {
			resp.Body.Close()
			return nil, fmt.Errorf("download %s: bad Content-Range %q", path, resp.Header.Get("Content-Range"))
		}
		return &Range{Body: resp.Body, Start: start, Size: size}, nil
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		_, size, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok {
			size = from
		}
		return &Range{Body: http.NoBody, Start: size, Size: size}, nil
	case http.StatusOK:
		// The whole file: skip to where the range would start.
		size := resp.ContentLength
		start := from
		if last > 0 {
			start = max(0, size-last)
		}
		if _, err := io.CopyN(io.Discard, resp.Body, start); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("download %s: %w", path, err)
		}
		return &Range{Body: resp.Body, Start: start, Size: size}, nil
	}
	return nil, answerError(resp)
}

// contentRange parses "bytes <first>-<last>/<size>" or "bytes */<size>".
func contentRange(s string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	span, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	size, err := strconv.ParseInt(total, 10, 64)
	if err != nil || size < 0 {
		return 0, 0, false
	}
	if span == "*" {
		return size, size, true
	}
	first, _, found := strings.Cut(span, "-")
	start, err = strconv.ParseInt(first, 10, 64)
	if !found || err != nil || start < 0 || start > size {
		return 0, 0, false
	}
	return start, size, true
}

// RemoveFile deletes the file at path; a file that is not there is no
// error.
func (c *Client) RemoveFile(ctx context.Context, path string) error {
	// "/files/", which every daemon serves (see the root's listPath).
	resp, err := c.File(ctx, FileRequest{Method: http.MethodDelete, Path: "/files/", Query: url.Values{"path": {path}, "recursive": {"false"}}})
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) && r.StatusCode == http.StatusNotFound {
			return nil
		}
		return err
	}
	resp.Body.Close()
	return nil
}
