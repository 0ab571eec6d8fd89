//go:build unix

package daytonatest

import (
	"fmt"
	"net/http"
	"time"
)

// Activity and auto-stop, as Daytona counts them (all citations at
// v0.173.0):
//
//   - every request through the proxy to a sandbox's toolbox or preview
//     refreshes its last activity, unless it carries
//     X-Daytona-Skip-Last-Activity-Update: true
//     (apps/proxy/pkg/proxy/get_sandbox_target.go:88-96, proxy.go:41);
//   - so does POST /sandbox/{id}/last-activity, which answers 201 with no
//     body (apps/api/src/sandbox/controllers/sandbox.controller.ts:888-908);
//   - so does every change of state, creation included
//     (apps/api/src/sandbox/repositories/sandbox.repository.ts:48-49,
//     119-122);
//   - every 10 seconds, started sandboxes whose last activity is older
//     than their autoStopInterval (minutes; 0 never) are stopped, or
//     deleted if ephemeral (apps/api/src/sandbox/managers/sandbox.manager.ts:92-160).
//
// Not modelled: since v0.137 the proxy also refreshes activity every 50 s
// while a request stays open (get_sandbox_target.go:309-356), which keeps
// a sandbox with an open log stream alive; here only a request's arrival
// counts, so that a test can show what a client's own keep-alive does.

// autoStopChecksPerUnit is how often per unit (minute) the auto-stop check
// runs: every 10 s of a minute.
const autoStopChecksPerUnit = 6

// WithAutoStopUnit sets how long one minute of a sandbox's
// autoStopInterval lasts, so that a test can watch Daytona's auto-stop
// happen in milliseconds: with WithAutoStopUnit(100*time.Millisecond), a
// sandbox created with autoStopInterval 1 is stopped once it has been idle
// for 100 ms. The check runs six times per unit, as Daytona's runs every 10
// seconds. The default is a minute, as in Daytona.
func WithAutoStopUnit(d time.Duration) Option {
	return checked(d > 0, func(c *config) { c.svc.autoStopUnit = d }, "daytonatest: WithAutoStopUnit(%v): must be positive", d)
}

// autoStopUnit returns the length of one minute of autoStopInterval.
func (s *Server) autoStopUnit() time.Duration {
	if s.cfg.svc.autoStopUnit > 0 {
		return s.cfg.svc.autoStopUnit
	}
	return time.Minute
}

// noteActivity records a toolbox request as activity of its sandbox.
func (s *Server) noteActivity(fam *family, r *http.Request) {
	if fam != toolboxFamily || r.Header.Get(skipActivityHeader) == "true" {
		return
	}
	s.touch(r.PathValue("sandboxId"))
}

// skipActivityHeader keeps a request from counting as activity.
const skipActivityHeader = "X-Daytona-Skip-Last-Activity-Update"

// touch records activity of the sandbox with this id, if there is one.
func (s *Server) touch(id string) {
	s.mu.Lock()
	if sb := s.sandboxes[id]; sb != nil {
		sb.svc.activity = time.Now().UTC()
	}
	s.mu.Unlock()
}

// lastActivityLocked is the sandbox's last activity: a request, or its
// last change of state.
func lastActivityLocked(sb *sandbox) time.Time {
	t := sb.createdAt
	if sb.updatedAt.After(t) {
		t = sb.updatedAt
	}
	if sb.svc.activity.After(t) {
		t = sb.svc.activity
	}
	return t
}

// autoStopLoop runs the auto-stop check until the server closes.
func (s *Server) autoStopLoop() {
	tick := time.NewTicker(max(s.autoStopUnit()/autoStopChecksPerUnit, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			s.autoStop()
		}
	}
}

// autoStop stops (or, if ephemeral, deletes) every started sandbox idle
// for longer than its autoStopInterval, and pauses every one idle for
// longer than its autoPauseInterval (current; see controlplane_pause.go).
func (s *Server) autoStop() {
	now := time.Now()
	unit := s.autoStopUnit()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	for _, sb := range s.sandboxes {
		if sb.state != StateStarted || sb.desired != "started" {
			continue
		}
		idle := now.Sub(lastActivityLocked(sb))
		switch {
		case sb.autoStop != 0 && idle >= time.Duration(sb.autoStop)*unit:
			s.logAuto(now, "auto-stop", sb.id, sb.autoStop)
			s.autoStopLocked(sb) // autoDeleteInterval 0 deletes, as Daytona does for ephemeral sandboxes
		case sb.autoPause != 0 && pausable(sb.class) && idle >= time.Duration(sb.autoPause)*unit:
			s.logAuto(now, "auto-pause", sb.id, sb.autoPause)
			s.pauseLocked(sb)
		}
	}
}

// logAuto writes a line about an automatic change to the log output.
func (s *Server) logAuto(now time.Time, what, id string, units int) {
	if s.cfg.logw != nil {
		fmt.Fprintf(s.cfg.logw, "%s %s %s (idle for %d units)\n", now.Format("15:04:05.000"), what, id, units)
	}
}

// handleLastActivity refreshes the sandbox's activity and answers 201
// with no body.
func (s *Server) handleLastActivity(w http.ResponseWriter, r *http.Request, _ []byte) {
	ref := r.PathValue("idOrName")
	sb, err := s.lockSandbox(ref)
	if err != nil {
		writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
		return
	}
	sb.svc.activity = time.Now().UTC()
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}
