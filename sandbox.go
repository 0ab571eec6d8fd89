package daytona

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"strconv"
	"sync"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"

	"github.com/agentworkspace/daytona/workspace"
)

// Provider and implementation names, as in Mastra.
const (
	ProviderName = "daytona"
	SandboxName  = "DaytonaSandbox"
)

// Lifecycle limits.
const (
	// startTimeout bounds one start (lookup, create or restart, waits).
	startTimeout = 5 * time.Minute
	// stopTimeout bounds one stop or destroy.
	stopTimeout = 2 * time.Minute
	// defaultWorkDir is reported before the sandbox has started.
	defaultWorkDir = "/home/daytona"
)

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
	cfg   config // immutable after New
	log   *slog.Logger
	bg    tracker // background session upkeep
	procs *ProcessManager

	mu         sync.Mutex // guards the fields below
	status     workspace.Status
	conn       *client // nil until first use
	remote     *remote // the running remote sandbox; nil unless running
	daytonaID  string  // id of the remote sandbox, kept across Stop
	createdAt  time.Time
	workDir    string
	facts      *sandboxFacts // from the record at the last start; nil before
	envOverlay map[string]string
	starting   *flight
	stopping   *flight
	destroying *flight
	labelID    string // the logical id read from the remote's label (cfg.idFromLabel)
	attempted  bool   // a start has been attempted
	destroyed  bool   // Destroy was called: only Destroy and GetInfo still work

	svc func() *services // hooks, mounts, keep-alive (services.go); a func, so that fmt never reads it
}

// flight is an operation in progress that concurrent callers share.
type flight struct {
	done chan struct{}
	err  error
}

// wait waits for the flight or for ctx.
func (f *flight) wait(ctx context.Context) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

var _ workspace.Sandbox = (*Sandbox)(nil)

// New returns a Sandbox configured by opts. It makes no network request:
// it only validates the options, returning an error that wraps
// ErrInvalidInput and names the option at fault. Connection settings are
// resolved, and missing credentials reported, on first use.
func New(opts ...Option) (*Sandbox, error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, invalid("option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("daytona: %w: %w", ErrInvalidInput, err)
		}
	}
	switch {
	case cfg.id == "" && cfg.existingID != "":
		// The logical id is the remote's label, read at start.
		cfg.id, cfg.idFromLabel = cfg.existingID, true
	case cfg.id == "":
		cfg.id = generateID()
	}
	if cfg.name == "" {
		cfg.name = cfg.id
		if cfg.idFromLabel {
			cfg.name = generateID() // for a sandbox WithCreateIfMissing creates
		}
	}
	s := &Sandbox{
		cfg:        cfg,
		log:        sandboxLogger(cfg.logger, cfg.id),
		status:     workspace.StatusPending,
		envOverlay: maps.Clone(cfg.env),
		svc:        newServices(),
	}
	s.procs = newProcessManager(s)
	if cfg.resources != nil && cfg.image == "" {
		s.log.Warn("WithResources has no effect without WithImage; the sandbox is created from a snapshot with default resources")
	}
	if cfg.snapshot != "" && cfg.image != "" {
		s.log.Debug("WithSnapshot takes precedence over WithImage", "snapshot", cfg.snapshot, "image", cfg.image)
	}
	return s, nil
}

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
			panic("daytona: crypto/rand failed: " + err.Error())
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// DaytonaID returns the Daytona id of the remote sandbox once one was
// found or created (empty before). Persist it and pass it to
// WithExistingSandbox to reconnect from another process.
func (s *Sandbox) DaytonaID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.daytonaID == "" {
		return s.cfg.existingID
	}
	return s.daytonaID
}

// RemoteName returns the name of the remote sandbox (WithName, default the
// ID).
func (s *Sandbox) RemoteName() string { return s.cfg.name }

// Instance returns the Daytona SDK's sandbox, for features this package
// does not wrap (git, LSP; for files, use Filesystem). It returns an error matching ErrNotReady
// unless the sandbox is running. The SDK's Sandbox is not safe for
// concurrent use; do not call its lifecycle methods (Start, Stop, Delete)
// behind this Sandbox's back.
func (s *Sandbox) Instance() (*sdk.Sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remote == nil || s.status != workspace.StatusRunning {
		return nil, s.notReadyLocked()
	}
	return s.remote.sb, nil
}

