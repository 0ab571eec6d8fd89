package main

import (
	"bytes"
	"flag"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/agentworkspace/daytona/internal/clihelp/clihelptest"
)

// TestHelp: -help, -h and --help exit 0 and print, on stdout, every flag
// and every environment variable the command reads: every DAYTONA_* name
// in its code or its dependencies' (the Daytona SDK's included), and what
// -local takes from the environment.
func TestHelp(t *testing.T) {
	t.Parallel()
	var want []string
	newFlagSet(&parsed{}, io.Discard).VisitAll(func(f *flag.Flag) { want = append(want, "\n  -"+f.Name) })
	want = append(want, clihelptest.DaytonaNames(t, ".")...)
	want = append(want, "TMPDIR", "PATH, LANG, USER, LOGNAME, TZ", "OTEL_", ".env.local")
	if len(want) < 20 {
		t.Fatalf("only %d flags and variables found: %q", len(want), want)
	}
	for _, arg := range []string{"-help", "-h", "--help"} {
		cmd := command(t, arg)
		cmd.Dir = t.TempDir()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("daytona-mcp %s: %v; stderr:\n%s", arg, err, stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("daytona-mcp %s wrote on stderr:\n%s", arg, stderr.String())
		}
		for _, w := range want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("daytona-mcp %s does not mention %q:\n%s", arg, strings.TrimSpace(w), stdout.String())
			}
		}
	}
}

// TestBadFlag: a flag that does not exist fails (status 1), with the
// error and the help on stderr and nothing on stdout, the MCP channel.
func TestBadFlag(t *testing.T) {
	t.Parallel()
	cmd := command(t, "-no-such-flag")
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("daytona-mcp -no-such-flag: %v; want exit status 1", err)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "flag provided but not defined: -no-such-flag") ||
		!strings.Contains(stderr.String(), "Usage: daytona-mcp") {
		t.Errorf("stdout %q\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
