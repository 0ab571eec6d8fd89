package daytona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/files"
	"github.com/agentworkspace/daytona/internal/toolbox"
	"github.com/agentworkspace/daytona/workspace"
)

var (
	_ workspace.FilesystemProvider = (*Sandbox)(nil)
	_ workspace.Filesystem         = (*Filesystem)(nil)
)

// Filesystem returns the sandbox's files (a *Filesystem).
func (s *Sandbox) Filesystem() workspace.Filesystem { return &Filesystem{s: s} }

// Filesystem reads and writes the files of a Sandbox through Daytona's
// toolbox API, starting the sandbox first if needed, as ExecuteCommand
// does. It implements workspace.Filesystem and is safe for concurrent use.
//
// Names are absolute, or relative to the sandbox's default working
// directory (the directory ExecuteCommand runs in; Daytona resolves them
// against it, whatever a session's cd did). They are passed on as they
// are: ".." and absolute names reach anywhere the sandbox's user can (the
// sandbox is yours; nothing is confined), and symbolic links are followed.
// "~" is not expanded, so a name starting with "~/" is refused before any
// request, as are empty names and names with a NUL byte (an *fs.PathError
// matching fs.ErrInvalid and ErrInvalidInput).
//
// Errors about a name are *fs.PathError values: Daytona's answers 404, 403
// and 409 wrap fs.ErrNotExist, fs.ErrPermission and fs.ErrExist; its 400
// (a directory where a file is expected, a file where a directory is, no
// permission to create) wraps fs.ErrInvalid. Daytona sends no detail with
// these, so the message says what the answer can mean. Failures of the
// service or the connection are *Error values, as elsewhere in this
// package. A sandbox found stopped or deleted behind our back is
// restarted (or recreated) and the call tried once more, when it cannot
// have reached the sandbox the first time.
//
// Transfers are streamed in constant memory, with no overall timeout (ctx
// bounds each call). See WriteFile for what a failed write leaves behind.
type Filesystem struct {
	s *Sandbox
}

// Errors about files that Daytona's answers mean.
var (
	errNameRefused = &files.Kind{Msg: "refused by the sandbox (HTTP 400: a path through a file, a name too long, or a symbolic link loop)", Err: fs.ErrInvalid}
	errIsDir       = files.ErrIsDir
	errNotDir      = &files.Kind{Msg: "not a directory (HTTP 400)", Err: fs.ErrInvalid, Errno: files.ErrNotDir.Errno}
	errDirNotEmpty = &files.Kind{Msg: "directory not empty", Err: fs.ErrExist, Errno: syscall.ENOTEMPTY}
	errMkdir       = &files.Kind{Msg: "refused by the sandbox (HTTP 400: a file in the way, or no permission)", Err: fs.ErrInvalid}
	errWrite       = &files.Kind{Msg: "refused by the sandbox (HTTP 400: no permission, a file where a directory is expected, or a full disk; an existing file may be left partly written)", Err: fs.ErrInvalid}
	errRemove      = &files.Kind{Msg: "refused by the sandbox (HTTP 400: no permission)", Err: fs.ErrInvalid}
	errRename      = &files.Kind{Msg: "refused by the sandbox (HTTP 400: no permission, or a move across devices that failed)", Err: fs.ErrInvalid}
)

// badName is an invalid name: it matches both fs.ErrInvalid and
// ErrInvalidInput.
type badName struct{ msg string }

func (bn *badName) Error() string { return "invalid name: " + bn.msg }
func (bn *badName) Is(target error) bool {
	return target == fs.ErrInvalid || target == ErrInvalidInput
}

// checkName refuses, before any request, names that cannot mean what the
// caller meant.
func checkName(op, name string) error {
	var msg string
	switch {
	case name == "":
		msg = "empty name"
	case strings.IndexByte(name, 0) >= 0:
		msg = "name contains a NUL byte"
	case !utf8.ValidString(name):
		msg = "name is not valid UTF-8 (Daytona lists names as JSON text, so the file could not be listed by its name)"
	case name == "~" || strings.HasPrefix(name, "~/"):
		msg = `"~" is not expanded (it would name a directory called ~ in the working directory); use an absolute name or one relative to the working directory`
	default:
		return nil
	}
	return &fs.PathError{Op: op, Path: name, Err: &badName{msg}}
}

