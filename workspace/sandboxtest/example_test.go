//go:build unix

package sandboxtest_test

import (
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/sandboxtest"
)

// A provider adopts the suite with one test in its own package. Here the
// provider is localSandbox, the suite's reference implementation (see
// local_test.go): a workspace.Sandbox that runs sh on this machine.
func ExampleRun() {
	// In the provider's tests, such as local_test.go:
	testConformance := func(t *testing.T) {
		sandboxtest.Run(t, sandboxtest.Config{
			// A new, unstarted sandbox for each subtest; Run destroys it.
			New: func(t *testing.T) workspace.Sandbox {
				return newLocalSandbox()
			},
			// Each subtest's budget, including starting the sandbox.
			Timeout: time.Minute,
			// Local sandboxes are cheap: run the subtests in parallel.
			Parallel: true,
			// Known limitations, by subtest name, with the reason.
			Skip: map[string]string{
				"Processes/Timeout": "our process timeouts are enforced by the agent, not the sandbox",
			},
		})
	}
	_ = testConformance // func TestConformance(t *testing.T) { testConformance(t) }
}
