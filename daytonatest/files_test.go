//go:build unix

package daytonatest_test

// The file endpoints, driven by the real SDK v0.173.0 (FileSystemService)
// and, where the SDK hides the wire, by raw requests. Each test names the
// daemon handler it follows (apps/daemon/pkg/toolbox/fs/<file> at tag
// libs/sdk-go/v0.173.0).

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/options"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// binaryData holds every byte value, invalid UTF-8 and NULs.
func binaryData() []byte {
	b := make([]byte, 0, 3*256)
	for range 3 {
		for i := range 256 {
			b = append(b, byte(255-i))
		}
	}
	return b
}

// filesPath is the toolbox path of a file endpoint of sb.
func filesPath(sb *sdk.Sandbox, endpoint string, q url.Values) string {
	p := "/toolbox/" + sb.ID + endpoint
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// newFilesSandbox is newSandbox against the daemon of v0.190.0, which
// these tests follow; today's file refusals carry a body (see
// toolbox_errors_test.go).
func newFilesSandbox(t *testing.T, opts ...daytonatest.Option) (*daytonatest.Server, *sdk.Client, *sdk.Sandbox) {
	t.Helper()
	return newSandbox(t, append([]daytonatest.Option{daytonatest.WithServiceVersion(daytonatest.Service0190)}, opts...)...)
}

// requireEmptyError checks a daemon file error: the status, an empty body
// and no Content-Type.
func requireEmptyError(t *testing.T, r response, status int) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %q", r.Body)
	require.Empty(t, r.Body)
	require.Empty(t, r.Header.Get("Content-Type"))
}

// Upload (fs/upload_file.go:25-44, gin SaveUploadedFile) and the three
// download paths (fs/download_file.go:27-70, fs/download_files.go:52-97):
// binary bytes round-trip, missing parents are created with mode 0750,
// relative paths land in the home.
func TestFilesUploadDownloadBinary_upload_file_go_25(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	data := binaryData()
	require.NoError(t, sb.FileSystem.UploadFile(ctx, data, "deep/er/bin.dat"))

	home := homeDir(t, srv, sb.ID)
	onDisk, err := os.ReadFile(filepath.Join(home, "deep/er/bin.dat"))
	require.NoError(t, err)
	require.Equal(t, data, onDisk)
	for _, dir := range []string{"deep", "deep/er"} {
		fi, err := os.Stat(filepath.Join(home, dir))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o750)|os.ModeDir, fi.Mode()&^0o002&^0o020, "mode of %s", dir) // 0750 less the umask
	}

	got, err := sb.FileSystem.DownloadFile(ctx, "deep/er/bin.dat", nil)
	require.NoError(t, err)
	require.Equal(t, data, got)
	got, err = sb.FileSystem.DownloadFile(ctx, filepath.Join(home, "deep/er/bin.dat"), nil)
	require.NoError(t, err, "absolute path")
	require.Equal(t, data, got)

	rc, err := sb.FileSystem.DownloadFileStream(ctx, "deep/er/bin.dat")
	require.NoError(t, err)
	got, err = io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, data, got)

	// Uploading again truncates and keeps the mode.
	require.NoError(t, os.Chmod(filepath.Join(home, "deep/er/bin.dat"), 0o600))
	require.NoError(t, sb.FileSystem.UploadFile(ctx, []byte("short"), "deep/er/bin.dat"))
	fi, err := os.Stat(filepath.Join(home, "deep/er/bin.dat"))
	require.NoError(t, err)
	require.Equal(t, int64(5), fi.Size())
	require.Equal(t, os.FileMode(0o600), fi.Mode())
}

// Empty files: the SDK leaves out an empty file part, which the daemon
// refuses (400: FormFile finds no file); an upload with an empty part
// works; DownloadFile fails on an empty body inside the SDK (status 0),
// DownloadFileStream does not (trap 16 of the research note).
func TestFilesEmpty_upload_file_go_32(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	err := sb.FileSystem.UploadFile(ctx, []byte{}, "empty.txt")
	requireDaytonaError(t, err, 400, "400 Bad Request")

	r := upload(t, srv, sb, "empty.txt", "file", "x", nil)
	require.Equal(t, 200, r.Status)
	require.Empty(t, r.Body)
	require.Empty(t, r.Header.Get("Content-Type"))
	fi, err := os.Stat(filepath.Join(homeDir(t, srv, sb.ID), "empty.txt"))
	require.NoError(t, err)
	require.Zero(t, fi.Size())

	_, err = sb.FileSystem.DownloadFile(ctx, "empty.txt", nil)
	requireDaytonaError(t, err, 0, "Failed to read file")
	rc, err := sb.FileSystem.DownloadFileStream(ctx, "empty.txt")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Empty(t, got)
	require.NoError(t, rc.Close())

	info, err := sb.FileSystem.GetFileInfo(ctx, "empty.txt")
	require.NoError(t, err)
	require.Zero(t, info.Size)
}

