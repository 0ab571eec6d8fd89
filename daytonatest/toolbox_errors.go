//go:build unix

package daytonatest

import (
	"net/http"
	"strings"
	"time"
)

// Structured toolbox errors. Up to v0.190.0 the daemon answered its file
// refusals with a status and an empty body (gin's AbortWithError; see
// files.go), and its other refusals with {statusCode, message, code,
// timestamp, path, method} (libs/common-go/pkg/errors/middleware.go,
// http.go:17-24 @v0.190.0). Since the 0.201.0 release of the toolbox
// client and the TypeScript SDK, every refusal carries that body plus a
// source, and the codes of DaemonErrorCode (@daytona/toolbox-api-client
// 0.218.0, models/error-response.d.ts and models/daemon-error-code.d.ts);
// the SDK turns source DAYTONA_DAEMON with code FILE_NOT_FOUND into
// DaytonaFileNotFoundError, and so on (@daytonaio/sdk 0.218.0,
// cjs/errors/DaytonaError.js). In ServiceCurrent, then:
//
//   - a file refusal is {..., code, source: "DAYTONA_DAEMON"}, with the
//     daemon's classification of file errors (the one its bulk download
//     already used at v0.190.0, apps/daemon/pkg/toolbox/fs/
//     download_files.go:204-219): 404 FILE_NOT_FOUND "file not found:
//     PATH", 403 FILE_ACCESS_DENIED "permission denied: PATH", and for a
//     400, INVALID_FILE_PATH "invalid file path: PATH" (BAD_REQUEST "bad
//     request" when no path was given); a 409 is CONFLICT;
//   - the daemon's other refusals carry source DAYTONA_DAEMON, and a
//     send-input to a command whose exit code was read (410) has code
//     COMMAND_ALREADY_COMPLETED;
//   - the proxy's refusals (a sandbox that is not running, a token that
//     is not valid) carry source DAYTONA_PROXY (the SDK's SOURCE_PROXY).
//
// Which message today's daemon writes is not public; these are inferred
// from its codes and its v0.190.0 wording.

// Sources of a structured error (cjs/errors/DaytonaError.js:13-15,
// @daytonaio/sdk 0.218.0).
const (
	sourceDaemon = "DAYTONA_DAEMON"
	sourceProxy  = "DAYTONA_PROXY"
)

// structuredErrors reports whether w answers for today's service, whose
// daemon and proxy errors carry a source: endpoint marks its recorder.
func structuredErrors(w http.ResponseWriter) bool {
	rec, ok := w.(*recorder)
	return ok && rec.structured
}

// writeProxyError writes an error of the toolbox proxy: the daemon's
// shape, with source DAYTONA_PROXY today.
func writeProxyError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeToolboxBody(w, r, status, statusCode(status), msg, sourceProxy)
}

// statusCode is the code of the error middleware for a status, such as
// NOT_FOUND (libs/common-go/pkg/errors/middleware.go:30-130 @v0.190.0).
func statusCode(status int) string {
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

// writeToolboxBody writes {statusCode, message, code, timestamp, path,
// method}, and source today.
func writeToolboxBody(w http.ResponseWriter, r *http.Request, status int, code, msg, source string) {
	body := map[string]any{
		"statusCode": status,
		"message":    msg,
		"code":       code,
		"timestamp":  time.Now().UTC().Format(time.RFC3339Nano),
		"path":       r.URL.Path,
		"method":     r.Method,
	}
	if structuredErrors(w) {
		body["source"] = source
	}
	writeJSON(w, status, body)
}

// fileStatus answers a file refusal of the daemon: the status alone, with
// an empty body, up to v0.190.0; today a structured error.
func fileStatus(w http.ResponseWriter, r *http.Request, status int) {
	if !structuredErrors(w) {
		w.WriteHeader(status)
		return
	}
	q := r.URL.Query()
	p := q.Get("path")
	if p == "" {
		p = q.Get("source")
	}
	code, msg := statusCode(status), strings.ToLower(http.StatusText(status))
	switch {
	case status == http.StatusNotFound:
		code, msg = "FILE_NOT_FOUND", "file not found: "+p
	case status == http.StatusForbidden:
		code, msg = "FILE_ACCESS_DENIED", "permission denied: "+p
	case status == http.StatusBadRequest && p != "":
		code, msg = "INVALID_FILE_PATH", "invalid file path: "+p
	}
	writeToolboxBody(w, r, status, code, msg, sourceDaemon)
}

// inputGoneCode is the code of a send-input to a command whose exit code
// was read: GONE up to v0.190.0, COMMAND_ALREADY_COMPLETED today.
func inputGoneCode(w http.ResponseWriter) string {
	if structuredErrors(w) {
		return "COMMAND_ALREADY_COMPLETED"
	}
	return statusCode(http.StatusGone)
}
