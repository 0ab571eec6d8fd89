package daytona

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/files"
	"github.com/agentworkspace/daytona/workspace"
)

// Downloads and uploads, streamed through the toolbox: the SDK's
// DownloadFile and UploadFile hold whole files in memory (several times
// over) and are cut off by its 60 s client timeout.

// download requests name's content from offset off (a Range request when
// off > 0). A 400 for a directory becomes errIsDir (one more request, to
// tell a directory from a path through a file). A name that can only
// name a directory ("a/", which Daytona would read as "a") is not
// downloaded: its error is os's, found with a Stat.
func (f *Filesystem) download(ctx context.Context, op, name string, off int64) (*http.Response, error) {
	if files.DirSyntax(name) {
		return nil, f.notAFile(ctx, op, name)
	}
	c := &fileCall{op: op, name: name, what: "download " + quoted(name),
		method: http.MethodGet, path: "/files/download", query: url.Values{"path": {name}}}
	if off > 0 {
		c.header = http.Header{"Range": {"bytes=" + strconv.FormatInt(off, 10) + "-"}}
	}
	resp, err := f.do(ctx, c)
	if errors.Is(err, errNameRefused) {
		if fi, serr := f.stat(ctx, name); serr == nil && fi.IsDir() {
			return nil, &fs.PathError{Op: op, Path: name, Err: errIsDir}
		}
	}
	return resp, err
}

// notAFile is the error of reading name as a file, when its syntax says it
// is a directory: os's "is a directory" or "not a directory", or Stat's.
func (f *Filesystem) notAFile(ctx context.Context, op, name string) error {
	isDir, err := f.statKind(ctx, name)
	switch {
	case err == nil && isDir:
		return &fs.PathError{Op: op, Path: name, Err: errIsDir}
	case err == nil:
		return &fs.PathError{Op: op, Path: name, Err: files.ErrNotDir}
	}
	return files.Relabel(op, name, err)
}

// ReadFile returns the whole content of the named file.
func (f *Filesystem) ReadFile(ctx context.Context, name string) ([]byte, error) {
	if err := f.begin(ctx, "read", name); err != nil {
		return nil, err
	}
	resp, err := f.download(ctx, "read", name, 0)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 {
		buf.Grow(int(min(n, 1<<30)))
	}
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fault.WrapCtx(ctx, "download "+quoted(name), err)}
	}
	return buf.Bytes(), nil
}

// Open returns a stream of the named file's content; a missing file, or a
// directory, is reported at once. ctx bounds the whole read. The stream
// implements io.Seeker: a Seek elsewhere makes the next Read ask for the
// content from there (an HTTP Range request), and SeekEnd is relative to
// the size the file had when it was opened. A transfer cut short is an
// error (io.ErrUnexpectedEOF), never a short file.
func (f *Filesystem) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := f.begin(ctx, "open", name); err != nil {
		return nil, err
	}
	resp, err := f.download(ctx, "open", name, 0)
	if err != nil {
		return nil, err
	}
	reopen := func(off int64) (io.ReadCloser, int64, error) { return f.openAt(ctx, name, off) }
	return workspace.NewReadSeeker(name, resp.ContentLength, downloadBody(ctx, name, resp.Body), reopen), nil
}

// openAt asks for name's content from off. A server that ignores the
// Range header sends everything: the stream is then at 0.
func (f *Filesystem) openAt(ctx context.Context, name string, off int64) (io.ReadCloser, int64, error) {
	resp, err := f.download(ctx, "read", name, off)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusPartialContent {
		return downloadBody(ctx, name, resp.Body), 0, nil
	}
	if got := resp.Header.Get("Content-Range"); !strings.HasPrefix(got, "bytes "+strconv.FormatInt(off, 10)+"-") {
		resp.Body.Close()
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: fault.Wrap("download "+quoted(name),
			fmt.Errorf("asked for bytes from %d, got the range %q", off, got))}
	}
	return downloadBody(ctx, name, resp.Body), off, nil
}

// downloadBody is a download's body whose read errors are failures of the
// download (an *Error, also matching ctx's error once it has ended).
func downloadBody(ctx context.Context, name string, body io.ReadCloser) io.ReadCloser {
	return &failingBody{ReadCloser: body, fail: func(err error) error { return fault.WrapCtx(ctx, "download "+quoted(name), err) }}
}

// failingBody reports the errors of reading a body through fail.
type failingBody struct {
	io.ReadCloser
	fail func(error) error
}

func (fb *failingBody) Read(p []byte) (int, error) {
	n, err := fb.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = fb.fail(err)
	}
	return n, err
}

// WriteFile writes data to the named file, creating it and any missing
// parent directories, or replacing its content. It is Create with data.
func (f *Filesystem) WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	if err := f.begin(ctx, "write", name); err != nil {
		return err
	}
	return f.write(ctx, name, perm, &uploadSource{data: data, fixed: true})
}

// Create writes everything read from r to the named file, creating it and
// any missing parent directories (Daytona creates those with mode 0750), or
// replacing its content, in constant memory. It returns once it has
// stopped reading r; a Read of r that blocks keeps it waiting.
//
// The write goes straight to the file, in three steps: Stat (a directory
// at name is refused before anything is sent), the upload, and for a file
// it created, setting its mode to perm (the sandbox's umask is not
// applied; perm 0644, the mode Daytona's daemon gives new files under its
// usual umask 022, needs no request). Daytona receives the whole upload
// before it opens the file, so an upload cut short (a broken connection, a
// cancelled ctx, an error from r) leaves the file as it was. Once it has
// the content, Daytona truncates the file and writes it; if that fails
// (a full disk), the error says the file may be left partly written. An
// existing file keeps its mode, and a symbolic link is written through.
// Uploading to a temporary name and renaming is not possible: Daytona's
// move refuses to replace a file.
func (f *Filesystem) Create(ctx context.Context, name string, r io.Reader, perm fs.FileMode) error {
	if err := f.begin(ctx, "write", name); err != nil {
		return err
	}
	if r == nil {
		return &fs.PathError{Op: "write", Path: name, Err: &badName{"nil reader"}}
	}
	return f.write(ctx, name, perm, &uploadSource{r: r})
}

