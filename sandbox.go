package daytona

import (
	"context"
	"crypto/rand"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"

	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/mount"
	"github.com/agentworkspace/daytona/workspace"
)

// The Sandbox and what it holds. Everything a Sandbox does is in the files
// above this one: the commands it runs for itself on an explicit remote
// (work.go), its hooks (hooks.go), its lifecycle (lifecycle.go), the one
// retry after a dead sandbox (resubmit.go), and the public operations
// (exec.go, processes.go, filesystem.go, mounts.go, ports.go, info.go).

// Provider and implementation names, as in Mastra.
const (
	ProviderName = "daytona"
	SandboxName  = "DaytonaSandbox"
)

// defaultWorkDir is reported before the sandbox has started.
const defaultWorkDir = "/home/daytona"

var _ workspace.Sandbox = (*Sandbox)(nil)

// Sandbox runs an agent's commands in a Daytona cloud sandbox. It implements
// workspace.Sandbox.
//
// A Sandbox is created with New, which makes no request. The remote sandbox
// is found or created by the first call that needs it (ExecuteCommand,
// Spawn, Get of a process) or by Start; concurrent first calls share one
// start. Stop keeps the remote sandbox and its files for a later start;
// Destroy deletes it.
//
// A Sandbox is safe for concurrent use by multiple goroutines.
type Sandbox struct {
	*core // shared with the views its hooks are given

	// hook is set on the view a hook is given (see hooks.go): while the
	// hook runs, the view works on the remote sandbox being started or
	// ended, and refuses Stop and Destroy.
	hook *binding
}

// core is a Sandbox's state. It is behind a pointer, so that printing a
// Sandbox value (even a copy, with any verb) never reads it.
type core struct {
	cfg config // immutable after New
	log *slog.Logger
	bg  command.Tracker // background session upkeep

	mu         sync.Mutex // guards the fields below
	status     workspace.Status
	conn       *controlplane.Client // nil until first use
	remote     *remote              // the running remote sandbox; nil unless running
	daytonaID  string               // id of the remote sandbox, kept across Stop
	createdAt  time.Time
	workDir    string
	facts      *controlplane.Facts // from the record at the last start; nil before
	envOverlay map[string]string
	starting   *flight
	stopping   *flight
	destroying *flight
	labelID    string // the logical id read from the remote's label (cfg.idFromLabel)
	attempted  bool   // a start has been attempted
	destroyed  bool   // Destroy was called: only Destroy and GetInfo still work

	procs processTable // background processes (process.go)
	// svc is the services' state (hooks, mounts, keep-alive), behind a
	// func: fmt prints a func as an address whatever the verb, so printing
	// a Sandbox, or a value that holds one, never reads (nor races with)
	// it, nor shows the credentials of its mounts.
	svc func() *services
}

// config is a Sandbox's configuration: what the options set, immutable
// after New.
type config struct {
	id              string
	apiKey          controlplane.Secret // nil unless an option set it
	apiURL          string
	target          string
	timeout         time.Duration // workspace.NoTimeout disables
	language        Language
	resources       *Resources
	env             map[string]string
	labels          map[string]string
	snapshot        string
	image           string
	ephemeral       bool
	autoStop        time.Duration
	autoArchive     *time.Duration
	autoDelete      *time.Duration
	volumes         []VolumeMount
	name            string
	user            string
	public          *bool
	blockAll        *bool
	allowList       *string
	logger          *slog.Logger
	existingID      string
	idFromLabel     bool // no WithID with WithExistingSandbox: the id is the remote's label
	createIfMissing bool
	httpClient      *http.Client  // WithHTTPClient; nil: the shared client
	rawOutput       bool          // output through the session log, not files (tests)
	times           command.Times // the commands' sync window and kill times (tests)
	keyOption       string        // the option that set apiKey (WithAPIKey, WithEndpoint)
	noEnv           bool
	lookupEnv       func(string) (string, bool) // the process environment; replaced in tests
	dotenvDir       string                      // where .env files are read; "" = working directory

	// The services' options. The hooks have StartHook's and StopHook's
	// types (hooks.go).
	onStart   func(ctx context.Context, sb *Sandbox, created bool) error
	onStop    func(ctx context.Context, sb *Sandbox) error
	onDestroy func(ctx context.Context, sb *Sandbox) error
	keepAlive time.Duration // 0: DefaultKeepAliveInterval; negative: off
	mounts    []mount.Entry // WithMount, in order
}

