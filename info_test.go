package daytona_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

func TestGetInfoBeforeStart(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv, daytona.WithID("info-1"), daytona.WithLanguage(daytona.Python),
		daytona.WithImage("node:20-slim"))
	before := time.Now()
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "info-1", info.ID)
	assert.Equal(t, "DaytonaSandbox", info.Name)
	assert.Equal(t, "daytona", info.Provider)
	assert.Equal(t, workspace.StatusPending, info.Status)
	assert.False(t, info.CreatedAt.Before(before))
	assert.Empty(t, info.Mounts)
	assert.Nil(t, info.Resources)
	assert.Equal(t, map[string]any{"language": "python", "ephemeral": false, "image": "node:20-slim"}, info.Metadata)
	assert.Zero(t, srv.TotalCount(), "GetInfo before start makes no request")
}

func TestGetInfoRunning(t *testing.T) {
	t.Parallel()
	// The organization has the snapshot, as Daytona's dashboard would add it:
	// the API refuses a snapshot it does not know.
	srv := newServer(t, daytonatest.WithSnapshot(daytonatest.Snapshot{Name: "snap-123"}))
	sb := startedSandbox(t, srv, daytona.WithSnapshot("snap-123"), daytona.WithTarget("eu"))
	srv.ResetRequests()
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, workspace.StatusRunning, info.Status)
	res := *info.Resources
	res.DiskUsedMB = 0 // measured: the size of the fake sandbox's directory
	assert.Equal(t, workspace.Resources{CPUCores: 2, MemoryMB: 4096, DiskMB: 10240}, res)
	assert.Equal(t, map[string]any{"language": "typescript", "ephemeral": false, "snapshot": "snap-123", "target": "eu"}, info.Metadata)
	assert.Equal(t, map[daytonatest.Op]int{daytonatest.OpGet: 1, daytonatest.OpMetrics: 1}, srv.Counts(),
		"one request for the live record, one for the usage figures")
}

func TestGetInfoLiveFigures(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithAutoStopInterval(20*time.Minute))
	require.NoError(t, srv.SetMetrics(sb.DaytonaID(), daytonatest.Metrics{CPUPercent: 37.5, MemoryBytes: 768 << 20, DiskBytes: 3 << 30}))
	_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil) // activity
	require.NoError(t, err)
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &workspace.Resources{CPUCores: 2, MemoryMB: 4096, DiskMB: 10240, CPUPercent: 37.5, MemoryUsedMB: 768, DiskUsedMB: 3072}, info.Resources)
	assert.WithinDuration(t, time.Now(), info.LastUsedAt, 5*time.Second)
	assert.Equal(t, info.LastUsedAt.Add(20*time.Minute), info.TimeoutAt)

	// Without the telemetry endpoint (an experimental feature), the figures are left out.
	require.NoError(t, srv.FailNext(daytonatest.OpMetrics, 1, http.StatusForbidden, "organization experiments are off"))
	info, err = sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &workspace.Resources{CPUCores: 2, MemoryMB: 4096, DiskMB: 10240}, info.Resources)
	assert.False(t, info.LastUsedAt.IsZero())

	// With auto-stop off, there is no deadline.
	require.NoError(t, sb.SetAutoStopInterval(t.Context(), 0))
	info, err = sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.True(t, info.TimeoutAt.IsZero())
}

func TestGetInfoResourcesComeFromTheLiveSandbox(t *testing.T) {
	t.Parallel()
	// 50 GiB of disk is over a new organization's 10 GiB per sandbox: the
	// organization here has higher limits, as Daytona grants on request.
	srv := newServer(t, daytonatest.WithSandboxLimits(daytonatest.SandboxLimits{CPU: 4, Memory: 8, Disk: 50}))
	sb := startedSandbox(t, srv, daytona.WithImage("debian:12.9"), daytona.WithEphemeral(true),
		daytona.WithResources(daytona.Resources{CPU: 4, Memory: 8, Disk: 50}))
	info, err := sb.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &workspace.Resources{CPUCores: 4, MemoryMB: 8192, DiskMB: 51200}, info.Resources)
	assert.Equal(t, true, info.Metadata["ephemeral"])
	assert.Equal(t, "us", info.Metadata["target"], "the server's default target")
}

