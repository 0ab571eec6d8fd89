package workspace

import (
	"log/slog"
	"time"
)

// Info describes a sandbox. Its JSON encoding uses the field names of
// Mastra's SandboxInfo, so Go and TypeScript services report sandboxes
// alike.
type Info struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Provider  string    `json:"provider"`
	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	// LastUsedAt is when the sandbox was last active, as the provider
	// counts activity for its idle timer; zero if unknown.
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// TimeoutAt is when the provider will stop the sandbox if it stays
	// idle; zero if unknown or if it never does.
	TimeoutAt time.Time   `json:"timeoutAt,omitzero"`
	Mounts    []MountInfo `json:"mounts"`
	// Resources are those of the running sandbox; nil before it started.
	Resources *Resources `json:"resources,omitempty"`
	// Metadata holds provider-specific facts, such as the language runtime.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// MountInfo is a filesystem mounted into the sandbox.
type MountInfo struct {
	Path       string `json:"path"`
	Filesystem string `json:"filesystem"`
}

// Resources are a sandbox's allocated resources and, while it runs, how
// much of them it uses. Zero means unknown.
type Resources struct {
	CPUCores float64 `json:"cpuCores,omitempty"`
	MemoryMB int64   `json:"memoryMB,omitempty"`
	DiskMB   int64   `json:"diskMB,omitempty"`
	// CPUPercent is the CPU used, in percent of the allocated cores.
	CPUPercent float64 `json:"cpuPercent,omitempty"`
	// MemoryUsedMB and DiskUsedMB are the memory and disk used.
	MemoryUsedMB int64 `json:"memoryUsedMB,omitempty"`
	DiskUsedMB   int64 `json:"diskUsedMB,omitempty"`
}

// LogValue makes slog print what identifies the sandbox: its id, name,
// provider, status and mounts. Metadata, which a provider fills as it
// likes, is left out.
func (i Info) LogValue() slog.Value {
	mounts := make([]string, len(i.Mounts))
	for k, m := range i.Mounts {
		mounts[k] = m.Path + " (" + m.Filesystem + ")"
	}
	return slog.GroupValue(slog.String("id", i.ID), slog.String("name", i.Name), slog.String("provider", i.Provider),
		slog.String("status", string(i.Status)), slog.Any("mounts", mounts))
}
