package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		"alice$ echo 'a note of alice' > note.txt; cat note.txt\na note of alice\n(exit code 0,",
		"bob$ cat note.txt 2>/dev/null || echo 'bob has no note'\nbob has no note\n",
		"alice$ cat note.txt\na note of alice\n",
		"bob was here",
		"alice$ cat note.txt; exit 3\na note of alice\n(exit code 3,",
		"Pool: 2 users with a running sandbox, 2 created",
	)
}
