//go:build unix

package daytonatest

import (
	"fmt"
	"maps"
	"net/http"
	"time"
)

// The control-plane API ({URL}/api): sandboxes and their lifecycle.

// onSandbox serves a request about one sandbox: under s.mu, it looks the
// sandbox up by the id or name in the path (404 if there is none) and
// answers with what act returns, or with act's error.
func (s *Server) onSandbox(act func(*sandbox) (any, *apiError)) handlerFunc {
	return s.onSandboxStatus(http.StatusOK, act)
}

// onSandboxStatus is onSandbox with another status than 200 for success.
func (s *Server) onSandboxStatus(status int, act func(*sandbox) (any, *apiError)) handlerFunc {
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
		writeJSON(w, status, out)
	}
}

func (s *Server) getSandbox(sb *sandbox) (any, *apiError) { return s.dtoLocked(sb), nil }

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
	Class               *string           `json:"class,omitempty"`        // 0.173 (sandbox.dto.ts:314 @v0.173.0)
	SandboxClass        *string           `json:"sandboxClass,omitempty"` // 0.190 on (sandbox.dto.ts:349 @v0.190.0)
	KVM                 *bool             `json:"kvm,omitempty"`          // current: required (api-client 0.220.0 models/sandbox.d.ts)
	AutoStopInterval    int               `json:"autoStopInterval"`
	AutoPauseInterval   *int              `json:"autoPauseInterval,omitempty"` // current
	AutoDestroyAt       *string           `json:"autoDestroyAt,omitempty"`     // current, with a TTL (controlplane_ttl.go)
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

// versionFieldsLocked sets the fields that differ by version: the class
// is "class" in v0.173.0 and "sandboxClass" since v0.190.0; kvm and
// autoPauseInterval are today's.
func (s *Server) versionFieldsLocked(sb *sandbox, d *sandboxDTO) {
	class := sb.class
	if !s.since(level0190) {
		d.Class = &class
	} else {
		d.SandboxClass = &class
	}
	if s.since(levelCurrent) {
		kvm, pause := false, sb.autoPause
		d.KVM, d.AutoPauseInterval = &kvm, &pause
		if !sb.autoDestroyAt.IsZero() {
			at := isoTime(sb.autoDestroyAt)
			d.AutoDestroyAt = &at
		}
	}
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
		Recoverable:         sb.recoverable,
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
	s.versionFieldsLocked(sb, &d)
	if sb.built {
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