// upload sends a multipart upload with one part (field, filename) to
// path; a nil query path leaves it out.
func upload(t *testing.T, srv *daytonatest.Server, sb *sdk.Sandbox, path, field, filename string, content []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var part io.Writer
	var err error
	if filename == "" {
		part, err = mw.CreateFormField(field)
	} else {
		part, err = mw.CreateFormFile(field, filename)
	}
	require.NoError(t, err)
	_, _ = part.Write(content)
	require.NoError(t, mw.Close())
	q := url.Values{}
	if path != "" {
		q.Set("path", path)
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+filesPath(sb, "/files/upload", q), &body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return send(t, req)
}

// Upload refusals (fs/upload_file.go:26-41): no path, no part "file", a
// part "file" that is not a file, a body that is not multipart, a
// directory at the path: 400s with empty bodies.
func TestFilesUploadRefusals_upload_file_go_26(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	require.NoError(t, sb.FileSystem.CreateFolder(t.Context(), "adir"))
	requireEmptyError(t, upload(t, srv, sb, "", "file", "f", []byte("x")), 400)
	requireEmptyError(t, upload(t, srv, sb, "a.txt", "other", "f", []byte("x")), 400)
	requireEmptyError(t, upload(t, srv, sb, "a.txt", "file", "", []byte("x")), 400)
	requireEmptyError(t, upload(t, srv, sb, "adir", "file", "f", []byte("x")), 400)
	requireEmptyError(t, authed(t, srv, "POST", filesPath(sb, "/files/upload", url.Values{"path": {"a.txt"}}), "{}"), 400)
	err := sb.FileSystem.UploadFile(t.Context(), []byte("x"), "adir")
	requireDaytonaError(t, err, 400, "400 Bad Request")
	_, err = os.Stat(filepath.Join(homeDir(t, srv, sb.ID), "a.txt"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// A body cut short never touches the destination: the daemon reads the
// whole multipart body before it opens the file (gin FormFile, then
// SaveUploadedFile).
func TestFilesUploadCutShort_upload_file_go_32(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, os.WriteFile(filepath.Join(home, "keep.txt"), []byte("original"), 0o644))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "f")
	_, _ = part.Write(bytes.Repeat([]byte("new"), 1000)) // no closing boundary
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+filesPath(sb, "/files/upload", url.Values{"path": {"keep.txt"}}), &body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	requireEmptyError(t, send(t, req), 400)
	got, err := os.ReadFile(filepath.Join(home, "keep.txt"))
	require.NoError(t, err)
	require.Equal(t, "original", string(got))
}

// Uploads are not subject to the toolbox's 64 MiB body limit: the daemon
// has none (fs/upload_file.go; no MaxBytesReader anywhere). A size test:
// it runs with the stress tag (12-17 s under -race).
func TestFilesUploadLarge_upload_file_go_38(t *testing.T) {
	if testing.Short() || !stress {
		t.Skip("writes 80 MiB: runs with -tags stress")
	}
	_, _, sb := newFilesSandbox(t)
	data := bytes.Repeat([]byte{0, 1, 2, 0xff}, 20<<20)
	require.NoError(t, sb.FileSystem.UploadFile(t.Context(), data, "big.bin"))
	info, err := sb.FileSystem.GetFileInfo(t.Context(), "big.bin")
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), info.Size)
}

