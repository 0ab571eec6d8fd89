//go:build unix

package daytonatest

// The toolbox's file endpoints ({URL}/toolbox/{sandboxId}/files/...), with
// the daemon's semantics: the handlers of apps/daemon/pkg/toolbox/fs/ at
// tag libs/sdk-go/v0.173.0 (cited below as fs/<file>:<lines>), as the SDK
// v0.173.0 reaches them. This file has the metadata endpoints;
// files_transfer.go has uploads and downloads, files_search.go find,
// search and replace.
//
// Paths are the sandbox's: a relative path resolves against the sandbox's
// home, which is the daemon's working directory (cmd/daemon/main.go:91-96,
// the directory /work-dir reports); an absolute path is a path of this
// machine, as the commands see it. Nothing is confined, as in the daemon.
//
// Errors are the daemon's: a status code with an empty body (gin's
// AbortWithError writes the status at once, and the error middleware then
// skips the response), except where a handler writes a body of its own.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// routeFiles registers the file endpoints (server.go:169-189). The mux
// ignores trailing slashes, so "/files" serves both /files, which the
// SDK's client sends, and /files/, where the daemon registers the list and
// delete routes (daemons from v0.178.0 and v0.189.0 serve both too; older
// ones redirect the former).
func (s *Server) routeFiles(tb func(method, path string, op Op, h handlerFunc)) {
	tb("GET", "/files", OpListFiles, s.handleListFiles)
	tb("GET", "/files/info", OpFileInfo, s.handleFileInfo)
	tb("POST", "/files/folder", OpCreateFolder, s.handleCreateFolder)
	tb("DELETE", "/files", OpDeleteFile, s.handleDeleteFile)
	tb("POST", "/files/move", OpMoveFile, s.handleMoveFile)
	tb("POST", "/files/permissions", OpSetPermissions, s.handleSetPermissions)
	tb("POST", "/files/upload", OpUploadFile, s.handleUploadFile)
	tb("GET", "/files/download", OpDownloadFile, s.handleDownloadFile)
	tb("POST", "/files/bulk-download", OpBulkDownload, s.handleBulkDownload)
	tb("GET", "/files/find", OpFindInFiles, s.handleFindInFiles)
	tb("GET", "/files/search", OpSearchFiles, s.handleSearchFiles)
	tb("POST", "/files/replace", OpReplaceInFiles, s.handleReplaceInFiles)
}

// fileInfo is the daemon's FileInfo (fs/types.go:6-15): exactly these
// eight keys, in this order. Daemons from v0.184.0 add modifiedAt, which
// the SDK v0.173.0's strict decoder refuses, so it is left out.
type fileInfo struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Mode        string `json:"mode"`    // Go's FileMode.String(), such as -rw-r--r--
	ModTime     string `json:"modTime"` // Go's time.Time.String(), not RFC 3339
	IsDir       bool   `json:"isDir"`
	Owner       string `json:"owner"`       // numeric uid
	Group       string `json:"group"`       // numeric gid
	Permissions string `json:"permissions"` // %04o of the permission bits
}

// statInfo describes path as getFileInfo does (fs/get_file_info.go:52-69,
// the same at v0.190.0): os.Stat, so symbolic links are followed (a link
// is never described as a link: its mode is its target's, never "L...");
// the name is the base name of the path as given.
func statInfo(path string) (fileInfo, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileInfo{}, err
	}
	out := fileInfo{
		Name:        info.Name(),
		Size:        info.Size(),
		Mode:        info.Mode().String(),
		ModTime:     info.ModTime().String(),
		IsDir:       info.IsDir(),
		Permissions: fmt.Sprintf("%04o", info.Mode().Perm()),
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		out.Owner = strconv.FormatUint(uint64(st.Uid), 10)
		out.Group = strconv.FormatUint(uint64(st.Gid), 10)
	}
	return out, nil
}

// resolve returns where a path of the sandbox is on this machine: absolute
// paths as they are, relative ones below the home (the daemon's working
// directory), joined without cleaning, so that ".." and symbolic links
// resolve as the kernel resolves them for the daemon.
func (tb *toolbox) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return tb.home + "/" + p
}

