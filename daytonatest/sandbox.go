//go:build unix

package daytonatest

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// Sandboxes: their states, records and the state machine that moves them,
// shared by the control-plane API (controlplane.go) and the Go-side
// controls (controls.go). Everything here runs under Server.mu.

// State is a sandbox state as the control plane reports it.
type State string

// Sandbox states, as in the Daytona API.
const (
	StateCreating         State = "creating"
	StateRestoring        State = "restoring"
	StateDestroyed        State = "destroyed"
	StateDestroying       State = "destroying"
	StateStarted          State = "started"
	StateStopped          State = "stopped"
	StateStarting         State = "starting"
	StateStopping         State = "stopping"
	StateError            State = "error"
	StateBuildFailed      State = "build_failed"
	StatePendingBuild     State = "pending_build"
	StateBuildingSnapshot State = "building_snapshot"
	StateUnknown          State = "unknown"
	StatePullingSnapshot  State = "pulling_snapshot"
	StateArchived         State = "archived"
	StateArchiving        State = "archiving"
	StateResizing         State = "resizing"
	StateSnapshotting     State = "snapshotting"
	StateForking          State = "forking"
	// The states of pausing and resuming a VM-class sandbox, since v0.190.0
	// (apps/api/src/sandbox/enums/sandbox-state.enum.ts @v0.190.0).
	StatePausing  State = "pausing"
	StatePaused   State = "paused"
	StateResuming State = "resuming"
)

var allStates = []State{
	StateCreating, StateRestoring, StateDestroyed, StateDestroying, StateStarted, StateStopped,
	StateStarting, StateStopping, StateError, StateBuildFailed, StatePendingBuild,
	StateBuildingSnapshot, StateUnknown, StatePullingSnapshot, StateArchived, StateArchiving,
	StateResizing, StateSnapshotting, StateForking, StatePausing, StatePaused, StateResuming,
}

// desiredState is the desiredState the control plane reports for a
// sandbox forced into st: the state it is on its way to.
func desiredState(st State) string {
	switch st {
	case StateStarted, StateStarting, StateCreating, StateRestoring, StateResuming, StatePendingBuild,
		StateBuildingSnapshot, StatePullingSnapshot:
		return "started"
	case StateArchived, StateArchiving:
		return "archived"
	case StateDestroyed, StateDestroying:
		return "destroyed"
	case StatePaused, StatePausing:
		return "paused"
	default:
		return "stopped"
	}
}

// Defaults the control plane applies to new sandboxes.
const (
	DefaultSnapshot       = "daytonaio/sandbox:latest"
	DefaultTarget         = "us"
	DefaultUser           = "daytona"
	DefaultCPU            = 2
	DefaultMemory         = 4  // GiB
	DefaultDisk           = 10 // GiB
	DefaultAutoStop       = 15 // minutes
	DefaultAutoArchive    = 7 * 24 * 60
	DefaultAutoDelete     = -1
	defaultOrganizationID = "daytonatest-organization"
)

// ErrSandboxNotFound is the error, tested with [errors.Is], of the controls
// ([Server.StopSandbox], [Server.DeleteSandbox], [Server.SetSandboxState])
// given an id or name that no sandbox has.
var ErrSandboxNotFound = errors.New("daytonatest: sandbox not found")

// sandboxNotFound is ErrSandboxNotFound for one id or name.
type sandboxNotFound string

func (e sandboxNotFound) Error() string {
	return fmt.Sprintf("daytonatest: sandbox %s not found", string(e))
}

func (e sandboxNotFound) Is(target error) bool { return target == ErrSandboxNotFound }

// Volume is a volume mount requested at creation.
type Volume struct {
	VolumeID  string `json:"volumeId"`
	MountPath string `json:"mountPath"`
	Subpath   string `json:"subpath,omitempty"`
}

