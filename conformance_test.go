package daytona_test

import (
	"testing"
	"time"

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
func TestConformance(t *testing.T) {
	srv := newServer(t)
	sandboxtest.Run(t, sandboxtest.Config{
		New: func(t *testing.T) workspace.Sandbox {
			return newSandbox(t, srv)
		},
		Timeout:  30 * time.Second,
		Parallel: true,
		Skip:     knownBugs,
	})
}
