package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

// asMain is the environment variable that makes the test binary run as
// the example: TestHelpExits0 starts it so, instead of building the
// example (which costs a link, seconds on a loaded machine).
const asMain = "DAYTONA_EXAMPLE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestHelpExits0 runs the example as a process with -help: the help,
// status 0, and no sandbox (no notice of a backend).
func TestHelpExits0(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: []string{"quickstart", "-help"}, Dir: t.TempDir()}
	cmd.Env = append(os.Environ(), asMain+"=1", "DAYTONA_API_KEY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("quickstart -help: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "Usage: quickstart ") || strings.Contains(stdout.String(), examplesupport.EmbeddedNotice) || stderr.Len() != 0 {
		t.Errorf("quickstart -help:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

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