// Sandbox is the server-side record of a sandbox, as returned by
// [Server.Sandbox] for assertions. It is a copy: changing it changes nothing.
type Sandbox struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	State               State             `json:"state"`
	ErrorReason         string            `json:"errorReason,omitempty"`
	Snapshot            string            `json:"snapshot,omitempty"`
	Dockerfile          string            `json:"dockerfile,omitempty"` // image mode: buildInfo.dockerfileContent
	User                string            `json:"user"`
	Env                 map[string]string `json:"env"`
	Labels              map[string]string `json:"labels"`
	Public              bool              `json:"public"`
	NetworkBlockAll     bool              `json:"networkBlockAll"`
	NetworkAllowList    string            `json:"networkAllowList,omitempty"`
	Target              string            `json:"target"`
	CPU                 int               `json:"cpu"`
	GPU                 int               `json:"gpu"`
	Memory              int               `json:"memory"` // GiB
	Disk                int               `json:"disk"`   // GiB
	AutoStopInterval    int               `json:"autoStopInterval"`
	AutoArchiveInterval int               `json:"autoArchiveInterval"`
	AutoDeleteInterval  int               `json:"autoDeleteInterval"`
	AutoPauseInterval   int               `json:"autoPauseInterval"`
	// AutoDestroyAt is when the sandbox's TTL runs out (zero: no TTL).
	AutoDestroyAt time.Time `json:"autoDestroyAt,omitzero"`
	// Class is the sandbox's class: ClassContainer, or that of its
	// snapshot; "small" (or the size the request named) under 0.173.
	Class string `json:"class"`
	// Recoverable marks an errored sandbox that POST /recover can bring back.
	Recoverable bool      `json:"recoverable"`
	Volumes     []Volume  `json:"volumes"`
	CreatedAt   time.Time `json:"createdAt"`
	// Dir is the sandbox's home and default working directory on this machine.
	Dir string `json:"dir"`
	// Sessions lists the ids of the sandbox's live sessions, sorted.
	Sessions []string `json:"sessions"`
}

// sandbox is the mutable record; its fields are guarded by Server.mu.
type sandbox struct {
	id, name         string
	state            State
	desired          string
	errorReason      string
	snapshot         string
	built            bool // image mode: created from buildInfo
	dockerfile       string
	contextHashes    []string
	class            string
	recoverable      bool
	autoPause        int
	autoDestroyAt    time.Time // the TTL's end (current); zero: none
	user             string
	env, labels      map[string]string
	public           bool
	networkBlockAll  bool
	networkAllowList *string
	target           string
	cpu, gpu         int
	memory, disk     int
	autoStop         int
	autoArchive      int
	autoDelete       int
	volumes          []Volume
	createdAt        time.Time
	updatedAt        time.Time
	dir, home        string
	gen              int
	timer            *time.Timer
	finish           func()          // ends the pending transition now (FinishTransition); nil when none
	changed          chan struct{}   // closed at every change of state (notifyLocked)
	holdName         bool            // once destroyed, its name stays taken (0.173's ephemeral stop)
	tb               *toolbox        // closed while being deleted, nil once removed
	svc              sandboxServices // preview token, activity, metrics (services.go)
}

// publicLocked returns the exported copy of sb's record.
func (s *Server) publicLocked(sb *sandbox) Sandbox {
	out := Sandbox{
		ID:                  sb.id,
		Name:                sb.name,
		State:               sb.state,
		ErrorReason:         sb.errorReason,
		Snapshot:            sb.snapshot,
		Dockerfile:          sb.dockerfile,
		User:                sb.user,
		Env:                 maps.Clone(sb.env),
		Labels:              maps.Clone(sb.labels),
		Public:              sb.public,
		NetworkBlockAll:     sb.networkBlockAll,
		Target:              sb.target,
		CPU:                 sb.cpu,
		GPU:                 sb.gpu,
		Memory:              sb.memory,
		Disk:                sb.disk,
		AutoStopInterval:    sb.autoStop,
		AutoArchiveInterval: sb.autoArchive,
		AutoDeleteInterval:  sb.autoDelete,
		AutoPauseInterval:   sb.autoPause,
		AutoDestroyAt:       sb.autoDestroyAt,
		Class:               sb.class,
		Recoverable:         sb.recoverable,
		Volumes:             slices.Clone(sb.volumes),
		CreatedAt:           sb.createdAt,
		Dir:                 sb.home,
		Sessions:            []string{},
	}
	if sb.networkAllowList != nil {
		out.NetworkAllowList = *sb.networkAllowList
	}
	if sb.tb != nil {
		out.Sessions = sb.tb.sessionIDs()
	}
	return out
}

