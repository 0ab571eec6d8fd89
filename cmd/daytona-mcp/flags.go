package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/clihelp"
)

// config is what the flags say.
type config struct {
	http, allowOrigin       string
	local, keep             bool
	id, name                string
	language, snapshot, img string
	timeout                 time.Duration
	tools, prefix           string
	deny                    *regexp.Regexp
}

// about is what -help says the command does.
const about = `Serves a Daytona sandbox's tools (execute_command with background processes,
get_process_output, kill_process, and the file tools) to MCP clients, on
stdin and stdout, or over streamable HTTP with -http. It creates a sandbox
(or attaches to one with -id, or finds or creates one with -name), starts
it, and destroys on exit a sandbox it created, unless -keep.`

// environment is what -help says of the variables read, beside Daytona's.
var environment = []clihelp.Section{
	{Title: "Environment", Vars: []clihelp.Var{
		{Name: tokenEnv, Text: "the bearer token HTTP clients must send (default: a random token, printed once on stderr); required to listen on a non-loopback address"},
	}},
	clihelp.Daytona,
	{Title: "With -local (an in-process Daytona, commands run on this machine)", Vars: clihelp.Local},
}

// parsed is what the flags say before checks.
type parsed struct {
	config
	help bool
	deny string
}

// newFlagSet defines the flags, to be parsed into p.
func newFlagSet(p *parsed, stderr io.Writer) *flag.FlagSet {
	c := &p.config
	fs := flag.NewFlagSet("daytona-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { clihelp.Write(fs.Output(), "daytona-mcp [flags]", about, fs, environment...) }
	fs.BoolVar(&p.help, "help", false, "print this help")
	fs.BoolVar(&p.help, "h", false, "print this help")
	fs.StringVar(&c.http, "http", "", "serve streamable HTTP on `ADDR` (such as 127.0.0.1:8080) instead of stdio")
	fs.StringVar(&c.allowOrigin, "allow-origin", "", "`LIST` of the browser origins allowed over HTTP, comma-separated, such as http://localhost:6274")
	fs.BoolVar(&c.local, "local", false, "run on an in-process Daytona: commands run on this machine, as the current user")
	fs.StringVar(&c.id, "id", "", "attach to the existing sandbox with this Daytona `ID` (kept on exit)")
	fs.StringVar(&c.name, "name", "", "find or create the sandbox with this `NAME` (kept on exit)")
	fs.StringVar(&c.language, "language", "", "the code runtime, `LANG`: typescript (default), javascript or python")
	fs.StringVar(&c.snapshot, "snapshot", "", "create the sandbox from the snapshot `NAME`")
	fs.StringVar(&c.img, "image", "", "create the sandbox from `IMAGE`, such as python:3.12-slim")
	fs.DurationVar(&c.timeout, "timeout", 0, "default command timeout, a `DURATION` such as 30s (default 5m)")
	fs.BoolVar(&c.keep, "keep", false, "do not destroy the sandbox on exit")
	fs.StringVar(&c.tools, "tools", "", "`LIST` of the tools to offer, comma-separated (default: all the sandbox supports)")
	fs.StringVar(&c.prefix, "prefix", "", "put `PREFIX` before every tool name")
	fs.StringVar(&p.deny, "deny", "", "refuse execute_command calls whose command matches `REGEXP`")
	return fs
}

// parseFlags parses args. -help writes the help to stdout and returns
// flag.ErrHelp; errors are written to stderr with the help.
func parseFlags(args []string, stdout, stderr io.Writer) (*config, error) {
	p := &parsed{}
	c := &p.config
	fs := newFlagSet(p, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if p.help {
		clihelp.Write(stdout, "daytona-mcp [flags]", about, fs, environment...)
		return nil, flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if p.deny != "" {
		re, err := regexp.Compile(p.deny)
		if err != nil {
			return nil, fmt.Errorf("-deny: %v", err)
		}
		c.deny = re
	}
	if c.local && c.id != "" {
		return nil, errors.New("-local and -id exclude each other: a local sandbox is always new")
	}
	return c, nil
}

// list splits a comma-separated flag.
func list(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// tokenEnv names the variable with the HTTP bearer token.
const tokenEnv = "DAYTONA_MCP_TOKEN"

// checkHTTP refuses to serve a non-loopback address without a token from
// the environment.
func (c *config) checkHTTP(getenv func(string) string) error {
	if c.http == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.http)
	if err != nil {
		return fmt.Errorf("-http %s: %v", c.http, err)
	}
	if !loopback(host) && getenv(tokenEnv) == "" {
		return fmt.Errorf("-http %s is not a loopback address: set %s to the token clients must send "+
			"(over HTTP this server runs commands for whoever reaches it)", c.http, tokenEnv)
	}
	return nil
}

// loopback reports whether host is a loopback address or localhost. An
// empty host means every interface, which is not.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
