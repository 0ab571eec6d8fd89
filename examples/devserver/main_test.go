package main

import (
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the example's dev server is python3's http.server")
	}
	t.Cleanup(client.CloseIdleConnections)
	examplesupport.RunEmbedded(t, run,
		"is listening\n",
		"GET / with the token: 200 OK: \"Hello from a dev server in the sandbox!\"\n",
		"GET / without it: 307 Temporary Redirect (refused)\n",
		"GET / with no header: 200 OK: \"Hello from a dev server in the sandbox!\"\n",
		"GET / after ExpirePortURL: 307 Temporary Redirect (refused)\n",
	)
}
