package pool_test

import (
	"strings"
	"testing"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/zerotest"
	"github.com/agentworkspace/daytona/pool"
)

// Issue #19 item 10: an Option holds the Sandboxes' options, with their
// API key; it prints without it through fmt and slog.
func TestOptionPrintsWithoutSecrets(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cretValue"
	opt := pool.WithSandboxOptions(daytona.WithAPIKey(secret))
	if out := zerotest.Printed(opt); strings.Contains(out, secret) {
		t.Errorf("a pool.Option printed a secret:\n%s", out)
	}
}
