package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	got := examplesupport.RunEmbedded(t, run,
		"stdout: line 1\n", "stdout: line 3\n", "stderr: warning 2\n",
		"exit code 124, TimedOut true",
		"stdout: tick 1\n",
		"exit code 137, Killed true",
		"errors.Is(err, context.Canceled): true",
	)
	if strings.Contains(got, "tick 2") {
		t.Errorf("the cancelled loop went on after its first line:\n%s", got)
	}
}

func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	l := newLines(&out)
	w := l.prefixed("out")
	for _, chunk := range []string{"a", "b\nc", "\n\nd"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	l.flush()
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		_, after, _ := strings.Cut(line, "] ")
		got = append(got, after)
	}
	want := []string{"out: ab", "out: c", "out: ", "out: d"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	if l.count() != 4 {
		t.Errorf("count = %d, want 4", l.count())
	}
}