// Download details (fs/download_file.go:59-69, http.ServeFile): the
// daemon's headers, Range requests, and a directory or a missing path.
func TestFilesDownloadHeaders_download_file_go_59(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	require.NoError(t, sb.FileSystem.UploadFile(t.Context(), []byte("0123456789"), `naïve "q".txt`))
	p := filesPath(sb, "/files/download", url.Values{"path": {`naïve "q".txt`}})
	r := authed(t, srv, "GET", p, nil)
	require.Equal(t, 200, r.Status)
	require.Equal(t, "0123456789", string(r.Body))
	require.Equal(t, "application/octet-stream", r.Header.Get("Content-Type"))
	require.Equal(t, "attachment; filename=\"na\xefve \\\"q\\\".txt\"; filename*=utf-8''na%C3%AFve%20%22q%22.txt", r.Header.Get("Content-Disposition"))
	require.Equal(t, "10", r.Header.Get("Content-Length"))
	require.Equal(t, "bytes", r.Header.Get("Accept-Ranges"))
	for k, v := range map[string]string{"Content-Description": "File Transfer", "Content-Transfer-Encoding": "binary", "Expires": "0", "Cache-Control": "must-revalidate", "Pragma": "public"} {
		require.Equal(t, v, r.Header.Get(k), k)
	}

	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL()+p, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Range", "bytes=4-")
	r = send(t, req)
	require.Equal(t, 206, r.Status)
	require.Equal(t, "456789", string(r.Body))
	require.Equal(t, "bytes 4-9/10", r.Header.Get("Content-Range"))

	require.NoError(t, sb.FileSystem.CreateFolder(t.Context(), "d"))
	requireEmptyError(t, authed(t, srv, "GET", filesPath(sb, "/files/download", url.Values{"path": {"d"}}), nil), 400)
	requireEmptyError(t, authed(t, srv, "GET", filesPath(sb, "/files/download", url.Values{"path": {"nope"}}), nil), 404)
	requireEmptyError(t, authed(t, srv, "GET", filesPath(sb, "/files/download", nil), nil), 400)
	_, err = sb.FileSystem.DownloadFile(t.Context(), "d", nil)
	requireDaytonaError(t, err, 400, "400 Bad Request")
	_, err = sb.FileSystem.DownloadFile(t.Context(), "nope", nil)
	requireNotFound(t, err, "404 Not Found")
}

// Bulk download (fs/download_files.go:52-224): parts in request order,
// named file or error, error parts with the daemon's ErrorResponse; the
// SDK's DownloadFileStream reads the first part.
func TestFilesBulkDownload_download_files_go_52(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.FileSystem.UploadFile(ctx, []byte("hello"), "a.txt"))
	require.NoError(t, sb.FileSystem.CreateFolder(ctx, "d"))

	_, err := sb.FileSystem.DownloadFileStream(ctx, "missing.txt")
	requireNotFound(t, err, "file not found: missing.txt")
	_, err = sb.FileSystem.DownloadFileStream(ctx, "d")
	requireDaytonaError(t, err, 400, "invalid file path: path points to a directory: d")
	_, err = sb.FileSystem.DownloadFileStream(ctx, "a.txt/x")
	requireDaytonaError(t, err, 500, "failed to access file: stat a.txt/x: not a directory")

	r := authed(t, srv, "POST", filesPath(sb, "/files/bulk-download", nil), map[string]any{"paths": []string{"a.txt", "", "missing.txt", "a.txt"}})
	require.Equal(t, 200, r.Status)
	require.Equal(t, "multipart/form-data; boundary=DAYTONA-FILE-BOUNDARY", r.Header.Get("Content-Type"))
	mr := multipart.NewReader(bytes.NewReader(r.Body), "DAYTONA-FILE-BOUNDARY")
	var got []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, _ := io.ReadAll(part)
		got = append(got, part.FormName()+" "+part.Header.Get("Content-Type")+" "+string(b))
	}
	require.Len(t, got, 4)
	require.Equal(t, "file text/plain; charset=utf-8 hello", got[0])
	require.Contains(t, got[1], `error application/json; charset=utf-8 {"statusCode":400,"message":"invalid file path: path is empty","code":"INVALID_FILE_PATH",`)
	require.Contains(t, got[2], `{"statusCode":404,"message":"file not found: missing.txt","code":"FILE_NOT_FOUND","timestamp":"`)
	require.Contains(t, got[2], `"path":"missing.txt","method":"POST"}`)
	require.Equal(t, got[0], got[3])

	r = authed(t, srv, "POST", filesPath(sb, "/files/bulk-download", nil), map[string]any{"paths": []string{}})
	require.Equal(t, 400, r.Status)
	require.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	require.JSONEq(t, `{"error":"request body must be {\"paths\": [ ... ]} and non-empty"}`, string(r.Body))
	r = authed(t, srv, "POST", filesPath(sb, "/files/bulk-download", nil), "{}")
	require.Equal(t, 400, r.Status)
	require.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"))
}

