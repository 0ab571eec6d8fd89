package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentworkspace/daytona/mcpserver"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// newServer returns the MCP server for the backend's sandbox.
func newServer(cfg *config, b *backend) (*mcp.Server, error) {
	opts := &mcpserver.Options{Tools: tools.Options{Tools: list(cfg.tools), Prefix: cfg.prefix, Redact: b.secrets}}
	if re := cfg.deny; re != nil {
		opts.Tools.Policy = func(_ context.Context, req tools.Request) error {
			if req.Tool != tools.ExecuteCommand {
				return nil
			}
			var in struct {
				Command string   `json:"command"`
				Args    []string `json:"args"`
			}
			if err := req.Decode(&in); err != nil {
				return err
			}
			for _, s := range append([]string{in.Command}, in.Args...) {
				if re.MatchString(s) {
					return fmt.Errorf("the command matches this server's deny pattern %q", re)
				}
			}
			return nil
		}
	}
	return mcpserver.New(b.sb, opts)
}

// cancelCallsWith makes the end of ctx (an interrupt) end the calls in
// progress, which are then answered as interrupted, rather than waited
// for: the SDK ends a session only once its calls are done.
func cancelCallsWith(ctx context.Context, server *mcp.Server) {
	server.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(callCtx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			callCtx, cancel := context.WithCancel(callCtx)
			defer cancel()
			defer context.AfterFunc(ctx, cancel)()
			return next(callCtx, method, req)
		}
	})
}

// answerGrace bounds how long an interrupted session waits for the answers
// to the calls it cancelled.
const answerGrace = 10 * time.Second

// serveStdio serves one client on stdin and stdout until stdin ends, once
// every request read is answered. An interrupt (the end of ctx) ends the
// input: the calls in progress are cancelled (cancelCallsWith) and
// answered, then the session ends, within answerGrace. (The SDK drops the
// answers of a session closed while its calls run.)
func serveStdio(ctx context.Context, server *mcp.Server, stdin io.Reader, stdout io.Writer) error {
	in, stopInput := endOnCancel(ctx, stdin)
	defer stopInput()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	ended := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(ended)
	wg.Go(func() { // after an interrupt, end the session within answerGrace
		select {
		case <-ended:
		case <-ctx.Done():
			t := time.NewTimer(answerGrace)
			defer t.Stop()
			select {
			case <-ended:
			case <-t.C:
				cancel()
			}
		}
	})
	err := server.Run(runCtx, mcpserver.NewIOTransport(in, nopCloser{stdout}))
	if err == nil || errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil
	}
	return err
}

// endOnCancel returns a reader of r that ends when r does or when ctx
// ends, and a function to call when done with it. (A Read of stdin cannot
// be interrupted: a goroutine copies it, and ends at its next read.)
func endOnCancel(ctx context.Context, r io.Reader) (io.ReadCloser, func()) {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, r)
		pw.CloseWithError(err) // nil: io.EOF
	}()
	stop := context.AfterFunc(ctx, func() { pw.Close() })
	return pr, func() {
		stop()
		pr.Close()
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// serveHTTP serves streamable HTTP at /mcp until ctx ends.
func serveHTTP(ctx context.Context, cfg *config, server *mcp.Server, token string, stderr io.Writer) error {
	h, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPOptions{Token: token, AllowedOrigins: list(cfg.allowOrigin)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.http)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "daytona-mcp: serving MCP over streamable HTTP at http://%s/mcp (send Authorization: Bearer <token>)\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// httpToken returns $DAYTONA_MCP_TOKEN, or a random token printed once on
// stderr.
func httpToken(getenv func(string) string, stderr io.Writer) string {
	if t := getenv(tokenEnv); t != "" {
		return t
	}
	var raw [24]byte
	rand.Read(raw[:])
	t := hex.EncodeToString(raw[:])
	fmt.Fprintf(stderr, "daytona-mcp: %s is not set; clients must send this token (shown once): %s\n", tokenEnv, t)
	return t
}
