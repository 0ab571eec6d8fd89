package daytona_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// binary holds every byte value: NULs, invalid UTF-8, CR and LF.
func binary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i/256)
	}
	return b
}

// filesSandbox is a started sandbox, its filesystem and its directory on
// this machine.
func filesSandbox(t testing.TB, srv *daytonatest.Server, opts ...daytona.Option) (*daytona.Sandbox, workspace.Filesystem, string) {
	t.Helper()
	sb := startedSandbox(t, srv, opts...)
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	return sb, sb.Filesystem(), rec.Dir
}

// requirePathErr checks that err is a *fs.PathError for op and name that
// matches target.
func requirePathErr(t *testing.T, err error, op, name string, target error) *fs.PathError {
	t.Helper()
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, op, pe.Op, "op of %v", err)
	require.Equal(t, name, pe.Path, "path of %v", err)
	require.ErrorIs(t, err, target)
	return pe
}

// TestFilesystemRoundTrip: binary content and empty files round-trip
// exactly through WriteFile, Create, ReadFile and Open; missing parents
// are created; relative names are the working directory's, as commands
// see them.
func TestFilesystemRoundTrip(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb, fsys, dir := filesSandbox(t, srv)
	ctx := t.Context()
	data := binary(100_000)
	require.NoError(t, fsys.WriteFile(ctx, "a/b/c.bin", data, 0o644))
	require.NoError(t, fsys.WriteFile(ctx, "empty", nil, 0o644))
	require.NoError(t, fsys.Create(ctx, filepath.Join(dir, "streamed.bin"), iotest.HalfReader(bytes.NewReader(data)), 0o644))

	onDisk, err := os.ReadFile(filepath.Join(dir, "a/b/c.bin"))
	require.NoError(t, err)
	require.Equal(t, data, onDisk)
	for _, name := range []string{"a/b/c.bin", filepath.Join(dir, "a/b/c.bin"), "streamed.bin", "./a/../streamed.bin"} {
		got, err := fsys.ReadFile(ctx, name)
		require.NoError(t, err, name)
		require.Equal(t, data, got, name)
		rc, err := fsys.Open(ctx, name)
		require.NoError(t, err, name)
		got, err = io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		require.Equal(t, data, got, name)
	}
	got, err := fsys.ReadFile(ctx, "empty")
	require.NoError(t, err)
	require.Empty(t, got)

	res, err := sb.ExecuteCommand(ctx, "wc -c < a/b/c.bin && cat empty | wc -c", nil, nil)
	require.NoError(t, err)
	require.Equal(t, "100000\n0\n", res.Stdout)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "from-command"), []byte("hi"), 0o644))
	got, err = fsys.ReadFile(ctx, "from-command")
	require.NoError(t, err)
	require.Equal(t, "hi", string(got))
}

// TestFilesystemStatReadDir: Stat and ReadDir describe files as os does
// (name, size, mode, modification time, owner in Sys), sorted by name.
func TestFilesystemStatReadDir(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, dir := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "d/zz"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d/b.txt"), []byte("bb"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d/a.txt"), []byte("a"), 0o600))
	require.NoError(t, os.Symlink("zz", filepath.Join(dir, "d/link")))

	fi, err := fsys.Stat(ctx, "d/b.txt")
	require.NoError(t, err)
	osfi, err := os.Stat(filepath.Join(dir, "d/b.txt"))
	require.NoError(t, err)
	require.Equal(t, "b.txt", fi.Name())
	require.Equal(t, int64(2), fi.Size())
	require.Equal(t, fs.FileMode(0o640), fi.Mode())
	require.False(t, fi.IsDir())
	require.True(t, fi.ModTime().Equal(osfi.ModTime()), "%v vs %v", fi.ModTime(), osfi.ModTime())
	st, ok := fi.Sys().(*daytona.FileStat)
	require.True(t, ok)
	require.NotEmpty(t, st.Owner)

	entries, err := fsys.ReadDir(ctx, "d")
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		got = append(got, e.Name()+" "+info.Mode().String())
	}
	require.Equal(t, []string{"a.txt -rw-------", "b.txt -rw-r-----", "link drwxr-xr-x", "zz drwxr-xr-x"}, got)
	lists := srv.RequestsFor(daytonatest.OpListFiles)
	require.True(t, strings.HasSuffix(lists[len(lists)-1].Path, "/files/"), "the path every daemon serves: %s", lists[len(lists)-1].Path)
	fi, err = fsys.Stat(ctx, "d")
	require.NoError(t, err)
	require.True(t, fi.IsDir())
}

