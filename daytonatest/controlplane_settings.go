//go:build unix

package daytonatest

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The settings of a sandbox: its auto-stop, auto-archive, auto-delete and
// (today) auto-pause intervals, its labels, and where its toolbox is. The
// interval routes are POSTs without @HttpCode, so they answer 201 with
// the record (sandbox.controller.ts:937-1070 @v0.190.0, 910-1043
// @v0.173.0); the interval, a path parameter, becomes a number as
// JavaScript's unary + makes one (ValidationPipe with transform), and a
// value that does not fit the integer column fails the update with a 500.

// Operations of the settings routes.
const (
	OpSetAutoArchive Op = "set-autoarchive" // POST /sandbox/{id}/autoarchive/{interval}
	OpSetAutoDelete  Op = "set-autodelete"  // POST /sandbox/{id}/autodelete/{interval}
	OpSetAutoPause   Op = "set-autopause"   // POST /sandbox/{id}/autopause/{interval} (current)
	OpReplaceLabels  Op = "replace-labels"  // PUT /sandbox/{id}/labels
)

// routeSettings adds the settings routes to mux.
func (s *Server) routeSettings(api func(method, path string, op Op, h handlerFunc)) {
	api("POST", "/sandbox/{idOrName}/autostop/{interval}", OpSetAutoStop, s.onInterval(s.setAutoStop))
	api("POST", "/sandbox/{idOrName}/autoarchive/{interval}", OpSetAutoArchive, s.onInterval(s.setAutoArchive))
	api("POST", "/sandbox/{idOrName}/autodelete/{interval}", OpSetAutoDelete, s.onInterval(s.setAutoDelete))
	if s.since(levelCurrent) {
		// New after v0.190.0: @daytonaio/api-client 0.220.0,
		// api/sandbox-api.js (setAutoPauseInterval).
		api("POST", "/sandbox/{idOrName}/autopause/{interval}", OpSetAutoPause, s.onInterval(s.setAutoPause))
	}
	s.routeTTL(api)
	api("PUT", "/sandbox/{idOrName}/labels", OpReplaceLabels, s.handleReplaceLabels)
	api("GET", "/sandbox/{idOrName}/toolbox-proxy-url", OpToolboxProxyURL, s.handleToolboxProxyURL)
}

// jsDecimal is what JavaScript's Number() reads as a decimal number.
var jsDecimal = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// jsToNumber is JavaScript's +s: white space trimmed, "" is 0, decimal,
// 0x/0o/0b integers and Infinity; anything else NaN.
func jsToNumber(s string) float64 {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0
	case s == "Infinity" || s == "+Infinity":
		return math.Inf(1)
	case s == "-Infinity":
		return math.Inf(-1)
	case jsDecimal.MatchString(s):
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	for prefix, base := range map[string]int{"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			if n, err := strconv.ParseUint(rest, base, 64); err == nil {
				return float64(n)
			}
		}
	}
	return math.NaN()
}

// intColumn converts v for an integer column, or fails as the database
// does.
func intColumn(v float64) (int, *apiError) {
	if math.IsNaN(v) || v != math.Trunc(v) || v > math.MaxInt32 || v < math.MinInt32 {
		return 0, errUnexpected
	}
	return int(v), nil
}

// onInterval serves an interval route: set applies the interval to the
// sandbox, under s.mu, and the answer is its record, with 201.
func (s *Server) onInterval(set func(sb *sandbox, v float64) *apiError) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		v := jsToNumber(r.PathValue("interval"))
		s.onSandboxStatus(http.StatusCreated, func(sb *sandbox) (any, *apiError) {
			if err := set(sb, v); err != nil {
				return nil, err
			}
			return s.dtoLocked(sb), nil // not a change of state: not activity either
		})(w, r, body)
	}
}