// Listing (fs/list_files.go:25-55) and info (fs/get_file_info.go:28-69):
// exactly the eight keys of v0.173.0, sorted entries, links followed,
// dangling links left out, modTime in time.Time.String() layout.
func TestFilesListAndInfo_list_files_go_25(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, os.MkdirAll(filepath.Join(home, "l/sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "l/b.txt"), []byte("bbb"), 0o640))
	require.NoError(t, os.Symlink("sub", filepath.Join(home, "l/a-link")))
	require.NoError(t, os.Symlink("nowhere", filepath.Join(home, "l/dangling")))

	files, err := sb.FileSystem.ListFiles(ctx, "l")
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, fmt.Sprintf("%s %v %s %d", f.Name, f.IsDirectory, f.Mode, f.Size))
	}
	require.Equal(t, []string{"a-link true " + files[0].Mode + " " + strconv.FormatInt(files[0].Size, 10), "b.txt false -rw-r----- 3", "sub true " + files[2].Mode + " " + strconv.FormatInt(files[2].Size, 10)}, names)
	require.True(t, strings.HasPrefix(files[0].Mode, "d"))
	require.True(t, files[0].ModifiedTime.IsZero(), "the SDK parses modTime as RFC 3339, which it is not")

	r := authed(t, srv, "GET", filesPath(sb, "/files/info", url.Values{"path": {"l/b.txt"}}), nil)
	require.Equal(t, 200, r.Status)
	m := r.JSON(t)
	require.ElementsMatch(t, []string{"name", "size", "mode", "modTime", "isDir", "owner", "group", "permissions"}, keys(m))
	require.Equal(t, "0640", m["permissions"])
	require.Equal(t, strconv.Itoa(os.Getuid()), m["owner"])
	require.Equal(t, strconv.Itoa(os.Getgid()), m["group"])
	_, err = time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", m["modTime"].(string))
	require.NoError(t, err, "modTime %v", m["modTime"])
	require.Contains(t, string(r.Body), `{"name":"b.txt","size":3,"mode":"-rw-r-----","modTime":"`)

	info, err := sb.FileSystem.GetFileInfo(ctx, "l/a-link")
	require.NoError(t, err)
	require.True(t, info.IsDirectory)
	require.Equal(t, "a-link", info.Name)

	for _, p := range []string{"/files", "/files/"} { // both, as daemons from v0.178.0 serve
		r = authed(t, srv, "GET", filesPath(sb, p, url.Values{"path": {"l/sub"}}), nil)
		require.Equal(t, 200, r.Status)
		require.Equal(t, "[]", string(r.Body), "an empty directory is [], never null")
	}
	r = authed(t, srv, "GET", filesPath(sb, "/files", url.Values{"path": {""}}), nil)
	require.Equal(t, 200, r.Status, "an empty path lists the working directory")
	require.Contains(t, string(r.Body), `"name":"l"`)
}

// Missing paths are 404s with empty bodies everywhere but bulk download
// (fs/*.go: os.IsNotExist → 404); a path through a file is a 400.
func TestFilesMissing_get_file_info_go_37(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	require.NoError(t, sb.FileSystem.UploadFile(ctx, []byte("x"), "f.txt"))
	fsys := sb.FileSystem
	for name, err := range map[string]error{
		"ListFiles":           second(fsys.ListFiles(ctx, "nope")),
		"GetFileInfo":         second(fsys.GetFileInfo(ctx, "nope")),
		"DeleteFile":          fsys.DeleteFile(ctx, "nope", false),
		"MoveFiles":           fsys.MoveFiles(ctx, "nope", "other"),
		"MoveToMissingParent": fsys.MoveFiles(ctx, "f.txt", "no/dir/f.txt"),
		"SetFilePermissions":  fsys.SetFilePermissions(ctx, "nope", options.WithPermissionMode("0600")),
		"DownloadFile":        second(fsys.DownloadFile(ctx, "nope", nil)),
	} {
		t.Run(name, func(t *testing.T) { requireNotFound(t, err, "404 Not Found") })
	}
	for _, q := range []struct{ method, endpoint string }{
		{"GET", "/files"}, {"GET", "/files/info"}, {"DELETE", "/files"}, {"GET", "/files/download"},
		{"POST", "/files/permissions"},
	} {
		requireEmptyError(t, authed(t, srv, q.method, filesPath(sb, q.endpoint, url.Values{"path": {"nope"}}), nil), 404)
		requireEmptyError(t, authed(t, srv, q.method, filesPath(sb, q.endpoint, url.Values{"path": {"f.txt/x"}}), nil), 400)
	}
	_, err := fsys.GetFileInfo(ctx, "f.txt/x")
	requireDaytonaError(t, err, 400, "400 Bad Request")
}

