package daytona

import (
	"context"
	"sync"
	"time"
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
// sandbox's activity itself, every keep-alive interval. Today's auto-pause
// counts idleness the same way. Nothing extends a hard end: a sandbox with
// a TTL is destroyed at its autoDestroyAt (GetInfo's Metadata) whatever
// its activity.

// DefaultKeepAliveInterval is how often the activity of a sandbox running
// a command or process is refreshed: half of Daytona's shortest auto-stop
// interval (one minute).
const DefaultKeepAliveInterval = 30 * time.Second

// touchTimeout bounds one refresh of the activity.
const touchTimeout = 10 * time.Second

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