// TestFilesystemNotExist: missing files are fs.ErrNotExist everywhere,
// as *fs.PathError values naming the operation and the name.
func TestFilesystemNotExist(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, _ := filesSandbox(t, srv)
	ctx := t.Context()
	requirePathErr(t, second(fsys.ReadFile(ctx, "nope")), "read", "nope", fs.ErrNotExist)
	requirePathErr(t, second(fsys.Open(ctx, "nope")), "open", "nope", fs.ErrNotExist)
	requirePathErr(t, second(fsys.Stat(ctx, "no/pe")), "stat", "no/pe", fs.ErrNotExist)
	requirePathErr(t, second(fsys.ReadDir(ctx, "nope")), "readdir", "nope", fs.ErrNotExist)
	requirePathErr(t, fsys.Remove(ctx, "nope"), "remove", "nope", fs.ErrNotExist)
	requirePathErr(t, fsys.Rename(ctx, "nope", "other"), "rename", "nope", fs.ErrNotExist)
	require.NoError(t, fsys.RemoveAll(ctx, "nope"))
	require.NoError(t, fsys.WriteFile(ctx, "f", []byte("x"), 0o644))
	requirePathErr(t, fsys.Rename(ctx, "f", "no/dir/f"), "rename", "no/dir/f", fs.ErrNotExist)
	var de *daytona.Error
	require.False(t, errors.As(second(fsys.ReadFile(ctx, "nope")), &de), "a missing file is not a service failure")
}

func second[T any](_ T, err error) error { return err }

// TestFilesystemWrongKind: directories where files are expected and files
// where directories are give clear errors; a write to a directory is
// refused before anything is uploaded.
func TestFilesystemWrongKind(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, _ := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, fsys.MkdirAll(ctx, "dir/sub", 0o755))
	require.NoError(t, fsys.WriteFile(ctx, "file", []byte("x"), 0o644))

	pe := requirePathErr(t, second(fsys.ReadFile(ctx, "dir")), "read", "dir", fs.ErrInvalid)
	require.Equal(t, "is a directory", pe.Err.Error())
	requirePathErr(t, second(fsys.Open(ctx, "dir")), "open", "dir", fs.ErrInvalid)
	srv.ResetRequests()
	pe = requirePathErr(t, fsys.WriteFile(ctx, "dir", []byte("x"), 0o644), "write", "dir", fs.ErrInvalid)
	require.Equal(t, "is a directory", pe.Err.Error())
	requirePathErr(t, fsys.Create(ctx, "dir", strings.NewReader("x"), 0o644), "write", "dir", fs.ErrInvalid)
	require.Zero(t, srv.Count(daytonatest.OpUploadFile), "nothing is uploaded to a directory")
	pe = requirePathErr(t, second(fsys.ReadDir(ctx, "file")), "readdir", "file", fs.ErrInvalid)
	require.Contains(t, pe.Error(), "not a directory")
	requirePathErr(t, fsys.MkdirAll(ctx, "file", 0o755), "mkdir", "file", fs.ErrInvalid)
	requirePathErr(t, fsys.MkdirAll(ctx, "file/sub", 0o755), "mkdir", "file/sub", fs.ErrInvalid)
	requirePathErr(t, fsys.WriteFile(ctx, "file/sub", nil, 0o644), "write", "file/sub", fs.ErrInvalid)
	requirePathErr(t, second(fsys.Stat(ctx, "file/sub")), "stat", "file/sub", fs.ErrInvalid)
	require.NoError(t, fsys.MkdirAll(ctx, "dir", 0o755), "an existing directory")
}

