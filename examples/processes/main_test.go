package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	if _, ok := any((*daytona.Sandbox)(nil)).(workspace.ProcessSpawner); !ok {
		t.Skip("daytona.Sandbox does not implement workspace.ProcessSpawner yet")
	}
	examplesupport.UseEmbedded(t)
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	if first, _, _ := strings.Cut(got, "\n"); first != examplesupport.EmbeddedNotice {
		t.Errorf("first line = %q, want the embedded-mode notice", first)
	}
	for _, want := range []string{
		"< server ready\n",
		"> ping\n   < pong\n",
		"< echo: hello, server\n",
		"ExecuteCommand meanwhile: commands still run beside it\n",
		", running true\n",
		"Wait: exit code 137, Killed true",
		", running false, exit code 137\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
}

func TestWatcher(t *testing.T) {
	var out bytes.Buffer
	o := newWatcher(&out)
	for _, chunk := range []string{"a\nb", "c\n", "a\n"} {
		if _, err := o.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"a", "bc", "a"} {
		if err := o.await(t.Context(), want); err != nil {
			t.Fatalf("await(%q): %v", want, err)
		}
	}
	if got := out.String(); got != "   < a\n   < bc\n   < a\n" {
		t.Errorf("printed %q", got)
	}
}
