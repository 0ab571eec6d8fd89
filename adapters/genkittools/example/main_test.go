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
		"\nModel: ",
		"execute_command said: Linux\n6 x 7 = 42\nExit code: 0", // Genkit orders the results as they came
		"read_file said: read_file: open no-such-file: file does not exist",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
