//go:build unix

package daytonatest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The server answers under three prefixes; anything else is a 404 in the
// control plane's error shape, and is not logged.
const (
	apiPrefix     = "/api"          // the control plane
	toolboxPrefix = "/toolbox"      // the toolbox proxy: /toolbox/{sandboxId}/...
	controlPrefix = "/_daytonatest" // the test controls
)

// newMux routes every operation with an http.ServeMux method and path
// pattern. Each route is wrapped with what its family of requests goes
// through (endpoint for the API and the toolbox, control for the test
// controls), and knows its Op, which the request log records. Under each
// prefix a catch-all answers the paths and methods no route has: 404, as
// NestJS and gin answer, where a bare ServeMux would answer 405 for a
// known path with another method.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(method, path string, op Op, h handlerFunc) {
		mux.Handle(method+" "+apiPrefix+path, s.endpoint(apiFamily, method, op, h))
	}
	api("POST", "/sandbox", OpCreate, s.handleCreate)
	api("GET", "/sandbox", OpList, s.handleList)
	api("GET", "/sandbox/paginated", OpListPaginated, s.handleListPaginated)
	api("GET", "/sandbox/{idOrName}", OpGet, s.onSandbox(s.getSandbox))
	api("DELETE", "/sandbox/{idOrName}", OpDelete, s.onLifecycle(s.deleteSandbox))
	api("POST", "/sandbox/{idOrName}/start", OpStart, s.onLifecycle(s.startSandbox))
	api("POST", "/sandbox/{idOrName}/stop", OpStop, s.onLifecycle(s.stopSandbox))
	api("POST", "/sandbox/{idOrName}/archive", OpArchive, s.onLifecycle(s.archiveSandbox))
	api("POST", "/sandbox/{idOrName}/recover", OpRecover, s.onLifecycle(s.recoverSandbox))
	if s.since(level0190) {
		api("POST", "/sandbox/{idOrName}/pause", OpPause, s.onLifecycle(s.pauseSandbox))
	}
	s.routeSettings(api)
	mux.Handle(apiPrefix+"/", s.endpoint(apiFamily, "", OpUnknown, nil))

	tb := func(method, path string, op Op, h handlerFunc) {
		mux.Handle(method+" "+toolboxPrefix+"/{sandboxId}"+path, s.endpoint(toolboxFamily, method, op, h))
	}
	const cmd = "/process/session/{sessionId}/command/{commandId}"
	tb("POST", "/process/execute", OpExecute, s.handleExecute)
	tb("POST", "/process/session", OpCreateSession, s.handleCreateSession)
	tb("GET", "/process/session", OpListSessions, s.handleListSessions)
	tb("GET", "/process/session/{sessionId}", OpGetSession, s.handleGetSession)
	tb("DELETE", "/process/session/{sessionId}", OpDeleteSession, s.handleDeleteSession)
	tb("POST", "/process/session/{sessionId}/exec", OpSessionExec, s.handleSessionExec)
	tb("GET", cmd, OpGetCommand, s.handleGetCommand)
	tb("GET", cmd+"/logs", OpCommandLogs, s.handleCommandLogs) // OpFollowLogs with ?follow=true
	tb("POST", cmd+"/input", OpSendInput, s.handleSendInput)
	tb("GET", "/work-dir", OpWorkDir, s.handleWorkDir)
	tb("GET", "/user-home-dir", OpHomeDir, s.handleWorkDir)
	s.routeFiles(tb)
	s.routeFilesToday(tb)
	mux.Handle(toolboxPrefix+"/", s.endpoint(toolboxFamily, "", OpUnknown, nil))

	s.routeControls(mux)
	s.routeServices(mux)
	return mux
}

// ServeHTTP implements [http.Handler], so a Server can also be mounted in
// another mux.
//
// The mux matches a canonical form of the path: segments are split on "/"
// and then unescaped (an id may hold an escaped "/"), leading and trailing
// slashes are ignored, empty segments, "." and ".." are plain segments, and
// nothing is cleaned or redirected. Wildcards get their values from the
// same segments.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	var prefix string
	switch {
	case path == controlPrefix || strings.HasPrefix(path, controlPrefix+"/"):
		prefix = controlPrefix
	case path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/"):
		prefix = apiPrefix
	case strings.HasPrefix(path, toolboxPrefix+"/"):
		prefix = toolboxPrefix
	default:
		writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path))
		return
	}
	segs := splitPath(strings.TrimPrefix(path, prefix))
	canon := make([]string, len(segs))
	for i, seg := range segs {
		canon[i] = canonicalSegment(seg)
	}
	u := &url.URL{RawPath: prefix + "/" + strings.Join(canon, "/")}
	u.Path, _ = url.PathUnescape(u.RawPath) // a valid escaping: no error
	h, pattern := s.mux.Handler(&http.Request{Method: r.Method, URL: u})
	h.ServeHTTP(w, withPathValues(r, pattern, prefix, segs))
}

// splitPath splits an escaped URL path into unescaped segments, so that ids
// containing an escaped "/" stay one segment. It cannot fail on the output
// of [url.URL.EscapedPath], which is always a valid escaping.
func splitPath(escaped string) []string {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// canonicalSegment is how the mux sees one segment: escaped, and never
// empty, "." or "..", which the mux would clean away with a redirect. An
// empty segment becomes "%00", which no literal of a pattern matches; the
// wildcard's value comes from the segment itself (withPathValues).
func canonicalSegment(seg string) string {
	switch seg {
	case "":
		return "%00"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(seg)
}

// withPathValues returns r, or a copy of it with the wildcards of pattern
// set from segs, the path's segments after prefix: the canonical path the
// mux matched has one segment for each.
func withPathValues(r *http.Request, pattern, prefix string, segs []string) *http.Request {
	_, path, _ := strings.Cut(pattern, " ")
	if !strings.Contains(path, "{") {
		return r
	}
	r = r.Clone(r.Context())
	r.Pattern = pattern
	for i, p := range strings.Split(strings.Trim(strings.TrimPrefix(path, prefix), "/"), "/") {
		if name, ok := strings.CutPrefix(p, "{"); ok && i < len(segs) {
			r.SetPathValue(strings.TrimSuffix(name, "}"), segs[i])
		}
	}
	return r
}
