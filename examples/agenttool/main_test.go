package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		"Tool execute_command: Run a shell command in the sandbox",
		`"required":["command"]`,
		"Hello from the agent\nExit code: 0",
		"1\n2\n[… 490 lines omitted …]\n493\n",
		"hi\nstderr:\ncat: missing.txt: No such file or directory\nExit code: 1",
		"[tool error] (no output)\nThe command timed out after",
		`[tool error] invalid input for execute_command: field "command" is required`,
		"[tool error] execute_command was refused: deleting the file system is not allowed",
		"Started in the background with pid ",
		"tick 1\n",
		"The process is still running.",
		"exited with code 137",
	)
}
