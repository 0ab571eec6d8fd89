package main

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	examplesupport.RunEmbedded(t, run,
		"< server ready\n",
		"> ping\n   < pong\n",
		"< echo: hello, server\n",
		"ExecuteCommand meanwhile: commands still run beside it\n",
		", running true\n",
		"Wait: exit code 137, Killed true",
		", running false, exit code 137\n",
	)
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
