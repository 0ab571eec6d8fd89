package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		"Server instructions: Sandbox without isolation (typescript runtime): commands run directly on the host machine",
		"Tool: execute_command (read-only: false)",
		"Tool: get_process_output (read-only: true)",
		`  progress: "step 1\n"`,
		"step 1\nstep 2\nstep 3\nExit code: 0",
		"serving\nThe process is still running.",
		"exited with code 137",
		`[isError] invalid input for execute_command: field "timeout" must be a number, not string`,
	)
}
