package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	t.Setenv("DAYTONA_API_KEY", "")
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"No DAYTONA_API_KEY",
		"[stdout] Linux\n",
		"Agent: execute_command said: Linux\n6 x 7 = 42\nExit code: 0\n",
		`read_file said: invalid input for read_file: unknown field "file"; the fields are "path", "offset", "limit"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
