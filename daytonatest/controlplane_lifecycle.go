//go:build unix

package daytonatest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Start, stop, archive, delete and recover, as the API's sandbox service
// decides them (apps/api/src/sandbox/services/sandbox.service.ts
// @v0.190.0: archive 355-388, destroy 2013-2040, start 2042-2149, stop
// 2151-2188, recover 2242-2450; @v0.173.0: archive 309-344, destroy
// 1693-1720, start 1722-1806, stop 1808-1842, recover 1844-1960), and
// as its controller answers them (apps/api/src/sandbox/controllers/
// sandbox.controller.ts @v0.190.0: start 511-523 and recover 468-481
// wait for the sandbox to start). The runner's part (a state after the
// transition delay) is in sandbox.go.

// StartWait is how long the API waits, at most, for a sandbox to start
// before it answers a create (from a snapshot), a start or a recover
// (waitForSandboxStarted, sandbox.controller.ts:1532-1568 @v0.190.0).
const StartWait = 30 * time.Second

// destroyedRetention is how long a destroyed sandbox's record stays, and
// with it its name when nothing renamed it (cleanupDestroyedSandboxes,
// sandbox.service.ts:2355-2379 @v0.173.0; the record's name is unique in
// its organization, sandbox.entity.ts:30-31).
const destroyedRetention = 24 * time.Hour

// errored reports whether the sandbox is in a state of failure.
func (sb *sandbox) errored() bool { return sb.state == StateError || sb.state == StateBuildFailed }

// changing is the API's test String(state) !== String(desiredState): the
// sandbox is on its way to another state.
func (sb *sandbox) changing() bool { return string(sb.state) != sb.desired }

// pending is the API's pending flag: changing, except that a failed
// sandbox or one being archived is never pending (enforceInvariants,
// apps/api/src/sandbox/entities/sandbox.entity.ts:429-444 @v0.190.0).
func (sb *sandbox) pending() bool {
	return sb.changing() && !sb.errored() && sb.desired != "archived"
}

// ephemeral is isEphemeral: an autoDeleteInterval of exactly 0
// (apps/api/src/sandbox/utils/ephemeral.util.ts:6-8 @v0.190.0).
func (sb *sandbox) ephemeral() bool { return sb.autoDelete == 0 }

var errErrored = &apiError{http.StatusBadRequest, "Sandbox is in an errored state"}

// lifecycleAct is what a lifecycle route does to a sandbox under s.mu: the
// record to answer with, and whether to wait for the sandbox to start
// first.
type lifecycleAct func(r *http.Request, sb *sandbox) (dto sandboxDTO, wait bool, err *apiError)

// onLifecycle serves a lifecycle route: it looks the sandbox up (404 if
// there is none), acts on it under s.mu, then, if asked to, waits for it
// to start before answering, as the API's controller does.
func (s *Server) onLifecycle(act lifecycleAct) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		ref := r.PathValue("idOrName")
		s.mu.Lock()
		sb := s.lookupLocked(ref)
		if sb == nil {
			s.mu.Unlock()
			writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
			return
		}
		dto, wait, err := act(r, sb)
		s.mu.Unlock()
		if err == nil && wait {
			dto, err = s.awaitStarted(r, sb, dto)
		}
		if err != nil {
			writeAPIError(w, r, err.status, err.msg)
			return
		}
		writeJSON(w, http.StatusOK, dto)
	}
}

// awaitStarted waits until sb has started, as waitForSandboxStarted does:
// it answers the started record, a 400 "Sandbox failed to start: REASON"
// if the sandbox fails, and after StartWait the latest record (first once
// the sandbox is gone).
func (s *Server) awaitStarted(r *http.Request, sb *sandbox, first sandboxDTO) (sandboxDTO, *apiError) {
	timeout := time.NewTimer(StartWait)
	defer timeout.Stop()
	latest := first
	for {
		s.mu.Lock()
		state, reason, changed := sb.state, sb.errorReason, sb.changed
		if s.sandboxes[sb.id] == sb {
			latest = s.dtoLocked(sb)
		}
		s.mu.Unlock()
		switch state {
		case StateStarted:
			return latest, nil
		case StateError, StateBuildFailed:
			if reason == "" {
				reason = "null" // a template literal of the null column
			}
			return sandboxDTO{}, &apiError{http.StatusBadRequest, "Sandbox failed to start: " + reason}
		}
		select {
		case <-changed:
		case <-timeout.C:
			return latest, nil
		case <-r.Context().Done():
			return latest, nil
		case <-s.done:
			return latest, nil
		}
	}
}

// boolQuery reads an optional boolean query parameter as NestJS's
// ParseBoolPipe does: "true" or "false", anything else a 400.
func boolQuery(r *http.Request, name string) (bool, *apiError) {
	q := r.URL.Query()
	if !q.Has(name) {
		return false, nil
	}
	v, err := strconv.ParseBool(q.Get(name))
	if err != nil || (q.Get(name) != "true" && q.Get(name) != "false") {
		return false, &apiError{http.StatusBadRequest, "Validation failed (boolean string is expected)"}
	}
	return v, nil
}

