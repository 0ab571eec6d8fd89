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
	"strings"
	"time"
)

// handlerFunc serves one route, given the request's body, which its
// wrapper has read (within the family's limit) and logged.
type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte)

// family is what the API ({URL}/api) or the toolbox ({URL}/toolbox)
// does alike for all its routes, each in its own words.
type family struct {
	bodyLimit    int64 // larger bodies get 413
	tooLarge     string
	badRequest   string // before the reason of a 400
	unauthorized string
	writeError   func(w http.ResponseWriter, r *http.Request, status int, msg string)
	writeAuth    func(w http.ResponseWriter, r *http.Request, status int, msg string) // the 401 of a bad key
	notFound     func(r *http.Request) string
}

var (
	apiFamily = &family{
		bodyLimit:    1 << 20, // 1 MiB
		tooLarge:     "request entity too large",
		unauthorized: "Unauthorized",
		writeError:   writeAPIError,
		writeAuth:    writeAPIError,
		notFound:     func(r *http.Request) string { return fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path) },
	}
	toolboxFamily = &family{
		bodyLimit:    64 << 20, // 64 MiB
		tooLarge:     "request entity too large: body exceeds 64 MiB",
		badRequest:   "bad request: ",
		unauthorized: toolboxUnauthorized,
		writeError:   writeToolboxError,
		writeAuth:    writeProxyError,
		notFound:     func(*http.Request) string { return "not found: route not found" },
	}
)

// endpoint wraps the handler of one route of the API or the toolbox (h nil:
// no route matched) with what every request there goes through, in this
// order: it is logged as op when it arrives (with its body if that is
// JSON), delayed by the latency, authenticated, answered 404 if no route
// matched, refused if its body is too large, failed if a fault is queued
// for op, and only then handled.
func (s *Server) endpoint(fam *family, method string, op Op, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, h := op, h
		if r.Method != method {
			// A catch-all, or a GET pattern that the mux also lets HEAD
			// match: no route.
			op, h = OpUnknown, nil
		}
		if op == OpCommandLogs && r.URL.Query().Get("follow") == "true" {
			op = OpFollowLogs
		}
		start := time.Now()
		rec := &recorder{ResponseWriter: w, structured: s.since(levelCurrent)}
		var body []byte
		var readErr error
		if !streamedOps[op] {
			body, readErr = readBody(r, fam.bodyLimit)
		}
		entry := s.log.begin(start, r, op, body)
		defer s.finish(entry, rec, r, start)
		if s.admit(rec, r, fam, op, h != nil, readErr) {
			s.noteActivity(fam, r)
			h(rec, r, body)
		}
	})
}

// admit runs the checks that come before a handler, in order, and answers
// the request itself when one fails.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, fam *family, op Op, routed bool, readErr error) bool {
	switch {
	case !s.sleep(r.Context(), s.Latency()):
		fam.writeError(w, r, http.StatusServiceUnavailable, "server is shutting down")
	case !s.authorized(r):
		fam.writeAuth(w, r, http.StatusUnauthorized, fam.unauthorized)
	case !routed:
		fam.writeError(w, r, http.StatusNotFound, fam.notFound(r))
	case errors.Is(readErr, errBodyTooLarge):
		fam.writeError(w, r, http.StatusRequestEntityTooLarge, fam.tooLarge)
	case readErr != nil:
		fam.writeError(w, r, http.StatusBadRequest, "failed to read request body: "+readErr.Error())
	case s.throttled(w, r, op):
	default:
		f := s.takeFault(op)
		switch {
		case f == nil:
			return true
		case f.empty:
			w.WriteHeader(f.status)
		default:
			s.writeFault(w, r, fam, f)
		}
	}
	return false
}

// writeFault answers a queued fault that has a body.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, fam *family, f *fault) {
	code, source := f.code, sourceDaemon
	if code == "" {
		code = statusCode(f.status)
	}
	if f.proxy {
		source = sourceProxy
	}
	switch {
	case f.text:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.message)
	case fam == toolboxFamily:
		writeToolboxBody(w, r, f.status, code, f.message, source)
	default:
		fam.writeError(w, r, f.status, f.message)
	}
}