// TestFilesystemRemove: Remove takes a file or an empty directory and
// refuses a full one (fs.ErrExist, as os.Remove on Unix); RemoveAll takes
// trees and refuses "." and "..".
func TestFilesystemRemove(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, dir := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, fsys.WriteFile(ctx, "full/f", []byte("x"), 0o644))
	require.NoError(t, fsys.MkdirAll(ctx, "empty", 0o755))
	requirePathErr(t, fsys.Remove(ctx, "full"), "remove", "full", fs.ErrExist)
	require.NoError(t, fsys.Remove(ctx, "empty"))
	require.NoError(t, fsys.Remove(ctx, "full/f"))
	require.NoError(t, fsys.Remove(ctx, "full"))
	require.NoError(t, fsys.WriteFile(ctx, "tree/a/b/c", []byte("x"), 0o644))
	require.NoError(t, fsys.RemoveAll(ctx, "tree"))
	for _, name := range []string{"empty", "full", "tree"} {
		_, err := os.Lstat(filepath.Join(dir, name))
		require.ErrorIs(t, err, os.ErrNotExist, name)
	}
	for _, name := range []string{".", "..", "a/.", "a/.."} {
		requirePathErr(t, fsys.RemoveAll(ctx, name), "removeall", name, daytona.ErrInvalidInput)
	}
}

