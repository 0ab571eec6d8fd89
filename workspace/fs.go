package workspace

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// FS returns a read-only [io/fs] view of the directory dir of f, so that
// fs.WalkDir, fs.Glob, fs.ReadFile, fs.Sub, template.ParseFS and
// testing/fstest.TestFS work on a sandbox's files. dir is a name as f
// takes it: absolute, or relative to the sandbox's working directory ("",
// or ".", is the working directory itself).
//
// The view implements fs.ReadFileFS, fs.ReadDirFS, fs.StatFS and
// fs.SubFS. Its names are fs.ValidPath names below dir (no "..", no
// leading or trailing slash, "." for dir itself) without NUL bytes; others
// fail with an
// *fs.PathError wrapping fs.ErrInvalid before any call to f. Errors are
// *fs.PathError values with the view's own name for Path, wrapping what f
// reported (so errors.Is(err, fs.ErrNotExist) works). Symbolic links are
// followed by the sandbox, and may lead outside dir: the view confines
// names, not the sandbox's links.
//
// ctx bounds every call made through the view, including reads from the
// files it opens: once ctx ends, they fail. Open of a file describes it
// (one Stat) and reads nothing until the first Read; its handle
// implements io.Seeker (Seek positions the next Read; f's stream is used
// to get there, seeking it when it is an io.Seeker and reading and
// dropping bytes otherwise). Directories opened through the view
// implement fs.ReadDirFile and list their entries on the first ReadDir.
//
// A nil ctx or f makes every call fail with an error saying so.
func FS(ctx context.Context, f Filesystem, dir string) fs.FS {
	v := &fsView{ctx: ctx, f: f, dir: dir}
	switch {
	case ctx == nil:
		v.err = errors.New("workspace: FS was given a nil Context")
	case f == nil:
		v.err = errors.New("workspace: FS was given a nil Filesystem")
	}
	return v
}

// fsView is what FS returns.
type fsView struct {
	ctx context.Context
	f   Filesystem
	dir string
	err error // FS's arguments were unusable
}

var (
	_ fs.ReadFileFS = (*fsView)(nil)
	_ fs.ReadDirFS  = (*fsView)(nil)
	_ fs.StatFS     = (*fsView)(nil)
	_ fs.SubFS      = (*fsView)(nil)
)

// full returns the name f knows the view's name by, or a *fs.PathError
// for op when name is not a valid fs.FS name.
func (v *fsView) full(op, name string) (string, error) {
	if !fs.ValidPath(name) || strings.IndexByte(name, 0) >= 0 {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if v.err != nil {
		return "", &fs.PathError{Op: op, Path: name, Err: v.err}
	}
	switch {
	case name == ".":
		if v.dir == "" {
			return ".", nil
		}
		return v.dir, nil
	case v.dir == "" || v.dir == ".":
		return name, nil
	case strings.HasSuffix(v.dir, "/"):
		return v.dir + name, nil
	}
	return v.dir + "/" + name, nil
}

// viewErr reports err, from f, as a failure of op on the view's name:
// the cause of a *fs.PathError is kept with the view's name; any other
// error is wrapped whole.
func viewErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Open implements fs.FS.
func (v *fsView) Open(name string) (fs.File, error) {
	full, err := v.full("open", name)
	if err != nil {
		return nil, err
	}
	info, err := v.f.Stat(v.ctx, full)
	if err != nil {
		return nil, viewErr("open", name, err)
	}
	info = namedInfo{info, path.Base(name)}
	if info.IsDir() {
		return &viewDir{v: v, name: name, full: full, info: info}, nil
	}
	return v.openFile(name, full, info), nil
}

// ReadFile implements fs.ReadFileFS: one call to f.ReadFile.
func (v *fsView) ReadFile(name string) ([]byte, error) {
	full, err := v.full("readfile", name)
	if err != nil {
		return nil, err
	}
	data, err := v.f.ReadFile(v.ctx, full)
	if err != nil {
		return nil, viewErr("readfile", name, err)
	}
	return data, nil
}

// ReadDir implements fs.ReadDirFS: one call to f.ReadDir.
func (v *fsView) ReadDir(name string) ([]fs.DirEntry, error) {
	full, err := v.full("readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := v.f.ReadDir(v.ctx, full)
	if err != nil {
		return nil, viewErr("readdir", name, err)
	}
	return entries, nil
}

// Stat implements fs.StatFS: one call to f.Stat. The result is named
// path.Base(name), as entries of its directory name it.
func (v *fsView) Stat(name string) (fs.FileInfo, error) {
	full, err := v.full("stat", name)
	if err != nil {
		return nil, err
	}
	info, err := v.f.Stat(v.ctx, full)
	if err != nil {
		return nil, viewErr("stat", name, err)
	}
	return namedInfo{info, path.Base(name)}, nil
}

// Sub implements fs.SubFS: the view of dir below this one. It makes no
// call to f.
func (v *fsView) Sub(dir string) (fs.FS, error) {
	full, err := v.full("sub", dir)
	if err != nil {
		return nil, err
	}
	return &fsView{ctx: v.ctx, f: v.f, dir: full, err: v.err}, nil
}

// namedInfo is a FileInfo under another name.
type namedInfo struct {
	fs.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

// viewDir is a directory opened through the view.
type viewDir struct {
	v          *fsView
	name, full string
	info       fs.FileInfo

	mu      sync.Mutex // guards the fields below
	entries []fs.DirEntry
	listed  bool
	closed  bool
}

func (d *viewDir) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *viewDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errIsDir}
}

// errIsDir is the error of reading a directory as a file.
var errIsDir = errors.New("is a directory")

func (d *viewDir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir implements fs.ReadDirFile: the entries are listed (one call to
// f.ReadDir) on the first call, then handed out n at a time.
func (d *viewDir) ReadDir(n int) ([]fs.DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if !d.listed {
		entries, err := d.v.f.ReadDir(d.v.ctx, d.full)
		if err != nil {
			return nil, viewErr("readdir", d.name, err)
		}
		d.entries, d.listed = entries, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}

// viewFile is a file opened through the view: its stream is opened (one
// call to f.Open) on the first Read, and again when a Seek moves back
// before where the stream is, unless the stream can seek (see
// NewReadSeeker).
type viewFile struct {
	io.ReadSeekCloser
	info fs.FileInfo
}

func (f *viewFile) Stat() (fs.FileInfo, error) { return f.info, nil }

// openFile returns the file name of the view, f's file full, described by
// info; it opens nothing yet.
func (v *fsView) openFile(name, full string, info fs.FileInfo) *viewFile {
	reopen := func(int64) (io.ReadCloser, int64, error) {
		rc, err := v.f.Open(v.ctx, full)
		return rc, 0, err
	}
	return &viewFile{ReadSeekCloser: NewReadSeeker(name, info.Size(), nil, reopen), info: info}
}