// check reports misuse before it can reach a request or a goroutine: a
// Sandbox not made by New is an error matching ErrInvalidInput; a nil ctx
// panics at the call, with a message saying so (as net/http does).
func (s *Sandbox) check(ctx context.Context, op string) error {
	if ctx == nil {
		panic("daytona: " + op + " called with a nil Context")
	}
	if s == nil || s.procs == nil {
		return invalid("%s on a Sandbox that was not made by daytona.New (use daytona.New)", op)
	}
	return nil
}

func (s *Sandbox) notReadyLocked() error {
	if s.destroyed {
		return fmt.Errorf("daytona: sandbox %s was destroyed: %w", s.cfg.id, ErrNotReady)
	}
	return fmt.Errorf("daytona: sandbox %s is %s: %w", s.cfg.id, s.status, ErrNotReady)
}

// Start finds or creates the remote sandbox and waits until it runs: it
// reconnects to the sandbox known by its Daytona id or name, restarting it
// if stopped or archived, and creates a new one if there is none (or only a
// dead one). Start is idempotent; concurrent calls share one start, which
// goes on if one caller's ctx ends; a failed start is not remembered, so the
// next call tries again.
func (s *Sandbox) Start(ctx context.Context) error {
	if err := s.check(ctx, "Start"); err != nil {
		return err
	}
	_, err := s.ensureRunning(ctx)
	return err
}

// ensureRunning returns the running remote sandbox, starting it if needed.
func (s *Sandbox) ensureRunning(ctx context.Context) (*remote, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("start", err)
	}
	if r := s.startingRemote(ctx); r != nil {
		return r, nil // a call from the start's own work (services.go)
	}
	for {
		s.mu.Lock()
		if s.destroyed {
			err := s.notReadyLocked()
			s.mu.Unlock()
			return nil, err
		}
		if s.remote != nil && s.status == workspace.StatusRunning {
			r := s.remote
			s.mu.Unlock()
			return r, nil
		}
		if f := s.stopping; f != nil {
			s.mu.Unlock()
			if err := f.wait(ctx); isContextErr(err) && ctx.Err() != nil {
				return nil, wrapErr("start", err)
			}
			continue
		}
		f := s.starting
		if f == nil {
			f = &flight{done: make(chan struct{})}
			s.starting = f
			s.status = workspace.StatusStarting
			s.attempted = true
			go s.runStart(context.WithoutCancel(ctx), f)
		}
		s.mu.Unlock()
		if err := f.wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, wrapErr("start", ctx.Err())
			}
			return nil, err
		}
	}
}

// runStart runs one shared start with its own deadline, independent of the
// callers' contexts.
func (s *Sandbox) runStart(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	started := time.Now()
	s.log.Debug("starting")
	a, err := s.acquire(ctx)
	if err == nil {
		a.r.pool = newSessionPool(s, a.r.sb)
		a.r.pool.warm(ctx)
		err = s.afterStart(ctx, a.r, a.created) // mounts, then the start hook (services.go)
	}
	err = s.explainRefusedKey(err)
	s.mu.Lock()
	s.starting = nil
	if err != nil {
		s.status = workspace.StatusError
		f.err = err
		s.log.Debug("start failed", "err", err)
	} else {
		r := a.r
		s.remote = r
		s.daytonaID = r.sb.ID
		s.createdAt = a.createdAt
		if a.workDir != "" {
			s.workDir = a.workDir
		}
		facts := r.facts
		s.facts = &facts
		if s.cfg.idFromLabel && a.logicalID != "" {
			s.labelID = a.logicalID
		}
		s.status = workspace.StatusRunning
		s.log.Debug("running", "daytonaID", r.sb.ID, "took", time.Since(started))
	}
	s.mu.Unlock()
	close(f.done)
}

