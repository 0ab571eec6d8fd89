//go:build unix

package daytonatest

import (
	"net/http"
)

// Pausing and resuming, new in v0.190.0 for the VM classes (linux-vm and
// windows): POST /sandbox/{id}/pause takes a started sandbox through
// pausing to paused (pause in apps/api/src/sandbox/services/
// sandbox.service.ts:2190-2240 @v0.190.0), POST /start resumes it
// (startLocked), and POST /stop stops it. Today a sandbox can also pause
// by itself after autoPauseInterval minutes without activity, the default
// of a pausable class (@daytonaio/api-client 0.220.0,
// models/create-sandbox.d.ts and POST /sandbox/{id}/autopause/{interval}).
//
// Not modelled: a paused VM keeps its memory; here a paused sandbox's
// processes keep running, and its toolbox and previews answer as a
// stopped sandbox's do until it resumes, its sessions intact.

// Operations of pausing and recovering.
const (
	OpPause   Op = "pause"   // POST /sandbox/{id}/pause (0.190 on)
	OpRecover Op = "recover" // POST /sandbox/{id}/recover
)

// DefaultAutoPause is the auto-pause interval, in minutes, of a
// sandbox of a pausable class created with neither an auto-stop nor an
// auto-pause interval; its auto-stop is then off (@daytonaio/api-client
// 0.220.0, models/create-sandbox.d.ts).
const DefaultAutoPause = 60

// pauseSandbox is POST /sandbox/{id}/pause.
func (s *Server) pauseSandbox(_ *http.Request, sb *sandbox) (sandboxDTO, bool, *apiError) {
	switch {
	case sb.state == StateStopping || sb.state == StateDestroying:
		return sandboxDTO{}, false, errStateChangeInProgress // still started underneath, but pending
	case sb.state != StateStarted:
		return sandboxDTO{}, false, &apiError{http.StatusBadRequest, "Sandbox must be in started state to pause"}
	case sb.pending():
		return sandboxDTO{}, false, errStateChangeInProgress
	case !pausable(sb.class):
		return sandboxDTO{}, false, &apiError{http.StatusUnprocessableEntity, "Pausing is not supported for this sandbox"}
	}
	s.pauseLocked(sb)
	return s.dtoLocked(sb), false, nil
}

// pauseLocked takes a started sandbox through pausing to paused.
func (s *Server) pauseLocked(sb *sandbox) {
	s.transitionLocked(sb, StatePausing, "paused", func() { sb.state = StatePaused })
}

// setAutoPause is POST /sandbox/{id}/autopause/{interval} (current): a
// whole number of minutes, 0 to disable, for a sandbox that can pause and
// is not ephemeral, with its auto-stop off. The refusals' wording is the
// TypeScript SDK 0.218.0's own checks (Daytona.js:312-320, Sandbox.js:
// 785-788); the service's is not public.
func (s *Server) setAutoPause(sb *sandbox, v float64) *apiError {
	return setColumn(&sb.autoPause, v, checkAutoPause(v, sb.class, sb.ephemeral(), float64(sb.autoStop)))
}

// checkAutoPause refuses an auto-pause interval v that a sandbox of class,
// ephemeral or not, with auto-stop interval autoStop, cannot have.
func checkAutoPause(v float64, class string, ephemeral bool, autoStop float64) *apiError {
	switch {
	case v < 0:
		return &apiError{http.StatusBadRequest, "autoPauseInterval must be a non-negative integer"}
	case v == 0:
		return nil
	case !pausable(class):
		return &apiError{http.StatusBadRequest, "Pausing is not supported for this sandbox"}
	case ephemeral:
		return &apiError{http.StatusBadRequest, "Ephemeral sandboxes cannot have auto-pause enabled. Set autoPauseInterval to 0"}
	case autoStop != 0:
		return errStopAndPause
	}
	return nil
}

// setAutoPause is the auto-pause interval of a create request (current):
// checked as the route checks it, and for a pausable class that is not
// ephemeral, DefaultAutoPause with auto-stop off when the request gives
// neither interval.
func (c *creation) setAutoPause() *apiError {
	if !c.s.since(levelCurrent) {
		return nil
	}
	v, given := c.req.nums["autoPauseInterval"]
	_, stopGiven := c.req.nums["autoStopInterval"]
	switch {
	case !given && !stopGiven && pausable(c.sb.class) && !c.ephemeral():
		c.autoPause, c.autoStop = DefaultAutoPause, 0
	case !given:
	default:
		autoStop := 0.0
		if stopGiven {
			autoStop = c.autoStop
		}
		if err := checkAutoPause(v, c.sb.class, c.ephemeral(), autoStop); err != nil {
			return err
		}
		c.autoPause = v
		if v != 0 {
			c.autoStop = 0
		}
	}
	return nil
}
