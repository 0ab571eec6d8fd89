//go:build unix

package daytonatest_test

import (
	"net/http"
	"testing"

	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// versions are the service versions a test runs against.
var versions = []daytonatest.ServiceVersion{daytonatest.Service0173, daytonatest.Service0190, daytonatest.ServiceCurrent}

// newServerAt is newServer for one service version.
func newServerAt(t *testing.T, v daytonatest.ServiceVersion, opts ...daytonatest.Option) *daytonatest.Server {
	t.Helper()
	return newServer(t, append([]daytonatest.Option{daytonatest.WithServiceVersion(v)}, opts...)...)
}

// byVersion is an expectation that may differ by version.
type byVersion[T any] map[daytonatest.ServiceVersion]T

// same is an expectation that holds in every version.
func same[T any](v T) byVersion[T] {
	return byVersion[T]{daytonatest.Service0173: v, daytonatest.Service0190: v, daytonatest.ServiceCurrent: v}
}

// until is an expectation that is old up to version v (included), then new.
func until[T any](v daytonatest.ServiceVersion, old, later T) byVersion[T] {
	out := byVersion[T]{}
	after := false
	for _, w := range versions {
		if after {
			out[w] = later
		} else {
			out[w] = old
		}
		after = after || w == v
	}
	return out
}

func TestServiceVersionSetting(t *testing.T) {
	// The default is today's service; the environment can choose another;
	// the option wins over the environment.
	t.Setenv(daytonatest.ServiceVersionEnv, "")
	require.Equal(t, daytonatest.ServiceCurrent, daytonatest.NewServer(t).ServiceVersion())
	t.Setenv(daytonatest.ServiceVersionEnv, "0.173")
	require.Equal(t, daytonatest.Service0173, daytonatest.NewServer(t).ServiceVersion())
	require.Equal(t, daytonatest.Service0190, newServerAt(t, daytonatest.Service0190).ServiceVersion())

	t.Setenv(daytonatest.ServiceVersionEnv, "0.18")
	_, err := daytonatest.Run()
	require.ErrorContains(t, err, `DAYTONATEST_SERVICE_VERSION: unknown service version "0.18"`)
	t.Setenv(daytonatest.ServiceVersionEnv, "")

	_, err = daytonatest.Run(daytonatest.WithServiceVersion("latest"))
	require.ErrorContains(t, err, `WithServiceVersion: unknown service version "latest" (want "0.173", "0.190" or "current")`)

	// The deprecated WithAPIVersion maps release numbers to versions.
	for release, want := range map[string]daytonatest.ServiceVersion{
		"0.173.0": daytonatest.Service0173, "0.189.9": daytonatest.Service0173, "0.190.0": daytonatest.Service0190,
		"v0.191": daytonatest.Service0190, "0.201.0": daytonatest.ServiceCurrent, "0.220.0": daytonatest.ServiceCurrent,
	} {
		require.Equal(t, want, newServer(t, daytonatest.WithAPIVersion(release)).ServiceVersion(), release)
	}
	_, err = daytonatest.Run(daytonatest.WithAPIVersion("latest"))
	require.ErrorContains(t, err, `WithAPIVersion("latest")`)
}

// TestStopRefusalFollowsTheServiceVersion: stopping a stopped sandbox is a
// 400 "Sandbox is not started" in v0.173.0 (apps/api/src/sandbox/
// services/sandbox.service.ts:1818) and "Sandbox is not in a stoppable
// state" from v0.190.0 (sandbox.service.ts:2161).
func TestStopRefusalFollowsTheServiceVersion(t *testing.T) {
	t.Parallel()
	want := until(daytonatest.Service0173, "Sandbox is not started", "Sandbox is not in a stoppable state")
	for _, v := range versions {
		srv := newServerAt(t, v)
		c := newClient(t, srv)
		sb := createSandbox(t, c, types.SnapshotParams{})
		require.NoError(t, sb.Stop(t.Context()))
		r := authed(t, srv, "POST", "/api/sandbox/"+sb.ID+"/stop", nil)
		requireAPIError(t, r, http.StatusBadRequest, want[v], "/api/sandbox/"+sb.ID+"/stop")
		requireDaytonaError(t, sb.Stop(t.Context()), http.StatusBadRequest, want[v])
	}
}
