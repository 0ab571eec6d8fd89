//go:build unix

package daytonatest

// Uploads and downloads of the toolbox (see files.go for the conventions).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// handleUploadFile stores the multipart part "file" at the query's path
// (fs/upload_file.go:25-44). The path is checked first; then gin's
// FormFile reads the whole body (ParseMultipartForm), and only after that
// does SaveUploadedFile create missing parents with mode 0750 and create or
// truncate the file, writing through a symbolic link and keeping an
// existing file's mode (gin@v1.10.1 context.go:610-629). So a body cut
// short leaves the destination as it was. This server spools the part to a
// temporary file as it arrives, so that its memory stays flat whatever the
// size. Every failure is a 400 with an empty body (no path, not
// multipart, no part "file", a directory at the path, no permission);
// success is a 200 with an empty body and no Content-Type.
func (s *Server) handleUploadFile(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	spool, err := spoolFormFile(r, "file")
	if storeUpload(w, r, spool, err, tb.resolve(p)) {
		w.WriteHeader(http.StatusOK)
	}
}

// storeUpload saves at dst what a handler spooled (or failed to spool:
// err), removes the spool, and reports success; a failure is a 400.
func storeUpload(w http.ResponseWriter, r *http.Request, spool *os.File, err error, dst string) bool {
	if err != nil {
		fileStatus(w, r, http.StatusBadRequest)
		return false
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	if err := saveUploaded(spool, dst); err != nil {
		fileStatus(w, r, http.StatusBadRequest)
		return false
	}
	return true
}

// errNoFilePart is FormFile's error when no file part has the name.
var errNoFilePart = errors.New("http: no such file")

// spoolFormFile reads r's multipart/form-data body to its end, as
// ParseMultipartForm does, and returns the content of the first file part
// (one with a file name) named field in a temporary file, which the caller
// closes and removes. Other parts are read and dropped.
func spoolFormFile(r *http.Request, field string) (*os.File, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	var spool *os.File
	fail := func(err error) (*os.File, error) {
		if spool != nil {
			spool.Close()
			os.Remove(spool.Name())
		}
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		dst := io.Discard
		if spool == nil && part.FormName() == field && part.FileName() != "" {
			if spool, err = os.CreateTemp("", "daytonatest-upload-*"); err != nil {
				return fail(err)
			}
			dst = spool
		}
		if _, err := io.Copy(dst, part); err != nil {
			return fail(err)
		}
	}
	if spool == nil {
		return nil, errNoFilePart
	}
	return spool, nil
}

// saveUploaded is gin's SaveUploadedFile: parents with mode 0750, then
// os.Create (new files 0666 less the umask; existing ones truncated, their
// mode kept) and a copy.
func saveUploaded(src *os.File, dst string) error {
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	return writeFrom(dst, 0o666, src)
}

// handleDownloadFile sends a file's bytes (fs/download_file.go:27-70):
// stat errors as everywhere, a directory is a 400 ("path must be a
// file"), and the file goes out through http.ServeFile with the daemon's
// headers, so Range (206), conditional requests (304), Content-Length and
// Last-Modified work as there, and a file that can be stat'ed but not
// opened is a 403 with the text "403 Forbidden".
func (s *Server) handleDownloadFile(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	path := tb.resolveAbs(p)
	info, ok := statFor(w, r, path)
	if !ok {
		return
	}
	if info.IsDir() {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Description", "File Transfer")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", "attachment; "+dispositionNames(filepath.Base(path)))
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Expires", "0")
	h.Set("Cache-Control", "must-revalidate")
	h.Set("Pragma", "public")
	http.ServeFile(s.cutDownload(w), r, path)
}

// dispositionNames is the filename and filename* parameters of the
// daemon's Content-Disposition headers (fs/download_files.go:178-181,
// 226-273): filename quoted, with backslash and quote escaped, CR, LF and
// NUL dropped, and other control characters and characters beyond Latin-1
// replaced by "_" (the rest written as single Latin-1 bytes); filename*
// percent-encodes every byte outside RFC 5987's attr-char.
func dispositionNames(name string) string {
	var quoted strings.Builder
	for _, c := range name {
		switch {
		case c == '\r' || c == '\n' || c == 0:
		case c == '\\' || c == '"':
			quoted.WriteByte('\\')
			quoted.WriteByte(byte(c))
		case c < 0x20 || c == 0x7f || c > 0xff:
			quoted.WriteByte('_')
		default:
			quoted.WriteByte(byte(c))
		}
	}
	var enc strings.Builder
	for i := 0; i < len(name); i++ {
		if c := name[i]; isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return `filename="` + quoted.String() + `"; filename*=utf-8''` + enc.String()
}

// isAttrChar reports RFC 5987's attr-char: letters, digits and
// !#$&+-.^_`|~.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// downloadBoundary is bulk-download's fixed multipart boundary.
const downloadBoundary = "DAYTONA-FILE-BOUNDARY"

// bulkDownloadRefusal is bulk-download's only top-level error message.
const bulkDownloadRefusal = `request body must be {"paths": [ ... ]} and non-empty`

// handleBulkDownload answers {"paths": [...]} with a multipart/form-data
// stream, always 200 once the body is valid (fs/download_files.go:52-97):
// one part per path, in order, named "file" (the bytes) or "error" (the
// daemon's ErrorResponse JSON). A body that does not bind (not JSON, no
// paths) is a 400 whose JSON text goes out as text/plain, because the
// binding already wrote the status; an empty list is a 400 with a JSON
// Content-Type. A failure mid-file ends the stream, and the deferred Close
// still writes the closing boundary, as v0.173.0 does.
func (s *Server) handleBulkDownload(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	var req struct {
		Paths []string `json:"paths"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Paths == nil {
		b, _ := json.Marshal(map[string]string{"error": bulkDownloadRefusal})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(b)
		return
	}
	if len(req.Paths) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": bulkDownloadRefusal})
		return
	}
	w.Header().Set("Content-Type", "multipart/form-data; boundary="+downloadBoundary)
	w.WriteHeader(http.StatusOK)
	mw := multipart.NewWriter(w)
	_ = mw.SetBoundary(downloadBoundary) // a valid boundary: no error
	defer mw.Close()
	for _, p := range req.Paths {
		if err := writeDownloadPart(r, mw, tb, p); err != nil {
			return
		}
	}
}

// fileError is the daemon's ErrorResponse (pkg/common/errors.go:14-21) in
// a bulk-download error part.
type fileError struct {
	StatusCode int       `json:"statusCode"`
	Message    string    `json:"message"`
	Code       string    `json:"code"`
	Timestamp  time.Time `json:"timestamp"`
	Path       string    `json:"path"`
	Method     string    `json:"method"`
}

// writeDownloadPart writes the part for one path: an error part if the
// path is empty, missing, a directory or cannot be opened
// (fs/download_files.go:144-207), else a file part with the file's bytes
// and a Content-Type from the path's extension. It returns an error only
// when the stream broke inside a file part.
func writeDownloadPart(r *http.Request, mw *multipart.Writer, tb *toolbox, p string) error {
	fail := func(status int, code, msg string) error {
		b, _ := json.Marshal(fileError{status, msg, code, time.Now().UTC(), p, r.Method})
		return writePart(mw, "error", p, "application/json; charset=utf-8", func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}, false)
	}
	if p == "" {
		return fail(http.StatusBadRequest, "INVALID_FILE_PATH", "invalid file path: path is empty")
	}
	path := tb.resolve(p)
	if info, err := os.Stat(path); err != nil {
		return fail(classifyDownload(p, asGiven(err, p), "failed to access file: "))
	} else if info.IsDir() {
		return fail(http.StatusBadRequest, "INVALID_FILE_PATH", "invalid file path: path points to a directory: "+p)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(classifyDownload(p, asGiven(err, p), "failed to open file: "))
	}
	defer f.Close()
	ctype := mime.TypeByExtension(filepath.Ext(p))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return writePart(mw, "file", p, ctype, func(w io.Writer) error {
		_, err := io.Copy(ctxWriter{r.Context(), w}, f)
		return err
	}, true)
}

// writePart writes one part of a bulk download with fill. Failures of an
// error part are dropped (the daemon records them and goes on); those of a
// file part are returned (strict).
func writePart(mw *multipart.Writer, name, p, ctype string, fill func(io.Writer) error, strict bool) error {
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Disposition", `form-data; name="`+name+`"; `+dispositionNames(p))
	part, err := mw.CreatePart(hdr)
	if err == nil {
		err = fill(part)
	}
	if !strict {
		return nil
	}
	return err
}

// classifyDownload maps a failed stat or open of a bulk-download path to
// its status, code and message (fs/download_files.go:183-207); other
// failures get fallback before the error.
func classifyDownload(p string, err error, fallback string) (int, string, string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound, "FILE_NOT_FOUND", "file not found: " + p
	case errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden, "FILE_ACCESS_DENIED", "permission denied: " + p
	case errors.Is(err, fs.ErrInvalid):
		return http.StatusBadRequest, "INVALID_FILE_PATH", "invalid file path: " + p
	}
	return http.StatusInternalServerError, "FILE_READ_FAILED", fallback + err.Error()
}

// ctxWriter refuses to write once ctx has ended, as the daemon's writer of
// file parts does (fs/download_files.go:25-38).
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
