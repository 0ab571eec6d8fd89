package daytona

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/internal/mount"
	"github.com/agentworkspace/daytona/workspace"
)

// What a Sandbox does for long-running services, beside running commands:
// start and stop hooks (hooks.go), bucket mounts (mounts.go), keep-alive
// (keepalive.go), preview URLs (ports.go) and live figures (metrics.go).

var (
	_ workspace.SignedPortExposer = (*Sandbox)(nil)
	_ workspace.Mounter           = (*Sandbox)(nil)
)

// services is a Sandbox's state for the services, guarded by its own
// mutex (never held while s.mu is wanted).
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

// newServices returns the services state of a new Sandbox, behind a
// closure: fmt prints a func as an address whatever the verb, so printing
// a Sandbox never reads (nor races with) it, nor shows the credentials of
// its mounts.
func newServices() func() *services {
	sv := &services{}
	return func() *services { return sv }
}

// startKey marks the context of a start's own work (mounts, start hook):
// calls made with it reach the sandbox being started instead of waiting
// for that start.
type startKey struct{}

type startingRemote struct {
	s *Sandbox
	r *remote
}

// startingRemote returns the remote being started, for calls made from a
// start's own work (with the context it was given); else nil.
func (s *Sandbox) startingRemote(ctx context.Context) *remote {
	if v, ok := ctx.Value(startKey{}).(*startingRemote); ok && v.s == s {
		return v.r
	}
	return nil
}

// DefaultStartHookTimeout bounds the work done at each start after the
// remote sandbox runs: restoring mounts and the start hook.
const DefaultStartHookTimeout = 30 * time.Minute

// afterStart runs, inside a start, what must happen before anyone else
// uses the sandbox: the mounts are made again, then the start hook runs
// (with created true for a sandbox this start created, or one created by
// an earlier start whose start work failed). The other callers of the
// start wait for it. On failure the remote sandbox is left running, its
// Daytona id kept for the next start, and the error is a *StartHookError.
func (s *Sandbox) afterStart(ctx context.Context, r *remote, created bool) error {
	s.svc().mu.Lock()
	created = created || s.svc().unprovisioned
	mounts := append([]mount.Entry(nil), s.mountTableLocked()...)
	s.svc().mu.Unlock()
	if len(mounts) == 0 && s.cfg.onStart == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultStartHookTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, startKey{}, &startingRemote{s: s, r: r})
	failed, err := s.restoreMounts(ctx, mounts)
	if err == nil && s.cfg.onStart != nil {
		err = callHook("start hook", func() error { return s.cfg.onStart(ctx, s, created) })
	}
	s.svc().mu.Lock()
	s.svc().unprovisioned = err != nil && created
	s.svc().mu.Unlock()
	if err == nil {
		return nil
	}
	r.Pool.Close()
	s.mu.Lock()
	s.daytonaID = r.TB.ID()
	s.mu.Unlock()
	return &StartHookError{DaytonaID: r.TB.ID(), Created: created, Mount: failed, Err: err}
}

// callHook calls a user's hook, turning a panic into an error.
func callHook(what string, hook func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s panicked: %v\n%s", what, v, debug.Stack())
		}
	}()
	return hook()
}
