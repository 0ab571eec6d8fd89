// Command daytona-mcp serves a Daytona sandbox to MCP clients (Claude
// Desktop, IDEs, agent frameworks): the tools of package workspace/tools
// (execute_command with background processes, get_process_output,
// kill_process) over the Model Context Protocol.
//
//	go run github.com/agentworkspace/daytona/cmd/daytona-mcp          # stdio
//	go run github.com/agentworkspace/daytona/cmd/daytona-mcp -http 127.0.0.1:8080
//	go run github.com/agentworkspace/daytona/cmd/daytona-mcp -local   # no account needed
//
// It creates a sandbox (or attaches to one with -id, or finds or creates
// one by -name) from its flags and the usual DAYTONA_* settings
// (DAYTONA_API_KEY, DAYTONA_API_URL, DAYTONA_TARGET, in the environment or
// .env), starts it, and serves until the client disconnects (stdio) or it
// is interrupted. On exit it destroys a sandbox it created, unless -keep;
// sandboxes attached with -id or named with -name are kept.
//
// With -local it runs an in-process Daytona (package daytonatest) instead:
// commands then run on this machine, as the current user, without
// isolation. It says so on stderr.
//
// Over HTTP (-http ADDR) the server is a remote shell, so it listens on
// 127.0.0.1 unless told otherwise, and requires a bearer token on every
// request: $DAYTONA_MCP_TOKEN, or a random one printed once on stderr. It
// refuses to listen on a non-loopback address without $DAYTONA_MCP_TOKEN.
// Requests from browsers must come from an origin listed in -allow-origin.
//
// Flags:
//
//	-http ADDR          serve streamable HTTP on ADDR (such as 127.0.0.1:8080) instead of stdio
//	-allow-origin LIST  comma-separated browser origins allowed over HTTP
//	-local              run on an in-process Daytona: commands run on this machine
//	-id ID              attach to the existing sandbox with this Daytona id (kept on exit)
//	-name NAME          find or create the sandbox with this name (kept on exit)
//	-language LANG      typescript (default), javascript or python
//	-snapshot NAME      create from this snapshot
//	-image IMAGE        create from this image, such as python:3.12-slim
//	-timeout DURATION   default command timeout (default 5m)
//	-keep               do not destroy the sandbox on exit
//	-tools LIST         comma-separated tools to offer (default: all)
//	-prefix PREFIX      put PREFIX before every tool name
//	-deny REGEXP        refuse execute_command calls whose command matches REGEXP
//	-help               print the flags and the environment variables read, and exit
//
// Over stdio it answers every request read before stdin ends, then exits;
// an interrupt cancels the calls in progress, answers them, and exits.
//
// Secrets it knows (the API key, the local server's key, the HTTP token)
// are replaced with [REDACTED] in everything the tools return.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -help
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "daytona-mcp:", err)
		os.Exit(1)
	}
}

// run parses args, sets the sandbox up, serves, and cleans up.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := cfg.checkHTTP(getenv); err != nil {
		return err
	}
	b, err := openBackend(ctx, cfg, stderr, getenv)
	if err != nil {
		return err
	}
	defer b.close(stderr)
	token := ""
	if cfg.http != "" {
		token = httpToken(getenv, stderr)
		b.secrets = append(b.secrets, token)
	}
	server, err := newServer(cfg, b)
	if err != nil {
		return err
	}
	cancelCallsWith(ctx, server)
	if cfg.http != "" {
		return serveHTTP(ctx, cfg, server, token, stderr)
	}
	fmt.Fprintln(stderr, "daytona-mcp: serving MCP on stdin and stdout")
	return serveStdio(ctx, server, stdin, stdout)
}
