package workspace_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// mapFilesystem is a read-only workspace.Filesystem over an
// fstest.MapFS, counting its calls. With plain set, the streams of Open
// hide their io.Seeker, so the view has to reopen and skip.
type mapFilesystem struct {
	m     fstest.MapFS
	plain bool
	calls atomic.Int32
	opens atomic.Int32
}

var errReadOnly = errors.New("read-only test filesystem")

func (f *mapFilesystem) ReadFile(ctx context.Context, name string) ([]byte, error) {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fs.ReadFile(f.m, name)
}

func (f *mapFilesystem) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	f.calls.Add(1)
	f.opens.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file, err := f.m.Open(name)
	if err != nil {
		return nil, err
	}
	if f.plain {
		return struct {
			io.Reader
			io.Closer
		}{file, file}, nil
	}
	return file, nil
}

func (f *mapFilesystem) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fs.Stat(f.m, name)
}

func (f *mapFilesystem) ReadDir(ctx context.Context, name string) ([]fs.DirEntry, error) {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fs.ReadDir(f.m, name)
}

func (f *mapFilesystem) WriteFile(context.Context, string, []byte, fs.FileMode) error {
	return errReadOnly
}
func (f *mapFilesystem) Create(context.Context, string, io.Reader, fs.FileMode) error {
	return errReadOnly
}
func (f *mapFilesystem) MkdirAll(context.Context, string, fs.FileMode) error { return errReadOnly }
func (f *mapFilesystem) Remove(context.Context, string) error                { return errReadOnly }
func (f *mapFilesystem) RemoveAll(context.Context, string) error             { return errReadOnly }
func (f *mapFilesystem) Rename(context.Context, string, string) error        { return errReadOnly }

// testTree is a project with nested directories, an empty file and a
// binary file, below "proj".
func testTree() fstest.MapFS {
	bin := make([]byte, 1000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	now := time.Unix(1700000000, 0)
	return fstest.MapFS{
		"proj/go.mod":               {Data: []byte("module x\n"), ModTime: now},
		"proj/main.go":              {Data: []byte("package main\n\nfunc main() {}\n"), ModTime: now},
		"proj/empty":                {Data: nil, ModTime: now},
		"proj/assets/logo.bin":      {Data: bin, ModTime: now},
		"proj/internal/a/b/deep.go": {Data: []byte("package b\n"), ModTime: now},
		"other.txt":                 {Data: []byte("outside proj\n"), ModTime: now},
	}
}

var treeFiles = []string{"go.mod", "main.go", "empty", "assets/logo.bin", "internal/a/b/deep.go"}

// TestFSPassesFSTest runs testing/fstest.TestFS on views rooted at a
// directory, with streams that can seek and streams that cannot.
func TestFSPassesFSTest(t *testing.T) {
	for _, plain := range []bool{false, true} {
		f := &mapFilesystem{m: testTree(), plain: plain}
		if err := fstest.TestFS(workspace.FS(t.Context(), f, "proj"), treeFiles...); err != nil {
			t.Errorf("plain=%v: %v", plain, err)
		}
	}
	f := &mapFilesystem{m: testTree()}
	if err := fstest.TestFS(workspace.FS(t.Context(), f, ""), append([]string{"other.txt"}, "proj/go.mod")...); err != nil {
		t.Errorf("view of the working directory: %v", err)
	}
}

// TestFSInvalidNames: names that are not fs.ValidPath fail with
// fs.ErrInvalid, without a call to the Filesystem.
func TestFSInvalidNames(t *testing.T) {
	f := &mapFilesystem{m: testTree()}
	fsys := workspace.FS(t.Context(), f, "proj")
	for _, name := range []string{"", "/go.mod", "../other.txt", "a/../go.mod", "assets/", "./go.mod", "a\x00b"} {
		for op, err := range map[string]error{
			"open":     second(fsys.Open(name)),
			"readfile": second(fs.ReadFile(fsys, name)),
			"readdir":  second(fs.ReadDir(fsys, name)),
			"stat":     second(fs.Stat(fsys, name)),
			"sub":      second(fs.Sub(fsys, name)),
		} {
			var pe *fs.PathError
			if !errors.As(err, &pe) || !errors.Is(err, fs.ErrInvalid) || pe.Path != name {
				t.Errorf("%s(%q) = %v; want a *fs.PathError for the name, wrapping fs.ErrInvalid", op, name, err)
			}
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("the Filesystem was called %d times for invalid names", n)
	}
}

func second[T any](_ T, err error) error { return err }

// TestFSErrors: the Filesystem's errors come back as *fs.PathError with
// the view's name and op, still matching fs.ErrNotExist; other errors
// (a context's) are wrapped whole.
func TestFSErrors(t *testing.T) {
	f := &mapFilesystem{m: testTree()}
	fsys := workspace.FS(t.Context(), f, "proj")
	_, err := fs.ReadFile(fsys, "missing.txt")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "missing.txt" || pe.Op != "readfile" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing.txt) = %#v", err)
	}
	dir, err := fsys.Open("assets")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Read of a directory = %v", err)
	}
	if err := dir.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dir.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v; want fs.ErrClosed", err)
	}

	//lint:ignore SA1012 a nil Context is what is tested
	for _, bad := range []fs.FS{workspace.FS(nil, f, "proj"), workspace.FS(t.Context(), nil, "proj")} {
		if _, err := fs.ReadFile(bad, "go.mod"); err == nil || !strings.Contains(err.Error(), "workspace: FS was given a nil") {
			t.Errorf("a view with a nil argument: %v", err)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = fs.Stat(workspace.FS(ctx, f, "proj"), "go.mod")
	if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || pe.Path != "go.mod" {
		t.Errorf("Stat after cancel = %v; want a *fs.PathError wrapping context.Canceled", err)
	}
}

// TestFSFileSeek: Open reads nothing until the first Read; Seek positions
// the next Read; a stream that cannot seek is reopened to go back.
func TestFSFileSeek(t *testing.T) {
	f := &mapFilesystem{m: testTree(), plain: true}
	fsys := workspace.FS(t.Context(), f, "proj")
	file, err := fsys.Open("main.go")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if n := f.opens.Load(); n != 0 {
		t.Errorf("Open opened the stream %d times before any Read", n)
	}
	s := file.(io.ReadSeeker)
	read := func(n int) string {
		b := make([]byte, n)
		got, err := io.ReadFull(s, b)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			t.Fatalf("Read: %v", err)
		}
		return string(b[:got])
	}
	if got := read(7); got != "package" {
		t.Errorf("first read %q", got)
	}
	if pos, _ := s.Seek(-4, io.SeekEnd); pos != 25 {
		t.Errorf("Seek(-4, end) = %d", pos)
	}
	if got := read(10); got != " {}\n" {
		t.Errorf("read at end %q", got)
	}
	if _, err := s.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if got := read(4); got != "pack" {
		t.Errorf("read after rewinding %q", got)
	}
	if n := f.opens.Load(); n != 2 {
		t.Errorf("the stream was opened %d times; want 2 (once more to go back)", n)
	}
	if _, err := s.Seek(-1, io.SeekStart); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Seek(-1) = %v", err)
	}
	if pos, _ := s.Seek(100, io.SeekStart); pos != 100 {
		t.Errorf("Seek past the end = %d", pos)
	}
	if n, err := s.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("Read past the end = %d, %v; want 0, EOF", n, err)
	}
}
