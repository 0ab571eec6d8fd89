// Package seekread reads a file's content from an offset that Seek moves,
// over a stream that is opened again where the offset went: the
// io.ReadSeekCloser behind daytona's Filesystem.Open (which opens with
// HTTP Range requests) and behind the files of workspace.FS (which opens
// through any workspace.Filesystem). It imports only the standard
// library, so that package workspace may use it.
package seekread

import (
	"errors"
	"io"
	"io/fs"
	"sync"
)

// Opener opens the content from off. It returns the stream and where the
// stream is, at most off (a server that ignores a range request starts at
// 0); the Reader moves on to off by seeking the stream when it is an
// io.Seeker, else by reading and dropping bytes. Its error is returned
// from Read as it is.
type Opener func(off int64) (rc io.ReadCloser, at int64, err error)

// Options set how a Reader reaches an offset and reports failures.
type Options struct {
	// Size is the content's size, for io.SeekEnd and to answer io.EOF past
	// the end without opening anything; -1 if unknown.
	Size int64
	// ReopenForward opens the stream again to move forward, instead of
	// reading up to the new offset (for an Opener that starts where asked).
	ReopenForward bool
	// Fail makes the error of a Read that failed while reading, skipping or
	// seeking the stream (not while opening it); nil leaves it as it is.
	Fail func(err error) error
}

// Reader reads the content of one file. It is safe for concurrent use.
type Reader struct {
	name string
	open Opener
	opts Options

	mu     sync.Mutex    // guards the fields below
	rc     io.ReadCloser // nil until the first Read, and after a Seek that needs another stream
	at     int64         // where rc is
	off    int64         // where the next Read starts
	closed bool
}

// New returns a Reader of the file name (for errors) that opens its
// content with open. rc, if not nil, is a stream already open at offset 0.
func New(name string, open Opener, rc io.ReadCloser, opts Options) *Reader {
	return &Reader{name: name, open: open, opts: opts, rc: rc}
}

// Read reads from the current offset.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, &fs.PathError{Op: "read", Path: r.name, Err: fs.ErrClosed}
	}
	if err := r.position(); err != nil {
		return 0, err
	}
	n, err := r.rc.Read(p)
	r.at += int64(n)
	r.off += int64(n)
	if err != nil && err != io.EOF {
		err = r.fail(err)
	}
	return n, err
}

// position makes rc a stream at off, with r.mu held. Past the end of a
// known size it answers io.EOF and opens nothing.
func (r *Reader) position() error {
	if r.rc != nil && r.at == r.off {
		return nil
	}
	if r.rc != nil {
		if _, seeks := r.rc.(io.Seeker); seeks || (r.off > r.at && !r.opts.ReopenForward) {
			return r.advance()
		}
		r.rc.Close()
		r.rc = nil
	}
	if r.opts.Size >= 0 && r.off >= r.opts.Size {
		return io.EOF
	}
	rc, at, err := r.open(r.off)
	if err != nil {
		return err
	}
	r.rc, r.at = rc, at
	return r.advance()
}

// advance moves rc from at to off: by seeking it, or by reading and
// dropping what lies between (the end of the content comes first: the
// next Read then answers io.EOF).
func (r *Reader) advance() error {
	if s, ok := r.rc.(io.Seeker); ok {
		if r.at == r.off {
			return nil
		}
		at, err := s.Seek(r.off, io.SeekStart)
		r.at = at
		if err != nil {
			return r.fail(err)
		}
		return nil
	}
	n, err := io.CopyN(io.Discard, r.rc, r.off-r.at)
	r.at += n
	if err != nil && err != io.EOF {
		return r.fail(err)
	}
	return nil
}

func (r *Reader) fail(err error) error {
	if r.opts.Fail == nil {
		return err
	}
	return r.opts.Fail(err)
}

// errSizeUnknown refuses io.SeekEnd when the size is unknown.
var errSizeUnknown = errors.New("size unknown: the server sent no Content-Length")

// Seek sets the offset of the next Read, relative to the start, the
// current offset or the end (Options.Size); it opens nothing.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, &fs.PathError{Op: "seek", Path: r.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		if r.opts.Size < 0 {
			return 0, &fs.PathError{Op: "seek", Path: r.name, Err: errSizeUnknown}
		}
		offset += r.opts.Size
	default:
		return 0, &fs.PathError{Op: "seek", Path: r.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: r.name, Err: fs.ErrInvalid}
	}
	r.off = offset
	return offset, nil
}

// Close closes the stream, if one is open. A second Close reports
// fs.ErrClosed.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return &fs.PathError{Op: "close", Path: r.name, Err: fs.ErrClosed}
	}
	r.closed = true
	if r.rc != nil {
		return r.rc.Close()
	}
	return nil
}
