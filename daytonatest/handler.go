//go:build unix

package daytonatest

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	maxAPIBody     = 1 << 20  // 1 MiB; larger bodies get 413
	maxToolboxBody = 64 << 20 // 64 MiB
)

type family int

const (
	famAPI family = iota
	famToolbox
)

type handlerFunc func(w http.ResponseWriter, r *http.Request, args []string, body []byte)

type route struct {
	method string
	segs   []string // "*" matches one segment
	op     Op
	h      handlerFunc
}

func (s *Server) apiRoutes() []route {
	return []route{
		{"POST", []string{"sandbox"}, OpCreate, s.handleCreate},
		{"GET", []string{"sandbox"}, OpList, s.handleList},
		{"GET", []string{"sandbox", "paginated"}, OpListPaginated, s.handleListPaginated},
		{"GET", []string{"sandbox", "*"}, OpGet, s.onSandbox(s.getSandbox)},
		{"DELETE", []string{"sandbox", "*"}, OpDelete, s.onSandbox(s.deleteSandbox)},
		{"POST", []string{"sandbox", "*", "start"}, OpStart, s.onSandbox(s.startSandbox)},
		{"POST", []string{"sandbox", "*", "stop"}, OpStop, s.onSandbox(s.stopSandbox)},
		{"POST", []string{"sandbox", "*", "archive"}, OpArchive, s.onSandbox(s.archiveSandbox)},
		{"GET", []string{"sandbox", "*", "toolbox-proxy-url"}, OpToolboxProxyURL, s.onSandbox(s.toolboxProxyURL)},
	}
}

// toolboxRoutes match the path after /toolbox/{sandboxId}; args[0] is the
// sandbox id, followed by the path's wildcards.
func (s *Server) toolboxRoutes() []route {
	return []route{
		{"POST", []string{"process", "execute"}, OpExecute, s.handleExecute},
		{"POST", []string{"process", "session"}, OpCreateSession, s.handleCreateSession},
		{"GET", []string{"process", "session"}, OpListSessions, s.handleListSessions},
		{"GET", []string{"process", "session", "*"}, OpGetSession, s.handleGetSession},
		{"DELETE", []string{"process", "session", "*"}, OpDeleteSession, s.handleDeleteSession},
		{"POST", []string{"process", "session", "*", "exec"}, OpSessionExec, s.handleSessionExec},
		{"GET", []string{"process", "session", "*", "command", "*"}, OpGetCommand, s.handleGetCommand},
		{"GET", []string{"process", "session", "*", "command", "*", "logs"}, OpCommandLogs, s.handleCommandLogs},
		{"POST", []string{"process", "session", "*", "command", "*", "input"}, OpSendInput, s.handleSendInput},
		{"GET", []string{"work-dir"}, OpWorkDir, s.handleWorkDir},
		{"GET", []string{"user-home-dir"}, OpHomeDir, s.handleHomeDir},
	}
}

// match finds the route for method and segs, and the values of its
// wildcards.
func match(routes []route, method string, segs []string) (rt *route, args []string) {
	for i := range routes {
		r := &routes[i]
		if len(r.segs) != len(segs) {
			continue
		}
		var a []string
		ok := true
		for j, p := range r.segs {
			if p == "*" {
				a = append(a, segs[j])
			} else if p != segs[j] {
				ok = false
				break
			}
		}
		// A literal route ("sandbox/paginated") comes before the wildcard
		// one and shadows it for its own method only.
		if ok && r.method == method {
			return r, a
		}
	}
	return nil, nil
}

// splitPath splits an escaped URL path into unescaped segments, so that ids
// containing an escaped "/" stay one segment.
func splitPath(escaped string) ([]string, bool) {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil, true
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// ServeHTTP implements [http.Handler], so a Server can also be mounted in
// another mux. Requests are authenticated, delayed by the injected latency,
// logged, checked against the injected faults and then dispatched.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/_daytonatest" || strings.HasPrefix(path, "/_daytonatest/"):
		if !s.authorized(r) {
			writeAPIError(w, r, http.StatusUnauthorized, "Unauthorized")
			return
		}
		s.serveControl(w, r, strings.TrimPrefix(path, "/_daytonatest"))
	case path == "/api" || strings.HasPrefix(path, "/api/"):
		s.serveFamily(w, r, famAPI, strings.TrimPrefix(path, "/api"))
	case strings.HasPrefix(path, "/toolbox/"):
		s.serveFamily(w, r, famToolbox, strings.TrimPrefix(path, "/toolbox"))
	default:
		writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path))
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.apiKey)) == 1
}

