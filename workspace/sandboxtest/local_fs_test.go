//go:build unix

package sandboxtest_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentworkspace/daytona/workspace"
)

var _ workspace.FilesystemProvider = (*localSandbox)(nil)

// Filesystem gives localSandbox the workspace.FilesystemProvider
// capability: its directory through package os, starting the sandbox
// first as ExecuteCommand does. Names resolve as Daytona resolves them:
// relative ones against the sandbox's directory (its working directory),
// absolute ones as they are; nothing is confined.
func (s *localSandbox) Filesystem() workspace.Filesystem { return localFS{s} }

// localFS is localSandbox's Filesystem.
type localFS struct{ s *localSandbox }

// path starts the sandbox and returns where name is on this machine, or
// an *fs.PathError for an invalid name.
func (f localFS) path(ctx context.Context, op, name string) (string, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	dir, err := f.s.ensureRunning(ctx)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(name) {
		return name, nil
	}
	return dir + "/" + name, nil
}

// named gives an error of package os the caller's name.
func named(err error, op, name string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &fs.PathError{Op: op, Path: name, Err: le.Err}
	}
	return err
}

func (f localFS) ReadFile(ctx context.Context, name string) ([]byte, error) {
	p, err := f.path(ctx, "read", name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	return data, named(err, "read", name)
}

func (f localFS) WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	return f.Create(ctx, name, strings.NewReader(string(data)), perm)
}

func (f localFS) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := f.path(ctx, "open", name)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if err != nil {
		return nil, named(err, "open", name)
	}
	if fi, err := file.Stat(); err != nil || fi.IsDir() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	return file, nil
}

func (f localFS) Create(ctx context.Context, name string, r io.Reader, perm fs.FileMode) error {
	p, err := f.path(ctx, "write", name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return named(err, "write", name)
	}
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return named(err, "write", name)
	}
	_, err = io.Copy(file, r)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return named(err, "write", name)
}

func (f localFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	p, err := f.path(ctx, "stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	return fi, named(err, "stat", name)
}

func (f localFS) ReadDir(ctx context.Context, name string) ([]fs.DirEntry, error) {
	p, err := f.path(ctx, "readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	return entries, named(err, "readdir", name)
}

func (f localFS) MkdirAll(ctx context.Context, name string, perm fs.FileMode) error {
	p, err := f.path(ctx, "mkdir", name)
	if err != nil {
		return err
	}
	return named(os.MkdirAll(p, perm), "mkdir", name)
}

func (f localFS) Remove(ctx context.Context, name string) error {
	p, err := f.path(ctx, "remove", name)
	if err != nil {
		return err
	}
	return named(os.Remove(p), "remove", name)
}

func (f localFS) RemoveAll(ctx context.Context, name string) error {
	p, err := f.path(ctx, "removeall", name)
	if err != nil {
		return err
	}
	return named(os.RemoveAll(p), "removeall", name)
}

func (f localFS) Rename(ctx context.Context, oldname, newname string) error {
	po, err := f.path(ctx, "rename", oldname)
	if err != nil {
		return err
	}
	pn, err := f.path(ctx, "rename", newname)
	if err != nil {
		return err
	}
	return named(os.Rename(po, pn), "rename", oldname)
}