// TestFilesystemRename: a file at the new name is replaced (nothing left
// aside), a directory there is fs.ErrExist, renaming to itself is a no-op.
func TestFilesystemRename(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, dir := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, fsys.WriteFile(ctx, "old", []byte("new content"), 0o644))
	require.NoError(t, fsys.WriteFile(ctx, "sub/target", []byte("old content"), 0o644))
	require.NoError(t, fsys.Rename(ctx, "old", "sub/target"))
	got, err := fsys.ReadFile(ctx, "sub/target")
	require.NoError(t, err)
	require.Equal(t, "new content", string(got))
	entries, err := os.ReadDir(filepath.Join(dir, "sub"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing left aside")
	requirePathErr(t, second(fsys.Stat(ctx, "old")), "stat", "old", fs.ErrNotExist)

	require.NoError(t, fsys.Rename(ctx, "sub/target", "sub/target"))
	require.NoError(t, fsys.MkdirAll(ctx, "adir", 0o755))
	requirePathErr(t, fsys.Rename(ctx, "sub/target", "adir"), "rename", "adir", fs.ErrExist)
	require.NoError(t, fsys.Rename(ctx, "sub", "adir/moved"))
	got, err = fsys.ReadFile(ctx, "adir/moved/target")
	require.NoError(t, err)
	require.Equal(t, "new content", string(got))

	require.NoError(t, fsys.Rename(ctx, "./adir/moved/target", "adir/moved/target"), "the same name")
	// A move that fails after the old file was put aside puts it back:
	// through a link, "alias/target" and "adir/moved/target" are one file.
	require.NoError(t, os.Symlink("adir/moved", filepath.Join(dir, "alias")))
	requirePathErr(t, fsys.Rename(ctx, "alias/target", "adir/moved/target"), "rename", "alias/target", fs.ErrNotExist)
	got, err = fsys.ReadFile(ctx, "adir/moved/target")
	require.NoError(t, err)
	require.Equal(t, "new content", string(got))
	entries, err = os.ReadDir(filepath.Join(dir, "adir/moved"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

// TestFilesystemPerm: a file WriteFile creates gets perm exactly; an
// existing file keeps its mode; 0644 costs no extra request.
func TestFilesystemPerm(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, dir := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, fsys.WriteFile(ctx, "secret", []byte("x"), 0o600))
	require.NoError(t, fsys.WriteFile(ctx, "secret", []byte("y"), 0o644))
	fi, err := os.Stat(filepath.Join(dir, "secret"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode())
	srv.ResetRequests()
	require.NoError(t, fsys.WriteFile(ctx, "plain", []byte("x"), 0o644))
	require.Equal(t, map[daytonatest.Op]int{daytonatest.OpFileInfo: 1, daytonatest.OpUploadFile: 1}, srv.Counts())
	require.NoError(t, fsys.MkdirAll(ctx, "private/dir", 0o700))
	fi, err = os.Stat(filepath.Join(dir, "private"))
	require.NoError(t, err)
	require.Equal(t, fs.ModeDir|0o700, fi.Mode())
}

// TestFilesystemBadInput: bad names and modes fail before any request,
// with errors matching fs.ErrInvalid and daytona.ErrInvalidInput.
func TestFilesystemBadInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	fsys := sb.Filesystem()
	ctx := t.Context()
	for _, name := range []string{"", "a\x00b", "~", "~/x"} {
		errs := map[string]error{
			"read":      second(fsys.ReadFile(ctx, name)),
			"open":      second(fsys.Open(ctx, name)),
			"write":     fsys.WriteFile(ctx, name, nil, 0o644),
			"stat":      second(fsys.Stat(ctx, name)),
			"readdir":   second(fsys.ReadDir(ctx, name)),
			"mkdir":     fsys.MkdirAll(ctx, name, 0o755),
			"remove":    fsys.Remove(ctx, name),
			"removeall": fsys.RemoveAll(ctx, name),
			"rename":    fsys.Rename(ctx, name, "x"),
		}
		errs["rename-new"] = fsys.Rename(ctx, "x", name)
		errs["create"] = fsys.Create(ctx, name, strings.NewReader(""), 0o644)
		for op, err := range errs {
			require.ErrorIs(t, err, fs.ErrInvalid, "%s(%q)", op, name)
			require.ErrorIs(t, err, daytona.ErrInvalidInput, "%s(%q)", op, name)
		}
	}
	require.ErrorIs(t, fsys.WriteFile(ctx, "f", nil, fs.ModeSetuid|0o755), daytona.ErrInvalidInput)
	require.ErrorIs(t, fsys.MkdirAll(ctx, "d", fs.ModeDir|0o755), daytona.ErrInvalidInput)
	require.ErrorIs(t, fsys.Create(ctx, "f", nil, 0o644), daytona.ErrInvalidInput)
	require.Zero(t, srv.TotalCount(), "a request was sent")
	require.Equal(t, workspace.StatusPending, sb.Status())

	var zero daytona.Filesystem
	require.ErrorIs(t, second(zero.ReadFile(ctx, "f")), daytona.ErrInvalidInput)
	var nilFS *daytona.Filesystem
	require.ErrorIs(t, second(nilFS.Stat(ctx, "f")), daytona.ErrInvalidInput)
}

// TestFilesystemLazyStart: the first file call starts the sandbox, as
// ExecuteCommand does; after Destroy, calls fail with ErrNotReady.
func TestFilesystemLazyStart(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	fsys := sb.Filesystem()
	ctx := t.Context()
	require.NoError(t, fsys.WriteFile(ctx, "f", []byte("x"), 0o644))
	require.Equal(t, workspace.StatusRunning, sb.Status())
	require.Equal(t, 1, srv.Count(daytonatest.OpCreate))
	require.NoError(t, sb.Destroy(ctx))
	require.ErrorIs(t, second(fsys.ReadFile(ctx, "f")), daytona.ErrNotReady)
}

// TestFilesystemDeadSandbox: a sandbox stopped behind our back is
// restarted and the call made again (its files kept); one deleted is
// recreated (empty). A streamed write that the sandbox refused after its
// content was read is not sent again, and says so.
func TestFilesystemDeadSandbox(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb, fsys, _ := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, fsys.WriteFile(ctx, "kept", []byte("x"), 0o644))
	require.NoError(t, srv.StopSandbox(sb.DaytonaID()))
	got, err := fsys.ReadFile(ctx, "kept")
	require.NoError(t, err)
	require.Equal(t, "x", string(got))

	const notStarted = "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?"
	require.NoError(t, srv.FailNextWith(daytonatest.OpUploadFile, 1, daytonatest.Fault{Status: 400, Message: notStarted, Proxy: true}))
	require.NoError(t, fsys.WriteFile(ctx, "replayed", []byte("y"), 0o644), "bytes can be sent again")
	require.NoError(t, srv.FailNextWith(daytonatest.OpUploadFile, 1, daytonatest.Fault{Status: 400, Message: notStarted, Proxy: true}))
	err = fsys.Create(ctx, "streamed", strings.NewReader("z"), 0o644)
	require.ErrorContains(t, err, "cannot be sent again")
	require.Equal(t, 400, daytona.StatusCode(err))
	requirePathErr(t, second(fsys.Stat(ctx, "streamed")), "stat", "streamed", fs.ErrNotExist)

	require.NoError(t, srv.DeleteSandbox(sb.DaytonaID()))
	requirePathErr(t, second(fsys.ReadFile(ctx, "kept")), "read", "kept", fs.ErrNotExist)
	require.Equal(t, 2, srv.Count(daytonatest.OpCreate), "recreated")
}

// TestFilesystemServiceErrors: failures of the service keep *daytona.Error
// with the status; a cancelled context matches context.Canceled.
func TestFilesystemServiceErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, _ := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, srv.FailNext(daytonatest.OpDownloadFile, 1, 503, "overloaded"))
	err := second(fsys.ReadFile(ctx, "f"))
	var de *daytona.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, 503, de.StatusCode)
	require.Contains(t, err.Error(), `download "f": HTTP 503: overloaded`)
	require.NotErrorIs(t, err, fs.ErrNotExist)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, second(fsys.Stat(cctx, "f")), context.Canceled)
}