// begin checks the receiver, ctx and name (as Sandbox.check does) before
// an operation.
func (f *Filesystem) begin(ctx context.Context, op, name string) error {
	var s *Sandbox
	if f != nil {
		s = f.s
	}
	if err := s.check(ctx, "Filesystem."+op); err != nil {
		return err
	}
	return checkName(op, name)
}

// fileCall is one request to the toolbox's file endpoints.
type fileCall struct {
	op, name string // for a *fs.PathError: the operation and the name
	what     string // for an *Error: what was being done
	method   string
	path     string
	query    url.Values
	header   http.Header // added to the request
	// refused is the error a 400 with an empty body means.
	refused error
	// body returns a fresh request body, its content type and its length
	// (-1 if unknown); nil for no body.
	body func() (io.ReadCloser, string, int64)
	// upload, if set, makes the call an upload (toolbox.Client.Upload)
	// of this content, to the route the daemon serves.
	upload *uploadSource
}

// send sends c to r's toolbox and returns a 2xx response, whose body the
// caller closes. The daemon's own refusals are a *fs.PathError (see
// refusal); other failures are classified as for commands (a
// *apierr.NotStarted when the sandbox is not running, else an *Error).
func (fc *fileCall) send(ctx context.Context, r *remote) (*http.Response, error) {
	var resp *http.Response
	var err error
	if src := fc.upload; src != nil {
		resp, err = r.TB.Upload(ctx, toolbox.Upload{Query: fc.query, Body: src.body, Once: !src.fixed, Replayable: src.replayable})
	} else {
		resp, err = r.TB.File(ctx, toolbox.FileRequest{Method: fc.method, Path: fc.path, Query: fc.query, Header: fc.header, Body: fc.body})
	}
	var refused *toolbox.Refusal
	switch {
	case errors.As(err, &refused):
		return nil, &fs.PathError{Op: fc.op, Path: fc.name, Err: fc.refusal(refused.StatusCode)}
	case err != nil:
		return nil, fc.failure(ctx, err)
	}
	return resp, nil
}

// refusal returns what a refusal by the daemon's file handlers means for
// the file.
func (fc *fileCall) refusal(status int) error {
	switch status {
	case http.StatusNotFound:
		return fs.ErrNotExist
	case http.StatusForbidden:
		return fs.ErrPermission
	case http.StatusConflict:
		return fs.ErrExist
	}
	if fc.refused != nil {
		return fc.refused
	}
	return errNameRefused
}

// failure classifies a failed request: a *apierr.NotStarted (the sandbox is not
// running: the request never reached it) for resubmitOnce, else an
// *Error for c.what that also matches ctx.Err() once ctx has ended.
func (fc *fileCall) failure(ctx context.Context, err error) error {
	if ns := apierr.Classify(err); ns != nil {
		return ns
	}
	return fault.WrapCtx(ctx, fc.what, err)
}

// do sends c on the running sandbox, retrying once after a dead sandbox,
// and returns the response.
func (f *Filesystem) do(ctx context.Context, c *fileCall) (*http.Response, error) {
	return resubmitOnce(ctx, f.s, c.what, func(r *remote) (*http.Response, error) {
		return c.send(ctx, r)
	})
}

// run sends c and drops the answer's body.
func (f *Filesystem) run(ctx context.Context, c *fileCall) error {
	resp, err := f.do(ctx, c)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

// readJSON sends c and returns the answer's body, at most limit bytes.
func (f *Filesystem) readJSON(ctx context.Context, c *fileCall, limit int64) ([]byte, error) {
	resp, err := f.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fault.WrapCtx(ctx, c.what, apierr.NoAnswer(err))
	}
	if int64(len(data)) > limit {
		return nil, fault.Wrap(c.what, sdkerrors.NewDaytonaError(fmt.Sprintf("answer larger than %d bytes", limit), resp.StatusCode, nil))
	}
	return data, nil
}

