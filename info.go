package daytona

import (
	"context"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// GetInfo reports the sandbox's id, status, creation time, resources and
// metadata, with the fields of Mastra's SandboxInfo. Resources and the
// target come from the running remote sandbox (one request); before the
// sandbox has started GetInfo makes no request and reports no resources.
// Metadata holds language and ephemeral, snapshot and image when set, and
// target while running.
func (s *Sandbox) GetInfo(ctx context.Context) (*workspace.Info, error) {
	if err := s.check(ctx, "GetInfo"); err != nil {
		return nil, err
	}
	id := s.ID()
	s.mu.Lock()
	status, r, createdAt, c := s.status, s.remote, s.createdAt, s.conn
	s.mu.Unlock()

	if createdAt.IsZero() {
		createdAt = time.Now()
	}
	info := &workspace.Info{
		ID:        id,
		Name:      SandboxName,
		Provider:  ProviderName,
		Status:    status,
		CreatedAt: createdAt,
		Mounts:    []workspace.MountInfo{},
		Metadata: map[string]any{
			"language":  string(s.cfg.language),
			"ephemeral": s.cfg.ephemeral,
		},
	}
	if s.cfg.snapshot != "" {
		info.Metadata["snapshot"] = s.cfg.snapshot
	}
	if s.cfg.image != "" {
		info.Metadata["image"] = s.cfg.image
	}
	if r == nil || c == nil || status != workspace.StatusRunning {
		return info, nil
	}
	rec, err := c.record(ctx, r.sb.ID)
	if err != nil {
		return nil, wrapCtx(ctx, "get sandbox info", err)
	}
	info.Resources = &workspace.Resources{
		CPUCores: float64(rec.Cpu),
		MemoryMB: int64(rec.Memory * 1024),
		DiskMB:   int64(rec.Disk * 1024),
	}
	info.Metadata["target"] = rec.Target
	return info, nil
}
