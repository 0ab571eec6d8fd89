// Package files gives the toolbox's file requests package os's meaning
// where the two differ: errors that say what package os would say
// (Kind), names that can only name a directory (DirSyntax), and a rename
// made of the toolbox's moves, which refuse any existing destination
// (Rename).
package files

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
)

// Kind is an error about a file, in words: errors.Is matches it to an fs
// sentinel (Err) and, when set, to the errno package os gives on Linux
// for the same case (Errno), such as syscall.ENOTDIR.
type Kind struct {
	Msg   string
	Err   error
	Errno syscall.Errno
}

func (k *Kind) Error() string { return k.Msg }
func (k *Kind) Unwrap() error { return k.Err }

// Is matches the errno package os would give.
func (k *Kind) Is(target error) bool { return k.Errno != 0 && target == k.Errno }

// What package os says on Linux, as Kinds.
var (
	ErrIsDir    = &Kind{Msg: "is a directory", Err: fs.ErrInvalid, Errno: syscall.EISDIR}
	ErrNotDir   = &Kind{Msg: "not a directory", Err: fs.ErrInvalid, Errno: syscall.ENOTDIR}
	ErrExistDir = &Kind{Msg: "file exists and is a directory", Err: fs.ErrExist, Errno: syscall.EEXIST}
	ErrIntoSelf = &Kind{Msg: "invalid argument: a directory cannot be moved into itself", Err: fs.ErrInvalid, Errno: syscall.EINVAL}
	ErrNoParent = &Kind{Msg: "parent directory does not exist", Err: fs.ErrNotExist, Errno: syscall.ENOENT}
	ErrBusy     = &Kind{Msg: `device or resource busy (a name ending in "." or "..")`, Err: fs.ErrInvalid, Errno: syscall.EBUSY}
)

// DirSyntax reports a name that can only name a directory: one ending in
// "/", "/." or "/.." (or "." or ".." itself). Package os refuses to read
// or write such a name as a file; the toolbox cleans some names
// (filepath.Abs in its download and move handlers,
// apps/daemon/pkg/toolbox/fs/download_file.go and move_file.go at
// v0.190.0) and would read the file "a" for "a/", and its upload creates
// the directory "a" before it fails to write "a/".
func DirSyntax(name string) bool {
	base := name[strings.LastIndexByte(name, '/')+1:]
	return base == "" || base == "." || base == ".."
}

// Relabel reports err, from a step of op on name, as op's: a
// *fs.PathError gets op and name; other errors are left as they are.
func Relabel(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	return err
}
