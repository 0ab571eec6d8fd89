// Package examplesupport is the plumbing shared by the programs under
// examples/: it connects them to the real Daytona when an API key is
// configured, and otherwise to an in-process Daytona (package daytonatest),
// so that every example runs on a machine with nothing but Go installed.
package examplesupport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/joho/godotenv"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
)

// EmbeddedNotice is the line printed when no API key is found.
const EmbeddedNotice = "No DAYTONA_API_KEY found: using an in-process Daytona (daytonatest); commands run on this machine, not in an isolated sandbox."

// realNotice is the line printed when an API key is found, with the API
// URL.
const realNotice = "DAYTONA_API_KEY found: using the Daytona API at %s; the example deletes the sandboxes it creates."

// cleanupTimeout bounds the destruction of an example's sandboxes.
const cleanupTimeout = 2 * time.Minute

// Backend creates the sandboxes of one example run, on the real Daytona or
// on an in-process daytonatest server, and removes them all in Close.
type Backend struct {
	ctx    context.Context
	server *daytonatest.Server // nil with the real Daytona

	mu   sync.Mutex // guards made
	made []*daytona.Sandbox
}

// Open chooses where the example's sandboxes run and prints one line to w
// saying which. When DAYTONA_API_KEY is found (in the process environment,
// or in .env.local or .env in the working directory, read but never loaded
// into the environment) it uses the real Daytona, configured by the usual
// DAYTONA_* settings; otherwise it starts an in-process daytonatest server.
// The caller must call Close.
func Open(ctx context.Context, w io.Writer) (*Backend, error) {
	settings, err := readSettings()
	if err != nil {
		return nil, err
	}
	b := &Backend{ctx: ctx}
	if settings("DAYTONA_API_KEY") != "" {
		url := settings("DAYTONA_API_URL")
		if url == "" {
			url = daytona.DefaultAPIURL
		}
		fmt.Fprintf(w, realNotice+"\n", url)
		return b, nil
	}
	srv, err := daytonatest.Run()
	if err != nil {
		return nil, fmt.Errorf("start the in-process Daytona: %w", err)
	}
	b.server = srv
	fmt.Fprintln(w, EmbeddedNotice)
	return b, nil
}

// Embedded reports whether the sandboxes run on the in-process server.
func (b *Backend) Embedded() bool { return b.server != nil }

// Server returns the in-process server, or nil with the real Daytona.
func (b *Backend) Server() *daytonatest.Server { return b.server }

// New returns a Sandbox configured by opts, on this backend, and remembers
// it so that Close destroys it. Like daytona.New it makes no request.
func (b *Backend) New(opts ...daytona.Option) (*daytona.Sandbox, error) {
	if b.server != nil {
		opts = append([]daytona.Option{daytona.WithEndpoint(b.server.APIURL(), b.server.APIKey())}, opts...)
	}
	sb, err := daytona.New(opts...)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.made = append(b.made, sb)
	b.mu.Unlock()
	return sb, nil
}

// Close destroys every sandbox New returned (Destroy is idempotent, so
// sandboxes the example destroyed itself cost nothing), then shuts the
// in-process server down. It uses a context of its own, so that it works
// after the example's context was cancelled (by Ctrl-C).
func (b *Backend) Close() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), cleanupTimeout)
	defer cancel()
	b.mu.Lock()
	made := b.made
	b.made = nil
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, sb := range made {
		wg.Go(func() {
			if err := sb.Destroy(ctx); err != nil {
				fmt.Fprintf(os.Stderr, "warning: could not destroy sandbox %s: %v\n", sb.ID(), err)
			}
		})
	}
	wg.Wait()
	b.server.Close() // nil-safe
}

// Connect opens a Backend and returns one Sandbox on it, configured by
// opts. The cleanup function destroys the sandbox and shuts the backend
// down; call it even when the example fails half-way.
func Connect(ctx context.Context, w io.Writer, opts ...daytona.Option) (sb *daytona.Sandbox, cleanup func(), err error) {
	b, err := Open(ctx, w)
	if err != nil {
		return nil, nil, err
	}
	sb, err = b.New(opts...)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return sb, b.Close, nil
}

// readSettings returns a lookup of DAYTONA_* settings with the precedence
// of daytona.New: the process environment, then .env.local, then .env (read
// with godotenv.Read, never loaded into the environment).
func readSettings() (func(key string) string, error) {
	var files []map[string]string
	for _, name := range []string{".env.local", ".env"} {
		m, err := godotenv.Read(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		files = append(files, m)
	}
	return func(key string) string {
		if v := os.Getenv(key); v != "" {
			return v
		}
		for _, m := range files {
			if v := m[key]; v != "" {
				return v
			}
		}
		return ""
	}, nil
}

// Main runs an example's run function with a context that Ctrl-C cancels
// (which kills the remote command in flight) and its output on stdout; an
// error is printed on stderr and exits with status 1. The examples take
// no arguments: -help prints the help (what the example reads from the
// environment) and exits 0; anything else exits 2.
func Main(run func(ctx context.Context, w io.Writer) error) {
	if exit, status := parseArgs(filepath.Base(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr); exit {
		os.Exit(status)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// T is the part of testing.TB that UseEmbedded needs.
type T interface {
	Helper()
	Setenv(key, value string)
	Chdir(dir string)
	TempDir() string
	Context() context.Context
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// RunEmbedded runs an example's run function in embedded mode (see
// UseEmbedded), fails the test if it returns an error, checks that the
// output starts with EmbeddedNotice and contains each of wants, and returns
// the output for further checks.
func RunEmbedded(t T, run func(context.Context, io.Writer) error, wants ...string) string {
	t.Helper()
	UseEmbedded(t)
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	if first, _, _ := strings.Cut(got, "\n"); first != EmbeddedNotice {
		t.Errorf("first line = %q, want the embedded-mode notice", first)
	}
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
	return got
}

// UseEmbedded makes Open (and Connect) choose the in-process server for the
// rest of a test, whatever the developer's environment: it clears
// DAYTONA_API_KEY and DAYTONA_JWT_TOKEN and moves the test into an empty
// directory, where no .env file is found. Like t.Setenv, it cannot be used
// in parallel tests.
func UseEmbedded(t T) {
	t.Helper()
	t.Setenv("DAYTONA_API_KEY", "")
	t.Setenv("DAYTONA_JWT_TOKEN", "")
	t.Chdir(t.TempDir())
}