// finish completes the request's log entry, and writes its line to the
// log output if there is one.
func (s *Server) finish(entry *Request, rec *recorder, r *http.Request, start time.Time) {
	status := rec.status
	if status == 0 && !rec.dropped {
		status = http.StatusOK
	}
	d := time.Since(start)
	s.log.finish(entry, status, d)
	if s.cfg.logw != nil {
		fmt.Fprintf(s.cfg.logw, "%s %s %s -> %d (%s)\n", start.Format("15:04:05.000"), r.Method, r.URL.Path, status, d.Round(time.Microsecond))
	}
}

// authorized reports whether r carries the API key as a bearer token.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.apiKey)) == 1
}

var errBodyTooLarge = errors.New("body too large")

// readBody reads r's body, or fails with errBodyTooLarge if it holds more
// than limit bytes (reading no further than one byte past the limit).
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
	status     int
	dropped    bool // closed with no response at all
	structured bool // today's toolbox errors (toolbox_errors.go)
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
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		if c, _, err := h.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	// An HTTP/2 request cannot be hijacked: reset its stream instead.
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

// writeAPIError writes the control plane's error shape (a NestJS exception
// filter): {path, timestamp, statusCode, error, message}, where path is
// the request's target as sent, query included (request.url,
// apps/api/src/filters/all-exceptions.filter.ts:80-86 @v0.190.0).
func writeAPIError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"path":       r.URL.RequestURI(),
		"timestamp":  time.Now().UTC().Format(time.RFC3339Nano),
		"statusCode": status,
		"error":      http.StatusText(status),
		"message":    msg,
	})
}

// writeToolboxError writes the daemon's error shape: {statusCode,
// message, code, timestamp, path, method}, and today a source (see
// toolbox_errors.go).
func writeToolboxError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeToolboxErrorCode(w, r, status, statusCode(status), msg)
}

// writeToolboxErrorCode is writeToolboxError with a code that is not the
// status's name, such as INVALID_REQUEST_BODY.
func writeToolboxErrorCode(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeToolboxBody(w, r, status, code, msg, sourceDaemon)
}

// apiObject decodes a request body of the control plane as a JSON object,
// or answers 400 and returns false: a body that is not JSON (or is a JSON
// string, number, boolean or null, which express.json's strict parser
// refuses) as the API's body-parser error handler answers it, with the
// exception's own body rather than the filter's
// (apps/api/src/common/modules/body-parser-error.module.ts:15-22
// @v0.190.0, the same at v0.173.0); an array as class-validator refuses
// a value that is no object (forbidUnknownValues). An empty body is {}.
func apiObject(w http.ResponseWriter, r *http.Request, body []byte) (map[string]json.RawMessage, bool) {
	var raw any
	if err := decodeJSON(body, &raw); err != nil {
		writeInvalidJSON(w)
		return nil, false
	}
	switch raw.(type) {
	case map[string]any:
		var m map[string]json.RawMessage
		_ = decodeJSON(body, &m)
		return m, true
	case []any:
		writeAPIError(w, r, http.StatusBadRequest, "an unknown value was passed to the validate function")
	default:
		writeInvalidJSON(w)
	}
	return nil, false
}

// writeInvalidJSON is the body parser's answer to a body that is not JSON.
func writeInvalidJSON(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"message": "Invalid JSON in request body", "error": "Bad Request", "statusCode": http.StatusBadRequest,
	})
}

// decodeAPIBody decodes a request body into v, or answers 400 in the
// control plane's error shape and returns false.
func decodeAPIBody(w http.ResponseWriter, r *http.Request, body []byte, v any) bool {
	return decodeBody(w, r, apiFamily, body, v)
}

// decodeBody decodes a request body into v, or answers 400 in fam's words
// and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, fam *family, body []byte, v any) bool {
	if err := decodeJSON(body, v); err != nil {
		fam.writeError(w, r, http.StatusBadRequest, fam.badRequest+err.Error())
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
