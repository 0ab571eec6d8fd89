package daytona

import (
	"context"
	"time"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/workspace"
)

// GetInfo reports the sandbox's id, status, creation time, resources and
// metadata, with the fields of Mastra's SandboxInfo. Resources, the
// target, the last activity (LastUsedAt) and when Daytona's auto-stop will
// stop the sandbox if it stays idle (TimeoutAt) come from the running
// remote sandbox's record (one request); the usage figures (CPUPercent,
// MemoryUsedMB, DiskUsedMB) from its telemetry (one more request, sent at
// the same time, and left out if it fails). Before the sandbox has
// started GetInfo makes no request and reports no resources. Mounts lists
// the mounts the Sandbox keeps (Mount, WithMount). Metadata holds language
// and ephemeral, snapshot and image when set, and target while running;
// where the record carries them (today's service), also autoPauseInterval
// (minutes; TimeoutAt is then when auto-pause fires) and autoDestroyAt
// (a time.Time: the end a TTL sets, which no activity, keep-alive
// included, moves).
func (s *Sandbox) GetInfo(ctx context.Context) (*workspace.Info, error) {
	if err := s.check(ctx, "GetInfo"); err != nil {
		return nil, err
	}
	id := s.ID()
	s.mu.Lock()
	status, r, createdAt, c := s.status, s.remote, s.createdAt, s.conn
	s.mu.Unlock()
	running := r != nil && status == workspace.StatusRunning
	if br, ok := s.bound(); ok {
		r, running = br, true // a hook's view: the sandbox its hook works on
	}

	if createdAt.IsZero() {
		createdAt = time.Now()
	}
	info := &workspace.Info{
		ID:        id,
		Name:      SandboxName,
		Provider:  ProviderName,
		Status:    status,
		CreatedAt: createdAt,
		Mounts:    s.mountInfos(),
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
	if !running || c == nil {
		return info, nil
	}
	live, err := c.Live(ctx, r.TB.ID())
	if err != nil {
		return nil, fault.WrapCtx(ctx, "get sandbox info", err)
	}
	info.Resources = &workspace.Resources{CPUCores: live.CPUCores, MemoryMB: live.MemoryMB, DiskMB: live.DiskMB}
	if live.HasUsage {
		info.Resources.CPUPercent = live.CPUPercent
		info.Resources.MemoryUsedMB = live.MemoryUsedMB
		info.Resources.DiskUsedMB = live.DiskUsedMB
	}
	info.Metadata["target"] = live.Target
	if live.AutoPauseMinutes > 0 {
		info.Metadata["autoPauseInterval"] = live.AutoPauseMinutes
	}
	if !live.DestroyAt.IsZero() {
		info.Metadata["autoDestroyAt"] = live.DestroyAt
	}
	info.LastUsedAt, info.TimeoutAt = live.LastUsedAt, live.TimeoutAt
	return info, nil
}