func second[T any](_ T, err error) error { return err }

// Directories where files are expected, and files where directories are:
// list of a file, delete of any directory without recursive, mkdir over a
// file are 400s; a move onto anything existing is a 409
// (fs/list_files.go:41, fs/delete_file.go:51-54, fs/create_folder.go:46-49,
// fs/move_file.go:82-85).
func TestFilesWrongKind_delete_file_go_51(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	fsys := sb.FileSystem
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, fsys.UploadFile(ctx, []byte("x"), "f.txt"))
	require.NoError(t, fsys.UploadFile(ctx, []byte("y"), "g.txt"))
	require.NoError(t, fsys.CreateFolder(ctx, "empty"))

	requireDaytonaError(t, second(fsys.ListFiles(ctx, "f.txt")), 400, "400 Bad Request")
	requireDaytonaError(t, fsys.DeleteFile(ctx, "empty", false), 400, "400 Bad Request")
	requireDaytonaError(t, fsys.CreateFolder(ctx, "f.txt"), 400, "400 Bad Request")
	requireDaytonaError(t, fsys.CreateFolder(ctx, "f.txt/sub"), 400, "400 Bad Request")
	requireDaytonaError(t, fsys.MoveFiles(ctx, "f.txt", "g.txt"), 409, "409 Conflict")
	requireDaytonaError(t, fsys.MoveFiles(ctx, "f.txt", "empty"), 409, "409 Conflict")

	require.NoError(t, fsys.CreateFolder(ctx, "empty"), "an existing directory is a 201")
	require.NoError(t, fsys.DeleteFile(ctx, "empty", true))
	require.NoError(t, fsys.DeleteFile(ctx, "g.txt", false))
	require.NoError(t, fsys.MoveFiles(ctx, "f.txt", "moved.txt"))
	got, err := os.ReadFile(filepath.Join(home, "moved.txt"))
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
	for _, name := range []string{"empty", "g.txt", "f.txt"} {
		_, err := os.Lstat(filepath.Join(home, name))
		require.ErrorIs(t, err, os.ErrNotExist, name)
	}
	for _, p := range []string{"/files", "/files/"} { // both, as daemons from v0.189.0 serve
		require.NoError(t, os.WriteFile(filepath.Join(home, "del"), nil, 0o644))
		r := authed(t, srv, "DELETE", filesPath(sb, p, url.Values{"path": {"del"}, "recursive": {"false"}}), nil)
		require.Equal(t, 204, r.Status)
	}
}

// Folders (fs/create_folder.go:27-52) and permissions
// (fs/set_file_permissions.go:31-127): octal modes, 400 for a bad one, an
// unknown user or a missing path parameter.
func TestFilesFolderAndPermissions_create_folder_go_35(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	fsys := sb.FileSystem
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, fsys.CreateFolder(ctx, "p/q", options.WithMode("0700")))
	fi, err := os.Stat(filepath.Join(home, "p/q"))
	require.NoError(t, err)
	require.Equal(t, os.ModeDir|0o700, fi.Mode())
	requireEmptyError(t, authed(t, srv, "POST", filesPath(sb, "/files/folder", url.Values{"path": {"r"}, "mode": {"0o755"}}), nil), 400)
	requireEmptyError(t, authed(t, srv, "POST", filesPath(sb, "/files/folder", nil), nil), 400)
	r := authed(t, srv, "POST", filesPath(sb, "/files/folder", url.Values{"path": {"r"}}), nil)
	require.Equal(t, 201, r.Status)
	require.Empty(t, r.Body)

	require.NoError(t, fsys.UploadFile(ctx, []byte("x"), "p/f"))
	require.NoError(t, fsys.SetFilePermissions(ctx, "p/f", options.WithPermissionMode("0604")))
	fi, err = os.Stat(filepath.Join(home, "p/f"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o604), fi.Mode())
	require.NoError(t, fsys.SetFilePermissions(ctx, "p/f", options.WithOwner(strconv.Itoa(os.Getuid()))))
	requireDaytonaError(t, fsys.SetFilePermissions(ctx, "p/f", options.WithOwner("no-such-user-daytonatest")), 400, "400 Bad Request")
	requireDaytonaError(t, fsys.SetFilePermissions(ctx, "p/f", options.WithPermissionMode("8")), 400, "400 Bad Request")
}

