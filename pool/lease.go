package pool

// Leases: sharing a key's sandbox, waiting in line for it, releasing it.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
)

// leaseWaiter is an Acquire waiting for the leases held on its key.
type leaseWaiter struct {
	excl    bool
	ready   chan struct{}
	granted bool
}

// Lease is the right to use a key's sandbox until Release. Several
// leases of one key share its sandbox, unless one is exclusive.
type Lease struct {
	p    *Pool
	e    *entry
	sb   *daytona.Sandbox
	key  string
	excl bool
	once sync.Once
}

// Format prints the lease as pool.Lease(<hash of the key> <sandbox
// name>), whatever the verb: the key itself (a user's identity) never
// shows.
func (l *Lease) Format(f fmt.State, _ rune) {
	if l == nil || l.e == nil {
		fmt.Fprint(f, "pool.Lease(nil)")
		return
	}
	fmt.Fprintf(f, "pool.Lease(%s %s)", l.e.hash, l.sb.RemoteName())
}

// Sandbox returns the key's sandbox, started when Acquire returned.
// A nil or zero Lease (not made by Acquire) has none.
func (l *Lease) Sandbox() *daytona.Sandbox {
	if l == nil {
		return nil
	}
	return l.sb
}

// Key returns the key the lease was acquired for.
func (l *Lease) Key() string {
	if l == nil {
		return ""
	}
	return l.key
}

// Exclusive reports whether the lease is the only one on its key.
func (l *Lease) Exclusive() bool { return l != nil && l.excl }

// Release gives the lease back; the sandbox is idle once its last lease
// is released (the idle policy counts from then). It is idempotent.
func (l *Lease) Release() {
	if l == nil || l.p == nil {
		return
	}
	l.once.Do(func() {
		p := l.p
		p.mu.Lock()
		p.releaseLocked(l.e, l.excl)
		p.mu.Unlock()
	})
}

// releaseLocked ends one lease of e, then hands e to those waiting.
func (p *Pool) releaseLocked(e *entry, excl bool) {
	e.leases--
	p.doneUsingLocked()
	if excl {
		e.excl = false
	}
	if e.leases == 0 {
		e.lastUsed = p.cfg.clock.Now()
		e.releasedWall = time.Now()
		if len(e.waiters) == 0 {
			p.makeRoomLater() // an Acquire may wait for what this one can give
		}
	}
	p.handoffLocked(e)
}

// doneUsingLocked counts a lease or activation less, and tells a Close
// waiting for them all when the last ends.
func (p *Pool) doneUsingLocked() {
	p.inUse--
	if p.inUse == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
}

// handoffLocked grants leases to the waiters at the head of e's line: one
// exclusive waiter once nobody holds e, or every shared waiter up to the
// next exclusive one unless an exclusive lease is held.
func (p *Pool) handoffLocked(e *entry) {
	for len(e.waiters) > 0 {
		w := e.waiters[0]
		switch {
		case w.excl && e.leases == 0:
			e.leases, e.excl = 1, true
		case !w.excl && !e.excl:
			e.leases++
		default:
			return
		}
		e.waiters = e.waiters[1:]
		w.granted = true
		p.inUse++
		close(w.ready)
		if w.excl {
			return
		}
	}
}

// joinLocked is called with p.mu held and e leased: it shares the lease,
// or waits in e's line for one. It unlocks p.mu.
func (p *Pool) joinLocked(ctx context.Context, e *entry, key string, excl bool) (*Lease, error) {
	if !excl && !e.excl && len(e.waiters) == 0 {
		e.leases++
		p.inUse++
		sb := e.sb
		p.mu.Unlock()
		p.stats.localHits.Add(1)
		return &Lease{p: p, e: e, sb: sb, key: key}, nil
	}
	w := &leaseWaiter{excl: excl, ready: make(chan struct{})}
	e.waiters = append(e.waiters, w)
	p.mu.Unlock()
	p.stats.waits.Add(1)
	p.log.Debug("pool.wait: for the leases on the key", "key", e.hash, "exclusive", excl)
	select {
	case <-w.ready:
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.granted {
		if ctx.Err() != nil {
			p.releaseLocked(e, excl)
			return nil, ctx.Err()
		}
		return &Lease{p: p, e: e, sb: e.sb, key: key, excl: excl}, nil
	}
	e.waiters = slices.DeleteFunc(e.waiters, func(x *leaseWaiter) bool { return x == w })
	if p.closed {
		return nil, ErrClosed
	}
	return nil, ctx.Err()
}
