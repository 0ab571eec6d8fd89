package daytona

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/internal/fault"
)

// Keep-alive. Daytona stops a sandbox that has been idle for its
// auto-stop interval, and idle means no request through its proxy (or to
// the last-activity endpoint) for that long: a command running inside
// does not count (apps/api/src/sandbox/managers/sandbox.manager.ts:92-160,
// v0.173.0). Daytona's proxy refreshes activity every 50 s while a request
// through it stays open (apps/proxy/pkg/proxy/get_sandbox_target.go:309-356,
// since v0.137), so a command whose log is being followed usually keeps its
// sandbox alive; this package does not count on that (deployments without
// it, a log stream being reopened, a synchronous request): while a command
// or a background process of this Sandbox runs, it refreshes the
// sandbox's activity itself, every keep-alive interval.

// DefaultKeepAliveInterval is how often the activity of a sandbox running
// a command or process is refreshed: half of Daytona's shortest auto-stop
// interval (one minute).
const DefaultKeepAliveInterval = 30 * time.Second

// touchTimeout bounds one refresh of the activity.
const touchTimeout = 10 * time.Second

// WithKeepAlive(false) turns the keep-alive off: Daytona may then stop the
// sandbox while a long command or a background process runs in it, once
// nothing else has touched it for its auto-stop interval. It is on by
// default.
func WithKeepAlive(on bool) Option {
	return setOption(func(c *config) {
		switch {
		case !on:
			c.keepAlive = -1
		case c.keepAlive < 0:
			c.keepAlive = 0
		}
	})
}

// WithKeepAliveInterval sets how often the keep-alive refreshes the
// activity of a sandbox that runs a command or process (default
// DefaultKeepAliveInterval), and turns it on. It must be positive; keep it
// well under the sandbox's auto-stop interval.
func WithKeepAliveInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithKeepAliveInterval(%v): must be positive (use WithKeepAlive(false) to turn it off)", d)
		}
		c.keepAlive = d
		return nil
	}
}

// keeper refreshes a sandbox's activity while something runs in it. Its
// goroutine exists only while at least one command or process runs.
type keeper struct {
	mu     sync.Mutex         // guards the fields below
	n      int                // commands and processes running
	id     string             // the remote sandbox to refresh: the latest one held
	cancel context.CancelFunc // stops the refresher
}

// keepAlive registers a command or process running in r; the returned
// function, which must be called when it ends, unregisters it. The first
// one starts the refresher; the last one to end stops it.
func (s *Sandbox) keepAlive(id string) (release func()) {
	interval := s.cfg.keepAlive
	if interval < 0 {
		return func() {}
	}
	if interval == 0 {
		interval = DefaultKeepAliveInterval
	}
	k := &s.svc().keep
	k.mu.Lock()
	k.n++
	k.id = id
	if k.n == 1 {
		var ctx context.Context
		ctx, k.cancel = context.WithCancel(context.Background())
		go s.refreshActivity(ctx, interval)
	}
	k.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			k.mu.Lock()
			if k.n--; k.n == 0 {
				k.cancel()
			}
			k.mu.Unlock()
		})
	}
}

// refreshActivity refreshes the activity of the held sandbox every
// interval until ctx ends; a refresh in flight is abandoned then.
func (s *Sandbox) refreshActivity(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.svc().keep.mu.Lock()
		id := s.svc().keep.id
		s.svc().keep.mu.Unlock()
		if err := s.touch(ctx, id); err != nil && ctx.Err() == nil {
			s.log.Debug("could not refresh the sandbox's activity", "daytonaID", id, "err", err)
		}
	}
}

// touch refreshes the activity of the remote sandbox with this id.
func (s *Sandbox) touch(ctx context.Context, id string) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, touchTimeout)
	defer cancel()
	return c.Touch(ctx, id)
}

// SetAutoStopInterval changes how long the sandbox may stay idle before
// Daytona stops it (0 disables auto-stop), starting the sandbox if needed.
// Whole minutes only; a negative or fractional value is an error matching
// ErrInvalidInput, before any request. The interval lasts for the remote
// sandbox's life, beyond this Sandbox value.
func (s *Sandbox) SetAutoStopInterval(ctx context.Context, d time.Duration) error {
	if err := s.check(ctx, "SetAutoStopInterval"); err != nil {
		return err
	}
	if err := minutesOption("SetAutoStopInterval", d, func(*config) {})(nil); err != nil {
		return invalidErr(err)
	}
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.SetAutoStop(ctx, r.TB.ID(), int(d/time.Minute)); err != nil {
		return fault.WrapCtx(ctx, "set the auto-stop interval of sandbox "+r.TB.ID(), err)
	}
	s.log.Debug("auto-stop interval set", "daytonaID", r.TB.ID(), "interval", d)
	return nil
}
