package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		"created: from snapshot my-snapshot-id;",
		"created: from an image (FROM node:20-slim); 2 CPU, 4 GiB memory, 6 GiB disk",
		"WithResources has no effect without WithImage",
		"1 volume(s) attached.",
		"echo \"$GREETING\": hello from WithEnv\n",
		"labels purpose=example, team=agents, mastra-sandbox-id=",
		"network blocked; allowed 10.0.0.0/8,192.168.0.0/16",
		"deleted on stop (autoDeleteInterval 0)",
		"Cloud sandbox with isolated execution (python runtime). Default working directory: /home/daytona. Command timeout: 60s. Running as user: app. 1 volume(s) attached. Network access is blocked.",
		"daytona: invalid input: WithTimeout(-5s): must be positive, or workspace.NoTimeout",
		"(each matches errors.Is(err, daytona.ErrInvalidInput))",
	)
}

// TestCheck makes sure that the example would notice a sandbox created in
// the wrong mode.
func TestCheck(t *testing.T) {
	image := setup{wantImage: true}
	if err := image.check(daytonatest.Sandbox{Snapshot: daytonatest.DefaultSnapshot}); err == nil {
		t.Error("a snapshot-based sandbox passed the check of an image-based one")
	}
	snap := setup{wantSnapshot: "s", wantResources: &daytona.Resources{CPU: 2, Memory: 4, Disk: 10}}
	if err := snap.check(daytonatest.Sandbox{Snapshot: "s", CPU: 2, Memory: 4, Disk: 10}); err != nil {
		t.Errorf("check: %v", err)
	}
	if err := snap.check(daytonatest.Sandbox{Snapshot: "s", CPU: 4, Memory: 4, Disk: 10}); err == nil {
		t.Error("wrong resources passed the check")
	}
}
