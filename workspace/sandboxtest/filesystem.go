package sandboxtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/iotest"

	"github.com/agentworkspace/daytona/workspace"
)

var filesystemTests = []testCase{
	{"RoundTrip", testFilesRoundTrip},
	{"Directories", testFilesDirectories},
	{"NotExist", testFilesNotExist},
	{"WrongKind", testFilesWrongKind},
	{"InvalidNames", testFilesInvalidNames},
	{"Remove", testFilesRemove},
	{"Rename", testFilesRename},
	{"FSTest", testFilesFSTest},
	{"Concurrent", testFilesConcurrent},
}

// filesystem returns a new, pending sandbox and its filesystem, or skips
// t when the sandbox has none or Config.SkipFilesystem is set.
func (h *harness) filesystem(t *testing.T) (workspace.Sandbox, workspace.Filesystem) {
	t.Helper()
	sb, fp := capability[workspace.FilesystemProvider](t, h, h.cfg.SkipFilesystem, "SkipFilesystem", "workspace.FilesystemProvider")
	fsys := fp.Filesystem()
	if fsys == nil {
		t.Fatal("Filesystem() returned nil")
	}
	return sb, fsys
}

// binaryContent holds every byte value, NULs and invalid UTF-8 included.
func binaryContent(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}

// mustRead reads a file that must exist, by ReadFile and by Open, which
// must agree.
func mustRead(t *testing.T, h *harness, fsys workspace.Filesystem, name string) []byte {
	t.Helper()
	ctx := h.context(t)
	data, err := fsys.ReadFile(ctx, name)
	if err != nil {
		t.Fatalf("ReadFile(%q): %v", name, err)
	}
	rc, err := fsys.Open(ctx, name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	streamed, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("reading the stream of Open(%q): %v", name, err)
	}
	if !bytes.Equal(streamed, data) {
		t.Errorf("Open(%q) streamed %d bytes, ReadFile returned %d, and they differ", name, len(streamed), len(data))
	}
	return data
}

// testFilesRoundTrip writes binary and empty files with WriteFile and
// Create (starting the sandbox), with missing parents, replaces one with
// shorter content, and reads them back exactly; commands see the files at
// the same relative names.
func testFilesRoundTrip(t *testing.T, h *harness) {
	ctx := h.context(t)
	sb, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-files")
	data := binaryContent(70_000)
	if err := fsys.WriteFile(ctx, dir+"/a/b/data.bin", data, 0o644); err != nil {
		t.Fatalf("WriteFile on a pending sandbox, with missing parents: %v", err)
	}
	wantStatus(t, sb, workspace.StatusRunning, "after WriteFile on a pending sandbox")
	if err := fsys.Create(ctx, dir+"/streamed.bin", iotest.OneByteReader(bytes.NewReader(data[:5000])), 0o644); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := fsys.WriteFile(ctx, dir+"/empty", nil, 0o644); err != nil {
		t.Fatalf("WriteFile of an empty file: %v", err)
	}
	if err := fsys.Create(ctx, dir+"/empty2", strings.NewReader(""), 0o644); err != nil {
		t.Fatalf("Create of an empty file: %v", err)
	}
	if !bytes.Equal(mustRead(t, h, fsys, dir+"/a/b/data.bin"), data) {
		t.Error("the binary file did not round-trip exactly")
	}
	if !bytes.Equal(mustRead(t, h, fsys, dir+"/streamed.bin"), data[:5000]) {
		t.Error("the file written by Create did not round-trip exactly")
	}
	for _, name := range []string{"empty", "empty2"} {
		if got := mustRead(t, h, fsys, dir+"/"+name); len(got) != 0 {
			t.Errorf("%s: read %d bytes, want 0", name, len(got))
		}
	}
	if err := fsys.WriteFile(ctx, dir+"/a/b/data.bin", []byte("short"), 0o644); err != nil {
		t.Fatalf("WriteFile replacing a file: %v", err)
	}
	equal(t, "content after replacing it", string(mustRead(t, h, fsys, dir+"/a/b/data.bin")), "short")
	equal(t, "what commands see", execOK(t, ctx, sb, "cat "+dir+"/a/b/data.bin; wc -c < "+dir+"/streamed.bin | tr -d ' '"), "short5000\n")
	execOK(t, ctx, sb, "printf 'from a command' > "+dir+"/cmd.txt")
	equal(t, "a file a command wrote", string(mustRead(t, h, fsys, dir+"/cmd.txt")), "from a command")
}

