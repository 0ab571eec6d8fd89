//go:build unix

package daytonatest

import (
	"encoding/json"
	"errors"
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

// The control-plane API ({URL}/api): sandboxes and their lifecycle.

// createRequest is the body of POST /sandbox.
type createRequest struct {
	Name             *string           `json:"name"`
	Snapshot         *string           `json:"snapshot"`
	User             *string           `json:"user"`
	Env              map[string]string `json:"env"`
	Labels           map[string]string `json:"labels"`
	Public           *bool             `json:"public"`
	NetworkBlockAll  *bool             `json:"networkBlockAll"`
	NetworkAllowList *string           `json:"networkAllowList"`
	Class            *string           `json:"class"`
	Target           *string           `json:"target"`
	Volumes          []volumeJSON      `json:"volumes"`
	BuildInfo        *buildInfoRequest `json:"buildInfo"`
	createNumbers
}

// createNumbers are the resources and intervals of a createRequest, JSON
// numbers that must be whole (setNumbers). Their fields are promoted into
// createRequest's JSON object.
type createNumbers struct {
	CPU                 *float64 `json:"cpu"`
	GPU                 *float64 `json:"gpu"`
	Memory              *float64 `json:"memory"`
	Disk                *float64 `json:"disk"`
	AutoStopInterval    *float64 `json:"autoStopInterval"`
	AutoArchiveInterval *float64 `json:"autoArchiveInterval"`
	AutoDeleteInterval  *float64 `json:"autoDeleteInterval"`
}

// volumeJSON is a volume mount, as requests and responses carry it.
type volumeJSON struct {
	VolumeID  string  `json:"volumeId"`
	MountPath string  `json:"mountPath"`
	Subpath   *string `json:"subpath,omitempty"`
}

type buildInfoRequest struct {
	DockerfileContent string   `json:"dockerfileContent"`
	ContextHashes     []string `json:"contextHashes"`
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, body []byte) {
	var req createRequest
	if !decodeAPIBody(w, r, body, &req) {
		return
	}
	sb, err := req.sandbox()
	if err != nil {
		writeAPIError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addLocked(sb); err != nil {
		writeAPIError(w, r, err.status, err.msg)
		return
	}
	writeJSON(w, http.StatusOK, s.dtoLocked(sb))
}

// sandbox checks the request and returns the record it asks for, with the
// control plane's defaults for what it leaves out. Errors are the 400
// messages of the API, the first problem found.
func (req *createRequest) sandbox() (*sandbox, error) {
	if err := req.checkSource(); err != nil {
		return nil, err
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
	if err := req.setNumbers(sb); err != nil {
		return nil, err
	}
	if err := req.setNetworkAndVolumes(sb); err != nil {
		return nil, err
	}
	for k := range req.Env {
		if k == "" {
			return nil, errors.New("env: empty variable name")
		}
	}
	req.setRest(sb)
	return sb, nil
}

// apiMessage is an error whose text is a message of the real API, word for
// word (some start with a capital letter).
type apiMessage string

func (m apiMessage) Error() string { return string(m) }

// checkSource checks the snapshot, resources and buildInfo combination.
func (req *createRequest) checkSource() error {
	hasResources := req.CPU != nil || req.GPU != nil || req.Memory != nil || req.Disk != nil
	if req.Snapshot != nil && *req.Snapshot != "" {
		if hasResources {
			return apiMessage("Cannot specify Sandbox resources when using a snapshot")
		}
		if req.BuildInfo != nil {
			return apiMessage("Cannot specify both snapshot and buildInfo")
		}
	}
	if req.BuildInfo != nil && strings.TrimSpace(req.BuildInfo.DockerfileContent) == "" {
		return errors.New("buildInfo.dockerfileContent must not be empty")
	}
	return nil
}

// setNumbers sets the resources and intervals the request gives, in order,
// stopping at the first that is not a whole number in range.
func (req *createRequest) setNumbers(sb *sandbox) error {
	for _, f := range []struct {
		dst  *int
		name string
		v    *float64
		min  float64
	}{
		{&sb.cpu, "cpu", req.CPU, 1},
		{&sb.gpu, "gpu", req.GPU, 0},
		{&sb.memory, "memory", req.Memory, 1},
		{&sb.disk, "disk", req.Disk, 1},
		{&sb.autoStop, "autoStopInterval", req.AutoStopInterval, 0},
		{&sb.autoArchive, "autoArchiveInterval", req.AutoArchiveInterval, 0},
		{&sb.autoDelete, "autoDeleteInterval", req.AutoDeleteInterval, math.MinInt32},
	} {
		if f.v == nil {
			continue
		}
		n, err := wholeNumber(f.name, f.v, f.min)
		if err != nil {
			return err
		}
		*f.dst = n
	}
	return nil
}

func wholeNumber(name string, v *float64, min float64) (int, error) {
	if *v != math.Trunc(*v) || *v < min || *v > math.MaxInt32 {
		if min == 0 {
			return 0, fmt.Errorf("%s must be a non-negative integer", name)
		}
		return 0, fmt.Errorf("%s must be an integer of at least %v", name, min)
	}
	return int(*v), nil
}

func (req *createRequest) setNetworkAndVolumes(sb *sandbox) error {
	if req.NetworkAllowList != nil {
		if err := validateAllowList(*req.NetworkAllowList); err != nil {
			return err
		}
		v := *req.NetworkAllowList
		sb.networkAllowList = &v
	}
	for i, v := range req.Volumes {
		if v.VolumeID == "" || v.MountPath == "" {
			return fmt.Errorf("volumes[%d]: volumeId and mountPath are required", i)
		}
		vol := Volume{VolumeID: v.VolumeID, MountPath: v.MountPath}
		if v.Subpath != nil {
			vol.Subpath = *v.Subpath
		}
		sb.volumes = append(sb.volumes, vol)
	}
	return nil
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

// setRest copies the settings that need no checking, and picks the mode:
// image (buildInfo), snapshot, or the default snapshot.
func (req *createRequest) setRest(sb *sandbox) {
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
}

// addLocked gives a new sandbox its directory and toolbox, records it and
// starts creating it. A name that is taken (as a name or an id) is a 409.
func (s *Server) addLocked(sb *sandbox) *apiError {
	_, nameTaken := s.names[sb.name]
	_, idTaken := s.sandboxes[sb.name]
	if nameTaken || idTaken {
		return &apiError{http.StatusConflict, fmt.Sprintf("Sandbox with name %s already exists", sb.name)}
	}
	sb.dir = filepath.Join(s.root, sb.id)
	sb.home = filepath.Join(sb.dir, "home")
	if err := os.MkdirAll(sb.home, 0o755); err != nil {
		return &apiError{http.StatusInternalServerError, "failed to create sandbox directory: " + err.Error()}
	}
	now := time.Now().UTC()
	sb.createdAt, sb.updatedAt = now, now
	sb.svc.rotateToken()
	sb.tb = newToolbox(s, sb)
	s.sandboxes[sb.id] = sb
	s.names[sb.name] = sb.id
	s.transitionLocked(sb, StateCreating, "started", func() { sb.state = StateStarted })
	return nil
}

// onSandbox serves a request about one sandbox: under s.mu, it looks the
// sandbox up by the id or name in the path (404 if there is none) and
// answers with what act returns, or with act's error.
func (s *Server) onSandbox(act func(*sandbox) (any, *apiError)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		ref := r.PathValue("idOrName")
		s.mu.Lock()
		defer s.mu.Unlock()
		sb := s.lookupLocked(ref)
		if sb == nil {
			writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
			return
		}
		out, err := act(sb)
		if err != nil {
			writeAPIError(w, r, err.status, err.msg)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) getSandbox(sb *sandbox) (any, *apiError) { return s.dtoLocked(sb), nil }

func (s *Server) toolboxProxyURL(*sandbox) (any, *apiError) {
	return map[string]string{"url": s.ToolboxURL()}, nil
}

func (s *Server) startSandbox(sb *sandbox) (any, *apiError) {
	if err := s.startLocked(sb); err != nil {
		return nil, err
	}
	return s.dtoLocked(sb), nil
}

func (s *Server) stopSandbox(sb *sandbox) (any, *apiError) {
	if err := s.stopLocked(sb); err != nil {
		return nil, err
	}
	dto := s.dtoLocked(sb)
	if s.sandboxes[sb.id] != sb {
		// Removed at once (an ephemeral sandbox, no transition delay): the
		// API still answers with the record as it was.
		dto.State = string(StateDestroying)
	}
	return dto, nil
}

func (s *Server) archiveSandbox(sb *sandbox) (any, *apiError) {
	if err := s.archiveLocked(sb); err != nil {
		return nil, err
	}
	return s.dtoLocked(sb), nil
}

// deleteSandbox answers with the record in state destroying, even when it
// is already gone (no transition delay).
func (s *Server) deleteSandbox(sb *sandbox) (any, *apiError) {
	s.deleteLocked(sb)
	dto := s.dtoLocked(sb)
	dto.State = string(StateDestroying)
	return dto, nil
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

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ []byte) {
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

func (s *Server) handleListPaginated(w http.ResponseWriter, r *http.Request, _ []byte) {
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
	Volumes             []volumeJSON      `json:"volumes"`
	BuildInfo           *buildInfoDTO     `json:"buildInfo,omitempty"`
	CreatedAt           string            `json:"createdAt"`
	UpdatedAt           string            `json:"updatedAt"`
	LastActivityAt      string            `json:"lastActivityAt"` // apps/api/src/sandbox/dto/sandbox.dto.ts:252, 317-318 (v0.173.0)
	DaemonVersion       string            `json:"daemonVersion"`
	ToolboxProxyURL     string            `json:"toolboxProxyUrl"`
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
		Volumes:             []volumeJSON{},
		CreatedAt:           isoTime(sb.createdAt),
		UpdatedAt:           isoTime(sb.updatedAt),
		LastActivityAt:      isoTime(lastActivityLocked(sb)),
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
		vd := volumeJSON{VolumeID: v.VolumeID, MountPath: v.MountPath}
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
