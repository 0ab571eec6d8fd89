//go:build unix

package main

import (
	"flag"
	"io"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/clihelp"
)

// about is what -help says the command does.
const about = `Runs an in-process Daytona (package daytonatest) as a standalone server on
loopback, for clients in any language and for local development. As soon
as it listens it prints two lines on stdout, ready for export or a .env
file: DAYTONA_API_URL=... and DAYTONA_API_KEY=.... It serves until
interrupted. Commands run on this machine as the current user, without
isolation.`

// writeHelp writes the help, with the flags of fs.
func writeHelp(w io.Writer, fs *flag.FlagSet) {
	clihelp.Write(w, "daytonatest [flags]", about, fs, clihelp.Section{
		Title: "Environment (it reads no DAYTONA_* setting)",
		Vars: []clihelp.Var{
			{Name: "TMPDIR", Text: "without -root: where the sandboxes' files go (default /tmp)"},
			{Name: daytonatest.ServiceVersionEnv, Text: "without -service-version: the Daytona service to reproduce (0.173, 0.190 or current)"},
			{Name: daytonatest.SnapshotsEnv, Text: "the organization's snapshots beyond the default one, comma-separated"},
			{Name: daytonatest.SandboxLimitsEnv, Text: "the organization's per-sandbox maximums, CPU,MEMORY,DISK (default 4,8,10)"},
			clihelp.ShellEnv,
		},
	})
}