// testFilesDirectories creates nested directories (again: no error),
// lists them sorted by name, and describes files and directories.
func testFilesDirectories(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-dirs")
	for range 2 {
		if err := fsys.MkdirAll(ctx, dir+"/x/y/z", 0o755); err != nil {
			t.Fatalf("MkdirAll: %v", err)
		}
	}
	for _, name := range []string{"b.txt", "a.txt", "c.txt"} {
		if err := fsys.WriteFile(ctx, dir+"/"+name, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := fsys.ReadDir(ctx, dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s:%v", e.Name(), e.IsDir()))
	}
	equal(t, "ReadDir", strings.Join(got, " "), "a.txt:false b.txt:false c.txt:false x:true")
	fi, err := fsys.Stat(ctx, dir+"/b.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	equal(t, "Stat name", fi.Name(), "b.txt")
	equal(t, "Stat size", fi.Size(), int64(5))
	equal(t, "Stat IsDir of a file", fi.IsDir(), false)
	equal(t, "Stat mode of a file", fi.Mode().IsRegular(), true)
	if fi, err = fsys.Stat(ctx, dir+"/x/y"); err != nil || !fi.IsDir() {
		t.Errorf("Stat of a directory: %v, %v; want a directory", fi, err)
	}
	if entries, err = fsys.ReadDir(ctx, dir+"/x/y/z"); err != nil || len(entries) != 0 {
		t.Errorf("ReadDir of an empty directory: %v, %v", entries, err)
	}
}

// wantPathErr checks that err is a *fs.PathError matching target.
func wantPathErr(t *testing.T, what string, err, target error) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, target) {
		t.Errorf("%s: error %v (%T); want an *fs.PathError matching %v", what, err, err, target)
	}
}

// testFilesNotExist: every read of a missing name is fs.ErrNotExist in an
// *fs.PathError; RemoveAll of one is no error.
func testFilesNotExist(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	missing := uniqueName("sandboxtest-missing")
	wantPathErr(t, "ReadFile", second(fsys.ReadFile(ctx, missing)), fs.ErrNotExist)
	wantPathErr(t, "Open", second(fsys.Open(ctx, missing)), fs.ErrNotExist)
	wantPathErr(t, "Stat", second(fsys.Stat(ctx, missing+"/deeper")), fs.ErrNotExist)
	wantPathErr(t, "ReadDir", second(fsys.ReadDir(ctx, missing)), fs.ErrNotExist)
	wantPathErr(t, "Remove", fsys.Remove(ctx, missing), fs.ErrNotExist)
	wantPathErr(t, "Rename", fsys.Rename(ctx, missing, missing+"-2"), fs.ErrNotExist)
	if err := fsys.RemoveAll(ctx, missing); err != nil {
		t.Errorf("RemoveAll of a missing name: %v; want nil", err)
	}
}

func second[T any](_ T, err error) error { return err }

// testFilesWrongKind: a directory where a file is expected and a file
// where a directory is are errors, never fs.ErrNotExist, and change
// nothing.
func testFilesWrongKind(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-kind")
	if err := fsys.WriteFile(ctx, dir+"/sub/file", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"ReadFile of a directory":           second(fsys.ReadFile(ctx, dir+"/sub")),
		"Open of a directory":               second(fsys.Open(ctx, dir+"/sub")),
		"WriteFile onto a directory":        fsys.WriteFile(ctx, dir+"/sub", []byte("y"), 0o644),
		"ReadDir of a file":                 second(fsys.ReadDir(ctx, dir+"/sub/file")),
		"MkdirAll over a file":              fsys.MkdirAll(ctx, dir+"/sub/file", 0o755),
		"WriteFile below a file":            fsys.WriteFile(ctx, dir+"/sub/file/x", []byte("y"), 0o644),
		"Remove of a directory with a file": fsys.Remove(ctx, dir+"/sub"),
		"Rename of a file onto a directory": fsys.Rename(ctx, dir+"/sub/file", dir),
	} {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: error %v; want an error other than fs.ErrNotExist", what, err)
		}
	}
	equal(t, "the file after all that", string(mustRead(t, h, fsys, dir+"/sub/file")), "x")
}

