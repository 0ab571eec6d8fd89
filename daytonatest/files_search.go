//go:build unix

package daytonatest

// find, search and replace of the toolbox (see files.go for the
// conventions).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// walkAsGiven walks root (a path of the sandbox) with filepath.Walk, as
// the daemon does, calling fn with each path where it is on this machine
// and as the daemon's walk of root would name it: root itself, then
// filepath.Join(root, ...) below it. So results echo the form of the
// request (relative paths for a relative root).
func (tb *toolbox) walkAsGiven(root string, fn func(path, shown string, info os.FileInfo, err error) error) {
	resolved := tb.resolve(root)
	_ = filepath.Walk(resolved, func(path string, info os.FileInfo, err error) error {
		shown := root
		if path != resolved {
			if rel, rerr := filepath.Rel(resolved, path); rerr == nil {
				shown = filepath.Join(root, rel)
			}
		}
		return fn(path, shown, info, err)
	})
}

// searchRequest starts find and search: the sandbox's toolbox and the
// required path and pattern, or an answer (400 if either is missing) and
// false.
func (s *Server) searchRequest(w http.ResponseWriter, r *http.Request) (tb *toolbox, root, pattern string, ok bool) {
	if tb = s.toolboxFor(w, r); tb == nil {
		return nil, "", "", false
	}
	q := r.URL.Query()
	root, pattern = q.Get("path"), q.Get("pattern")
	if root == "" || pattern == "" {
		fileStatus(w, r, http.StatusBadRequest)
		return nil, "", "", false
	}
	return tb, root, pattern, true
}

// match is the daemon's Match (fs/types.go:29-33).
type match struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Content string `json:"content"`
}

// handleFindInFiles finds the lines that contain pattern, literally and
// case-sensitively, in the regular files below path
// (fs/find_in_files.go:29-92): symbolic links are not followed, a file
// whose first 512 bytes hold a NUL is skipped as binary, lines are read
// with bufio.Scanner (CRLF trimmed; a line over 64 KiB ends that file
// silently), and unreadable or missing directories are skipped: a missing
// path is a 200 with []. path and pattern are required (400).
func (s *Server) handleFindInFiles(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, root, pattern, ok := s.searchRequest(w, r)
	if !ok {
		return
	}
	matches := make([]match, 0)
	tb.walkAsGiven(root, func(path, shown string, info os.FileInfo, err error) error {
		if err != nil {
			return filepath.SkipDir
		}
		if info.Mode().IsRegular() {
			matches = findInFile(matches, path, shown, pattern)
		}
		return nil
	})
	writeJSON(w, http.StatusOK, matches)
}

// findInFile appends the matches of pattern in the file at path, reported
// as shown.
func findInFile(out []match, path, shown, pattern string) []match {
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := f.Read(head)
	if err != nil || bytes.IndexByte(head[:n], 0) >= 0 {
		return out // empty, unreadable or binary
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return out
	}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.Contains(sc.Text(), pattern) {
			out = append(out, match{File: shown, Line: line, Content: sc.Text()})
		}
	}
	return out
}

// handleSearchFiles lists the paths below path, path included, whose base
// name matches the glob pattern (filepath.Match: "*" does not cross "/";
// fs/search_files.go:27-54): directories and symbolic links (not
// followed) included; a malformed pattern matches nothing; a missing path
// is a 200 with no files. path and pattern are required (400).
func (s *Server) handleSearchFiles(w http.ResponseWriter, r *http.Request, _ []byte) {
	tb, root, pattern, ok := s.searchRequest(w, r)
	if !ok {
		return
	}
	files := []string{}
	tb.walkAsGiven(root, func(_, shown string, info os.FileInfo, err error) error {
		if err != nil {
			return filepath.SkipDir
		}
		if ok, _ := filepath.Match(pattern, info.Name()); ok {
			files = append(files, shown)
		}
		return nil
	})
	writeJSON(w, http.StatusOK, map[string][]string{"files": files})
}

// replaceResult is the daemon's ReplaceResult (fs/types.go:23-27).
type replaceResult struct {
	File    string `json:"file"`
	Success bool   `json:"success"`
	Error   string `json:"error,omitempty"`
}

// handleReplaceInFiles replaces every occurrence of pattern, literally,
// in each listed file, and rewrites each file even when nothing matched
// (fs/replace_in_files.go:27-71): 200 with one result per file, in order,
// failures as success:false with the error's text. The body must bind
// (fs/types.go:17-21): files present (may be []), pattern not empty,
// newValue present (may be ""); else a 400 with an empty body.
func (s *Server) handleReplaceInFiles(w http.ResponseWriter, r *http.Request, body []byte) {
	tb := s.toolboxFor(w, r)
	if tb == nil {
		return
	}
	var req struct {
		Files    []string `json:"files"`
		Pattern  string   `json:"pattern"`
		NewValue *string  `json:"newValue"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil ||
		req.Files == nil || req.Pattern == "" || req.NewValue == nil {
		fileStatus(w, r, http.StatusBadRequest)
		return
	}
	results := make([]replaceResult, 0, len(req.Files))
	for _, f := range req.Files {
		res := replaceResult{File: f, Success: true}
		path := tb.resolve(f)
		content, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(path, []byte(strings.ReplaceAll(string(content), req.Pattern, *req.NewValue)), 0o644)
		}
		if err != nil {
			res.Success, res.Error = false, asGiven(err, f).Error()
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, results)
}
