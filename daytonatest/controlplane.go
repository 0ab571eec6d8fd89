//go:build unix

package daytonatest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
)

var allStates = []State{
	StateCreating, StateRestoring, StateDestroyed, StateDestroying, StateStarted, StateStopped,
	StateStarting, StateStopping, StateError, StateBuildFailed, StatePendingBuild,
	StateBuildingSnapshot, StateUnknown, StatePullingSnapshot, StateArchived, StateArchiving,
	StateResizing, StateSnapshotting, StateForking,
}

func (st State) transitional() bool {
	switch st {
	case StateCreating, StateRestoring, StateDestroying, StateStarting, StateStopping,
		StatePendingBuild, StateBuildingSnapshot, StatePullingSnapshot, StateArchiving,
		StateResizing, StateSnapshotting, StateForking:
		return true
	}
	return false
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
	stateChangeInProgress = "Sandbox state change in progress"
	toolboxNotStarted     = "bad request: failed to resolve container IP after 3 attempts: no IP address found. Is the Sandbox started?"
	toolboxUnauthorized   = "unauthorized: authentication failed: Bearer token is invalid"
)

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
	Volumes             []Volume          `json:"volumes"`
	CreatedAt           time.Time         `json:"createdAt"`
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
	dockerfile       string
	contextHashes    []string
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
	tb               *toolbox // nil once the sandbox is deleted
}

type createRequest struct {
	Name                *string           `json:"name"`
	Snapshot            *string           `json:"snapshot"`
	User                *string           `json:"user"`
	Env                 map[string]string `json:"env"`
	Labels              map[string]string `json:"labels"`
	Public              *bool             `json:"public"`
	NetworkBlockAll     *bool             `json:"networkBlockAll"`
	NetworkAllowList    *string           `json:"networkAllowList"`
	Class               *string           `json:"class"`
	Target              *string           `json:"target"`
	CPU                 *float64          `json:"cpu"`
	GPU                 *float64          `json:"gpu"`
	Memory              *float64          `json:"memory"`
	Disk                *float64          `json:"disk"`
	AutoStopInterval    *float64          `json:"autoStopInterval"`
	AutoArchiveInterval *float64          `json:"autoArchiveInterval"`
	AutoDeleteInterval  *float64          `json:"autoDeleteInterval"`
	Volumes             []volumeRequest   `json:"volumes"`
	BuildInfo           *buildInfoRequest `json:"buildInfo"`
}

type volumeRequest struct {
	VolumeID  string  `json:"volumeId"`
	MountPath string  `json:"mountPath"`
	Subpath   *string `json:"subpath"`
}

type buildInfoRequest struct {
	DockerfileContent string   `json:"dockerfileContent"`
	ContextHashes     []string `json:"contextHashes"`
}

func wholeNumber(name string, v *float64, min float64) (int, error) {
	if v == nil {
		return 0, nil
	}
	if *v != math.Trunc(*v) || *v < min || *v > math.MaxInt32 {
		if min == 0 {
			return 0, fmt.Errorf("%s must be a non-negative integer", name)
		}
		return 0, fmt.Errorf("%s must be an integer of at least %v", name, min)
	}
	return int(*v), nil
}