func TestGetInfoError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	srv.FailNext(daytonatest.OpGet, 1, http.StatusInternalServerError, "boom")
	_, err := sb.GetInfo(t.Context())
	require.Error(t, err)
	assert.Equal(t, 500, daytona.StatusCode(err))
	// A 503 is tried again (4 times in all) before it is reported.
	srv.FailNext(daytonatest.OpGet, 4, http.StatusServiceUnavailable, "maintenance")
	srv.ResetRequests()
	_, err = sb.GetInfo(t.Context())
	require.Error(t, err)
	assert.Equal(t, 503, daytona.StatusCode(err))
	assert.Equal(t, 4, srv.Count(daytonatest.OpGet))
}

func TestInfoJSONMatchesMastra(t *testing.T) {
	t.Parallel()
	info := workspace.Info{
		ID: "a", Name: "DaytonaSandbox", Provider: "daytona", Status: workspace.StatusRunning,
		CreatedAt: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC),
		Mounts:    []workspace.MountInfo{},
		Resources: &workspace.Resources{CPUCores: 2, MemoryMB: 4096, DiskMB: 20480},
		Metadata:  map[string]any{"language": "typescript", "ephemeral": false, "target": "us"},
	}
	b, err := json.Marshal(info)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"a","name":"DaytonaSandbox","provider":"daytona","status":"running",
		"createdAt":"2024-01-15T10:00:00Z","mounts":[],
		"resources":{"cpuCores":2,"memoryMB":4096,"diskMB":20480},
		"metadata":{"language":"typescript","ephemeral":false,"target":"us"}}`, string(b))
}

func TestGetInstructions(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	t.Run("defaults", func(t *testing.T) {
		sb := newSandbox(t, srv)
		assert.Equal(t, "Cloud sandbox with isolated execution (typescript runtime). "+
			"Default working directory: /home/daytona. Command timeout: 300s. Running as user: daytona.",
			sb.GetInstructions())
	})
	t.Run("all options", func(t *testing.T) {
		sb := newSandbox(t, srv,
			daytona.WithLanguage(daytona.Python),
			daytona.WithTimeout(60*time.Second),
			daytona.WithUser("app"),
			daytona.WithVolumes(daytona.VolumeMount{VolumeID: "vol-123", MountPath: "/data"}),
			daytona.WithNetworkBlockAll(true))
		assert.Equal(t, "Cloud sandbox with isolated execution (python runtime). "+
			"Default working directory: /home/daytona. Command timeout: 60s. Running as user: app. "+
			"1 volume(s) attached. Network access is blocked.", sb.GetInstructions())
	})
	t.Run("timeout rounds up to whole seconds", func(t *testing.T) {
		sb := newSandbox(t, srv, daytona.WithTimeout(1500*time.Millisecond))
		assert.Contains(t, sb.GetInstructions(), "Command timeout: 2s.")
	})
	t.Run("no timeout", func(t *testing.T) {
		sb := newSandbox(t, srv, daytona.WithTimeout(workspace.NoTimeout))
		assert.Contains(t, sb.GetInstructions(), "Commands have no timeout.")
	})
	t.Run("two volumes, network allowed", func(t *testing.T) {
		sb := newSandbox(t, srv, daytona.WithNetworkBlockAll(false), daytona.WithVolumes(
			daytona.VolumeMount{VolumeID: "a", MountPath: "/a"}, daytona.VolumeMount{VolumeID: "b", MountPath: "/b"}))
		assert.Contains(t, sb.GetInstructions(), " 2 volume(s) attached.")
		assert.NotContains(t, sb.GetInstructions(), "Network")
	})
	t.Run("working directory detected at start", func(t *testing.T) {
		sb := startedSandbox(t, srv)
		rec, ok := srv.Sandbox(sb.DaytonaID())
		require.True(t, ok)
		assert.Contains(t, sb.GetInstructions(), "Default working directory: "+rec.Dir+".")
	})
	assert.Zero(t, srv.Count(daytonatest.OpCreate)-1, "only the started subtest creates a sandbox")
}
