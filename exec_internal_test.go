package daytona

import (
	"testing"

	"github.com/agentworkspace/daytona/internal/command"
)

// TestExitCodesMatchTheEngine: the exported exit codes are the ones the
// engine reports.
func TestExitCodesMatchTheEngine(t *testing.T) {
	if ExitCodeTimeout != command.ExitTimeout || ExitCodeKilled != command.ExitKilled || ExitCodeUnknown != command.ExitUnknown {
		t.Errorf("exit codes %d %d %d; the engine's %d %d %d", ExitCodeTimeout, ExitCodeKilled, ExitCodeUnknown,
			command.ExitTimeout, command.ExitKilled, command.ExitUnknown)
	}
}
