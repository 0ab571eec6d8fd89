//go:build unix

package daytonatest

import (
	"net/http"
	"time"
)

// A sandbox's time to live (current). After v0.190.0 a create may set
// ttlMinutes, after which the sandbox "is destroyed ... even if it is
// stopped, paused, or archived"; the record then carries autoDestroyAt
// ("only set when a TTL is configured"); POST /sandbox/{id}/ttl/{minutes}
// sets it again, "re-anchored from the current time (0 to disable)"
// (@daytonaio/api-client 0.220.0, models/create-sandbox.d.ts,
// models/sandbox.d.ts, api/sandbox-api.js setTtl). As for the other
// intervals, a minute lasts WithAutoStopUnit's unit, and the check runs
// with the auto-stop check. Inferred (the API's code is not public): a
// negative TTL is a 400, the route answers 201 with the record as the
// other interval routes do, and the deletion is DELETE's (the sandbox is
// renamed and destroyed). Not modelled: the organization's maximum
// lifespan, which would also impose a TTL by default.

// OpSetTTL is POST /sandbox/{id}/ttl/{ttlMinutes} (current).
const OpSetTTL Op = "set-ttl"

// routeTTL adds the TTL route, in ServiceCurrent.
func (s *Server) routeTTL(api func(method, path string, op Op, h handlerFunc)) {
	if s.since(levelCurrent) {
		api("POST", "/sandbox/{idOrName}/ttl/{interval}", OpSetTTL, s.onInterval(s.setTTL))
	}
}

var errNegativeTTL = &apiError{http.StatusBadRequest, "ttlMinutes must be a non-negative integer"}

// setTTL sets sb's TTL to v minutes from now; 0 removes it.
func (s *Server) setTTL(sb *sandbox, v float64) *apiError {
	var minutes int
	if err := setColumn(&minutes, v, nil); err != nil {
		return err
	}
	if minutes < 0 {
		return errNegativeTTL
	}
	sb.autoDestroyAt = time.Time{}
	if minutes > 0 {
		sb.autoDestroyAt = time.Now().UTC().Add(time.Duration(minutes) * s.autoStopUnit())
	}
	return nil
}

// setTTL is the TTL of a create request (current), from the creation.
func (c *creation) setTTL() *apiError {
	if v, ok := c.req.nums["ttlMinutes"]; ok && c.s.since(levelCurrent) {
		return c.s.setTTL(c.sb, v)
	}
	return nil
}

// expireLocked destroys the sandboxes whose TTL has run out, whatever
// their state (not those being destroyed already).
func (s *Server) expireLocked(now time.Time) {
	for _, sb := range s.sandboxes {
		if sb.autoDestroyAt.IsZero() || now.Before(sb.autoDestroyAt) || sb.desired == "destroyed" {
			continue
		}
		s.logAuto(now, "ttl", sb.id, 0)
		s.softDeleteLocked(sb, true)
	}
}
