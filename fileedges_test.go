package daytona_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
)

// Issue #19, files: no file is lost, and every file operation means what
// package os means. The sandbox of daytonatest is this machine, so each
// case is done twice, once through the Filesystem and once with package
// os on a copy of the same tree, and the outcomes compared.

// tree is a snapshot of a directory: each entry's relative path, its
// type, and a file's content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link " + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			out[rel] = "file " + string(data)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// sameOutcome checks that err, of the Filesystem, is what osErr, of
// package os, is: nil, or an error matching the same fs sentinels and the
// same errno where no sentinel stands for it.
func sameOutcome(t *testing.T, what string, err, osErr error) {
	t.Helper()
	if osErr == nil {
		assert.NoError(t, err, what)
		return
	}
	if !assert.Error(t, err, "%s: os says %v", what, osErr) {
		return
	}
	var pe *fs.PathError
	assert.ErrorAs(t, err, &pe, what)
	for _, sentinel := range []error{fs.ErrNotExist, fs.ErrExist, fs.ErrPermission} {
		assert.Equal(t, errors.Is(osErr, sentinel), errors.Is(err, sentinel), "%s: %v against os's %v (%v)", what, err, osErr, sentinel)
	}
	var errno syscall.Errno
	if errors.As(osErr, &errno) && !errors.Is(errno, fs.ErrNotExist) && !errors.Is(errno, fs.ErrExist) && !errors.Is(errno, fs.ErrPermission) {
		assert.ErrorIs(t, err, errno, "%s: %v against os's %v", what, err, osErr)
	}
}

// renameKinds make what a name is before a rename, under dir.
var renameKinds = map[string]func(t *testing.T, name string){
	"missing": func(*testing.T, string) {},
	"file": func(t *testing.T, name string) {
		require.NoError(t, os.WriteFile(name, []byte("content of "+filepath.Base(name)), 0o644))
	},
	"emptydir": func(t *testing.T, name string) { require.NoError(t, os.Mkdir(name, 0o755)) },
	"fulldir": func(t *testing.T, name string) {
		require.NoError(t, os.Mkdir(name, 0o755))
		require.NoError(t, os.WriteFile(name+"/inner", []byte("inner of "+filepath.Base(name)), 0o644))
	},
}

// renameCase is one rename: what old and new are, and the names given
// (relative to the case's directory).
type renameCase struct {
	oldKind, newKind string
	oldName, newName string
}

func renameCases() []renameCase {
	var cases []renameCase
	kinds := []string{"missing", "file", "emptydir", "fulldir"}
	for _, ok := range kinds {
		for _, nk := range kinds {
			cases = append(cases, renameCase{ok, nk, "a", "b"}, renameCase{ok, nk, "a/", "b"}, renameCase{ok, nk, "a", "b/"})
		}
		cases = append(cases,
			renameCase{ok, "missing", "a", "a"}, renameCase{ok, "missing", "a", "./a"},
			renameCase{ok, "missing", "a", "a/sub"}, renameCase{ok, "missing", "a", "nodir/b"},
			renameCase{ok, "missing", "a", "a/."}, renameCase{ok, "missing", "a", "."},
			renameCase{ok, "missing", "a/", "a"}, renameCase{ok, "missing", "a", "a/"}, renameCase{ok, "missing", "./a", "a"},
			renameCase{ok, "missing", "a", ".."}, renameCase{ok, "missing", "a/.", "b"}, renameCase{ok, "missing", "a/..", "b"},
			renameCase{ok, "missing", "a", "a/sub/deeper"}, renameCase{ok, "missing", "a", "nodir/"},
		)
	}
	return cases
}

// Item 1: Rename follows os.Rename on Linux, cell by cell, and changes
// nothing when it fails.
func TestRenameMatrixFollowsOS(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	fsys := startedSandbox(t, srv).Filesystem()
	base := t.TempDir()
	for i, c := range renameCases() {
		what := c.oldKind + " " + c.oldName + " -> " + c.newKind + " " + c.newName
		var dirs [2]string
		for k := range dirs {
			dirs[k] = filepath.Join(base, strconv.Itoa(i)+"-"+strconv.Itoa(k))
			require.NoError(t, os.Mkdir(dirs[k], 0o755))
			renameKinds[c.oldKind](t, dirs[k]+"/a")
			if c.newName == "b" || c.newName == "b/" {
				renameKinds[c.newKind](t, dirs[k]+"/b")
			}
		}
		before := tree(t, dirs[0])
		err := fsys.Rename(t.Context(), dirs[0]+"/"+c.oldName, dirs[0]+"/"+c.newName)
		osErr := os.Rename(dirs[1]+"/"+c.oldName, dirs[1]+"/"+c.newName)
		sameOutcome(t, what, err, osErr)
		after := tree(t, dirs[0])
		assert.Equal(t, tree(t, dirs[1]), after, "%s: the trees differ", what)
		if err != nil {
			assert.Equal(t, before, after, "%s: a failed rename changed something", what)
		}
	}
}

// Item 1: the case of the issue, in words: a directory renamed onto a
// file is refused (ENOTDIR), and the file is still there.
func TestRenameDirectoryOntoFileKeepsTheFile(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	fsys := startedSandbox(t, srv).Filesystem()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(dir+"/d", 0o755))
	require.NoError(t, os.WriteFile(dir+"/d/x", []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(dir+"/f", []byte("keep me"), 0o644))
	err := fsys.Rename(t.Context(), dir+"/d", dir+"/f")
	require.ErrorIs(t, err, syscall.ENOTDIR)
	data, rerr := os.ReadFile(dir + "/f")
	require.NoError(t, rerr)
	assert.Equal(t, "keep me", string(data))
	assert.FileExists(t, dir+"/d/x")
}

