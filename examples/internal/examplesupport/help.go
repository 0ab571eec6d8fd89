package examplesupport

import (
	"flag"
	"fmt"
	"io"

	"github.com/agentworkspace/daytona/internal/clihelp"
)

// parseArgs handles an example's command line: the examples take no
// flags but -help, which prints the help on stdout. It reports whether the
// program must exit instead of running, and with which status: 0 after
// -help, 2 after anything else (with the help on stderr).
func parseArgs(name string, args []string, stdout, stderr io.Writer) (exit bool, status int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	help := fs.Bool("help", false, "print this help")
	fs.BoolVar(help, "h", false, "print this help")
	fs.Usage = func() { writeHelp(fs.Output(), name, fs) }
	switch err := fs.Parse(args); {
	case err != nil:
		return true, 2
	case *help:
		writeHelp(stdout, name, fs)
		return true, 0
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s takes no arguments, got %q\n", name, fs.Args())
		fs.Usage()
		return true, 2
	}
	return false, 0
}

// writeHelp writes an example's help.
func writeHelp(w io.Writer, name string, fs *flag.FlagSet) {
	about := fmt.Sprintf(`Runs the example %[1]s of github.com/agentworkspace/daytona (what it
shows: go doc github.com/agentworkspace/daytona/examples/%[1]s).

When DAYTONA_API_KEY is found (in the environment, or in .env.local or .env
in the working directory) it uses Daytona, and deletes the sandboxes it
creates; without, it uses an in-process Daytona (package daytonatest), and
the commands run on this machine, without isolation.`, name)
	clihelp.Write(w, name+" [-help]", about, fs,
		clihelp.Daytona,
		clihelp.Section{Title: "Without DAYTONA_API_KEY (an in-process Daytona)", Vars: clihelp.Local})
}
