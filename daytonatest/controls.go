//go:build unix

package daytonatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

type fault struct {
	remaining int
	status    int
	message   string
}

// FailNext makes the next n requests of op fail with the given HTTP status
// and message, in the error body shape of the service that owns op (the
// control plane or the toolbox). Requests fail after authentication and
// latency, before they have any effect. Calls for the same op queue up.
//
// An op that is not one of the Op constants (other than [OpUnknown]) is an
// error that lists the valid ones, and installs nothing; n <= 0 does
// nothing. A status outside 400-599 is a programming error: FailNext panics.
func (s *Server) FailNext(op Op, n, status int, message string) error {
	if err := checkOp(op); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("daytonatest: FailNext: status %d is not an HTTP error status", status))
	}
	s.mu.Lock()
	s.faults[op] = append(s.faults[op], &fault{remaining: n, status: status, message: message})
	s.mu.Unlock()
	return nil
}

// ClearFaults removes every pending fault and stream cut.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	clear(s.faults)
	s.cuts = nil
	s.mu.Unlock()
}

func (s *Server) takeFault(op Op) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	f.remaining--
	if f.remaining <= 0 {
		s.faults[op] = q[1:]
	}
	return f
}

// CutNextStreams makes the next n follow log streams break abruptly after
// sending afterBytes bytes of log: the TCP connection is closed with no
// WebSocket close frame, as when a proxy or the network drops it.
func (s *Server) CutNextStreams(n, afterBytes int) {
	if n <= 0 {
		return
	}
	if afterBytes < 0 {
		afterBytes = 0
	}
	s.mu.Lock()
	for range n {
		s.cuts = append(s.cuts, afterBytes)
	}
	s.mu.Unlock()
}

func (s *Server) takeCut() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cuts) == 0 {
		return 0, false
	}
	n := s.cuts[0]
	s.cuts = s.cuts[1:]
	return n, true
}

// SetLatency changes the latency added to every request.
func (s *Server) SetLatency(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Latency returns the latency added to every request.
func (s *Server) Latency() time.Duration { return s.currentLatency() }

func (s *Server) currentLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// SetCloseDelay changes how long follow streams stay open after their
// command exited; it applies to streams that reach that point afterwards.
func (s *Server) SetCloseDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	s.closeDelay = d
	s.mu.Unlock()
}

// CloseDelay returns how long follow streams stay open after their command
// exited.
func (s *Server) CloseDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeDelay
}

// SetTransitionDelay changes how long sandboxes spend in transitional states,
// for transitions that begin afterwards.
func (s *Server) SetTransitionDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	s.transition = d
	s.mu.Unlock()
}

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
			if strings.Contains(err.Error(), "not found") {
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

// compile-time check that the log entries encode.
var _ json.Marshaler = Request{}
