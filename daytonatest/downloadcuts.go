//go:build unix

package daytonatest

import (
	"net/http"
	"sync"
)

// downloadCuts holds the pending breaks of file downloads (see
// CutNextDownloads).
type downloadCuts struct {
	mu    sync.Mutex
	after []int64
}

// CutNextDownloads makes the next n downloads of /files/download break
// abruptly after afterBytes bytes of the file: the connection closes (an
// HTTP/2 stream is reset) before the answer is complete, as when a proxy
// or the network drops it.
func (s *Server) CutNextDownloads(n int, afterBytes int64) {
	c := s.cfg.downloadCuts
	c.mu.Lock()
	defer c.mu.Unlock()
	for range max(n, 0) {
		c.after = append(c.after, max(afterBytes, 0))
	}
}

// cutDownload returns w, made to break after the next pending cut's
// bytes if one is pending.
func (s *Server) cutDownload(w http.ResponseWriter) http.ResponseWriter {
	c := s.cfg.downloadCuts
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.after) == 0 {
		return w
	}
	left := c.after[0]
	c.after = c.after[1:]
	return &cuttingWriter{ResponseWriter: w, left: left}
}

// cuttingWriter passes left bytes of the body, then drops the connection.
type cuttingWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cuttingWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.left = 0
	_ = http.NewResponseController(c.ResponseWriter).Flush()
	dropConnection(c.ResponseWriter)
	return n, http.ErrAbortHandler
}

// Unwrap gives http.ResponseController the writer below.
func (c *cuttingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
