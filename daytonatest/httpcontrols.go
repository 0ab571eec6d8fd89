//go:build unix

package daytonatest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The HTTP test controls under {URL}/_daytonatest/, so that clients in any
// language can drive the same controls as Go tests (controls.go).

// routeControls adds the test controls to mux.
func (s *Server) routeControls(mux *http.ServeMux) {
	ctl := func(method, path string, h handlerFunc) {
		mux.Handle(method+" "+controlPrefix+path, s.control(method, h))
	}
	ctl("GET", "/requests", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusOK, map[string]any{"requests": s.Requests(), "counts": s.Counts()})
	})
	ctl("DELETE", "/requests", noContent(s.ResetRequests))
	ctl("GET", "/counts", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusOK, s.Counts())
	})
	ctl("GET", "/latency", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusOK, map[string]string{"latency": s.Latency().String()})
	})
	ctl("PUT", "/latency", s.putLatency)
	ctl("POST", "/latency", s.putLatency)
	ctl("GET", "/close-delay", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusOK, map[string]string{"closeDelay": s.CloseDelay().String()})
	})
	ctl("PUT", "/close-delay", s.putCloseDelay)
	ctl("POST", "/close-delay", s.putCloseDelay)
	ctl("POST", "/faults", applyControl(s.addFault))
	ctl("DELETE", "/faults", noContent(s.ClearFaults))
	ctl("POST", "/stream-cuts", applyControl(s.addStreamCuts))
	ctl("GET", "/sandboxes", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusOK, s.Sandboxes())
	})
	ctl("GET", "/sandboxes/{idOrName}", s.getSandboxRecord)
	ctl("POST", "/sandboxes/{idOrName}/stop", applyControl(func(r *http.Request, _ []byte) error {
		return s.StopSandbox(r.PathValue("idOrName"))
	}))
	ctl("POST", "/sandboxes/{idOrName}/delete", applyControl(func(r *http.Request, _ []byte) error {
		return s.DeleteSandbox(r.PathValue("idOrName"))
	}))
	ctl("POST", "/sandboxes/{idOrName}/state", applyControl(s.setStateControl))
	ctl("POST", "/sandboxes/{idOrName}/finish-transition", applyControl(func(r *http.Request, _ []byte) error {
		return s.FinishTransition(r.PathValue("idOrName"))
	}))
	s.routeRaceControls(ctl)
	ctl("POST", "/sandboxes/{idOrName}/{action}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeAPIError(w, r, http.StatusNotFound, "unknown control")
	})
	mux.Handle(controlPrefix+"/", s.control("", unknownControl))
}

// control wraps the handler of one test control: the API key is required,
// and a body over 1 MiB is a 400. Controls are not logged, delayed or
// subject to faults. A request with another method than the control's is
// an unknown control.
func (s *Server) control(method string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeAPIError(w, r, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h := h
		if r.Method != method {
			h = unknownControl
		}
		body, err := readBody(r, apiFamily.bodyLimit)
		if err != nil {
			writeAPIError(w, r, http.StatusBadRequest, err.Error())
			return
		}
		h(w, r, body)
	})
}

// unknownControl answers a request that is no control, naming it.
func unknownControl(w http.ResponseWriter, r *http.Request, _ []byte) {
	segs := splitPath(strings.TrimPrefix(r.URL.EscapedPath(), controlPrefix))
	writeAPIError(w, r, http.StatusNotFound, "unknown control: "+r.Method+" "+strings.Join(segs, "/"))
}

// noContent is a control that calls f and answers 204.
func noContent(f func()) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		f()
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) putLatency(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Latency string `json:"latency"`
	}
	putDuration(w, r, body, &in, &in.Latency, "latency", s.SetLatency)
}

func (s *Server) putCloseDelay(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		CloseDelay string `json:"closeDelay"`
	}
	putDuration(w, r, body, &in, &in.CloseDelay, "closeDelay", s.SetCloseDelay)
}

// putDuration decodes body into in, parses the duration that decoding put
// in *field, passes it to set, and answers with {name: duration}.
func putDuration(w http.ResponseWriter, r *http.Request, body []byte, in any, field *string, name string, set func(time.Duration)) {
	if !decodeAPIBody(w, r, body, in) {
		return
	}
	d, err := time.ParseDuration(*field)
	switch {
	case err != nil:
		writeAPIError(w, r, http.StatusBadRequest, fmt.Sprintf("invalid duration %q: want a Go duration such as 20ms", *field))
	case d < 0:
		writeAPIError(w, r, http.StatusBadRequest, fmt.Sprintf("invalid duration %q: negative", *field))
	default:
		set(d)
		writeJSON(w, http.StatusOK, map[string]string{name: d.String()})
	}
}

func (s *Server) addFault(_ *http.Request, body []byte) error {
	var in struct {
		Op        Op     `json:"op"`
		Count     int    `json:"count"`
		Status    int    `json:"status"`
		Message   string `json:"message"`
		EmptyBody bool   `json:"emptyBody"`
	}
	if err := decodeCounted(body, &in, &in.Count); err != nil {
		return err
	}
	if in.Op == "" || in.Count < 0 || in.Status < 400 || in.Status > 599 {
		return errors.New("fault needs op, a positive count and an error status (400-599)")
	}
	if in.EmptyBody {
		return s.FailNextEmpty(in.Op, in.Count, in.Status)
	}
	return s.FailNext(in.Op, in.Count, in.Status, in.Message)
}

func (s *Server) addStreamCuts(_ *http.Request, body []byte) error {
	var in struct {
		Count      int `json:"count"`
		AfterBytes int `json:"afterBytes"`
	}
	err := decodeCounted(body, &in, &in.Count)
	if err == nil && (in.Count < 0 || in.AfterBytes < 0) {
		err = errors.New("count and afterBytes must not be negative")
	}
	if err == nil {
		s.CutNextStreams(in.Count, in.AfterBytes)
	}
	return err
}

// decodeCounted decodes body into in, then sets *count, a field of in, to 1
// if the body left it 0.
func decodeCounted(body []byte, in any, count *int) error {
	if err := decodeJSON(body, in); err != nil {
		return err
	}
	if *count == 0 {
		*count = 1
	}
	return nil
}

func (s *Server) getSandboxRecord(w http.ResponseWriter, r *http.Request, _ []byte) {
	ref := r.PathValue("idOrName")
	sb, ok := s.Sandbox(ref)
	if !ok {
		writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
		return
	}
	writeJSON(w, http.StatusOK, sb)
}

// applyControl is a control that applies f to the request and its body and
// answers 204, or 404 if f's error is [ErrSandboxNotFound], or 400 with any
// other error.
func applyControl(f func(r *http.Request, body []byte) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch err := f(r, body); {
		case errors.Is(err, ErrSandboxNotFound):
			writeAPIError(w, r, http.StatusNotFound, err.Error())
		case err != nil:
			writeAPIError(w, r, http.StatusBadRequest, err.Error())
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

func (s *Server) setStateControl(r *http.Request, body []byte) error {
	var in struct {
		State       State  `json:"state"`
		Reason      string `json:"reason"`
		Recoverable bool   `json:"recoverable"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return err
	}
	if in.Recoverable {
		if in.State != StateError {
			return errors.New("daytonatest: only state error can be recoverable")
		}
		return s.FailSandbox(r.PathValue("idOrName"), in.Reason, true)
	}
	return s.SetSandboxState(r.PathValue("idOrName"), in.State, in.Reason)
}
