package apierr

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
)

// Today's structured errors. Since the 0.201.0 release of the toolbox
// client and the TypeScript SDK, the daemon and the proxy answer
// ErrorResponse {statusCode, message, code?, source?, path, method?,
// timestamp}: code is a DaemonErrorCode (FILE_NOT_FOUND,
// FILE_ACCESS_DENIED, PROCESS_NOT_FOUND, SESSION_ENDED, ...), source says
// who answered (@daytona/toolbox-api-client 0.218.0,
// models/error-response.d.ts and models/daemon-error-code.d.ts). The
// TypeScript SDK reads code (else error_code) and source from any error
// body (@daytonaio/sdk 0.218.0, cjs/errors/DaytonaError.js). The SDK
// v0.173.0 this module builds on drops both, so they are kept here, beside
// its error types. Older services send neither: every rule that reads
// them falls back to the status and the message.

// Sources of a structured error (cjs/errors/DaytonaError.js:13-15,
// @daytonaio/sdk 0.218.0).
const (
	SourceAPI    = "DAYTONA_API"
	SourceDaemon = "DAYTONA_DAEMON"
	SourceProxy  = "DAYTONA_PROXY"
)

// Codes the classification reads (models/daemon-error-code.d.ts).
const (
	CodeProcessNotFound = "PROCESS_NOT_FOUND"
	codeFilePrefix      = "FILE_"
	codeInvalidPath     = "INVALID_FILE_PATH" // mapped by the SDK, not in the enum
)

// detailed is an error of the SDK's types with what the answer's body
// said beyond the message: its code and source, and whether it was plain
// text rather than JSON. It matches the SDK's error with errors.As.
type detailed struct {
	err          error
	code, source string
	plain        bool
}

func (d *detailed) Error() string { return d.err.Error() }
func (d *detailed) Unwrap() error { return d.err }

// withDetail returns err (made from an answer with body) with the code
// and source the body carries, or err itself when it carries neither and
// is JSON (or empty).
func withDetail(err error, body []byte) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || err == nil {
		return err
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		if body[0] == '{' || body[0] == '[' || body[0] == '"' {
			return err
		}
		return &detailed{err: err, plain: true}
	}
	d := &detailed{err: err, code: jsonString(fields["code"]), source: jsonString(fields["source"])}
	if d.code == "" {
		d.code = jsonString(fields["error_code"])
	}
	if d.code == "" && d.source == "" {
		return err
	}
	return d
}

// jsonString is a JSON string's value, or "" for anything else.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// bodied is the error of a generated client (control plane or toolbox)
// for an error answer: it keeps the answer's body.
type bodied interface{ Body() []byte }

// FromAPI converts an error of the generated control-plane client, as the
// SDK does (nil stays nil), keeping the answer's code and source.
func FromAPI(err error, resp *http.Response) error {
	if err == nil {
		return nil
	}
	return withDetail(sdkerrors.ConvertAPIError(err, resp), bodyOf(err))
}

// FromToolbox converts an error of the generated toolbox client, as the
// SDK does (nil stays nil), keeping the answer's code and source.
func FromToolbox(err error, resp *http.Response) error {
	if err == nil {
		return nil
	}
	return withDetail(sdkerrors.ConvertToolboxError(err, resp), bodyOf(err))
}

func bodyOf(err error) []byte {
	var b bodied
	if errors.As(err, &b) {
		return b.Body()
	}
	return nil
}

// Code returns the code of a structured error answer in err's chain
// (such as FILE_NOT_FOUND), or "".
func Code(err error) string {
	var d *detailed
	if errors.As(err, &d) {
		return d.code
	}
	return ""
}

// Source returns who answered a structured error in err's chain
// (SourceAPI, SourceDaemon or SourceProxy), or "".
func Source(err error) string {
	var d *detailed
	if errors.As(err, &d) {
		return d.source
	}
	return ""
}

// plainText reports an error answer whose body was plain text, not JSON:
// what a Go HTTP server's mux answers for a route it does not have ("404
// page not found"), as the daemon does; the proxy and the API answer JSON.
func plainText(err error) bool {
	var d *detailed
	return errors.As(err, &d) && d.plain
}

// FromDaemon reports an error the sandbox's daemon answered itself: by
// its source, by a file code (FILE_*, INVALID_FILE_PATH), or, without
// either, by a 404 in plain text. Such an answer proves the sandbox runs:
// it is never a dead sandbox.
func FromDaemon(err error) bool {
	code := Code(err)
	switch {
	case Source(err) == SourceDaemon, strings.HasPrefix(code, codeFilePrefix), code == codeInvalidPath:
		return true
	case Source(err) != "":
		return false
	}
	return plainText(err) && StatusCode(err) == http.StatusNotFound
}