// Find (fs/find_in_files.go:29-92), search (fs/search_files.go:27-54) and
// replace (fs/replace_in_files.go:27-71) through the SDK's any results.
func TestFilesFindSearchReplace_find_in_files_go_29(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	fsys := sb.FileSystem
	home := homeDir(t, srv, sb.ID)
	require.NoError(t, os.MkdirAll(filepath.Join(home, "src/pkg"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "src/a.go"), []byte("package a\r\n// TODO one\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(home, "src/pkg/b.go"), []byte("x\nTODO two\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(home, "src/bin"), []byte("TODO\x00"), 0o644))

	res, err := fsys.FindFiles(ctx, "src", "TODO")
	require.NoError(t, err)
	ms := res.([]map[string]any)
	require.Len(t, ms, 2, "the binary file is skipped")
	require.Equal(t, "src/a.go", ms[0]["file"])
	require.Equal(t, int32(2), ms[0]["line"])
	require.Equal(t, "// TODO one", ms[0]["content"])
	require.Equal(t, "src/pkg/b.go", ms[1]["file"])
	res, err = fsys.FindFiles(ctx, "src", "T.DO")
	require.NoError(t, err)
	require.Empty(t, res, "literal, not a regular expression")
	res, err = fsys.FindFiles(ctx, "missing", "x")
	require.NoError(t, err)
	require.Empty(t, res)

	res, err = fsys.SearchFiles(ctx, filepath.Join(home, "src"), "*.go")
	require.NoError(t, err)
	files := res.(map[string]any)["files"].([]string)
	sort.Strings(files)
	require.Equal(t, []string{filepath.Join(home, "src/a.go"), filepath.Join(home, "src/pkg/b.go")}, files)
	res, err = fsys.SearchFiles(ctx, "src", "pkg")
	require.NoError(t, err)
	require.Equal(t, []string{"src/pkg"}, res.(map[string]any)["files"])
	res, err = fsys.SearchFiles(ctx, "missing", "*")
	require.NoError(t, err)
	require.Empty(t, res.(map[string]any)["files"])

	res, err = fsys.ReplaceInFiles(ctx, []string{"src/a.go", "nope.txt", "src"}, "TODO", "DONE")
	require.NoError(t, err)
	rs := res.([]map[string]any)
	require.Equal(t, map[string]any{"file": "src/a.go", "success": true}, rs[0])
	require.Equal(t, map[string]any{"file": "nope.txt", "success": false, "error": "open nope.txt: no such file or directory"}, rs[1])
	require.Equal(t, map[string]any{"file": "src", "success": false, "error": "read src: is a directory"}, rs[2])
	got, _ := os.ReadFile(filepath.Join(home, "src/a.go"))
	require.Equal(t, "package a\r\n// DONE one\n", string(got))
	_, err = fsys.ReplaceInFiles(ctx, nil, "a", "b")
	requireDaytonaError(t, err, 400, "400 Bad Request")
	_, err = fsys.ReplaceInFiles(ctx, []string{}, "", "b")
	requireDaytonaError(t, err, 400, "400 Bad Request")
	requireEmptyError(t, authed(t, srv, "GET", filesPath(sb, "/files/find", url.Values{"path": {"src"}}), nil), 400)
	requireEmptyError(t, authed(t, srv, "GET", filesPath(sb, "/files/search", url.Values{"pattern": {"*"}}), nil), 400)
}

// A stopped sandbox's toolbox answers every file call 400 "... Is the
// Sandbox started?", a deleted one's 401, as for the other toolbox calls
// (the proxy answers before the daemon).
func TestFilesStoppedAndDeleted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*daytonatest.Server, string) error
		status int
	}{
		{"stopped", (*daytonatest.Server).StopSandbox, 400},
		{"deleted", (*daytonatest.Server).DeleteSandbox, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, sb := newFilesSandbox(t)
			ctx := t.Context()
			fsys := sb.FileSystem
			require.NoError(t, fsys.UploadFile(ctx, []byte("x"), "f.txt"))
			require.NoError(t, tc.change(srv, sb.ID))
			for name, err := range map[string]error{
				"UploadFile":         fsys.UploadFile(ctx, []byte("x"), "g.txt"),
				"DownloadFile":       second(fsys.DownloadFile(ctx, "f.txt", nil)),
				"DownloadFileStream": second(fsys.DownloadFileStream(ctx, "f.txt")),
				"ListFiles":          second(fsys.ListFiles(ctx, ".")),
				"GetFileInfo":        second(fsys.GetFileInfo(ctx, "f.txt")),
				"CreateFolder":       fsys.CreateFolder(ctx, "d"),
				"DeleteFile":         fsys.DeleteFile(ctx, "f.txt", false),
				"MoveFiles":          fsys.MoveFiles(ctx, "f.txt", "h.txt"),
				"SetFilePermissions": fsys.SetFilePermissions(ctx, "f.txt", options.WithPermissionMode("0600")),
				"FindFiles":          second(fsys.FindFiles(ctx, ".", "x")),
				"SearchFiles":        second(fsys.SearchFiles(ctx, ".", "*")),
				"ReplaceInFiles":     second(fsys.ReplaceInFiles(ctx, []string{"f.txt"}, "x", "y")),
			} {
				require.Error(t, err, name)
				if tc.status == 400 {
					requireDaytonaError(t, err, 400, "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?")
				} else {
					requireDaytonaError(t, err, 401, "unauthorized: authentication failed: Bearer token is invalid")
				}
			}
		})
	}
}