// write is WriteFile and Create after their checks. A name that can only
// name a directory ("a/") is refused before any request, as os refuses
// it (Daytona would create the directory "a", then fail).
func (f *Filesystem) write(ctx context.Context, name string, perm fs.FileMode, src *uploadSource) error {
	if files.DirSyntax(name) {
		return &fs.PathError{Op: "write", Path: name, Err: errIsDir}
	}
	if err := checkPerm("write", name, perm); err != nil {
		return err
	}
	created, err := f.checkWritable(ctx, name)
	if err != nil {
		return err
	}
	c := &fileCall{op: "write", name: name, what: "upload " + quoted(name), refused: errWrite,
		query: url.Values{"path": {name}}, upload: src}
	if err := f.upload(ctx, c, src); err != nil {
		return err
	}
	if !created || perm.Perm() == 0o644 {
		return nil
	}
	err = f.run(ctx, &fileCall{op: "chmod", name: name, what: "set the mode of " + quoted(name),
		method: http.MethodPost, path: "/files/permissions",
		query: url.Values{"path": {name}, "mode": {fmt.Sprintf("%04o", perm.Perm())}}})
	if err != nil {
		return fault.Errorf("%s was written, but its mode could not be set: %w", quoted(name), err)
	}
	return nil
}

// checkWritable stats name before a write: a directory is refused, a
// missing file will be created, other refusals are returned.
func (f *Filesystem) checkWritable(ctx context.Context, name string) (created bool, err error) {
	fi, err := f.stat(ctx, name)
	var pe *fs.PathError
	switch {
	case err == nil && fi.IsDir():
		return false, &fs.PathError{Op: "write", Path: name, Err: errIsDir}
	case err == nil:
		return false, nil
	case !errors.As(err, &pe):
		return false, err
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	}
	return false, &fs.PathError{Op: "write", Path: name, Err: pe.Err}
}

// upload sends the upload, trying again after a dead sandbox only when the
// content can be sent again (a refusal by a sandbox that is not running
// means nothing reached it).
func (f *Filesystem) upload(ctx context.Context, c *fileCall, src *uploadSource) error {
	_, err := resubmitOnce(ctx, f.s, c.what, func(r *remote) (struct{}, error) {
		resp, err := c.send(ctx, r)
		var ns *apierr.NotStarted
		if errors.As(err, &ns) && !src.replayable() {
			err = fault.WrapCtx(ctx, c.what, ns.Err)
			var e *Error
			if errors.As(err, &e) {
				fault.SetHint(e, "the sandbox was not running, so nothing was written; the content was already read and cannot be sent again")
			}
			return struct{}{}, err
		}
		if err != nil {
			return struct{}{}, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return struct{}{}, resp.Body.Close()
	})
	return err
}

// uploadSource is the content of a write: WriteFile's bytes, which can be
// sent again, or Create's reader, which can be only if nothing was read
// from it yet.
type uploadSource struct {
	data  []byte
	fixed bool // data is the content (even if empty)
	r     io.Reader
	read  atomic.Int64 // bytes read from r
}

func (src *uploadSource) replayable() bool { return src.fixed || src.read.Load() == 0 }

// Read reads from r, counting.
func (src *uploadSource) Read(p []byte) (int, error) {
	n, err := src.r.Read(p)
	src.read.Add(int64(n))
	return n, err
}

// body returns the body of one attempt, its content type, and its length
// if known: the content alone (raw, for upload-v2), or the multipart part
// "file" around it.
func (src *uploadSource) body(raw bool) (io.ReadCloser, string, int64) {
	var content io.Reader = src
	length := int64(-1)
	if src.fixed {
		content, length = bytes.NewReader(src.data), int64(len(src.data))
	}
	if raw {
		return &uploadBody{r: content}, "application/octet-stream", length
	}
	var frame bytes.Buffer
	mw := multipart.NewWriter(&frame)
	_, _ = mw.CreateFormFile("file", "upload") // writing to a bytes.Buffer cannot fail
	headLen := frame.Len()
	_ = mw.Close()
	head, tail := frame.Bytes()[:headLen], frame.Bytes()[headLen:]
	if length >= 0 {
		length += int64(len(head) + len(tail))
	}
	return &uploadBody{r: io.MultiReader(bytes.NewReader(head), content, bytes.NewReader(tail))}, mw.FormDataContentType(), length
}

// uploadBody is a request body that, once closed, never reads its source
// again. Close waits for a Read in progress, so that when the request is
// over the caller's reader is no longer in use.
type uploadBody struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

var errUploadOver = fault.New("upload already over")

func (ub *uploadBody) Read(p []byte) (int, error) {
	ub.mu.Lock()
	defer ub.mu.Unlock()
	if ub.closed {
		return 0, errUploadOver
	}
	return ub.r.Read(p)
}

func (ub *uploadBody) Close() error {
	ub.mu.Lock()
	ub.closed = true
	ub.mu.Unlock()
	return nil
}
