package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.UseEmbedded(t)
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	lines := strings.Split(got, "\n")
	if lines[0] != examplesupport.EmbeddedNotice {
		t.Errorf("first line = %q, want the embedded-mode notice", lines[0])
	}
	for _, want := range []string{
		"$ echo \"Hello, world!\"\nHello, world!\n(exit code 0,",
		"$ pwd\n/",
		`"provider": "daytona"`,
		`"status": "running"`,
		"Cloud sandbox with isolated execution (typescript runtime).",
		"Command timeout: 300s.",
		"(status destroyed)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
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
