//go:build unix

package daytonatest

import (
	"fmt"
	"maps"
	"net/http"
)

// Replacing a sandbox's labels, as PUT /sandbox/{idOrName}/labels does
// (apps/api/src/sandbox/controllers/sandbox.controller.ts:648-687 and
// services/sandbox.service.ts:2837-2849 at v0.190.0; the same at v0.173.0,
// sandbox.controller.ts:616, sandbox.service.ts:2339-2352): the sandbox
// is looked up by id or name (404 if there is none), its labels are
// replaced as a whole, last writer wins (the update is conditional on the
// sandbox's state, not on its labels), and the answer is the sandbox's
// record.
//
// Differences: a body without labels leaves them as they are, as the API's
// update skips an undefined field; a body whose labels are not an object
// of strings is refused with 400 here, where the API (which validates
// nothing in SandboxLabelsDto, sandbox.dto.ts:402-411) would store them.
// The change does not count as activity (the API refreshes the last
// activity only on changes of state, sandbox.repository.ts:119-122).

// OpReplaceLabels is PUT /sandbox/{idOrName}/labels.
const OpReplaceLabels Op = "replace-labels"

func init() { operations = append(operations, OpReplaceLabels) }

// routeLabels adds the labels endpoint to mux, wrapped like the other
// routes of the control plane.
func (s *Server) routeLabels(mux *http.ServeMux) {
	mux.Handle("PUT "+apiPrefix+"/sandbox/{idOrName}/labels",
		s.endpoint(apiFamily, "PUT", OpReplaceLabels, s.handleReplaceLabels))
}

func (s *Server) handleReplaceLabels(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Labels *map[string]string `json:"labels"`
	}
	if !decodeAPIBody(w, r, body, &req) {
		return
	}
	ref := r.PathValue("idOrName")
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(ref)
	if sb == nil {
		writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
		return
	}
	if req.Labels != nil {
		sb.labels = maps.Clone(*req.Labels)
		if sb.labels == nil {
			sb.labels = map[string]string{}
		}
	}
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}
