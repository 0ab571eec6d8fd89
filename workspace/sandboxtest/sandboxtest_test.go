//go:build unix

package sandboxtest_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/sandboxtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLocal runs the suite against localSandbox, its reference
// implementation.
func TestLocal(t *testing.T) {
	sandboxtest.Run(t, sandboxtest.Config{
		New: func(t *testing.T) workspace.Sandbox {
			return newLocalSandbox()
		},
		Timeout:  30 * time.Second,
		Parallel: true,
	})
}