func validateAllowList(list string) error {
	for _, part := range strings.Split(list, ",") {
		p := strings.TrimSpace(part)
		if _, _, err := net.ParseCIDR(p); err != nil {
			return fmt.Errorf("invalid networkAllowList: %q is not a CIDR block", p)
		}
	}
	return nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, _ []string, body []byte) {
	var req createRequest
	if err := decodeJSON(body, &req); err != nil {
		writeAPIError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	bad := func(msg string) { writeAPIError(w, r, http.StatusBadRequest, msg) }
	hasResources := req.CPU != nil || req.GPU != nil || req.Memory != nil || req.Disk != nil
	if req.Snapshot != nil && *req.Snapshot != "" {
		if hasResources {
			bad("Cannot specify Sandbox resources when using a snapshot")
			return
		}
		if req.BuildInfo != nil {
			bad("Cannot specify both snapshot and buildInfo")
			return
		}
	}
	if req.BuildInfo != nil && strings.TrimSpace(req.BuildInfo.DockerfileContent) == "" {
		bad("buildInfo.dockerfileContent must not be empty")
		return
	}
	sb := &sandbox{
		id:          newUUID(),
		user:        DefaultUser,
		env:         map[string]string{},
		labels:      map[string]string{},
		target:      DefaultTarget,
		cpu:         DefaultCPU,
		memory:      DefaultMemory,
		disk:        DefaultDisk,
		autoStop:    DefaultAutoStop,
		autoArchive: DefaultAutoArchive,
		autoDelete:  DefaultAutoDelete,
		volumes:     []Volume{},
		desired:     "started",
	}
	var err error
	set := func(dst *int, name string, v *float64, min float64) bool {
		if v == nil || err != nil {
			return err == nil
		}
		var n int
		if n, err = wholeNumber(name, v, min); err != nil {
			bad(err.Error())
			return false
		}
		*dst = n
		return true
	}
	if !set(&sb.cpu, "cpu", req.CPU, 1) || !set(&sb.gpu, "gpu", req.GPU, 0) ||
		!set(&sb.memory, "memory", req.Memory, 1) || !set(&sb.disk, "disk", req.Disk, 1) ||
		!set(&sb.autoStop, "autoStopInterval", req.AutoStopInterval, 0) ||
		!set(&sb.autoArchive, "autoArchiveInterval", req.AutoArchiveInterval, 0) ||
		!set(&sb.autoDelete, "autoDeleteInterval", req.AutoDeleteInterval, math.MinInt32) {
		return
	}
	if req.NetworkAllowList != nil {
		if err := validateAllowList(*req.NetworkAllowList); err != nil {
			bad(err.Error())
			return
		}
		v := *req.NetworkAllowList
		sb.networkAllowList = &v
	}
	for i, v := range req.Volumes {
		if v.VolumeID == "" || v.MountPath == "" {
			bad(fmt.Sprintf("volumes[%d]: volumeId and mountPath are required", i))
			return
		}
		vol := Volume{VolumeID: v.VolumeID, MountPath: v.MountPath}
		if v.Subpath != nil {
			vol.Subpath = *v.Subpath
		}
		sb.volumes = append(sb.volumes, vol)
	}
	for k := range req.Env {
		if k == "" {
			bad("env: empty variable name")
			return
		}
	}
	if req.User != nil && *req.User != "" {
		sb.user = *req.User
	}
	if req.Env != nil {
		sb.env = maps.Clone(req.Env)
	}
	if req.Labels != nil {
		sb.labels = maps.Clone(req.Labels)
	}
	if req.Public != nil {
		sb.public = *req.Public
	}
	if req.NetworkBlockAll != nil {
		sb.networkBlockAll = *req.NetworkBlockAll
	}
	if req.Target != nil && *req.Target != "" {
		sb.target = *req.Target
	}
	switch {
	case req.BuildInfo != nil:
		sb.dockerfile = req.BuildInfo.DockerfileContent
		sb.contextHashes = req.BuildInfo.ContextHashes
	case req.Snapshot != nil && *req.Snapshot != "":
		sb.snapshot = *req.Snapshot
	default:
		sb.snapshot = DefaultSnapshot
	}
	sb.name = sb.id
	if req.Name != nil && *req.Name != "" {
		sb.name = *req.Name
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.names[sb.name]; taken {
		writeAPIError(w, r, http.StatusConflict, fmt.Sprintf("Sandbox with name %s already exists", sb.name))
		return
	}
	if _, taken := s.sandboxes[sb.name]; taken {
		writeAPIError(w, r, http.StatusConflict, fmt.Sprintf("Sandbox with name %s already exists", sb.name))
		return
	}
	sb.dir = filepath.Join(s.root, sb.id)
	sb.home = filepath.Join(sb.dir, "home")
	if err := os.MkdirAll(sb.home, 0o755); err != nil {
		writeAPIError(w, r, http.StatusInternalServerError, "failed to create sandbox directory: "+err.Error())
		return
	}
	now := time.Now().UTC()
	sb.createdAt, sb.updatedAt = now, now
	sb.tb = newToolbox(s, sb)
	s.sandboxes[sb.id] = sb
	s.names[sb.name] = sb.id
	s.transitionLocked(sb, StateCreating, "started", func() { sb.state = StateStarted })
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}

// transitionLocked puts sb in the transitional state mid and calls done after
// the transition delay (at once when it is zero). A later transition
// supersedes a pending one. Callers hold s.mu.
func (s *Server) transitionLocked(sb *sandbox, mid State, desired string, done func()) {
	sb.gen++
	gen := sb.gen
	if sb.timer != nil {
		sb.timer.Stop()
		sb.timer = nil
	}
	sb.desired = desired
	sb.updatedAt = time.Now().UTC()
	if s.transition <= 0 {
		done()
		return
	}
	sb.state = mid
	sb.timer = time.AfterFunc(s.transition, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || sb.gen != gen || s.sandboxes[sb.id] != sb {
			return
		}
		sb.timer = nil
		sb.updatedAt = time.Now().UTC()
		done()
	})
}

// lookupLocked finds a sandbox by id, then by name.
func (s *Server) lookupLocked(idOrName string) *sandbox {
	if sb, ok := s.sandboxes[idOrName]; ok {
		return sb
	}
	if id, ok := s.names[idOrName]; ok {
		return s.sandboxes[id]
	}
	return nil
}

// removeLocked forgets sb and removes its directory. Its processes must
// already be stopped or being stopped.
func (s *Server) removeLocked(sb *sandbox) {
	if sb.timer != nil {
		sb.timer.Stop()
		sb.timer = nil
	}
	sb.gen++
	delete(s.sandboxes, sb.id)
	if s.names[sb.name] == sb.id {
		delete(s.names, sb.name)
	}
	dir := sb.dir
	tb := sb.tb
	sb.tb = nil
	s.goLocked(func() {
		if tb != nil {
			tb.shutdown(s.cfg.killGrace)
		}
		_ = os.RemoveAll(dir)
	})
}

// detachToolboxLocked replaces the sandbox's toolbox with a fresh one (its
// files stay) and stops the old one's processes in the background: what a
// container stop does to the daemon.
func (s *Server) detachToolboxLocked(sb *sandbox) {
	old := sb.tb
	sb.tb = newToolbox(s, sb)
	if old != nil {
		old.close()
		s.goLocked(func() { old.shutdown(s.cfg.killGrace) })
	}
}

func notFound(w http.ResponseWriter, r *http.Request, idOrName string) {
	writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", idOrName))
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(args[0])
	if sb == nil {
		notFound(w, r, args[0])
		return
	}
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}

func (s *Server) handleToolboxProxyURL(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	s.mu.Lock()
	sb := s.lookupLocked(args[0])
	s.mu.Unlock()
	if sb == nil {
		notFound(w, r, args[0])
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": s.ToolboxURL()})
}

// labelFilter parses the labels query parameter, a JSON object.
func labelFilter(r *http.Request) (map[string]string, error) {
	raw := r.URL.Query().Get("labels")
	if raw == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("invalid labels: %v", err)
	}
	return m, nil
}

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

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ []string, _ []byte) {
	labels, err := labelFilter(r)
	if err != nil {
		writeAPIError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []sandboxDTO{}
	for _, sb := range s.filteredLocked(labels) {
		items = append(items, s.dtoLocked(sb))
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) handleListPaginated(w http.ResponseWriter, r *http.Request, _ []string, _ []byte) {
	labels, err := labelFilter(r)
	if err != nil {
		writeAPIError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	page, limit := 1, 100
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			writeAPIError(w, r, http.StatusBadRequest, "page must be a positive integer")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			writeAPIError(w, r, http.StatusBadRequest, "limit must be an integer between 1 and 200")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.filteredLocked(labels)
	if q.Get("order") == "asc" {
		slices.Reverse(all)
	}
	items := []sandboxDTO{}
	for i := (page - 1) * limit; i < len(all) && i < page*limit; i++ {
		items = append(items, s.dtoLocked(all[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"items":      items,
		"total":      len(all),
		"page":       page,
		"totalPages": (len(all) + limit - 1) / limit,
	})
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(args[0])
	if sb == nil {
		notFound(w, r, args[0])
		return
	}
	switch {
	case sb.state == StateStarted:
	case sb.state == StateStopped:
		s.transitionLocked(sb, StateStarting, "started", func() { sb.state = StateStarted })
	case sb.state == StateArchived:
		s.transitionLocked(sb, StateRestoring, "started", func() { sb.state = StateStarted })
	case sb.state.transitional():
		writeAPIError(w, r, http.StatusConflict, stateChangeInProgress)
		return
	case sb.state == StateError || sb.state == StateBuildFailed:
		writeAPIError(w, r, http.StatusBadRequest, "Sandbox is in an errored state")
		return
	default:
		writeAPIError(w, r, http.StatusBadRequest, "Sandbox is not in valid state")
		return
	}
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}

func (s *Server) handleStop(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(args[0])
	if sb == nil {
		notFound(w, r, args[0])
		return
	}
	switch {
	case sb.state == StateStarted:
	case sb.state.transitional():
		writeAPIError(w, r, http.StatusConflict, stateChangeInProgress)
		return
	default:
		writeAPIError(w, r, http.StatusBadRequest, "Sandbox is not started")
		return
	}
	s.detachToolboxLocked(sb)
	if sb.autoDelete == 0 {
		// Ephemeral: stopping leads to deletion.
		s.transitionLocked(sb, StateStopping, "destroyed", func() {
			s.transitionLocked(sb, StateDestroying, "destroyed", func() { s.removeLocked(sb) })
		})
	} else {
		s.transitionLocked(sb, StateStopping, "stopped", func() { sb.state = StateStopped })
	}
	if s.sandboxes[sb.id] != sb {
		// Removed at once (no transition delay): the API still answers with
		// the record as it was.
		dto := s.dtoLocked(sb)
		dto.State = string(StateDestroying)
		writeJSON(w, http.StatusOK, dto)
		return
	}
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}

func (s *Server) handleArchive(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(args[0])
	if sb == nil {
		notFound(w, r, args[0])
		return
	}
	switch {
	case sb.state == StateStopped:
	case sb.state.transitional():
		writeAPIError(w, r, http.StatusConflict, stateChangeInProgress)
		return
	default:
		writeAPIError(w, r, http.StatusBadRequest, "Sandbox is not stopped")
		return
	}
	s.transitionLocked(sb, StateArchiving, "archived", func() { sb.state = StateArchived })
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(args[0])
	if sb == nil {
		notFound(w, r, args[0])
		return
	}
	if sb.state == StateDestroying {
		writeJSON(w, http.StatusOK, s.dtoLocked(sb))
		return
	}
	if sb.tb != nil {
		old := sb.tb
		old.close()
		s.goLocked(func() { old.shutdown(s.cfg.killGrace) })
	}
	s.transitionLocked(sb, StateDestroying, "destroyed", func() { s.removeLocked(sb) })
	dto := s.dtoLocked(sb)
	dto.State = string(StateDestroying)
	writeJSON(w, http.StatusOK, dto)
}

type sandboxDTO struct {
	ID                  string            `json:"id"`
	OrganizationID      string            `json:"organizationId"`
	Name                string            `json:"name"`
	Snapshot            *string           `json:"snapshot,omitempty"`
	User                string            `json:"user"`
	Env                 map[string]string `json:"env"`
	Labels              map[string]string `json:"labels"`
	Public              bool              `json:"public"`
	NetworkBlockAll     bool              `json:"networkBlockAll"`
	NetworkAllowList    *string           `json:"networkAllowList,omitempty"`
	Target              string            `json:"target"`
	CPU                 int               `json:"cpu"`
	GPU                 int               `json:"gpu"`
	Memory              int               `json:"memory"`
	Disk                int               `json:"disk"`
	State               string            `json:"state"`
	DesiredState        string            `json:"desiredState"`
	ErrorReason         *string           `json:"errorReason"`
	Recoverable         bool              `json:"recoverable"`
	AutoStopInterval    int               `json:"autoStopInterval"`
	AutoArchiveInterval int               `json:"autoArchiveInterval"`
	AutoDeleteInterval  int               `json:"autoDeleteInterval"`
	Volumes             []volumeDTO       `json:"volumes"`
	BuildInfo           *buildInfoDTO     `json:"buildInfo,omitempty"`
	CreatedAt           string            `json:"createdAt"`
	UpdatedAt           string            `json:"updatedAt"`
	DaemonVersion       string            `json:"daemonVersion"`
	ToolboxProxyURL     string            `json:"toolboxProxyUrl"`
}

type volumeDTO struct {
	VolumeID  string  `json:"volumeId"`
	MountPath string  `json:"mountPath"`
	Subpath   *string `json:"subpath,omitempty"`
}

type buildInfoDTO struct {
	DockerfileContent string   `json:"dockerfileContent"`
	ContextHashes     []string `json:"contextHashes,omitempty"`
	CreatedAt         string   `json:"createdAt"`
	UpdatedAt         string   `json:"updatedAt"`
	SnapshotRef       string   `json:"snapshotRef"`
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Server) dtoLocked(sb *sandbox) sandboxDTO {
	d := sandboxDTO{
		ID:                  sb.id,
		OrganizationID:      defaultOrganizationID,
		Name:                sb.name,
		User:                sb.user,
		Env:                 maps.Clone(sb.env),
		Labels:              maps.Clone(sb.labels),
		Public:              sb.public,
		NetworkBlockAll:     sb.networkBlockAll,
		NetworkAllowList:    sb.networkAllowList,
		Target:              sb.target,
		CPU:                 sb.cpu,
		GPU:                 sb.gpu,
		Memory:              sb.memory,
		Disk:                sb.disk,
		State:               string(sb.state),
		DesiredState:        sb.desired,
		AutoStopInterval:    sb.autoStop,
		AutoArchiveInterval: sb.autoArchive,
		AutoDeleteInterval:  sb.autoDelete,
		Volumes:             []volumeDTO{},
		CreatedAt:           isoTime(sb.createdAt),
		UpdatedAt:           isoTime(sb.updatedAt),
		DaemonVersion:       "daytonatest",
		ToolboxProxyURL:     s.ToolboxURL(),
	}
	if sb.snapshot != "" {
		v := sb.snapshot
		d.Snapshot = &v
	}
	if sb.errorReason != "" {
		v := sb.errorReason
		d.ErrorReason = &v
	}
	for _, v := range sb.volumes {
		vd := volumeDTO{VolumeID: v.VolumeID, MountPath: v.MountPath}
		if v.Subpath != "" {
			sp := v.Subpath
			vd.Subpath = &sp
		}
		d.Volumes = append(d.Volumes, vd)
	}
	if sb.dockerfile != "" {
		d.BuildInfo = &buildInfoDTO{
			DockerfileContent: sb.dockerfile,
			ContextHashes:     sb.contextHashes,
			CreatedAt:         isoTime(sb.createdAt),
			UpdatedAt:         isoTime(sb.createdAt),
			SnapshotRef:       "daytonatest-build-" + sb.id[:8],
		}
	}
	return d
}

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

// Sandbox returns the server-side record of the sandbox with this id or
// name, and whether it exists.
func (s *Server) Sandbox(idOrName string) (Sandbox, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(idOrName)
	if sb == nil {
		return Sandbox{}, false
	}
	return s.publicLocked(sb), true
}

// Sandboxes returns the records of all sandboxes, newest first.
func (s *Server) Sandboxes() []Sandbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Sandbox{}
	for _, sb := range s.filteredLocked(nil) {
		out = append(out, s.publicLocked(sb))
	}
	return out
}

// StopSandbox stops a sandbox behind the client's back, as Daytona's
// auto-stop or another process would: at once, with no transition. Its
// processes are killed before StopSandbox returns; its files stay. A
// sandbox with autoDeleteInterval 0 is deleted instead, as Daytona does.
// Stopping a stopped sandbox does nothing.
func (s *Server) StopSandbox(idOrName string) error {
	s.mu.Lock()
	sb := s.lookupLocked(idOrName)
	if sb == nil {
		s.mu.Unlock()
		return fmt.Errorf("daytonatest: sandbox %s not found", idOrName)
	}
	if sb.autoDelete == 0 {
		s.mu.Unlock()
		return s.DeleteSandbox(idOrName)
	}
	sb.gen++
	if sb.timer != nil {
		sb.timer.Stop()
		sb.timer = nil
	}
	old := sb.tb
	sb.tb = newToolbox(s, sb)
	sb.state, sb.desired = StateStopped, "stopped"
	sb.updatedAt = time.Now().UTC()
	s.mu.Unlock()
	if old != nil {
		old.close()
		old.shutdown(s.cfg.killGrace)
	}
	return nil
}

// DeleteSandbox deletes a sandbox behind the client's back: at once, with
// no transition. Its processes are killed and its directory removed before
// DeleteSandbox returns. Afterwards the control plane answers 404 and the
// toolbox 401, as Daytona does.
func (s *Server) DeleteSandbox(idOrName string) error {
	s.mu.Lock()
	sb := s.lookupLocked(idOrName)
	if sb == nil {
		s.mu.Unlock()
		return fmt.Errorf("daytonatest: sandbox %s not found", idOrName)
	}
	if sb.timer != nil {
		sb.timer.Stop()
		sb.timer = nil
	}
	sb.gen++
	delete(s.sandboxes, sb.id)
	if s.names[sb.name] == sb.id {
		delete(s.names, sb.name)
	}
	tb, dir := sb.tb, sb.dir
	sb.tb = nil
	s.mu.Unlock()
	if tb != nil {
		tb.close()
		tb.shutdown(s.cfg.killGrace)
	}
	_ = os.RemoveAll(dir)
	return nil
}

// SetSandboxState forces a sandbox into state, with reason as its
// errorReason (may be empty), as a failure or another client would. Any
// state other than started kills the sandbox's processes before
// SetSandboxState returns. Pending transitions are cancelled. A sandbox put
// in state destroying disappears after the transition delay; one in state
// destroyed stays visible (as a dead record) until deleted.
func (s *Server) SetSandboxState(idOrName string, state State, reason string) error {
	if !slices.Contains(allStates, state) {
		return fmt.Errorf("daytonatest: unknown sandbox state %q", state)
	}
	s.mu.Lock()
	sb := s.lookupLocked(idOrName)
	if sb == nil {
		s.mu.Unlock()
		return fmt.Errorf("daytonatest: sandbox %s not found", idOrName)
	}
	sb.gen++
	if sb.timer != nil {
		sb.timer.Stop()
		sb.timer = nil
	}
	var old *toolbox
	if state != StateStarted && sb.tb != nil {
		old = sb.tb
		sb.tb = newToolbox(s, sb)
	}
	sb.state = state
	sb.errorReason = reason
	sb.updatedAt = time.Now().UTC()
	if state == StateDestroying {
		// Destroying is on its way out: the sandbox goes after the
		// transition delay, as if someone had deleted it.
		s.transitionLocked(sb, StateDestroying, "destroyed", func() { s.removeLocked(sb) })
	}
	switch state {
	case StateStarted:
		sb.desired = "started"
	case StateArchived:
		sb.desired = "archived"
	case StateDestroyed, StateDestroying:
		sb.desired = "destroyed"
	default:
		sb.desired = "stopped"
	}
	s.mu.Unlock()
	if old != nil {
		old.close()
		old.shutdown(s.cfg.killGrace)
	}
	return nil
}
