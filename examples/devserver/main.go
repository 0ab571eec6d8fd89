// Devserver starts a web server in a sandbox in the background and reaches
// it from here through its preview URL: the optional workspace.PortExposer
// capability, for dev servers, notebooks and APIs under test.
//
//	go run ./examples/devserver
//
// It spawns python3's http.server, waits for its port, fetches a page
// through the port's URL with the token a private sandbox needs (and shows
// that a request without it is refused), then hands out a signed URL that
// works without a token until it is expired.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
)

func main() {
	examplesupport.Main(run)
}

// page is what the dev server serves.
const page = "Hello from a dev server in the sandbox!"

// startTimeout bounds the wait for the server's port.
const startTimeout = time.Minute

func run(ctx context.Context, w io.Writer) error {
	b, err := examplesupport.Open(ctx, w)
	if err != nil {
		return err
	}
	defer b.Close()
	// Provision the site once, when the sandbox is created.
	sb, err := b.New(daytona.WithOnStart(func(ctx context.Context, sb *daytona.Sandbox, created bool) error {
		if !created {
			return nil
		}
		_, err := sb.ExecuteCommand(ctx, "mkdir -p site && printf '%s\\n' "+shellQuote(page)+" > site/index.html", nil, nil)
		return err
	}))
	if err != nil {
		return err
	}
	port := 3000
	if b.Embedded() {
		port = freePort() // the embedded sandbox shares this machine's ports
	}

	fmt.Fprintf(w, "\nStarting the dev server on port %d (Spawn returns once it started):\n", port)
	server, err := sb.Processes().Spawn(ctx, "exec python3 -m http.server "+strconv.Itoa(port)+" --directory site", nil)
	if err != nil {
		return err
	}
	defer server.Kill(context.WithoutCancel(ctx))

	var pe workspace.PortExposer = sb // what code holding a workspace.Sandbox would discover
	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	err = pe.WaitForPort(wctx, port)
	cancel()
	if err != nil {
		return fmt.Errorf("the server did not listen on port %d: %w (%s)", port, err, strings.TrimSpace(server.Stderr()))
	}
	fmt.Fprintf(w, "   port %d is listening\n", port)
	return fetchThrough(ctx, w, sb, port)
}

// fetchThrough reaches the server through the port's URL, then through a
// signed URL.
func fetchThrough(ctx context.Context, w io.Writer, sb *daytona.Sandbox, port int) error {
	u, err := sb.PortURL(ctx, port)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nPreview URL: %s\n   (token: %d characters, sent in the %s header; print it only where it is safe)\n",
		u.URL, len(u.Token), daytona.PreviewTokenHeader)
	if err := show(ctx, w, "GET / with the token", u, true); err != nil {
		return err
	}
	if err := show(ctx, w, "GET / without it", u, false); err != nil {
		return err
	}

	signed, err := sb.SignedPortURL(ctx, port, time.Minute)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nSigned URL, valid until %s, for a browser or a third party:\n", signed.ExpiresAt.Format(time.Kitchen))
	if err := show(ctx, w, "GET / with no header", signed, false); err != nil {
		return err
	}
	if err := sb.ExpirePortURL(ctx, signed); err != nil {
		return err
	}
	return show(ctx, w, "GET / after ExpirePortURL", signed, false)
}

// client does not follow redirects: a refused preview request is
// redirected to a login page.
var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// show fetches u's root page and prints the outcome.
func show(ctx context.Context, w io.Writer, what string, u *workspace.PortURL, withHeaders bool) error {
	req, err := u.NewRequest(ctx, "GET", "/", nil)
	if err != nil {
		return err
	}
	if !withHeaders {
		req.Header = http.Header{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		fmt.Fprintf(w, "   %s: %s: %q\n", what, resp.Status, strings.TrimSpace(string(body)))
		return nil
	}
	fmt.Fprintf(w, "   %s: %s (refused)\n", what, resp.Status)
	return nil
}

// freePort returns a port between 3000 and 9999 nothing on this machine
// listens on (WaitForPort checks that range with the daemon's in-use
// endpoint).
func freePort() int {
	for p := 3000 + time.Now().Nanosecond()%7000; ; p = 3000 + (p-3000+7919)%7000 {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			_ = ln.Close()
			return p
		}
	}
}

// shellQuote quotes s for a shell command line.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
