package workspace

import (
	"errors"
	"io"
	"io/fs"
	"sync"
)

// Reopen opens a file's content from offset off, for NewReadSeeker: it
// returns the stream and the offset the stream starts at, which is off
// when the stream honours it (an HTTP Range request, say) or less (0: the
// content from its start; the reader skips up to off).
type Reopen func(off int64) (rc io.ReadCloser, at int64, err error)

// skipLimit is how far a reader reads ahead to reach a later offset on the
// stream it has; farther, it opens the content again there.
const skipLimit = 1 << 20

// NewReadSeeker returns an io.ReadSeekCloser over the content of the file
// name, of size bytes (-1 if unknown), for implementations of
// Filesystem.Open (and for the files of FS): Seek only moves the offset of
// the next Read, which reaches it on the stream it has (seeking it when it
// is an io.Seeker, reading ahead by up to 1 MiB) or opens the content
// again there with reopen. rc, if not nil, is the content already opened
// at offset 0; otherwise the first Read opens it (with a nil reopen, it
// fails saying so). Past a known size, Read answers io.EOF without opening
// anything; io.SeekEnd needs a known size.
// Errors are *fs.PathError values naming name (the cause of a
// *fs.PathError from reopen or a stream is kept); after Close, every call
// fails with fs.ErrClosed. It is safe for concurrent use.
func NewReadSeeker(name string, size int64, rc io.ReadCloser, reopen Reopen) io.ReadSeekCloser {
	return &readSeeker{name: name, size: size, rc: rc, reopen: reopen}
}

// readSeeker is what NewReadSeeker returns.
type readSeeker struct {
	name   string
	size   int64
	reopen Reopen

	mu     sync.Mutex    // guards the fields below
	rc     io.ReadCloser // nil until the first Read, and after a Seek that needs another stream
	at     int64         // where rc is
	off    int64         // where the next Read starts
	closed bool
}

// Read reads from the current offset.
func (rs *readSeeker) Read(p []byte) (int, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return 0, &fs.PathError{Op: "read", Path: rs.name, Err: fs.ErrClosed}
	}
	if err := rs.position(); err != nil {
		return 0, err
	}
	n, err := rs.rc.Read(p)
	rs.at += int64(n)
	rs.off += int64(n)
	if err != nil && err != io.EOF {
		err = rs.fail(err)
	}
	return n, err
}

// position makes rc a stream at off, with r.mu held.
func (rs *readSeeker) position() error {
	if rs.rc != nil && rs.at == rs.off {
		return nil
	}
	if rs.rc != nil {
		if _, seeks := rs.rc.(io.Seeker); seeks || (rs.off > rs.at && rs.off-rs.at <= skipLimit) {
			return rs.advance()
		}
		rs.rc.Close()
		rs.rc = nil
	}
	if rs.size >= 0 && rs.off >= rs.size {
		return io.EOF
	}
	if rs.reopen == nil {
		return rs.fail(errNoReopen)
	}
	rc, at, err := rs.reopen(rs.off)
	if err != nil {
		return rs.fail(err)
	}
	rs.rc, rs.at = rc, at
	return rs.advance()
}

// advance moves rc from at to off: by seeking it, or by reading and
// dropping what lies between (the end of the content coming first, the
// next Read answers io.EOF).
func (rs *readSeeker) advance() error {
	if s, ok := rs.rc.(io.Seeker); ok {
		if rs.at == rs.off {
			return nil
		}
		at, err := s.Seek(rs.off, io.SeekStart)
		rs.at = at
		if err != nil {
			return rs.fail(err)
		}
		return nil
	}
	n, err := io.CopyN(io.Discard, rs.rc, rs.off-rs.at)
	rs.at += n
	if err != nil && err != io.EOF {
		return rs.fail(err)
	}
	return nil
}

// fail reports err as a failure to read the file.
func (rs *readSeeker) fail(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fs.PathError{Op: "read", Path: rs.name, Err: err}
}

// errNoReopen is the error of a reader given no way to open its content.
var errNoReopen = errors.New("NewReadSeeker was given a nil Reopen")

// errSizeUnknown refuses io.SeekEnd when the size is unknown.
var errSizeUnknown = errors.New("size unknown")

// Seek sets the offset of the next Read, relative to the start, the
// current offset or the end; it opens nothing.
func (rs *readSeeker) Seek(offset int64, whence int) (int64, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return 0, &fs.PathError{Op: "seek", Path: rs.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += rs.off
	case io.SeekEnd:
		if rs.size < 0 {
			return 0, &fs.PathError{Op: "seek", Path: rs.name, Err: errSizeUnknown}
		}
		offset += rs.size
	default:
		return 0, &fs.PathError{Op: "seek", Path: rs.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: rs.name, Err: fs.ErrInvalid}
	}
	rs.off = offset
	return offset, nil
}

// Close closes the stream, if one is open. A second Close reports
// fs.ErrClosed.
func (rs *readSeeker) Close() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return &fs.PathError{Op: "close", Path: rs.name, Err: fs.ErrClosed}
	}
	rs.closed = true
	if rs.rc != nil {
		return rs.rc.Close()
	}
	return nil
}
