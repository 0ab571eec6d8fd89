//go:build unix

package daytonatest

import (
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"time"
)

// Metrics are a sandbox's usage figures, as GET
// /sandbox/{id}/telemetry/metrics reports them.
type Metrics struct {
	CPUPercent  float64 // CPU used, in percent of the sandbox's cores
	MemoryBytes int64   // memory used
	DiskBytes   int64   // disk used
}

// SetMetrics makes the telemetry endpoint report m for the sandbox with
// this id or name, instead of what the server measures (the size of the
// sandbox's directory as disk usage; no CPU or memory figures). An unknown
// sandbox is an error that matches [ErrSandboxNotFound].
func (s *Server) SetMetrics(idOrName string, m Metrics) error {
	sb, err := s.lockSandbox(idOrName)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	sb.svc.metrics = &m
	return nil
}

// metricPrefix names the gauges the daemon exports
// (apps/daemon/pkg/toolbox/telemetry.go:134 at v0.173.0).
const metricPrefix = "daytona.sandbox."

// handleMetrics answers GET /sandbox/{id}/telemetry/metrics?from&to
// [&metricNames...] as the API does
// (apps/api/src/sandbox-telemetry/controllers/sandbox-telemetry.controller.ts:126-150,
// services/sandbox-telemetry.service.ts:248-298 at v0.173.0): the gauges the
// daemon exports (libs/common-go/pkg/telemetry/metrics.go:236-420), averaged
// per minute, within [from, to]. Here a running sandbox has one point per
// gauge, at the start of the current minute; a stopped one has none.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	from, errFrom := time.Parse(time.RFC3339Nano, q.Get("from"))
	to, errTo := time.Parse(time.RFC3339Nano, q.Get("to"))
	switch {
	case errFrom != nil:
		writeAPIError(w, r, http.StatusBadRequest, "from must be a valid ISO 8601 date string")
		return
	case errTo != nil:
		writeAPIError(w, r, http.StatusBadRequest, "to must be a valid ISO 8601 date string")
		return
	}
	ref := r.PathValue("idOrName")
	values, ok := s.measure(ref)
	if !ok {
		writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
		return
	}
	at := time.Now().UTC().Truncate(time.Minute)
	if at.Before(from) || at.After(to) {
		values = nil
	}
	series := []metricSeries{}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if names := q["metricNames"]; len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		series = append(series, metricSeries{name, []metricPoint{{at.Format(time.RFC3339), values[name]}}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"series": series})
}

// metricSeries and metricPoint are the API's MetricSeriesDto and
// MetricDataPointDto (apps/api/src/sandbox-telemetry/dto/metrics-response.dto.ts).
type metricSeries struct {
	MetricName string        `json:"metricName"`
	DataPoints []metricPoint `json:"dataPoints"`
}

type metricPoint struct {
	Timestamp string  `json:"timestamp"`
	Value     float64 `json:"value"`
}

// measure returns the gauges of the sandbox with this id or name (none
// unless it runs), and whether it exists.
func (s *Server) measure(ref string) (map[string]float64, bool) {
	s.mu.Lock()
	sb := s.lookupLocked(ref)
	if sb == nil {
		s.mu.Unlock()
		return nil, false
	}
	running, dir, set := sb.state == StateStarted, sb.dir, sb.svc.metrics
	cpu, memGiB, diskGiB := sb.cpu, sb.memory, sb.disk
	s.mu.Unlock()
	if !running {
		return map[string]float64{}, true
	}
	m := Metrics{DiskBytes: dirSize(dir)}
	if set != nil {
		m = *set
	}
	memLimit, diskTotal := float64(memGiB)*(1<<30), float64(diskGiB)*(1<<30)
	return map[string]float64{
		metricPrefix + "cpu.limit":              float64(cpu),
		metricPrefix + "cpu.utilization":        m.CPUPercent,
		metricPrefix + "memory.limit":           memLimit,
		metricPrefix + "memory.usage":           float64(m.MemoryBytes),
		metricPrefix + "memory.utilization":     100 * float64(m.MemoryBytes) / memLimit,
		metricPrefix + "filesystem.usage":       float64(m.DiskBytes),
		metricPrefix + "filesystem.total":       diskTotal,
		metricPrefix + "filesystem.available":   max(diskTotal-float64(m.DiskBytes), 0),
		metricPrefix + "filesystem.utilization": 100 * float64(m.DiskBytes) / diskTotal,
	}, true
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
