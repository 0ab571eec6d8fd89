package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// Config configures Run.
type Config struct {
	// New returns a new sandbox that has not been started (its status is
	// pending). It is required. Run calls it once per subtest, with that
	// subtest's t, and destroys the sandbox when the subtest ends; New may
	// register cleanups of its own on t. It should call t.Fatal if it
	// cannot make a sandbox.
	New func(t *testing.T) workspace.Sandbox

	// Timeout bounds each subtest: the context of its calls ends after
	// Timeout, and destroying its sandbox at cleanup gets as long again.
	// Zero means one minute. Cloud providers, whose sandboxes take a while
	// to start, may want more.
	Timeout time.Duration

	// SkipTimeout skips the subtests of command and process timeouts
	// (Exec/Timeout, Processes/Timeout), for providers that cannot enforce
	// them.
	SkipTimeout bool

	// SkipProcesses skips the Processes subtests even when the sandbox
	// implements workspace.ProcessSpawner. Without it they run exactly when
	// it does.
	SkipProcesses bool

	// SkipFilesystem skips the Filesystem subtests even when the sandbox
	// implements workspace.FilesystemProvider. Without it they run exactly
	// when it does.
	SkipFilesystem bool

	// Parallel runs the subtests of each group in parallel with each other
	// (t.Parallel), as many at once as go test's -parallel flag allows
	// (GOMAXPROCS by default). It makes the suite faster against a local
	// fake; against a cloud service it holds that many sandboxes at once,
	// which quotas may forbid.
	Parallel bool

	// ServeCommand returns the command that serves the files of its
	// working directory over HTTP on port, for the Ports subtests. The
	// default runs python3 -m http.server, bound to 127.0.0.1.
	ServeCommand func(port int) string

	// Port returns a port nothing in the sandbox listens on, for the Ports
	// subtests. The default asks the sandbox (with python3) for a free
	// one.
	Port func(t *testing.T) int

	// MountSpec returns storage the Mounts subtests may mount and write a
	// file to (and remove it), and whether there is any (false: those
	// subtests skip, such as without credentials in the environment).
	// Without it they skip too; the bad-input subtest runs regardless.
	MountSpec func(t *testing.T) (workspace.MountSpec, bool)

	// Skip skips individual subtests: it maps a subtest's name below Run,
	// such as "Exec/Timeout", or a group's name, such as "Processes", to
	// the reason, which the skip reports. Name a known limitation or bug
	// here rather than leaving a subtest failing. Unknown names fail the
	// test, so that a renamed subtest is noticed.
	Skip map[string]string
}

// defaultTimeout is Config.Timeout's default.
const defaultTimeout = time.Minute

// promptly bounds how long a kill (by timeout, cancellation, writer error,
// Kill or Stop) may take to end slowCommand, and how long a command
// reading stdin at end of file may take.
const promptly = 10 * time.Second

// slowCommand runs far longer than promptly; the suite expects the sandbox
// to kill it.
const slowCommand = "sleep 30"

// A group is a set of subtests run under one name.
type group struct {
	name  string
	cases []testCase
}

type testCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

// groups lists every subtest, in order.
func groups() []group {
	return []group{
		{"Lifecycle", lifecycleTests},
		{"Exec", execTests},
		{"Info", infoTests},
		{"Processes", processTests},
		{"Filesystem", filesystemTests},
		{"Ports", portTests},
		{"Mounts", mountTests},
	}
}

// Run runs the conformance suite against the sandboxes cfg.New returns, as
// subtests of t: see the package documentation for what they check. Run
// returns when all subtests have finished and their sandboxes have been
// destroyed.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.New == nil {
		t.Fatal("sandboxtest: Config.New is nil")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	gs := groups()
	known := map[string]bool{}
	for _, g := range gs {
		known[g.name] = true
		for _, c := range g.cases {
			known[g.name+"/"+c.name] = true
		}
	}
	var unknown []string
	for name := range cfg.Skip {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		t.Errorf("sandboxtest: Config.Skip names unknown subtests %q", unknown)
	}
	h := &harness{cfg: cfg}
	for _, g := range gs {
		t.Run(g.name, func(t *testing.T) {
			if reason, ok := cfg.Skip[g.name]; ok {
				t.Skip(reason)
			}
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					if reason, ok := cfg.Skip[g.name+"/"+c.name]; ok {
						t.Skip(reason)
					}
					if cfg.Parallel {
						t.Parallel()
					}
					c.run(t, h)
				})
			}
		})
	}
}

// harness holds the configuration and the helpers the subtests share.
type harness struct {
	cfg Config
}

