// Manyusers is a backend service that gives each of its users a sandbox of
// their own, through a pool.Pool: an HTTP handler runs the command a user
// posts in that user's sandbox, which keeps the user's files between
// requests, is parked when idle and woken by the next request.
//
//	go run ./examples/manyusers
//
// It serves the handler on a loopback port and plays a few requests from
// two users against it: alice's files stay hers, bob has his own sandbox,
// and a request runs in the sandbox its user had before. With
// DAYTONA_API_KEY set it uses Daytona; without, an in-process Daytona
// (package daytonatest). Either way it destroys what it created.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/pool"
	"github.com/agentworkspace/daytona/workspace"
)

func main() {
	examplesupport.Main(run)
}

// maxCommand bounds the command a request may post.
const maxCommand = 64 << 10

// commandTimeout bounds one command.
const commandTimeout = 30 * time.Second

// Handler runs the command in the request body in the sandbox of the user
// the request comes from, and answers with its output; the exit code is
// in the X-Exit-Code header. A real service takes the user from its
// authentication; this one trusts the X-User header.
type Handler struct {
	Pool *pool.Pool
}

func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user := r.Header.Get("X-User")
	if r.Method != http.MethodPost || user == "" {
		http.Error(w, "POST a command, with an X-User header", http.StatusBadRequest)
		return
	}
	cmd, err := io.ReadAll(io.LimitReader(r.Body, maxCommand+1))
	if err != nil || len(cmd) > maxCommand {
		http.Error(w, "the command is too long", http.StatusRequestEntityTooLarge)
		return
	}
	lease, err := h.Pool.Acquire(r.Context(), user)
	switch {
	case errors.Is(err, pool.ErrClosed):
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	case err != nil:
		http.Error(w, "no sandbox: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer lease.Release()
	res, err := lease.Sandbox().ExecuteCommand(r.Context(), string(cmd), nil, &workspace.ExecOptions{Timeout: commandTimeout})
	if err != nil {
		http.Error(w, "the command failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("X-Exit-Code", strconv.Itoa(res.ExitCode))
	w.Header().Set("X-Sandbox", lease.Sandbox().RemoteName())
	io.WriteString(w, res.Stdout+res.Stderr)
}

func run(ctx context.Context, w io.Writer) error {
	b, err := examplesupport.Open(ctx, w)
	if err != nil {
		return err
	}
	defer b.Close()
	var opts []daytona.Option
	if b.Embedded() {
		opts = append(opts, daytona.WithEndpoint(b.Server().APIURL(), b.Server().APIKey()))
	}
	p, err := pool.Open(ctx, "manyusers-example",
		pool.WithSandboxOptions(opts...),
		pool.WithSpares(1),
		pool.WithIdle(pool.Idle{Park: 10 * time.Minute, Destroy: 7 * 24 * time.Hour}),
		pool.WithOnClose(pool.CloseDestroy)) // an example leaves nothing behind; a service would park
	if err != nil {
		return err
	}
	defer p.Close(context.WithoutCancel(ctx))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: Handler{Pool: p}, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/run"
	fmt.Fprintf(w, "Serving on %s\n", url)

	for _, req := range []struct{ user, cmd string }{
		{"alice", "echo 'a note of alice' > note.txt; cat note.txt"},
		{"bob", "cat note.txt 2>/dev/null || echo 'bob has no note'"},
		{"alice", "cat note.txt"},
		{"bob", "echo 'bob was here' > note.txt; cat note.txt"},
		{"alice", "cat note.txt; exit 3"},
	} {
		if err := post(ctx, w, url, req.user, req.cmd); err != nil {
			return err
		}
	}
	s := p.Stats()
	fmt.Fprintf(w, "\nPool: %d users with a running sandbox, %d created, %d from a spare\n", s.Idle+s.Leased, s.SpareHits+s.SpareMisses, s.SpareHits)
	return nil
}

// post sends one user's command and prints the answer.
func post(ctx context.Context, w io.Writer, url, user, cmd string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(cmd))
	if err != nil {
		return err
	}
	req.Header.Set("X-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", user, resp.Status, body)
	}
	fmt.Fprintf(w, "\n%s$ %s\n%s(exit code %s, sandbox %s)\n", user, cmd, body, resp.Header.Get("X-Exit-Code"), resp.Header.Get("X-Sandbox"))
	return nil
}
