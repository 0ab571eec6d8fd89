package workspace

import (
	"context"
	"io"
	"io/fs"
)

// FilesystemProvider is the optional capability of sandboxes whose files
// can be read and written directly, without going through commands.
// Discover it with a type assertion:
//
//	if fp, ok := sb.(workspace.FilesystemProvider); ok {
//		data, err := fp.Filesystem().ReadFile(ctx, "go.mod")
//		...
//	}
type FilesystemProvider interface {
	// Filesystem returns the sandbox's filesystem.
	Filesystem() Filesystem
}

// Filesystem reads and writes files in a sandbox, starting the sandbox first
// if needed. It is safe for concurrent use.
//
// Names are slash-separated paths inside the sandbox: absolute, or relative
// to the sandbox's default working directory (the directory ExecuteCommand
// uses). They are not confined: ".." and absolute names reach anywhere the
// sandbox's user can, because the sandbox belongs to the caller. An empty
// name, or one holding a NUL byte, fails with an *fs.PathError wrapping
// fs.ErrInvalid before anything is sent.
//
// Errors about a name are *fs.PathError values with the operation and the
// name, wrapping fs.ErrNotExist, fs.ErrExist, fs.ErrPermission or
// fs.ErrInvalid where the sandbox's answer means that, so that
// errors.Is(err, fs.ErrNotExist) works as with package os. Infrastructure
// failures keep the provider's own error type.
//
// A write that fails returns an error; a provider documents what such a
// failure may leave behind (as with os.WriteFile, a file may be left
// partly written), and never reports success for a partial write.
//
// For a read-only io/fs view of a directory, see [FS].
type Filesystem interface {
	// ReadFile returns the whole content of the named file.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// WriteFile writes data to the named file, creating it (and missing
	// parent directories) or replacing its content, with permission perm
	// (before the umask) when it creates the file.
	WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error
	// Open returns a stream of the named file's content. The caller must
	// close it; ctx bounds the whole read. The stream may implement
	// io.Seeker.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Create writes everything read from r to the named file, as WriteFile
	// does, without holding the content in memory. It returns once it has
	// stopped reading r.
	Create(ctx context.Context, name string, r io.Reader, perm fs.FileMode) error
	// Stat describes the named file.
	Stat(ctx context.Context, name string) (fs.FileInfo, error)
	// ReadDir lists the named directory, sorted by name, like os.ReadDir.
	ReadDir(ctx context.Context, name string) ([]fs.DirEntry, error)
	// MkdirAll creates the named directory and any missing parents, like
	// os.MkdirAll; it does nothing if the directory exists.
	MkdirAll(ctx context.Context, name string, perm fs.FileMode) error
	// Remove removes the named file or empty directory; a directory that
	// is not empty is an error.
	Remove(ctx context.Context, name string) error
	// RemoveAll removes the named file or directory and everything in it.
	// It returns nil if the name does not exist, like os.RemoveAll.
	RemoveAll(ctx context.Context, name string) error
	// Rename moves oldname to newname, replacing a file at newname.
	Rename(ctx context.Context, oldname, newname string) error
}