// resolveAbs is resolve followed by filepath.Abs's lexical cleaning, which
// the download, move and permission handlers apply first
// (fs/download_file.go:34, fs/move_file.go:38-48,
// fs/set_file_permissions.go:43).
func (tb *toolbox) resolveAbs(p string) string {
	return filepath.Clean(tb.resolve(p))
}

// asGiven puts the path the client sent back into an error of package os,
// whose message would otherwise show where the file is on this machine.
func asGiven(err error, p string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = p
	}
	return err
}

// statStatus is the status every handler gives a failed os.Stat (for
// example fs/get_file_info.go:36-46): 404 if missing, 403 if not
// permitted, 400 for anything else (such as ENOTDIR).
func statStatus(err error) int {
	switch {
	case os.IsNotExist(err):
		return http.StatusNotFound
	case os.IsPermission(err):
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// queryPath returns the query parameter name, or answers 400 and returns
// false when it is missing or empty ("path is required").
func queryPath(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	p := r.URL.Query().Get(name)
	if p == "" {
		fileStatus(w, r, http.StatusBadRequest)
		return "", false
	}
	return p, true
}

// fileRequest starts a handler whose path parameter is required: it
// returns the sandbox's toolbox and the path, or answers the request (as
// the proxy, or 400 "path is required") and returns false.
func (s *Server) fileRequest(w http.ResponseWriter, r *http.Request) (*toolbox, string, bool) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return nil, "", false
	}
	p, ok := queryPath(w, r, "path")
	return tb, p, ok
}

// statFor stats path, or answers with the status of the failure and
// returns false.
func statFor(w http.ResponseWriter, r *http.Request, path string) (os.FileInfo, bool) {
	info, err := os.Stat(path)
	if err != nil {
		fileStatus(w, r, statStatus(err))
		return nil, false
	}
	return info, true
}