// setColumn stores v in dst as an integer column does, unless refused is
// set (the route's refusal) or v does not fit.
func setColumn(dst *int, v float64, refused *apiError) *apiError {
	if refused != nil {
		return refused
	}
	n, err := intColumn(v)
	if err != nil {
		return err
	}
	*dst = n
	return nil
}

// setAutoStop is resolveAutoStopInterval (sandbox.service.ts:3033-3041,
// 3290-3296 @v0.190.0). Today an auto-stop interval cannot be set beside
// an auto-pause interval (@daytonaio/api-client 0.220.0,
// models/create-sandbox.d.ts, "At most one of autoStopInterval and
// autoPauseInterval may be non-zero"; the wording is the TypeScript SDK
// 0.218.0's own check, Daytona.js:316-318).
func (s *Server) setAutoStop(sb *sandbox, v float64) *apiError {
	var refused *apiError
	switch {
	case v < 0:
		refused = &apiError{http.StatusBadRequest, "Auto-stop interval must be non-negative"}
	case v != 0 && sb.autoPause != 0:
		refused = errStopAndPause
	}
	return setColumn(&sb.autoStop, v, refused)
}

var errStopAndPause = &apiError{http.StatusBadRequest, "autoStopInterval and autoPauseInterval are mutually exclusive. Set at most one of them to a non-zero value"}

// setAutoArchive is resolveAutoArchiveInterval: 0 is the maximum, larger
// values are cut to it (sandbox.service.ts:3043-3051, 3298-3310
// @v0.190.0).
func (s *Server) setAutoArchive(sb *sandbox, v float64) *apiError {
	a, refused := autoArchiveValue(v)
	return setColumn(&sb.autoArchive, a, refused)
}

// setAutoDelete takes any whole number: negative disables auto-delete, 0
// makes the sandbox ephemeral (sandbox.service.ts:3053-3065 @v0.190.0,
// 2555-2563 @v0.173.0).
func (s *Server) setAutoDelete(sb *sandbox, v float64) *apiError {
	var refused *apiError
	if s.since(level0190) && sb.gpu > 0 {
		refused = &apiError{http.StatusBadRequest, "GPU sandboxes must remain ephemeral"}
	}
	return setColumn(&sb.autoDelete, v, refused)
}

// handleReplaceLabels is PUT /sandbox/{id}/labels {"labels": {...}}: the
// labels are replaced and the record answered, 200
// (sandbox.controller.ts:648-687, replaceLabels in sandbox.service.ts:
// 2837-2850 @v0.190.0). The body is not validated (SandboxLabelsDto has
// no checks): without an object of labels, they stay as they are.
func (s *Server) handleReplaceLabels(w http.ResponseWriter, r *http.Request, body []byte) {
	raw, ok := apiObject(w, r, body)
	if !ok {
		return
	}
	labels := stringMap(raw["labels"])
	s.onSandbox(func(sb *sandbox) (any, *apiError) {
		if labels != nil {
			sb.labels = labels
		}
		return s.dtoLocked(sb), nil
	})(w, r, body)
}

// handleToolboxProxyURL is GET /sandbox/{sandboxId}/toolbox-proxy-url:
// the access guard finds the sandbox by id or name, the service then by id
// alone, so a name is a 404 "Sandbox with ID NAME not found"
// (sandbox.controller.ts:1458-1477, getToolboxProxyUrl and findOne in
// sandbox.service.ts:2705-2708, 1789-1808 @v0.190.0; 1441,
// 2195-2198 @v0.173.0).
func (s *Server) handleToolboxProxyURL(w http.ResponseWriter, r *http.Request, body []byte) {
	ref := r.PathValue("idOrName")
	s.onSandbox(func(sb *sandbox) (any, *apiError) {
		if sb.id != ref {
			return nil, &apiError{http.StatusNotFound, fmt.Sprintf("Sandbox with ID %s not found", ref)}
		}
		return map[string]string{"url": s.ToolboxURL()}, nil
	})(w, r, body)
}
