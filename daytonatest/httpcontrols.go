//go:build unix

package daytonatest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// serveControl serves the HTTP test controls under /_daytonatest/, so that
// clients in any language can drive the same controls as Go tests.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request, rest string) {
	segs, ok := splitPath(rest)
	if !ok {
		writeAPIError(w, r, http.StatusNotFound, "unknown control")
		return
	}
	key := r.Method + " " + strings.Join(segs, "/")
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = readBody(r, maxAPIBody); err != nil {
			writeAPIError(w, r, http.StatusBadRequest, err.Error())
			return
		}
	}
	bad := func(err error) { writeAPIError(w, r, http.StatusBadRequest, err.Error()) }

	switch {
	case key == "GET requests":
		writeJSON(w, http.StatusOK, map[string]any{"requests": s.Requests(), "counts": s.Counts()})
	case key == "DELETE requests":
		s.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	case key == "GET counts":
		writeJSON(w, http.StatusOK, s.Counts())
	case key == "GET latency":
		writeJSON(w, http.StatusOK, map[string]string{"latency": s.Latency().String()})
	case key == "PUT latency" || key == "POST latency":
		var in struct {
			Latency string `json:"latency"`
		}
		d, err := decodeDuration(body, &in, func() string { return in.Latency })
		if err != nil {
			bad(err)
			return
		}
		s.SetLatency(d)
		writeJSON(w, http.StatusOK, map[string]string{"latency": d.String()})
	case key == "GET close-delay":
		writeJSON(w, http.StatusOK, map[string]string{"closeDelay": s.CloseDelay().String()})
	case key == "PUT close-delay" || key == "POST close-delay":
		var in struct {
			CloseDelay string `json:"closeDelay"`
		}
		d, err := decodeDuration(body, &in, func() string { return in.CloseDelay })
		if err != nil {
			bad(err)
			return
		}
		s.SetCloseDelay(d)
		writeJSON(w, http.StatusOK, map[string]string{"closeDelay": d.String()})
	case key == "POST faults":
		var in struct {
			Op      Op     `json:"op"`
			Count   int    `json:"count"`
			Status  int    `json:"status"`
			Message string `json:"message"`
		}
		if err := decodeJSON(body, &in); err != nil {
			bad(err)
			return
		}
		if in.Count == 0 {
			in.Count = 1
		}
		if in.Op == "" || in.Count < 0 || in.Status < 400 || in.Status > 599 {
			bad(fmt.Errorf("fault needs op, a positive count and an error status (400-599)"))
			return
		}
		if err := s.FailNext(in.Op, in.Count, in.Status, in.Message); err != nil {
			bad(err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case key == "DELETE faults":
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case key == "POST stream-cuts":
		var in struct {
			Count      int `json:"count"`
			AfterBytes int `json:"afterBytes"`
		}
		if err := decodeJSON(body, &in); err != nil {
			bad(err)
			return
		}
		if in.Count == 0 {
			in.Count = 1
		}
		if in.Count < 0 || in.AfterBytes < 0 {
			bad(fmt.Errorf("count and afterBytes must not be negative"))
			return
		}
		s.CutNextStreams(in.Count, in.AfterBytes)
		w.WriteHeader(http.StatusNoContent)
	case key == "GET sandboxes":
		writeJSON(w, http.StatusOK, s.Sandboxes())
	case len(segs) == 2 && segs[0] == "sandboxes" && r.Method == http.MethodGet:
		sb, ok := s.Sandbox(segs[1])
		if !ok {
			writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", segs[1]))
			return
		}
		writeJSON(w, http.StatusOK, sb)
	case len(segs) == 3 && segs[0] == "sandboxes" && r.Method == http.MethodPost:
		var err error
		switch segs[2] {
		case "stop":
			err = s.StopSandbox(segs[1])
		case "delete":
			err = s.DeleteSandbox(segs[1])
		case "state":
			var in struct {
				State  State  `json:"state"`
				Reason string `json:"reason"`
			}
			if err := decodeJSON(body, &in); err != nil {
				bad(err)
				return
			}
			err = s.SetSandboxState(segs[1], in.State, in.Reason)
		default:
			writeAPIError(w, r, http.StatusNotFound, "unknown control")
			return
		}
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, ErrSandboxNotFound) {
				status = http.StatusNotFound
			}
			writeAPIError(w, r, status, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeAPIError(w, r, http.StatusNotFound, "unknown control: "+key)
	}
}

func decodeDuration(body []byte, in any, get func() string) (time.Duration, error) {
	if err := decodeJSON(body, in); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(get())
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want a Go duration such as 20ms", get())
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", get())
	}
	return d, nil
}
