package files

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/agentworkspace/daytona/internal/fault"
)

// Ops are the toolbox's requests a rename is made of, bound to a context.
// Their errors about a name are *fs.PathError values.
type Ops struct {
	// Stat reports whether name is a directory (following links).
	Stat func(name string) (isDir bool, err error)
	// Move moves src to dst; an existing dst, file or directory, is an
	// error matching fs.ErrExist, and nothing moves.
	Move func(src, dst string) error
	// Remove deletes name if it is not a directory.
	Remove func(name string) error
}

// Rename moves oldname to newname as os.Rename does on Linux:
//   - a file replaces a file at newname;
//   - anything at newname that is a directory is an error matching
//     fs.ErrExist (EEXIST), whatever oldname is: os.Rename refuses it
//     before the system call, even an empty directory;
//   - a directory onto a file is an error matching ENOTDIR, and so is a
//     file named as a directory ("a/", "a/.");
//   - a directory into itself ("a" to "a/b") is an error matching EINVAL;
//   - the same name twice changes nothing (a directory named twice by the
//     same string is EEXIST, as os.Rename has it);
//   - on every error, nothing has changed.
//
// The toolbox's move refuses any existing destination, so a file at
// newname is first moved aside (to a hidden name beside it), then oldname
// moved in, then the file aside deleted; if moving oldname fails, the file
// aside is put back. For a moment newname does not exist. The error of a
// missing oldname names oldname; that of a missing parent of newname
// names newname.
func Rename(ops Ops, oldname, newname string) error {
	if done, err := ops.precheck(oldname, newname); done || err != nil {
		return err
	}
	err := ops.Move(oldname, newname)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return ops.replace(oldname, newname)
	case errors.Is(err, fs.ErrNotExist):
		// The source, or the destination's parent, is missing.
		if _, serr := ops.Stat(oldname); serr != nil {
			return Relabel("rename", oldname, serr)
		}
		return &fs.PathError{Op: "rename", Path: newname, Err: ErrNoParent}
	}
	return Relabel("rename", oldname, err)
}

// precheck refuses, before any move, what the toolbox's move would get
// wrong, as os.Rename refuses it: a directory at newname named otherwise
// than as oldname (EEXIST, os.Rename's own check), a file named as a
// directory (ENOTDIR; the move cleans names), a name ending in "." or
// ".." (EBUSY), a directory into itself (EINVAL; the move would copy it
// into itself). It reports a rename to the same file done: there is
// nothing to move. Plain names, the usual case, cost no request here.
func (ops Ops) precheck(oldname, newname string) (done bool, err error) {
	same, inside := sameName(oldname, newname), within(newname, oldname)
	if !same && !inside && !DirSyntax(oldname) && !DirSyntax(newname) {
		return false, nil
	}
	oldDir, oerr := ops.Stat(oldname)
	newDir, nerr := ops.Stat(newname)
	switch {
	case nerr == nil && newDir && !(same && oldname != newname) && oerr == nil:
		return true, &fs.PathError{Op: "rename", Path: newname, Err: ErrExistDir}
	case oerr != nil:
		return true, Relabel("rename", oldname, oerr)
	case !oldDir && (DirSyntax(oldname) || DirSyntax(newname) || inside):
		return true, &fs.PathError{Op: "rename", Path: newname, Err: ErrNotDir}
	case dotBase(oldname) || dotBase(newname):
		return true, &fs.PathError{Op: "rename", Path: newname, Err: ErrBusy}
	case nerr != nil && !errors.Is(nerr, fs.ErrNotExist):
		return true, Relabel("rename", newname, nerr)
	case same:
		return true, nil
	case inside:
		return true, ops.intoSelf(newname)
	}
	return false, nil
}

// intoSelf is the error of moving a directory to newname, below itself:
// EINVAL, or first the error of newname's parent, which the system finds
// first.
func (ops Ops) intoSelf(newname string) error {
	if _, err := ops.Stat(path.Dir(newname)); err != nil {
		return Relabel("rename", newname, err)
	}
	return &fs.PathError{Op: "rename", Path: newname, Err: ErrIntoSelf}
}

// dotBase reports a name whose last element is "." or "..".
func dotBase(name string) bool {
	base := path.Base(name)
	return (base == "." || base == "..") && strings.TrimRight(name, "/") != ""
}

// replace is Rename onto an existing newname.
func (ops Ops) replace(oldname, newname string) error {
	newDir, err := ops.Stat(newname)
	if err != nil {
		return Relabel("rename", newname, err)
	}
	oldDir, err := ops.Stat(oldname)
	switch {
	case err != nil:
		return Relabel("rename", oldname, err)
	case newDir:
		return &fs.PathError{Op: "rename", Path: newname, Err: ErrExistDir}
	case oldDir:
		return &fs.PathError{Op: "rename", Path: newname, Err: ErrNotDir}
	}
	aside := asideName(newname)
	if err := ops.Move(newname, aside); err != nil {
		return Relabel("rename", newname, err)
	}
	if err := ops.Move(oldname, newname); err != nil {
		if rerr := ops.Move(aside, newname); rerr != nil {
			return fault.Errorf("%w; and %q could not be put back from %q: %w", Relabel("rename", oldname, err), newname, aside, rerr)
		}
		return Relabel("rename", oldname, err)
	}
	// Not recursively: if a directory took the file's place in between,
	// it is left, not deleted.
	if err := ops.Remove(aside); err != nil {
		return fault.Errorf("renamed %q to %q, but what it replaced is left at %q: %w", oldname, newname, aside, err)
	}
	return nil
}

// sameName reports names that are the same once cleaned, when neither
// has a ".." (which a symbolic link could make mean something else).
func sameName(a, b string) bool {
	return path.Clean(a) == path.Clean(b) && !strings.Contains(a, "..") && !strings.Contains(b, "..")
}

// within reports a name below dir, as far as the names tell: both
// absolute or both relative, and neither with a "..".
func within(name, dir string) bool {
	if path.IsAbs(name) != path.IsAbs(dir) || strings.Contains(name, "..") || strings.Contains(dir, "..") {
		return false
	}
	name, dir = path.Clean(name), path.Clean(dir)
	return dir == "." || strings.HasPrefix(name, strings.TrimSuffix(dir, "/")+"/")
}

// asideName is a hidden name beside name for the file Rename replaces.
func asideName(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	dir, base := path.Split(strings.TrimRight(name, "/"))
	return dir + "." + base + ".replaced-" + hex.EncodeToString(b[:])
}
