//go:build unix

package daytonatest

import (
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// POST /files/upload-v2, today's upload (ServiceCurrent). Since the
// 0.201.0 release of the toolbox client, /files/upload is no longer in
// its spec, and upload-v2 is: "Accepts either multipart/form-data (field
// "file") or a raw request body (e.g. application/octet-stream). Parent
// directories are created if missing; an existing file is overwritten."
// It answers an UploadedFile {name, path, type} (@daytona/toolbox-api-
// client 0.218.0, api/file-system-api.js:421-459 and
// models/uploaded-file.d.ts). The old route stays: Go SDKs up to v0.190.0
// call it.
//
// Inferred (the daemon's code is not public): the answer is a 200; name
// is the path's base name, path the path as given, and type the request's
// content type for a raw body (application/octet-stream for a multipart
// one, or none). Like /files/upload, the destination is touched only once
// the whole body has arrived.

// OpUploadFileV2 is POST /files/upload-v2 (current; multipart or raw,
// streamed).
const OpUploadFileV2 Op = "upload-file-v2"

// routeFilesToday adds the file routes that only today's daemon has.
func (s *Server) routeFilesToday(tb func(method, path string, op Op, h handlerFunc)) {
	if s.since(levelCurrent) {
		tb("POST", "/files/upload-v2", OpUploadFileV2, s.handleUploadFileV2)
	}
}

func (s *Server) handleUploadFileV2(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	spool, ctype, err := spoolUpload(r)
	if !storeUpload(w, r, spool, err, tb.resolve(p)) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": filepath.Base(p), "path": p, "type": ctype})
}

// spoolUpload reads an upload-v2 body to its end into a temporary file,
// which the caller closes and removes: the part "file" of a multipart
// body, or the whole body. It returns the content type of the upload.
func spoolUpload(r *http.Request) (*os.File, string, error) {
	const octets = "application/octet-stream"
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if media == "multipart/form-data" {
		spool, err := spoolFormFile(r, "file")
		return spool, octets, err
	}
	spool, err := os.CreateTemp("", "daytonatest-upload-*")
	if err != nil {
		return nil, "", err
	}
	if _, err := io.Copy(spool, r.Body); err != nil {
		spool.Close()
		os.Remove(spool.Name())
		return nil, "", err
	}
	if media == "" || strings.HasPrefix(media, "multipart/") {
		media = octets
	}
	return spool, media, nil
}