// quoted is a name as it appears in an *Error's Op.
func quoted(name string) string { return strconv.Quote(name) }

// Stat describes the named file, following symbolic links.
func (f *Filesystem) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if err := f.begin(ctx, "stat", name); err != nil {
		return nil, err
	}
	return f.stat(ctx, name)
}

func (f *Filesystem) stat(ctx context.Context, name string) (*fileInfo, error) {
	c := &fileCall{op: "stat", name: name, what: "stat " + quoted(name),
		method: http.MethodGet, path: "/files/info", query: url.Values{"path": {name}}}
	data, err := f.readJSON(ctx, c, 1<<20)
	if err != nil {
		return nil, err
	}
	fi, err := toolbox.DecodeInfo(data)
	if err != nil {
		return nil, fault.Wrap(c.what, err)
	}
	return newFileInfo(fi), nil
}

// statKind reports whether name is a directory. Daytona's refusal of a
// name that can only name a directory ("a/") means a file is in the way:
// not a directory, as os says.
func (f *Filesystem) statKind(ctx context.Context, name string) (isDir bool, err error) {
	fi, err := f.stat(ctx, name)
	if files.DirSyntax(name) && errors.Is(err, errNameRefused) {
		return false, &fs.PathError{Op: "stat", Path: name, Err: files.ErrNotDir}
	}
	return err == nil && fi.IsDir(), err
}

// listPath is where the toolbox lists and deletes files: "/files/", which
// every daemon serves. The SDK's "/files" is served only by daemons from
// v0.178.0 (GET) and v0.189.0 (DELETE); older ones redirect it, which
// through Daytona's proxy has ended in 404s (daytonaio/daytona#4542,
// #5029).
const listPath = "/files/"

// maxListing bounds the answer to a directory listing (about 200 bytes an
// entry: some 300,000 entries).
const maxListing = 64 << 20

// ReadDir lists the named directory, sorted by name. Symbolic links are
// followed (an entry for a link describes its target; dangling links are
// left out), as Daytona lists them, so an entry is a link (fs.ModeSymlink)
// only where Daytona describes it as one. To walk a tree without
// following links, see the list_files tool (package workspace/tools).
func (f *Filesystem) ReadDir(ctx context.Context, name string) ([]fs.DirEntry, error) {
	if err := f.begin(ctx, "readdir", name); err != nil {
		return nil, err
	}
	c := &fileCall{op: "readdir", name: name, what: "list directory " + quoted(name), refused: errNotDir,
		method: http.MethodGet, path: listPath, query: url.Values{"path": {name}}}
	data, err := f.readJSON(ctx, c, maxListing)
	if err != nil {
		return nil, err
	}
	infos, err := toolbox.DecodeInfos(data)
	if err != nil {
		return nil, fault.Wrap(c.what, err)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	out := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		out[i] = fs.FileInfoToDirEntry(newFileInfo(fi))
	}
	return out, nil
}

// checkPerm refuses permission bits Daytona cannot set (beyond 0777).
func checkPerm(op, name string, perm fs.FileMode) error {
	if perm&^fs.ModePerm != 0 {
		return &fs.PathError{Op: op, Path: name, Err: &badName{fmt.Sprintf("mode %v: only permission bits (0777) can be set", perm)}}
	}
	return nil
}

// MkdirAll creates the named directory and any missing parents, with
// permission perm (the sandbox's umask applies); an existing directory is
// not an error.
func (f *Filesystem) MkdirAll(ctx context.Context, name string, perm fs.FileMode) error {
	if err := f.begin(ctx, "mkdir", name); err != nil {
		return err
	}
	if err := checkPerm("mkdir", name, perm); err != nil {
		return err
	}
	return f.run(ctx, &fileCall{op: "mkdir", name: name, what: "create directory " + quoted(name), refused: errMkdir,
		method: http.MethodPost, path: "/files/folder",
		query: url.Values{"path": {name}, "mode": {fmt.Sprintf("%04o", perm.Perm())}}})
}