func defaultConfig() config {
	return config{
		timeout:   DefaultTimeout,
		language:  TypeScript,
		autoStop:  DefaultAutoStopInterval,
		logger:    slog.New(slog.DiscardHandler),
		lookupEnv: os.LookupEnv,
	}
}

// services is a Sandbox's state for its services, guarded by its own
// mutex (never held while core.mu is wanted).
type services struct {
	mu sync.Mutex
	// unprovisioned: the last start created the remote sandbox and then
	// failed in its start work, which the next start does again with
	// created true.
	unprovisioned bool
	ending        endHooks
	mounts        []mount.Entry // what this Sandbox keeps mounted, in order; nil until first used
	keep          keeper
	mountMu       sync.Mutex // serializes Mount and Unmount
}

// newCore returns the state of a new Sandbox configured by cfg.
func newCore(cfg config) *core {
	sv := &services{}
	return &core{
		cfg:        cfg,
		log:        sandboxLogger(cfg.logger, cfg.id),
		status:     workspace.StatusPending,
		envOverlay: maps.Clone(cfg.env),
		svc:        func() *services { return sv },
	}
}

// mountTableLocked returns the mounts this Sandbox keeps, starting with
// those WithMount declared. Callers hold s.svc().mu.
func (s *Sandbox) mountTableLocked() []mount.Entry {
	if s.svc().mounts == nil {
		s.svc().mounts = append([]mount.Entry{}, s.cfg.mounts...)
	}
	return s.svc().mounts
}

// endHooks records the stop and destroy hooks run for one remote.
type endHooks struct {
	r   *remote
	ran map[string]*flight // by caller ("Stop", "Destroy")
}

// keeper refreshes a sandbox's activity while something runs in it (see
// keepalive.go). Its goroutine exists only while at least one command or
// process runs.
type keeper struct {
	mu     sync.Mutex         // guards the fields below
	n      int                // commands and processes running
	id     string             // the remote sandbox to refresh: the latest one held
	cancel context.CancelFunc // stops the refresher
}

// flight is an operation in progress that concurrent callers share.
type flight struct {
	done chan struct{}
	err  error

	// For a start (guarded by core.mu): how many callers wait for it, and
	// what ends its own work (mounts, the start hook) once none does.
	waiters    int
	cancelWork context.CancelFunc
}

func newFlight() *flight { return &flight{done: make(chan struct{})} }

// wait waits for the flight or for ctx.
func (fl *flight) wait(ctx context.Context) error {
	select {
	case <-fl.done:
		return fl.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// remote is a running remote sandbox as seen by this Sandbox: its toolbox,
// and the sessions its commands run in (see command.Remote).
type remote = command.Remote

// binding ties the view a hook is given to the remote sandbox the hook
// works on, while the hook runs.
type binding struct {
	r    *remote
	what string        // "start hook", "stop hook", "destroy hook"
	done chan struct{} // closed when the hook has returned
}

// bound returns the remote of s's hook while the hook runs.
func (s *Sandbox) bound() (*remote, bool) {
	if s.hook == nil {
		return nil, false
	}
	select {
	case <-s.hook.done:
		return nil, false
	default:
		return s.hook.r, true
	}
}

// view returns a Sandbox sharing s's state, bound to r while the hook
// what runs; unbind ends the binding.
func (s *Sandbox) view(r *remote, what string) (v *Sandbox, unbind func()) {
	b := &binding{r: r, what: what, done: make(chan struct{})}
	return &Sandbox{core: s.core, hook: b}, func() { close(b.done) }
}

// made reports a Sandbox made by New (or a view of one).
func (s *Sandbox) made() bool { return s != nil && s.core != nil }

// sandboxLogger returns l with the sandbox's id on every record (the
// default, silent logger as it is, which saves its allocation).
func sandboxLogger(l *slog.Logger, id string) *slog.Logger {
	if l.Handler() == slog.DiscardHandler {
		return l
	}
	return l.With("sandbox", id)
}

// generateID returns "daytona-sandbox-<base36 ms>-<6 random base36 chars>",
// the shape of Mastra's default ids.
func generateID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	suffix := make([]byte, 6)
	for i := range suffix {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			fault.Panic("crypto/rand failed: %v", err)
		}
		suffix[i] = alphabet[n.Int64()]
	}
	return "daytona-sandbox-" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + string(suffix)
}

