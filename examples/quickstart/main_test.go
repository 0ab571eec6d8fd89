package main

import (
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	got := examplesupport.RunEmbedded(t, run,
		"$ echo \"Hello, world!\"\nHello, world!\n(exit code 0,",
		"$ pwd\n/",
		`"provider": "daytona"`,
		`"status": "running"`,
		"Sandbox without isolation (typescript runtime): commands run directly on the host machine",
		"Command timeout: 300s.",
		"(status destroyed)",
	)
	// The GetInfo block is valid JSON.
	start := strings.Index(got, "GetInfo:\n{")
	end := strings.Index(got, "\n}\n")
	if start < 0 || end < start {
		t.Fatalf("no GetInfo JSON in:\n%s", got)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(got[start+len("GetInfo:\n"):end+2]), &info); err != nil {
		t.Errorf("GetInfo block is not JSON: %v", err)
	}
}
