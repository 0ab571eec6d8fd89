// Package rootfs is a workspace.Filesystem over a directory of this
// machine, confined to it with os.Root. It stands in for a sandbox's
// filesystem in tests and examples, until a provider implements one: the
// file tools of package workspace/tools need nothing else.
//
// Names are resolved inside the directory: relative names against it, and
// absolute names as if it were "/". A name that escapes it (through ".."
// or a symbolic link) is refused, as os.Root refuses it.
package rootfs

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/agentworkspace/daytona/workspace"
)

// FS is a workspace.Filesystem confined to one directory. It is safe for
// concurrent use.
type FS struct {
	root *os.Root
}

var _ workspace.Filesystem = (*FS)(nil)

// Open opens dir; the caller must Close the FS.
func Open(dir string) (*FS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &FS{root: r}, nil
}

// Close closes the directory.
func (f *FS) Close() error { return f.root.Close() }

// rel maps a name to one relative to the root; os.Root refuses those that
// escape it.
func rel(name string) string {
	if name = strings.TrimLeft(name, "/"); name == "" {
		return "."
	}
	return name
}

// pathErr gives an error the name the caller used.
func pathErr(err error, name string) error {
	if pe, ok := err.(*fs.PathError); ok {
		pe.Path = name
	}
	return err
}

// ReadFile implements workspace.Filesystem.
func (f *FS) ReadFile(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := f.root.ReadFile(rel(name))
	return b, pathErr(err, name)
}

// WriteFile implements workspace.Filesystem.
func (f *FS) WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dir := path.Dir(rel(name)); dir != "." {
		if err := f.root.MkdirAll(dir, 0o755); err != nil {
			return pathErr(err, name)
		}
	}
	return pathErr(f.root.WriteFile(rel(name), data, perm), name)
}

// Open implements workspace.Filesystem.
func (f *FS) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file, err := f.root.Open(rel(name))
	if err != nil {
		return nil, pathErr(err, name)
	}
	return file, nil
}

// Create implements workspace.Filesystem.
func (f *FS) Create(ctx context.Context, name string, r io.Reader, perm fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dir := path.Dir(rel(name)); dir != "." {
		if err := f.root.MkdirAll(dir, 0o755); err != nil {
			return pathErr(err, name)
		}
	}
	file, err := f.root.OpenFile(rel(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return pathErr(err, name)
	}
	_, err = io.Copy(file, r)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

// Stat implements workspace.Filesystem.
func (f *FS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := f.root.Stat(rel(name))
	return fi, pathErr(err, name)
}

// ReadDir implements workspace.Filesystem.
func (f *FS) ReadDir(ctx context.Context, name string) ([]fs.DirEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	des, err := fs.ReadDir(f.root.FS(), rel(name))
	return des, pathErr(err, name)
}

// MkdirAll implements workspace.Filesystem.
func (f *FS) MkdirAll(ctx context.Context, name string, perm fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pathErr(f.root.MkdirAll(rel(name), perm), name)
}

// Remove implements workspace.Filesystem.
func (f *FS) Remove(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pathErr(f.root.Remove(rel(name)), name)
}

// RemoveAll implements workspace.Filesystem.
func (f *FS) RemoveAll(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pathErr(f.root.RemoveAll(rel(name)), name)
}

// Rename implements workspace.Filesystem.
func (f *FS) Rename(ctx context.Context, oldname, newname string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pathErr(f.root.Rename(rel(oldname), rel(newname)), oldname)
}