// handleListFiles lists a directory (fs/list_files.go:25-55): an empty
// path is ".", the entries are sorted by name and described with os.Stat,
// and entries whose stat fails (dangling links) are left out. A file is a
// 400.
func (s *Server) handleListFiles(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	p := r.URL.Query().Get("path")
	if p == "" {
		p = "."
	}
	dir := tb.resolve(p)
	entries, err := os.ReadDir(dir)
	if err != nil {
		fileStatus(w, r, statStatus(err))
		return
	}
	out := make([]fileInfo, 0, len(entries))
	for _, e := range entries {
		if info, err := statInfo(filepath.Join(dir, e.Name())); err == nil {
			out = append(out, info)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// handleFileInfo describes one file (fs/get_file_info.go:28-50).
func (s *Server) handleFileInfo(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	info, err := statInfo(tb.resolve(p))
	if err != nil {
		fileStatus(w, r, statStatus(err))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// parseMode parses an octal mode as the daemon does (ParseUint base 8,
// 32 bits; fs/create_folder.go:35-44): "0755" and "755" are valid, "0o755"
// and "9" are not.
func parseMode(mode string) (os.FileMode, bool) {
	n, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		return 0, false
	}
	return os.FileMode(n), true
}

// handleCreateFolder is os.MkdirAll with the mode given, 0755 by default
// (fs/create_folder.go:27-52): 201 also when the directory exists; 400 for
// a bad mode and for every failure of MkdirAll (a file in the way, no
// permission).
func (s *Server) handleCreateFolder(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	perm := os.FileMode(0o755)
	if mode := r.URL.Query().Get("mode"); mode != "" {
		if perm, ok = parseMode(mode); !ok {
			fileStatus(w, r, http.StatusBadRequest)
			return
		}
	}
	if err := os.MkdirAll(tb.resolve(p), perm); err != nil {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// handleDeleteFile deletes a file, or a directory with recursive=true
// exactly (fs/delete_file.go:25-69): os.Stat first (so a dangling link is
// a 404), any directory without recursive is a 400, even an empty one;
// 204 on success.
func (s *Server) handleDeleteFile(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	recursive := r.URL.Query().Get("recursive") == "true"
	path := tb.resolve(p)
	info, ok := statFor(w, r, path)
	if !ok {
		return
	}
	if info.IsDir() && !recursive {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	var err error
	if recursive {
		err = os.RemoveAll(path)
	} else {
		err = os.Remove(path)
	}
	if err != nil {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleMoveFile moves source to destination (fs/move_file.go:28-108):
// the source must exist (404/403/400), the destination's parent too (404),
// and the destination must not (409, also for a directory: nothing is
// moved into it). A failed rename falls back to copying and deleting.
func (s *Server) handleMoveFile(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	q := r.URL.Query()
	if q.Get("source") == "" || q.Get("destination") == "" {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	src, dst := tb.resolveAbs(q.Get("source")), tb.resolveAbs(q.Get("destination"))
	srcInfo, ok := statFor(w, r, src)
	if !ok {
		return
	}
	if _, ok := statFor(w, r, filepath.Dir(dst)); !ok {
		return
	}
	if _, err := os.Stat(dst); err == nil {
		fileStatus(w, r, http.StatusConflict)
		return
	}
	if os.Rename(src, dst) == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := copyTree(src, dst, srcInfo); err != nil {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	if err := os.RemoveAll(src); err != nil {
		// fs/move_file.go:97-103: a 200 that says what went wrong.
		writeJSON(w, http.StatusOK, map[string]string{
			"message": "file copied successfully but source could not be deleted",
			"error":   "failed to delete source: " + err.Error(),
		})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// copyTree is the move's fallback (fs/move_file.go:110-150): directories
// are walked and recreated with their modes, files copied with theirs;
// symbolic links are followed, not kept.
func copyTree(src, dst string, info os.FileInfo) error {
	if !info.IsDir() {
		return copyContents(src, dst, info.Mode())
	}
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, fi.Mode())
		}
		return copyContents(path, target, fi.Mode())
	})
}

// copyContents copies one file's bytes, creating or truncating dst.
func copyContents(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFrom(dst, mode, in)
}

// writeFrom creates dst with mode (less the umask), or truncates it
// (keeping its mode), and copies r into it.
func writeFrom(dst string, mode os.FileMode, r io.Reader) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// handleSetPermissions changes a file's mode, owner and group, each only
// if given (fs/set_file_permissions.go:31-127): stat errors as everywhere;
// a bad mode, an unknown user or group, and a failed chmod or chown are
// 400s; 200 on success. Owner and group are numeric ids or names.
func (s *Server) handleSetPermissions(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, p, ok := s.fileRequest(w, r)
	if !ok {
		return
	}
	path := tb.resolveAbs(p)
	if _, ok := statFor(w, r, path); !ok {
		return
	}
	q := r.URL.Query()
	if mode := q.Get("mode"); mode != "" {
		perm, ok := parseMode(mode)
		if !ok || os.Chmod(path, perm) != nil {
			fileStatus(w, r, http.StatusBadRequest)
			return
		}
	}
	owner, group := q.Get("owner"), q.Get("group")
	if owner == "" && group == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	uid, uok := lookupID(owner, func(n string) (string, error) { u, err := user.Lookup(n); return uidOf(u), err })
	gid, gok := lookupID(group, func(n string) (string, error) { g, err := user.LookupGroup(n); return gidOf(g), err })
	if !uok || !gok || os.Chown(path, uid, gid) != nil {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// lookupID resolves an owner or group parameter: -1 (unchanged) if empty,
// the number if numeric, else the id of the name lookup finds.
func lookupID(v string, lookup func(name string) (string, error)) (int, bool) {
	if v == "" {
		return -1, true
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n, true
	}
	id, err := lookup(v)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(id)
	return n, err == nil
}

func uidOf(u *user.User) string {
	if u == nil {
		return ""
	}
	return u.Uid
}

func gidOf(g *user.Group) string {
	if g == nil {
		return ""
	}
	return g.Gid
}