// ID returns the sandbox's logical id: WithID's, or a generated one. A
// Sandbox attached with WithExistingSandbox and no WithID takes it from
// the remote sandbox's mastra-sandbox-id label when it starts (before
// that, ID returns the Daytona id), so that every Sandbox attached to one
// remote sandbox reports the same ID.
func (s *Sandbox) ID() string {
	if !s.made() {
		return ""
	}
	if !s.cfg.idFromLabel {
		return s.cfg.id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.labelID != "" {
		return s.labelID
	}
	return s.cfg.id
}

// Name returns "DaytonaSandbox", the implementation's name (WithName names
// the remote sandbox instead).
func (s *Sandbox) Name() string { return SandboxName }

// Provider returns "daytona".
func (s *Sandbox) Provider() string { return ProviderName }

// Status returns the lifecycle status. It makes no request.
func (s *Sandbox) Status() workspace.Status {
	if !s.made() {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// DaytonaID returns the Daytona id of the remote sandbox once one was
// found or created (empty before). Persist it and pass it to
// WithExistingSandbox to reconnect from another process.
func (s *Sandbox) DaytonaID() string {
	if !s.made() {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.daytonaID == "" {
		return s.cfg.existingID
	}
	return s.daytonaID
}

// RemoteName returns the name of the remote sandbox (WithName, default the
// ID).
func (s *Sandbox) RemoteName() string {
	if !s.made() {
		return ""
	}
	return s.cfg.name
}

// Instance returns the Daytona SDK's sandbox, for features this package
// does not wrap (git, LSP; for files, use Filesystem). It returns an error
// matching ErrNotReady unless the sandbox is running (or, on the Sandbox a
// hook is given, while the hook runs). The SDK's Sandbox is not safe for
// concurrent use; do not call its lifecycle methods (Start, Stop, Delete)
// behind this Sandbox's back.
func (s *Sandbox) Instance() (*sdk.Sandbox, error) {
	if !s.made() {
		return nil, invalid("Instance on a Sandbox that was not made by daytona.New (use daytona.New)")
	}
	if r, ok := s.bound(); ok {
		return r.TB.SDK(), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remote == nil || s.status != workspace.StatusRunning {
		return nil, s.notReadyLocked()
	}
	return s.remote.TB.SDK(), nil
}

// check reports misuse before it can reach a request or a goroutine: a
// Sandbox not made by New is an error matching ErrInvalidInput; a nil ctx
// panics at the call, with a message saying so (as net/http does).
func (s *Sandbox) check(ctx context.Context, op string) error {
	if ctx == nil {
		fault.Panic("%s called with a nil Context", op)
	}
	if !s.made() {
		return invalid("%s on a Sandbox that was not made by daytona.New (use daytona.New)", op)
	}
	return nil
}

func (s *Sandbox) notReadyLocked() error {
	if s.destroyed {
		return fault.Errorf("sandbox %s was destroyed: %w", s.cfg.id, ErrNotReady)
	}
	return fault.Errorf("sandbox %s is %s: %w", s.cfg.id, s.status, ErrNotReady)
}

// SetEnv replaces the runtime environment overlay that later commands see:
// update receives a copy of the current overlay (which starts as WithEnv's
// variables) and returns the new one. Per-call ExecOptions.Env still wins.
// Invalid names are rejected and the overlay is left unchanged.
func (s *Sandbox) SetEnv(update func(env map[string]string) map[string]string) error {
	if err := s.check(context.Background(), "SetEnv"); err != nil {
		return err
	}
	if update == nil {
		return invalid("SetEnv: nil update function")
	}
	next := update(s.Env())
	for k, v := range next {
		if !validEnvName(k) {
			return invalid("SetEnv: invalid environment variable name %q", k)
		}
		if containsNUL(v) {
			return invalid("SetEnv: value of %s contains a NUL byte", k)
		}
	}
	s.mu.Lock()
	s.envOverlay = maps.Clone(next)
	s.mu.Unlock()
	return nil
}

// Env returns a copy of the environment overlay that commands see.
func (s *Sandbox) Env() map[string]string {
	if !s.made() {
		return map[string]string{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.envOverlay == nil {
		return map[string]string{}
	}
	return maps.Clone(s.envOverlay)
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validEnvName reports whether name can be exported by a POSIX shell.
func validEnvName(name string) bool { return envNameRE.MatchString(name) }

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