// Stop stops the remote sandbox; its files stay, and a later Start (or
// lazy start) resumes it. An ephemeral sandbox is deleted by Daytona
// instead. Stop waits for a start in progress. It is idempotent: stopping a
// sandbox that is not running, or that Daytona no longer has, succeeds.
// Other failures are returned, but the Sandbox forgets the remote handle
// either way (its Daytona id is kept, for the next start). After Destroy it
// returns an error matching ErrNotReady.
func (s *Sandbox) Stop(ctx context.Context) error {
	if err := s.beforeEnd(ctx, "Stop", s.cfg.svc.onStop); err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.destroyed {
			err := s.notReadyLocked()
			s.mu.Unlock()
			return err
		}
		if f := s.stopping; f != nil {
			s.mu.Unlock()
			return f.wait(ctx)
		}
		if s.waitForLocked(ctx, s.starting) {
			if err := ctx.Err(); err != nil {
				return wrapErr("stop", err)
			}
			continue
		}
		r := s.remote
		if r == nil {
			// Nothing runs (never started, already stopped, or a failed
			// start): there is nothing to stop.
			s.status = workspace.StatusStopped
			s.mu.Unlock()
			return nil
		}
		s.remote = nil
		f := s.launchLocked(&s.stopping, workspace.StatusStopping)
		go s.end(ctx, f, r, func(ctx context.Context) error { return s.stopRemote(ctx, r) }, func(err error) {
			s.stopping = nil
			if err == nil {
				s.status = workspace.StatusStopped
			}
		})
		return f.wait(ctx)
	}
}

// Destroy deletes the remote sandbox and everything in it. It returns once
// Daytona has accepted the deletion (the sandbox may still be "destroying"
// for a moment), and waits for a start or stop in progress first. A
// sandbox that was never started is destroyed without any request; one
// whose start failed is looked up (by Daytona id or name) so that nothing
// created half-way is left behind. Destroy is idempotent and treats "not
// found" as success; other failures are returned, and a later Destroy tries
// again. After Destroy, every operation but Destroy and GetInfo returns an
// error matching ErrNotReady.
func (s *Sandbox) Destroy(ctx context.Context) error {
	if err := s.beforeEnd(ctx, "Destroy", s.cfg.svc.onDestroy); err != nil {
		return err
	}
	for {
		s.mu.Lock()
		if s.status == workspace.StatusDestroyed {
			s.mu.Unlock()
			return nil
		}
		if f := s.destroying; f != nil {
			s.mu.Unlock()
			return f.wait(ctx)
		}
		if s.waitForLocked(ctx, s.starting, s.stopping) {
			if err := ctx.Err(); err != nil {
				return wrapErr("destroy", err)
			}
			continue
		}
		s.destroyed = true
		r := s.remote
		s.remote = nil
		id := s.daytonaID
		if id == "" {
			id = s.cfg.existingID
		}
		if r == nil && id == "" && !s.attempted {
			// Never started: nothing can exist remotely.
			s.status = workspace.StatusDestroyed
			s.mu.Unlock()
			return nil
		}
		f := s.launchLocked(&s.destroying, workspace.StatusDestroying)
		go s.end(ctx, f, r, func(ctx context.Context) error { return s.deleteRemote(ctx, r, id) }, func(err error) {
			s.destroying = nil
			if err == nil {
				s.status = workspace.StatusDestroyed
				s.daytonaID = ""
			}
		})
		return f.wait(ctx)
	}
}

// launchLocked is called with s.mu held: it records a new flight in *slot,
// sets status and unlocks s.mu.
func (s *Sandbox) launchLocked(slot **flight, status workspace.Status) *flight {
	f := &flight{done: make(chan struct{})}
	*slot = f
	s.status = status
	s.mu.Unlock()
	return f
}

// waitForLocked is called with s.mu held. If one of flights is in
// progress, it unlocks s.mu, waits for that flight (or ctx) and returns
// true: the caller looks at the state again. Otherwise it returns false
// with s.mu still held.
func (s *Sandbox) waitForLocked(ctx context.Context, flights ...*flight) bool {
	for _, f := range flights {
		if f != nil {
			s.mu.Unlock()
			_ = f.wait(ctx)
			return true
		}
	}
	return false
}

// end is the part of Stop and Destroy that runs on its own, with its own
// deadline: it ends r's processes and session pool (if r is set), waits
// for background upkeep, then calls final (stop or delete the remote
// sandbox). settle records the outcome, with s.mu held; a failure also
// sets StatusError. Then f is done.
func (s *Sandbox) end(ctx context.Context, f *flight, r *remote, final func(context.Context) error, settle func(err error)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if r != nil {
		s.procs.endAll(r)
		r.pool.close()
	}
	s.bg.wait(ctx)
	err := s.explainRefusedKey(final(ctx))
	s.mu.Lock()
	settle(err)
	if err != nil {
		s.status = workspace.StatusError
		f.err = err
	}
	s.mu.Unlock()
	close(f.done)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.envOverlay == nil {
		return map[string]string{}
	}
	return maps.Clone(s.envOverlay)
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