// startSandbox is POST /sandbox/{id}/start: the controller waits for the
// sandbox to start unless it is archived, restoring or started
// (sandbox.controller.ts:515-520 @v0.190.0, 517-522 @v0.173.0).
func (s *Server) startSandbox(_ *http.Request, sb *sandbox) (sandboxDTO, bool, *apiError) {
	if err := s.startLocked(sb); err != nil {
		return sandboxDTO{}, false, err
	}
	dto := s.dtoLocked(sb)
	switch State(dto.State) {
	case StateArchived, StateRestoring, StateStarted:
		return dto, false, nil
	}
	return dto, true, nil
}

// startLocked starts sb (or restores or resumes it), or says why it
// cannot. Starting a started sandbox does nothing.
func (s *Server) startLocked(sb *sandbox) *apiError {
	paused := s.since(level0190) && sb.state == StatePaused
	archived := sb.state == StateArchived || sb.state == StateArchiving
	switch {
	case sb.state == StateStarted && sb.desired == "started":
		return nil
	case sb.errored():
		return errErrored
	case sb.changing() && !(sb.desired == "archived" && (sb.state == StateStopped || sb.state == StateArchiving)):
		return errStateChangeInProgress
	case sb.state != StateStopped && !archived && !paused:
		return &apiError{http.StatusBadRequest, "Sandbox is not in valid state"}
	case sb.pending():
		return errStateChangeInProgress
	case paused && !pausable(sb.class):
		return &apiError{http.StatusUnprocessableEntity, "Resuming is not supported for this sandbox"}
	}
	started := func() { sb.state = StateStarted }
	switch {
	case paused:
		// A resume keeps the preview token (sandbox.service.ts:2118-2127).
		s.transitionLocked(sb, StatePaused, "started", func() {
			s.transitionLocked(sb, StateResuming, "started", started)
		})
	case archived:
		sb.svc.rotateToken()
		s.transitionLocked(sb, StateArchived, "started", func() {
			s.transitionLocked(sb, StateRestoring, "started", started)
		})
	default:
		sb.svc.rotateToken() // every start gives a new preview token (sandbox.service.ts:2126)
		s.transitionLocked(sb, StateStarting, "started", started)
	}
	return nil
}

// stopSandbox is POST /sandbox/{id}/stop (?force=true|false).
func (s *Server) stopSandbox(r *http.Request, sb *sandbox) (sandboxDTO, bool, *apiError) {
	if _, err := boolQuery(r, "force"); err != nil {
		return sandboxDTO{}, false, err
	}
	if err := s.checkStoppable(sb); err != nil {
		return sandboxDTO{}, false, err
	}
	if !sb.ephemeral() {
		s.stopLocked(sb)
		return s.dtoLocked(sb), false, nil
	}
	// Stopping an ephemeral sandbox deletes it: since v0.190.0 as DELETE
	// does, renaming it (sandbox.service.ts:2169-2171 @v0.190.0); before,
	// it kept its name, which its destroyed record then holds
	// (sandbox.service.ts:1825-1828 @v0.173.0).
	return s.softDeleteLocked(sb, s.since(level0190)), false, nil
}

// checkStoppable refuses to stop a sandbox that is failed, changing, or
// neither started nor (since v0.190.0) paused.
func (s *Server) checkStoppable(sb *sandbox) *apiError {
	stoppable := sb.state == StateStarted || (s.since(level0190) && sb.state == StatePaused)
	switch {
	case sb.errored():
		return errErrored
	case sb.changing():
		return errStateChangeInProgress
	case !stoppable:
		return &apiError{http.StatusBadRequest, s.stopRefusal()}
	}
	return nil
}

// stopRefusal is the API's message for stopping a sandbox that is not
// started: "Sandbox is not started" (sandbox.service.ts:1818 @v0.173.0),
// "Sandbox is not in a stoppable state" since v0.190.0
// (sandbox.service.ts:2161 @v0.190.0).
func (s *Server) stopRefusal() string {
	if s.since(level0190) {
		return "Sandbox is not in a stoppable state"
	}
	return "Sandbox is not started"
}

// stopLocked stops a started or paused sandbox that is not ephemeral: its
// toolbox closes at once and its processes are killed in the background;
// its files stay.
func (s *Server) stopLocked(sb *sandbox) {
	s.retireToolboxLocked(sb, true)
	mid := StateStopping
	if sb.state == StatePaused {
		mid = StatePaused // the record reads paused until the runner acts (sandbox.dto.ts:371-397)
	}
	s.transitionLocked(sb, mid, "stopped", func() { sb.state = StateStopped })
}

// autoStopLocked is the API's auto-stop of an idle sandbox: an ephemeral
// one is deleted, renamed, in every version (sandbox.manager.ts:143-144
// @v0.190.0, 138-139 @v0.173.0).
func (s *Server) autoStopLocked(sb *sandbox) {
	if sb.ephemeral() {
		s.softDeleteLocked(sb, true)
		return
	}
	s.stopLocked(sb)
}