// deleteCall is the request that deletes name, recursively or not.
func deleteCall(op, name string, recursive bool) *fileCall {
	return &fileCall{op: op, name: name, what: "delete " + quoted(name), refused: errRemove,
		method: http.MethodDelete, path: listPath,
		query: url.Values{"path": {name}, "recursive": {strconv.FormatBool(recursive)}}}
}

// Remove removes the named file or empty directory. Daytona deletes a
// directory only recursively, so for a directory Remove lists it first and
// deletes it only if it is empty (a file added in between would go with
// it). A directory that is not empty is an error matching fs.ErrExist, as
// with package os on Unix; so is a symbolic link to one (Daytona follows
// links, so Remove cannot tell the link from the directory; RemoveAll
// removes just the link).
func (f *Filesystem) Remove(ctx context.Context, name string) error {
	if err := f.begin(ctx, "remove", name); err != nil {
		return err
	}
	err := f.run(ctx, deleteCall("remove", name, false))
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Err != errRemove {
		return err
	}
	entries, lerr := f.ReadDir(ctx, name)
	switch {
	case lerr != nil:
		return err // not a directory: the delete itself was refused
	case len(entries) > 0:
		return &fs.PathError{Op: "remove", Path: name, Err: errDirNotEmpty}
	}
	return f.run(ctx, deleteCall("remove", name, true))
}

// RemoveAll removes the named file or directory and everything in it
// (a symbolic link, not what it points to). A name that does not exist is
// not an error; a name ending in "." or ".." is refused, as os.RemoveAll
// refuses it. Daytona cannot delete a dangling symbolic link: RemoveAll
// returns nil and leaves it.
func (f *Filesystem) RemoveAll(ctx context.Context, name string) error {
	if err := f.begin(ctx, "removeall", name); err != nil {
		return err
	}
	if base := name[strings.LastIndexByte(name, '/')+1:]; base == "." || base == ".." {
		return &fs.PathError{Op: "removeall", Path: name, Err: &badName{`a name ending in "." or ".."`}}
	}
	err := f.run(ctx, deleteCall("removeall", name, true))
	if errors.Is(err, fs.ErrNotExist) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil
		}
	}
	return err
}

// Rename moves oldname to newname as os.Rename does on Linux (see
// files.Rename): a file at newname is replaced; a directory at newname is
// an error matching fs.ErrExist; a directory onto a file, or a file named
// as a directory ("a/"), an error matching syscall.ENOTDIR; a directory
// into itself one matching syscall.EINVAL; on an error nothing has
// changed. Daytona's move refuses any existing destination, so a file
// there is first moved aside (to a hidden name beside it), then oldname
// moved in, then the file aside deleted; if moving oldname fails, the
// file aside is put back. For a moment newname does not exist.
func (f *Filesystem) Rename(ctx context.Context, oldname, newname string) error {
	if err := f.begin(ctx, "rename", oldname); err != nil {
		return err
	}
	if err := checkName("rename", newname); err != nil {
		return err
	}
	return files.Rename(files.Ops{
		Stat:   func(name string) (bool, error) { return f.statKind(ctx, name) },
		Move:   func(src, dst string) error { return f.move(ctx, src, dst) },
		Remove: func(name string) error { return f.run(ctx, deleteCall("rename", name, false)) },
	}, oldname, newname)
}

// move is one move of the toolbox.
func (f *Filesystem) move(ctx context.Context, src, dst string) error {
	c := &fileCall{op: "rename", name: src, what: "move " + quoted(src) + " to " + quoted(dst), refused: errRename,
		method: http.MethodPost, path: "/files/move", query: url.Values{"source": {src}, "destination": {dst}}}
	data, err := f.readJSON(ctx, c, 64<<10)
	if err != nil {
		return err
	}
	// A copy that worked, and a source that could not be deleted, is a
	// 200 with a JSON error (fs/move_file.go:97-103).
	var partial struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &partial) == nil && partial.Error != "" {
		return &fs.PathError{Op: "rename", Path: src, Err: &files.Kind{Msg: "copied to " + quoted(dst) + ", but the original could not be deleted: " + partial.Error, Err: fs.ErrPermission}}
	}
	return nil
}
