package daytona

import (
	"context"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"

	"github.com/agentworkspace/daytona/workspace"
)

// Live figures of a running sandbox, for GetInfo: the record (one request,
// made anyway) has the last activity and the auto-stop interval; the usage
// comes from the telemetry endpoint (one more request, sent at the same
// time), whose gauges the daemon exports
// (libs/common-go/pkg/telemetry/metrics.go:236-420 at v0.173.0) and the API
// averages per minute (apps/api/src/sandbox-telemetry/services/sandbox-telemetry.service.ts:248-298).

// Gauges read for GetInfo.
const (
	metricCPU    = "daytona.sandbox.cpu.utilization"  // percent of the CPU limit
	metricMemory = "daytona.sandbox.memory.usage"     // bytes
	metricDisk   = "daytona.sandbox.filesystem.usage" // bytes
)

// metricsWindow is how far back GetInfo looks for the latest data points:
// the API keeps one per minute.
const metricsWindow = 5 * time.Minute

// liveRecord fetches the sandbox's record and, at the same time, its
// latest usage figures. Failing to get the figures (the telemetry
// endpoint is an experimental feature of Daytona's, which an organization
// may not have) is not an error: they are left out.
func (s *Sandbox) liveRecord(ctx context.Context, c *client, id string) (*apiclient.Sandbox, *apiclient.MetricsResponse, error) {
	type answer struct {
		m   *apiclient.MetricsResponse
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		now := time.Now().UTC()
		m, resp, err := c.api.SandboxAPI.GetSandboxMetrics(c.auth(ctx), id).
			From(now.Add(-metricsWindow)).To(now).MetricNames([]string{metricCPU, metricMemory, metricDisk}).Execute()
		if err != nil {
			err = convertAPIError(err, resp)
		}
		ch <- answer{m, err}
	}()
	rec, err := c.record(ctx, id)
	a := <-ch
	if a.err != nil {
		s.log.Debug("no usage figures", "daytonaID", id, "err", a.err)
	}
	return rec, a.m, err
}

// addLiveFigures fills info's activity, idle deadline and usage from the
// record and the metrics (nil: none).
func addLiveFigures(info *workspace.Info, rec *apiclient.Sandbox, m *apiclient.MetricsResponse) {
	if last, err := time.Parse(time.RFC3339Nano, rec.GetLastActivityAt()); err == nil {
		info.LastUsedAt = last
		if minutes := rec.GetAutoStopInterval(); minutes > 0 {
			info.TimeoutAt = last.Add(time.Duration(minutes) * time.Minute)
		}
	}
	if m == nil || info.Resources == nil {
		return
	}
	for _, series := range m.Series {
		points := series.DataPoints
		if len(points) == 0 {
			continue
		}
		v := float64(points[len(points)-1].Value)
		switch series.MetricName {
		case metricCPU:
			info.Resources.CPUPercent = v
		case metricMemory:
			info.Resources.MemoryUsedMB = int64(v / (1 << 20))
		case metricDisk:
			info.Resources.DiskUsedMB = int64(v / (1 << 20))
		}
	}
}