// lookupLocked finds a sandbox by id, then by name. An errored sandbox
// being deleted is not found (findOneByIdOrName,
// apps/api/src/sandbox/services/sandbox.service.ts:1739-1787 @v0.190.0,
// 1419-1467 @v0.173.0).
func (s *Server) lookupLocked(idOrName string) *sandbox {
	sb, ok := s.sandboxes[idOrName]
	if !ok {
		if id, ok := s.names[idOrName]; ok {
			sb = s.sandboxes[id]
		}
	}
	if sb != nil && sb.errored() && sb.desired == "destroyed" {
		return nil
	}
	return sb
}

// filteredLocked returns the sandboxes that have all of labels, newest
// first.
func (s *Server) filteredLocked(labels map[string]string) []*sandbox {
	var out []*sandbox
	for _, sb := range s.sandboxes {
		ok := true
		for k, v := range labels {
			if sb.labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, sb)
		}
	}
	slices.SortFunc(out, func(a, b *sandbox) int {
		if c := b.createdAt.Compare(a.createdAt); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

// transitionLocked puts sb in the transitional state mid and calls done after
// the transition delay (at once when it is zero). A later transition
// supersedes a pending one. Callers hold s.mu.
func (s *Server) transitionLocked(sb *sandbox, mid State, desired string, done func()) {
	sb.cancelTransition()
	gen := sb.gen
	sb.desired = desired
	sb.updatedAt = time.Now().UTC()
	if s.transition <= 0 {
		done()
		sb.notifyLocked()
		return
	}
	sb.state = mid
	sb.notifyLocked()
	sb.finish = func() {
		sb.timer, sb.finish = nil, nil
		sb.updatedAt = time.Now().UTC()
		done()
		sb.notifyLocked()
	}
	sb.timer = time.AfterFunc(s.transition, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || sb.gen != gen || s.sandboxes[sb.id] != sb {
			return
		}
		sb.finish()
	})
}

// notifyLocked wakes whoever waits for sb to change state (awaitStarted).
func (sb *sandbox) notifyLocked() {
	close(sb.changed)
	sb.changed = make(chan struct{})
}

// cancelTransition drops sb's pending transition, if any: its done function
// will not run. Callers hold Server.mu.
func (sb *sandbox) cancelTransition() {
	sb.gen++
	sb.finish = nil
	if sb.timer != nil {
		sb.timer.Stop()
		sb.timer = nil
	}
}

// forgetLocked removes sb from the records, so that the control plane
// answers 404 for it and the toolbox 401, and returns its toolbox (nil if
// it has none) for the caller to shut down.
func (s *Server) forgetLocked(sb *sandbox) *toolbox {
	sb.cancelTransition()
	delete(s.sandboxes, sb.id)
	if s.names[sb.name] == sb.id {
		delete(s.names, sb.name)
	}
	if sb.holdName {
		s.held[sb.name] = time.Now().Add(destroyedRetention)
	}
	sb.notifyLocked()
	tb := sb.tb
	sb.tb = nil
	return tb
}

// removeLocked forgets sb, then stops its processes and removes its
// directory in the background.
func (s *Server) removeLocked(sb *sandbox) {
	tb := s.forgetLocked(sb)
	s.goLocked(func() {
		tb.shutdown(s.cfg.killGrace)
		_ = os.RemoveAll(sb.dir)
	})
}

// takeToolboxLocked closes sb's toolbox to requests, as a stopping
// container does to its daemon, and returns it (nil if there is none) for
// the caller to shut down. With fresh, a new toolbox takes its place (the
// files stay, as across a stop); otherwise the closed one stays until the
// sandbox is removed.
func (s *Server) takeToolboxLocked(sb *sandbox, fresh bool) *toolbox {
	old := sb.tb
	if fresh {
		sb.tb = newToolbox(s, sb)
	}
	old.close()
	return old
}

// retireToolboxLocked is takeToolboxLocked with the old toolbox shut down
// in the background, for callers that answer without waiting for it.
func (s *Server) retireToolboxLocked(sb *sandbox, fresh bool) {
	if old := s.takeToolboxLocked(sb, fresh); old != nil {
		s.goLocked(func() { old.shutdown(s.cfg.killGrace) })
	}
}

// apiError is a refusal of the control plane: a status and a message.
type apiError struct {
	status int
	msg    string
}

var errStateChangeInProgress = &apiError{http.StatusConflict, "Sandbox state change in progress"}