// Every file endpoint is logged under its Op and can be made to fail with
// FailNext, in the toolbox's error shape, before it has any effect.
func TestFilesOpsAndFaults(t *testing.T) {
	t.Parallel()
	srv, _, sb := newFilesSandbox(t)
	ctx := t.Context()
	fsys := sb.FileSystem
	require.NoError(t, fsys.UploadFile(ctx, []byte("x"), "f.txt"))
	calls := map[daytonatest.Op]func() error{
		daytonatest.OpUploadFile:     func() error { return fsys.UploadFile(ctx, []byte("y"), "f.txt") },
		daytonatest.OpDownloadFile:   func() error { return second(fsys.DownloadFile(ctx, "f.txt", nil)) },
		daytonatest.OpBulkDownload:   func() error { return second(fsys.DownloadFileStream(ctx, "f.txt")) },
		daytonatest.OpListFiles:      func() error { return second(fsys.ListFiles(ctx, ".")) },
		daytonatest.OpFileInfo:       func() error { return second(fsys.GetFileInfo(ctx, "f.txt")) },
		daytonatest.OpCreateFolder:   func() error { return fsys.CreateFolder(ctx, "d") },
		daytonatest.OpDeleteFile:     func() error { return fsys.DeleteFile(ctx, "d", true) },
		daytonatest.OpMoveFile:       func() error { return fsys.MoveFiles(ctx, "f.txt", "g.txt") },
		daytonatest.OpSetPermissions: func() error { return fsys.SetFilePermissions(ctx, "g.txt", options.WithPermissionMode("0600")) },
		daytonatest.OpFindInFiles:    func() error { return second(fsys.FindFiles(ctx, ".", "x")) },
		daytonatest.OpSearchFiles:    func() error { return second(fsys.SearchFiles(ctx, ".", "*")) },
		daytonatest.OpReplaceInFiles: func() error { return second(fsys.ReplaceInFiles(ctx, []string{"g.txt"}, "x", "y")) },
	}
	order := []daytonatest.Op{
		daytonatest.OpUploadFile, daytonatest.OpDownloadFile, daytonatest.OpBulkDownload, daytonatest.OpListFiles,
		daytonatest.OpFileInfo, daytonatest.OpCreateFolder, daytonatest.OpDeleteFile, daytonatest.OpMoveFile,
		daytonatest.OpSetPermissions, daytonatest.OpFindInFiles, daytonatest.OpSearchFiles, daytonatest.OpReplaceInFiles,
	}
	require.Len(t, order, len(calls))
	for _, op := range order {
		srv.ResetRequests()
		require.NoError(t, srv.FailNext(op, 1, 503, "injected"))
		requireDaytonaError(t, calls[op](), 503, "injected")
		require.NoError(t, calls[op](), op)
		require.Equal(t, 2, srv.Count(op), op)
		require.Equal(t, 2, srv.TotalCount(), op)
	}
}