// TestFilesystemUploadCutShort: an upload that fails on the client's side
// (the reader's error, a cancelled context) leaves the file as it was,
// and the error says why.
func TestFilesystemUploadCutShort(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, dir := filesSandbox(t, srv)
	ctx := t.Context()
	require.NoError(t, fsys.WriteFile(ctx, "keep", []byte("original"), 0o644))
	boom := errors.New("boom")
	err := fsys.Create(ctx, "keep", io.MultiReader(strings.NewReader(strings.Repeat("partial ", 10_000)), iotest.ErrReader(boom)), 0o644)
	require.ErrorIs(t, err, boom)
	var de *daytona.Error
	require.ErrorAs(t, err, &de)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = fsys.Create(cctx, "keep", &cancellingReader{cancel: cancel, left: 1 << 20}, 0o644)
	require.ErrorIs(t, err, context.Canceled)
	got, err := os.ReadFile(filepath.Join(dir, "keep"))
	require.NoError(t, err)
	require.Equal(t, "original", string(got))
}

// cancellingReader yields left bytes, cancelling its context after the
// first Read.
type cancellingReader struct {
	cancel context.CancelFunc
	left   int
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	r.cancel()
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	clear(p[:n])
	r.left -= n
	return n, nil
}

// TestFilesystemOpenSeek: the stream of Open seeks with Range requests
// and reports a transfer cut short.
func TestFilesystemOpenSeek(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, _ := filesSandbox(t, srv)
	ctx := t.Context()
	data := binary(10_000)
	require.NoError(t, fsys.WriteFile(ctx, "f", data, 0o644))
	rc, err := fsys.Open(ctx, "f")
	require.NoError(t, err)
	require.NoError(t, iotest.TestReader(rc, data))
	s := rc.(io.ReadSeeker)
	_, err = s.Seek(-10, io.SeekEnd)
	require.NoError(t, err)
	got, err := io.ReadAll(s)
	require.NoError(t, err)
	require.Equal(t, data[len(data)-10:], got)
	require.NoError(t, rc.Close())
	require.ErrorIs(t, rc.Close(), fs.ErrClosed)
	_, err = rc.Read(make([]byte, 1))
	require.ErrorIs(t, err, fs.ErrClosed)
}

// TestFilesystemFS: the io/fs view of a sandbox directory passes
// fstest.TestFS (see also the conformance suite) and walks.
func TestFilesystemFSWalk(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, fsys, _ := filesSandbox(t, srv)
	ctx := t.Context()
	for name, content := range map[string]string{"p/go.mod": "module p\n", "p/cmd/x/main.go": "package main\n", "p/empty": ""} {
		require.NoError(t, fsys.WriteFile(ctx, name, []byte(content), 0o644))
	}
	var walked []string
	err := fs.WalkDir(workspace.FS(ctx, fsys, "p"), ".", func(p string, d fs.DirEntry, err error) error {
		walked = append(walked, p)
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []string{".", "cmd", "cmd/x", "cmd/x/main.go", "empty", "go.mod"}, walked)
	matches, err := fs.Glob(workspace.FS(ctx, fsys, "p"), "cmd/*/*.go")
	require.NoError(t, err)
	require.Equal(t, []string{"cmd/x/main.go"}, matches)
}
