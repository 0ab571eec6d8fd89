package files

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"testing"
)

// memFS is a flat in-memory tree for Rename's steps: names to "file" or
// "dir", with failures to inject.
type memFS struct {
	nodes    map[string]string
	moves    int
	failMove map[int]error // the nth move (from 1) fails with this error
	failRm   error
}

func (m *memFS) ops() Ops {
	return Ops{
		Stat: func(name string) (bool, error) {
			kind, ok := m.nodes[path.Clean(name)]
			if !ok {
				return false, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
			}
			return kind == "dir", nil
		},
		Move: func(src, dst string) error {
			m.moves++
			if err := m.failMove[m.moves]; err != nil {
				return err
			}
			src, dst = path.Clean(src), path.Clean(dst)
			if _, ok := m.nodes[src]; !ok {
				return &fs.PathError{Op: "move", Path: src, Err: fs.ErrNotExist}
			}
			if _, ok := m.nodes[dst]; ok {
				return &fs.PathError{Op: "move", Path: dst, Err: fs.ErrExist}
			}
			m.nodes[dst] = m.nodes[src]
			delete(m.nodes, src)
			return nil
		},
		Remove: func(name string) error {
			if m.failRm != nil {
				return m.failRm
			}
			if m.nodes[name] == "dir" {
				return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrInvalid}
			}
			delete(m.nodes, name)
			return nil
		},
	}
}

func newMem() *memFS {
	return &memFS{nodes: map[string]string{"/d": "dir", "/d/old": "file", "/d/new": "file"}, failMove: map[int]error{}}
}

var errBoom = &fs.PathError{Op: "move", Path: "x", Err: errors.New("boom")}

// A replace whose move of oldname fails puts the replaced file back.
func TestReplacePutsBackOnFailure(t *testing.T) {
	m := newMem()
	m.failMove[3] = errBoom // 1: old->new (exists), 2: new->aside, 3: old->new
	err := Rename(m.ops(), "/d/old", "/d/new")
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if m.nodes["/d/new"] != "file" || m.nodes["/d/old"] != "file" || len(m.nodes) != 3 {
		t.Errorf("after a failed replace: %v", m.nodes)
	}
}

// If the replaced file cannot be put back, the error says where it is.
func TestReplaceSaysWhereTheReplacedFileIs(t *testing.T) {
	m := newMem()
	m.failMove[3], m.failMove[4] = errBoom, errBoom
	err := Rename(m.ops(), "/d/old", "/d/new")
	if err == nil || !strings.Contains(err.Error(), "could not be put back from") || !strings.Contains(err.Error(), ".new.replaced-") {
		t.Fatalf("err = %v", err)
	}
}

// A replaced file that cannot be deleted is reported, and nothing lost.
func TestReplaceReportsALeftoverAside(t *testing.T) {
	m := newMem()
	m.failRm = errBoom
	err := Rename(m.ops(), "/d/old", "/d/new")
	if err == nil || !strings.Contains(err.Error(), "is left at") {
		t.Fatalf("err = %v", err)
	}
	if m.nodes["/d/new"] != "file" || len(m.nodes) != 3 {
		t.Errorf("after the rename: %v", m.nodes)
	}
}

// A failed move aside changes nothing.
func TestReplaceFailsCleanlyWhenTheMoveAsideFails(t *testing.T) {
	m := newMem()
	m.failMove[2] = errBoom
	if err := Rename(m.ops(), "/d/old", "/d/new"); err == nil {
		t.Fatal("no error")
	}
	if m.nodes["/d/new"] != "file" || m.nodes["/d/old"] != "file" || len(m.nodes) != 3 {
		t.Errorf("after a failed move aside: %v", m.nodes)
	}
}

func TestKindMatchesSentinelAndErrno(t *testing.T) {
	for _, k := range []*Kind{ErrIsDir, ErrNotDir, ErrExistDir, ErrIntoSelf, ErrNoParent, ErrBusy} {
		err := error(&fs.PathError{Op: "rename", Path: "x", Err: k})
		if !errors.Is(err, k.Err) || !errors.Is(err, k.Errno) || errors.Is(err, syscall.EPERM) {
			t.Errorf("%v does not match %v and %v alone", err, k.Err, k.Errno)
		}
	}
}

func TestDirSyntax(t *testing.T) {
	for name, want := range map[string]bool{"a/": true, "a/.": true, "a/..": true, ".": true, "..": true, "/": true,
		"a": false, "a/b": false, "a.": false, "a/.b": false, "...": false, "a/...": false} {
		if got := DirSyntax(name); got != want {
			t.Errorf("DirSyntax(%q) = %v", name, got)
		}
	}
}