// testFilesInvalidNames: empty names and names with a NUL byte are
// fs.ErrInvalid, for every method.
func testFilesInvalidNames(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	for _, name := range []string{"", "a\x00b"} {
		for what, err := range map[string]error{
			"ReadFile":  second(fsys.ReadFile(ctx, name)),
			"WriteFile": fsys.WriteFile(ctx, name, nil, 0o644),
			"Open":      second(fsys.Open(ctx, name)),
			"Create":    fsys.Create(ctx, name, strings.NewReader(""), 0o644),
			"Stat":      second(fsys.Stat(ctx, name)),
			"ReadDir":   second(fsys.ReadDir(ctx, name)),
			"MkdirAll":  fsys.MkdirAll(ctx, name, 0o755),
			"Remove":    fsys.Remove(ctx, name),
			"RemoveAll": fsys.RemoveAll(ctx, name),
			"Rename":    fsys.Rename(ctx, name, "x"),
		} {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("%s(%q): error %v; want one matching fs.ErrInvalid", what, name, err)
			}
		}
	}
}

// testFilesRemove: Remove takes a file and an empty directory, not a full
// one; RemoveAll takes a whole tree.
func testFilesRemove(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-remove")
	for _, name := range []string{"/full/f", "/tree/a/b/c"} {
		if err := fsys.WriteFile(ctx, dir+name, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.MkdirAll(ctx, dir+"/empty", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Remove(ctx, dir+"/full"); err == nil {
		t.Error("Remove of a directory that is not empty succeeded")
	}
	for _, name := range []string{"/empty", "/full/f", "/full"} {
		if err := fsys.Remove(ctx, dir+name); err != nil {
			t.Errorf("Remove(%s): %v", name, err)
		}
	}
	if err := fsys.RemoveAll(ctx, dir+"/tree"); err != nil {
		t.Errorf("RemoveAll of a tree: %v", err)
	}
	entries, err := fsys.ReadDir(ctx, dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("ReadDir after removing everything: %d entries, %v", len(entries), err)
	}
}

// testFilesRename renames a file, replaces a file, renames a directory.
func testFilesRename(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-rename")
	for name, content := range map[string]string{"/one": "1", "/two": "2", "/d/inner": "i"} {
		if err := fsys.WriteFile(ctx, dir+name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.Rename(ctx, dir+"/one", dir+"/uno"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if err := fsys.Rename(ctx, dir+"/uno", dir+"/two"); err != nil {
		t.Fatalf("Rename onto an existing file: %v", err)
	}
	equal(t, "the replaced file", string(mustRead(t, h, fsys, dir+"/two")), "1")
	if err := fsys.Rename(ctx, dir+"/d", dir+"/e"); err != nil {
		t.Fatalf("Rename of a directory: %v", err)
	}
	equal(t, "a file of the renamed directory", string(mustRead(t, h, fsys, dir+"/e/inner")), "i")
	entries, err := fsys.ReadDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	equal(t, "the names left", strings.Join(names, " "), "e two")
}

// testFilesFSTest writes a tree with nested directories, an empty file and
// a binary file, and runs testing/fstest.TestFS on the workspace.FS view
// of it; fs.WalkDir walks it in order.
func testFilesFSTest(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-fstest")
	tree := map[string][]byte{
		"go.mod":               []byte("module example.com/p\n"),
		"main.go":              []byte("package main\n\nfunc main() {}\n"),
		"empty":                nil,
		"assets/logo.bin":      binaryContent(3000),
		"internal/a/b/deep.go": []byte("package b\n"),
	}
	var names []string
	for name, data := range tree {
		if err := fsys.WriteFile(ctx, dir+"/"+name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	view := workspace.FS(ctx, fsys, dir)
	if err := fstest.TestFS(view, names...); err != nil {
		t.Errorf("fstest.TestFS: %v", err)
	}
	var walked []string
	err := fs.WalkDir(view, ".", func(p string, d fs.DirEntry, err error) error {
		walked = append(walked, p)
		return err
	})
	if err != nil {
		t.Fatalf("fs.WalkDir: %v", err)
	}
	equal(t, "fs.WalkDir", strings.Join(walked, " "),
		". assets assets/logo.bin empty go.mod internal internal/a internal/a/b internal/a/b/deep.go main.go")
}

// testFilesConcurrent writes and reads files from many goroutines at once.
func testFilesConcurrent(t *testing.T, h *harness) {
	ctx := h.context(t)
	_, fsys := h.filesystem(t)
	dir := uniqueName("sandboxtest-concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("%s/f%d", dir, i)
			want := bytes.Repeat([]byte{byte(i)}, 1000+i)
			if err := fsys.WriteFile(ctx, name, want, 0o644); err != nil {
				errs <- err
				return
			}
			got, err := fsys.ReadFile(ctx, name)
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("%s: read back %d bytes that differ", name, len(got))
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
