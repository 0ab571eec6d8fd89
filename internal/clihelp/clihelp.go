// Package clihelp writes the -help text of the module's commands and
// examples: what the program does, its flags, and every environment
// variable it reads, for the settings of package daytona (and of the
// Daytona SDK beneath it) and of an in-process daytonatest server.
package clihelp

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Var is an environment variable and what it sets.
type Var struct{ Name, Text string }

// Section is a group of environment variables under a heading.
type Section struct {
	Title string
	Vars  []Var
}

// Daytona are the settings package daytona reads, and the Daytona SDK
// beneath it.
var Daytona = Section{
	Title: "Daytona settings (from the environment, else from .env.local, else .env in the working directory)",
	Vars: []Var{
		{"DAYTONA_API_KEY", "the API key"},
		{"DAYTONA_API_URL", "the API's URL (default https://app.daytona.io/api); DAYTONA_SERVER_URL is its older name"},
		{"DAYTONA_TARGET", "the target region, such as us or eu (default: the organization's)"},
		{"DAYTONA_JWT_TOKEN", "a JWT token instead of the API key, with DAYTONA_ORGANIZATION_ID"},
		{"DAYTONA_ORGANIZATION_ID", "the organization, with DAYTONA_JWT_TOKEN"},
		{"DAYTONA_OTEL_ENABLED", "true: the Daytona SDK exports OpenTelemetry traces, configured by the OTEL_* variables; DAYTONA_EXPERIMENTAL_OTEL_ENABLED is its older name"},
	},
}

// ShellEnv are the variables an in-process Daytona (package daytonatest)
// passes on to its sandboxes' shells.
var ShellEnv = Var{"PATH, LANG, USER, LOGNAME, TZ", "passed on to the sandboxes' shells; nothing else of this environment is"}

// Local is what an in-process Daytona takes from the environment.
var Local = []Var{{"TMPDIR", "where the sandboxes' files go (default /tmp)"}, ShellEnv}

// Write writes the help of a program: the usage line, what it does, its
// flags (none when fs is nil or defines none) and the environment
// variables it reads, by section.
func Write(w io.Writer, usage, about string, fs *flag.FlagSet, env ...Section) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usage, strings.TrimSpace(about))
	n := 0
	if fs != nil {
		fs.VisitAll(func(*flag.Flag) { n++ })
	}
	if n == 0 {
		fmt.Fprintln(w, "\nIt takes no flags.")
	} else {
		fmt.Fprintln(w, "\nFlags:")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	for _, s := range env {
		fmt.Fprintf(w, "\n%s:\n", s.Title)
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		for _, v := range s.Vars {
			fmt.Fprintf(tw, "  %s\t%s\n", v.Name, v.Text)
		}
		tw.Flush()
	}
}
