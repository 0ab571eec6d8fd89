package daytona_test

import (
	"testing"
	"time"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/sandboxtest"
)

// knownBugs are conformance subtests that fail for daytona.Sandbox because
// of known bugs, each with the reason. TestConformance and
// TestLiveConformance skip them; delete an entry once its bug is fixed.
var knownBugs = map[string]string{}

// TestConformance runs the provider-neutral conformance suite
// (workspace/sandboxtest) against daytona.Sandbox on an in-process
// daytonatest server. TestLiveConformance (live_test.go) runs the same
// suite against real Daytona.
//
// The server has stub FUSE tools (daytonatest.WithMountStubs), so the
// Mounts subtests mount an S3 spec whose endpoint is a local server (the
// mount scripts probe it); ports come from 3000-9999, where WaitForPort
// uses the daemon's in-use check.
func TestConformance(t *testing.T) {
	t.Parallel() // it mostly waits; its mount paths are its own
	srv := newServer(t, daytonatest.WithMountStubs())
	endpoint := storage(t)
	t.Cleanup(func() { removeMarkers("/tmp/sandboxtest-") })
	sandboxtest.Run(t, sandboxtest.Config{
		New: func(t *testing.T) workspace.Sandbox {
			return newSandbox(t, srv)
		},
		Port:      func(t *testing.T) int { return freePort(t, 3000, 10000) },
		MountSpec: func(t *testing.T) (workspace.MountSpec, bool) { return s3Spec(endpoint), true },
		Timeout:   30 * time.Second,
		Parallel:  true,
		Skip:      knownBugs,
	})
}