func (s *Server) serveFamily(w http.ResponseWriter, r *http.Request, fam family, rest string) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	segs, okPath := splitPath(rest)

	var routes []route
	var args []string
	if fam == famToolbox {
		if len(segs) > 0 {
			args = []string{segs[0]}
			segs = segs[1:]
		}
		routes = s.toolboxRoutes()
	} else {
		routes = s.apiRoutes()
	}
	rt, wild := match(routes, r.Method, segs)
	op := OpUnknown
	if rt != nil {
		op = rt.op
		args = append(args, wild...)
		if op == OpCommandLogs && r.URL.Query().Get("follow") == "true" {
			op = OpFollowLogs
		}
	}

	limit := int64(maxAPIBody)
	if fam == famToolbox {
		limit = maxToolboxBody
	}
	body, readErr := readBody(r, limit)
	entry := s.log.begin(start, r, op, body)
	defer func() {
		status := rec.status
		if status == 0 && !rec.dropped {
			status = http.StatusOK
		}
		d := time.Since(start)
		s.log.finish(entry, status, d)
		if s.cfg.logw != nil {
			fmt.Fprintf(s.cfg.logw, "%s %s %s -> %d (%s)\n", start.Format("15:04:05.000"), r.Method, r.URL.Path, status, d.Round(time.Microsecond))
		}
	}()

	if !s.sleep(r.Context(), s.Latency()) {
		writeFamilyError(rec, r, fam, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	if !s.authorized(r) {
		if fam == famToolbox {
			writeToolboxError(rec, r, http.StatusUnauthorized, "unauthorized: authentication failed: Bearer token is invalid")
		} else {
			writeAPIError(rec, r, http.StatusUnauthorized, "Unauthorized")
		}
		return
	}
	if !okPath || (fam == famToolbox && len(args) == 0) {
		writeFamilyError(rec, r, fam, http.StatusNotFound, notFoundMessage(fam, r))
		return
	}
	if rt == nil {
		// Like NestJS and gin with their defaults, a known path with the
		// wrong method is a 404, not a 405.
		writeFamilyError(rec, r, fam, http.StatusNotFound, notFoundMessage(fam, r))
		return
	}
	if readErr != nil {
		if errors.Is(readErr, errBodyTooLarge) {
			msg := "request entity too large"
			if fam == famToolbox {
				msg = "request entity too large: body exceeds 64 MiB"
			}
			writeFamilyError(rec, r, fam, http.StatusRequestEntityTooLarge, msg)
		} else {
			writeFamilyError(rec, r, fam, http.StatusBadRequest, "failed to read request body: "+readErr.Error())
		}
		return
	}
	if f := s.takeFault(op); f != nil {
		writeFamilyError(rec, r, fam, f.status, f.message)
		return
	}
	rt.h(rec, r, args, body)
}

func notFoundMessage(fam family, r *http.Request) string {
	if fam == famToolbox {
		return "not found: route not found"
	}
	return fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path)
}

var errBodyTooLarge = errors.New("body too large")

func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// recorder remembers the status written through it and passes Hijack
// through for the WebSocket upgrade.
type recorder struct {
	http.ResponseWriter
	status  int
	dropped bool // closed with no response at all
}

// dropConnection ends a request with no response: the connection just
// closes, as when the sandbox's container goes away under a request. The
// request is logged with status 0.
func dropConnection(w http.ResponseWriter) {
	r, ok := w.(*recorder)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	r.dropped = true
	if c, _, err := r.ResponseWriter.(http.Hijacker).Hijack(); err == nil {
		_ = c.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("daytonatest: response does not support hijacking")
	}
	c, rw, err := h.Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writeJSON writes v with a JSON content type, as the SDK's decoders require.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "daytonatest: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeFamilyError(w http.ResponseWriter, r *http.Request, fam family, status int, msg string) {
	if fam == famToolbox {
		writeToolboxError(w, r, status, msg)
	} else {
		writeAPIError(w, r, status, msg)
	}
}

// writeAPIError writes the control plane's error shape (a NestJS exception
// filter): {path, timestamp, statusCode, error, message}.
func writeAPIError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"path":       r.URL.Path,
		"timestamp":  time.Now().UTC().Format(time.RFC3339Nano),
		"statusCode": status,
		"error":      http.StatusText(status),
		"message":    msg,
	})
}

// writeToolboxError writes the daemon's and proxy's error shape:
// {statusCode, message, code, timestamp, path, method}.
func writeToolboxError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	code := strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	writeJSON(w, status, map[string]any{
		"statusCode": status,
		"message":    msg,
		"code":       code,
		"timestamp":  time.Now().UTC().Format(time.RFC3339Nano),
		"path":       r.URL.Path,
		"method":     r.Method,
	})
}

// decodeAPIBody decodes a request body into v, or answers 400 in the
// control plane's error shape and returns false.
func decodeAPIBody(w http.ResponseWriter, r *http.Request, body []byte, v any) bool {
	if err := decodeJSON(body, v); err != nil {
		writeAPIError(w, r, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

// decodeJSON decodes a request body into v, reporting malformed JSON the way
// a JSON body parser does. An empty body decodes as {}.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("invalid JSON in request body at offset %d: %v", se.Offset, err)
		}
		return fmt.Errorf("invalid request body: %v", err)
	}
	return nil
}