// archiveSandbox is POST /sandbox/{id}/archive.
func (s *Server) archiveSandbox(_ *http.Request, sb *sandbox) (sandboxDTO, bool, *apiError) {
	switch {
	case sb.errored():
		return sandboxDTO{}, false, errErrored
	case sb.changing():
		return sandboxDTO{}, false, errStateChangeInProgress
	case sb.state != StateStopped:
		return sandboxDTO{}, false, &apiError{http.StatusBadRequest, "Sandbox is not stopped"}
	case sb.ephemeral():
		return sandboxDTO{}, false, &apiError{http.StatusBadRequest, "Ephemeral sandboxes cannot be archived"}
	}
	s.transitionLocked(sb, StateArchiving, "archived", func() { sb.state = StateArchived })
	return s.dtoLocked(sb), false, nil
}

// deleteSandbox is DELETE /sandbox/{id}: refused while the sandbox changes
// state (but for a pending build), else the sandbox is renamed, so that
// its name is free at once, and destroyed.
func (s *Server) deleteSandbox(_ *http.Request, sb *sandbox) (sandboxDTO, bool, *apiError) {
	if sb.pending() && sb.state != StatePendingBuild {
		return sandboxDTO{}, false, errStateChangeInProgress
	}
	return s.softDeleteLocked(sb, true), false, nil
}

// softDeleteLocked sets sb on its way to destroyed, as
// Sandbox.getSoftDeleteUpdate does (sandbox.entity.ts:310-324 @v0.190.0,
// 279-286 @v0.173.0), and returns the record as the API answers it then:
// started or stopped read destroying; other states read as they are
// (sandbox.dto.ts:371-397). With rename, the name becomes
// DESTROYED_{name}_{milliseconds}; without, the name stays taken for a
// day after the sandbox is gone. Its toolbox closes at once.
func (s *Server) softDeleteLocked(sb *sandbox, rename bool) sandboxDTO {
	if rename {
		s.renameLocked(sb, fmt.Sprintf("DESTROYED_%s_%d", sb.name, time.Now().UnixMilli()))
	} else {
		sb.holdName = true
	}
	s.retireToolboxLocked(sb, false)
	sb.cancelTransition()
	if sb.state == StateStarted || sb.state == StateStopped {
		sb.state = StateDestroying
	}
	sb.desired = "destroyed"
	sb.updatedAt = time.Now().UTC()
	sb.notifyLocked()
	dto := s.dtoLocked(sb)
	remove := func() { s.removeLocked(sb) }
	if sb.state == StateDestroying {
		s.transitionLocked(sb, StateDestroying, "destroyed", remove)
	} else {
		s.transitionLocked(sb, sb.state, "destroyed", func() {
			s.transitionLocked(sb, StateDestroying, "destroyed", remove)
		})
	}
	return dto
}

// renameLocked gives sb a new name.
func (s *Server) renameLocked(sb *sandbox, name string) {
	if s.names[sb.name] == sb.id {
		delete(s.names, sb.name)
	}
	sb.name = name
	s.names[name] = sb.id
}

// nameHeldLocked reports whether a destroyed sandbox still holds name.
func (s *Server) nameHeldLocked(name string) bool {
	until, ok := s.held[name]
	if ok && time.Now().After(until) {
		delete(s.held, name)
		return false
	}
	return ok
}

// recoverSandbox is POST /sandbox/{id}/recover (?skipStart=true|false):
// an errored sandbox is brought back in place, stopped, and then started
// unless skipStart; since v0.190.0 only one marked recoverable
// (sandbox.service.ts:2242-2265, 2345-2450 @v0.190.0; 1844-1960
// @v0.173.0). The controller waits for it to start
// (sandbox.controller.ts:468-481 @v0.190.0, 472-485 @v0.173.0).
func (s *Server) recoverSandbox(r *http.Request, sb *sandbox) (sandboxDTO, bool, *apiError) {
	skipStart, err := boolQuery(r, "skipStart")
	switch {
	case err != nil:
		return sandboxDTO{}, false, err
	case s.since(level0190) && !sb.recoverable:
		return sandboxDTO{}, false, &apiError{http.StatusBadRequest, "Sandbox is not in a recoverable state"}
	case sb.state != StateError:
		return sandboxDTO{}, false, &apiError{http.StatusBadRequest, "Sandbox must be in error state to recover"}
	}
	sb.cancelTransition()
	sb.state, sb.desired, sb.errorReason, sb.recoverable = StateStopped, "stopped", "", false
	sb.updatedAt = time.Now().UTC()
	sb.notifyLocked()
	if !skipStart {
		if err := s.startLocked(sb); err != nil {
			return sandboxDTO{}, false, err
		}
	}
	dto := s.dtoLocked(sb)
	return dto, !skipStart && dto.State != string(StateStarted), nil
}
