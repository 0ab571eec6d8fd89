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

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("daytona-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.http, "http", "", "serve streamable HTTP on `ADDR` (such as 127.0.0.1:8080) instead of stdio")
	fs.StringVar(&c.allowOrigin, "allow-origin", "", "comma-separated browser origins allowed over HTTP")
	fs.BoolVar(&c.local, "local", false, "run on an in-process Daytona: commands run on this machine, as the current user")
	fs.StringVar(&c.id, "id", "", "attach to the existing sandbox with this Daytona `ID` (kept on exit)")
	fs.StringVar(&c.name, "name", "", "find or create the sandbox with this `NAME` (kept on exit)")
	fs.StringVar(&c.language, "language", "", "code runtime: typescript (default), javascript or python")
	fs.StringVar(&c.snapshot, "snapshot", "", "create the sandbox from this snapshot")
	fs.StringVar(&c.img, "image", "", "create the sandbox from this image, such as python:3.12-slim")
	fs.DurationVar(&c.timeout, "timeout", 0, "default command timeout (default 5m)")
	fs.BoolVar(&c.keep, "keep", false, "do not destroy the sandbox on exit")
	fs.StringVar(&c.tools, "tools", "", "comma-separated tools to offer (default: all the sandbox supports)")
	fs.StringVar(&c.prefix, "prefix", "", "put `PREFIX` before every tool name")
	deny := fs.String("deny", "", "refuse execute_command calls whose command matches `REGEXP`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *deny != "" {
		re, err := regexp.Compile(*deny)
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