// Item 2: a file-content operation on a name that can only name a
// directory fails as os fails, and a failed write leaves nothing behind.
func TestTrailingSlashesAreNotFiles(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	fsys := startedSandbox(t, srv).Filesystem()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/file", []byte("content"), 0o644))
	require.NoError(t, os.Mkdir(dir+"/sub", 0o755))
	for _, name := range []string{"file/", "file/.", "file//", "sub/", "sub/.", "sub/..", "missing/", "missing/.", "new/", "sub/new/", "."} {
		full := dir + "/" + name
		_, err := fsys.ReadFile(t.Context(), full)
		_, osErr := os.ReadFile(full)
		sameOutcome(t, "ReadFile "+name, err, osErr)

		rc, err := fsys.Open(t.Context(), full)
		if err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		f, osErr := os.Open(full)
		if osErr == nil {
			_, osErr = io.ReadAll(f)
			f.Close()
		}
		sameOutcome(t, "Open "+name, err, osErr)

		before := tree(t, dir)
		srv.ResetRequests()
		err = fsys.WriteFile(t.Context(), full, []byte("x"), 0o644)
		assert.Error(t, err, "WriteFile %s", name)
		var pe *fs.PathError
		assert.ErrorAs(t, err, &pe, "WriteFile %s", name)
		assert.ErrorIs(t, err, syscall.EISDIR, "WriteFile %s: os says 'is a directory'", name)
		err = fsys.Create(t.Context(), full, strings.NewReader("x"), 0o644)
		assert.ErrorIs(t, err, syscall.EISDIR, "Create %s", name)
		assert.Zero(t, srv.TotalCount(), "WriteFile and Create of %s sent requests", name)
		assert.Equal(t, before, tree(t, dir), "a failed write of %s left something", name)
	}
}

// Item 3: a name that is not UTF-8 is refused before any request, for
// every operation; none is written and then unreadable.
func TestNonUTF8NamesAreRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	fsys := startedSandbox(t, srv).Filesystem()
	dir := t.TempDir()
	for _, bad := range []string{dir + "/caf\xe9.txt", dir + "/\xff/x", "\xc3(", dir + "/ok\xed\xa0\x80"} {
		srv.ResetRequests()
		errs := map[string]error{
			"WriteFile": fsys.WriteFile(t.Context(), bad, []byte("x"), 0o644),
			"Create":    fsys.Create(t.Context(), bad, strings.NewReader("x"), 0o644),
			"ReadFile":  second(fsys.ReadFile(t.Context(), bad)),
			"Open":      second(fsys.Open(t.Context(), bad)),
			"Stat":      second(fsys.Stat(t.Context(), bad)),
			"ReadDir":   second(fsys.ReadDir(t.Context(), bad)),
			"MkdirAll":  fsys.MkdirAll(t.Context(), bad, 0o755),
			"Remove":    fsys.Remove(t.Context(), bad),
			"RemoveAll": fsys.RemoveAll(t.Context(), bad),
			"Rename":    fsys.Rename(t.Context(), bad, dir+"/b"),
			"Rename to": fsys.Rename(t.Context(), dir+"/b", bad),
		}
		for op, err := range errs {
			var pe *fs.PathError
			assert.ErrorAs(t, err, &pe, "%s %q", op, bad)
			assert.ErrorIs(t, err, fs.ErrInvalid, "%s %q", op, bad)
			assert.ErrorIs(t, err, daytona.ErrInvalidInput, "%s %q", op, bad)
		}
		assert.Zero(t, srv.TotalCount(), "requests for %q", bad)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was written")
	// A valid name is unaffected, whatever its script.
	name := dir + "/café ☕ 日本.txt"
	require.NoError(t, fsys.WriteFile(t.Context(), name, []byte("ok"), 0o644))
	listed, err := fsys.ReadDir(t.Context(), dir)
	require.NoError(t, err)
	require.Len(t, listed, 1)
	assert.Equal(t, "café ☕ 日本.txt", listed[0].Name())
	data, err := fsys.ReadFile(t.Context(), dir+"/"+listed[0].Name())
	require.NoError(t, err)
	assert.Equal(t, "ok", string(data))
	require.NoError(t, fsys.Remove(t.Context(), name))
}

// Item 1, concurrently: renames that replace files in one directory at
// once each replace their own file and leave nothing aside.
func TestConcurrentReplacingRenames(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	fsys := startedSandbox(t, srv).Filesystem()
	dir := t.TempDir()
	const n = 16
	for i := range n {
		require.NoError(t, os.WriteFile(dir+"/new"+strconv.Itoa(i), []byte("new "+strconv.Itoa(i)), 0o644))
		require.NoError(t, os.WriteFile(dir+"/old"+strconv.Itoa(i), []byte("old "+strconv.Itoa(i)), 0o644))
	}
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- fsys.Rename(t.Context(), dir+"/new"+strconv.Itoa(i), dir+"/old"+strconv.Itoa(i)) }()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	want := map[string]string{}
	for i := range n {
		want["old"+strconv.Itoa(i)] = "file new " + strconv.Itoa(i)
	}
	assert.Equal(t, want, tree(t, dir))
}