// context returns the context for t's calls, which ends after cfg.Timeout
// or when t ends.
func (h *harness) context(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), h.cfg.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// sandbox returns a new sandbox from cfg.New and destroys it when t ends,
// with a fresh context (t's own is cancelled by then).
func (h *harness) sandbox(t *testing.T) workspace.Sandbox {
	t.Helper()
	sb := h.cfg.New(t)
	if sb == nil {
		t.Fatal("Config.New returned a nil sandbox")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
		defer cancel()
		if err := sb.Destroy(ctx); err != nil {
			t.Errorf("Destroy at cleanup: %v", err)
		}
	})
	return sb
}

// capability returns a new sandbox and its optional capability C (an
// interface, named iface), or skips t when the sandbox lacks it or the
// Config flag named flag (set: skip) says so.
func capability[C any](t *testing.T, h *harness, skip bool, flag, iface string) (workspace.Sandbox, C) {
	t.Helper()
	if skip {
		t.Skip("Config." + flag)
	}
	sb := h.sandbox(t)
	c, ok := sb.(C)
	if !ok {
		t.Skipf("%T does not implement %s", sb, iface)
	}
	return sb, c
}

// started returns a new sandbox that has been started.
func (h *harness) started(t *testing.T, ctx context.Context) workspace.Sandbox {
	t.Helper()
	sb := h.sandbox(t)
	if err := sb.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return sb
}

// exec runs a command that must not fail with an error.
func exec(t *testing.T, ctx context.Context, sb workspace.Sandbox, command string, args []string, opts *workspace.ExecOptions) *workspace.CommandResult {
	t.Helper()
	res, err := sb.ExecuteCommand(ctx, command, args, opts)
	if err != nil {
		t.Fatalf("ExecuteCommand(%q, %q): %v", command, args, err)
	}
	if res == nil {
		t.Fatalf("ExecuteCommand(%q, %q) returned a nil result and a nil error", command, args)
	}
	return res
}

// execOK runs a command that must exit 0, and returns its stdout.
func execOK(t *testing.T, ctx context.Context, sb workspace.Sandbox, command string, args ...string) string {
	t.Helper()
	res := exec(t, ctx, sb, command, args, nil)
	if !res.Success() {
		t.Fatalf("ExecuteCommand(%q, %q): exit code %d (timed out %v, killed %v), stderr %q; want success",
			command, args, res.ExitCode, res.TimedOut, res.Killed, res.Stderr)
	}
	return res.Stdout
}

// equal reports got != want as an error.
func equal[T comparable](t *testing.T, what string, got, want T) bool {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
		return false
	}
	return true
}

// wantStatus checks the sandbox's status.
func wantStatus(t *testing.T, sb workspace.Sandbox, want workspace.Status, when string) {
	t.Helper()
	if got := sb.Status(); got != want {
		t.Errorf("Status() %s = %q, want %q", when, got, want)
	}
}

// waitFor polls cond until it holds, failing t when ctx ends first. Call
// it from the test's goroutine only.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	if !poll(ctx, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// poll polls cond until it holds (true) or ctx ends (false).
func poll(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return cond()
		case <-tick.C:
		}
	}
	return true
}

// fast checks that an operation that had to kill something took less than
// promptly.
func fast(t *testing.T, what string, took time.Duration) {
	t.Helper()
	if took >= promptly {
		t.Errorf("%s took %v, want less than %v", what, took.Round(time.Millisecond), promptly)
	}
}

// uniqueName returns a file name that no other run of the suite uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq.next())
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

var seq counter

// recorder is an io.Writer that keeps what it receives, safe for
// concurrent use, and notices writes that overlap (which os/exec semantics
// forbid for one writer shared by both streams) or come after the call
// that owned it returned.
type recorder struct {
	mu       sync.Mutex
	buf      strings.Builder
	writes   int
	active   int  // Writes in progress
	overlap  bool // two Writes ran at once
	closed   bool // the owning call has returned
	late     int  // bytes written after close
	failWith error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.active++
	if r.active > 1 {
		r.overlap = true
	}
	r.mu.Unlock()
	// Give an overlapping Write a chance to show itself.
	time.Sleep(50 * time.Microsecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	r.writes++
	if r.closed {
		r.late += len(p)
	}
	if r.failWith != nil {
		return 0, r.failWith
	}
	r.buf.Write(p)
	return len(p), nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func (r *recorder) contains(s string) bool { return strings.Contains(r.String(), s) }

// close marks the owning call as returned.
func (r *recorder) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

// check reports overlapping and late writes.
func (r *recorder) check(t *testing.T, name string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.overlap {
		t.Errorf("%s: two Write calls ran at the same time", name)
	}
	if r.late > 0 {
		t.Errorf("%s: %d bytes were written after the call returned", name, r.late)
	}
}

// errNotReady checks that err matches workspace.ErrNotReady.
func errNotReady(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, workspace.ErrNotReady) {
		t.Errorf("%s: error %v, want one matching workspace.ErrNotReady", what, err)
	}
}
