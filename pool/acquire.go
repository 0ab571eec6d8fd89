package pool

// Acquire, and what it does to make a key's sandbox run: check it, wake
// it, attach to it, replace it; and the capacity each step counts.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentworkspace/daytona"
)

// Acquire returns a lease on the sandbox of key, started. The first
// Acquire of a key finds its sandbox in Daytona (by name, then by labels)
// or, if it has none, takes a spare or creates one; later ones check that
// it still runs (one request), waking it if it was parked and replacing it
// if it died. An Acquire while another lease on the key is held in this
// Pool makes no request. It waits (in line, until ctx ends) while an
// exclusive lease is held, and while the Pool is at its caps.
func (p *Pool) Acquire(ctx context.Context, key string) (*Lease, error) {
	return p.acquire(ctx, key, false)
}

// AcquireExclusive is Acquire for a lease that no other lease of this
// Pool shares: it waits until every lease on key is released, and holds
// off later ones until it is released itself. Exclusivity holds within
// one Pool (one replica): Daytona offers nothing to hold a lock across
// replicas.
func (p *Pool) AcquireExclusive(ctx context.Context, key string) (*Lease, error) {
	return p.acquire(ctx, key, true)
}

func (p *Pool) acquire(ctx context.Context, key string, excl bool) (*Lease, error) {
	if ctx == nil {
		panic("pool: Acquire called with a nil Context")
	}
	if p == nil || p.entries == nil {
		return nil, errNotOpened("Acquire")
	}
	if key == "" {
		return nil, fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	h := p.hashKey(key)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		e := p.entries[h]
		if e == nil {
			e = &entry{hash: h}
			p.entries[h] = e
		}
		if f := e.busy; f != nil {
			p.mu.Unlock()
			if err := f.wait(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if e.leases > 0 {
			return p.joinLocked(ctx, e, key, excl)
		}
		f := newFlight()
		e.busy = f
		p.inUse++
		p.mu.Unlock()
		l, err := p.activateAndLease(ctx, e, key, excl, f)
		if errors.Is(err, errAgain) {
			continue
		}
		return l, err
	}
}

// errAgain asks acquire to look at the entry again.
var errAgain = errors.New("pool: again")

// activateAndLease runs the activation flight f of e, then leases e.
func (p *Pool) activateAndLease(ctx context.Context, e *entry, key string, excl bool, f *flight) (*Lease, error) {
	started := time.Now()
	err := p.activate(ctx, e)
	p.mu.Lock()
	defer p.mu.Unlock()
	e.busy = nil
	close(f.done)
	if err != nil || p.closed {
		p.doneUsingLocked()
	}
	if err != nil {
		if e.sb == nil && e.id == "" && e.state != stateDead {
			// Nothing came of it: forget the entry and what it counted.
			if p.entries[e.hash] == e && e.leases == 0 && len(e.waiters) == 0 {
				delete(p.entries, e.hash)
			}
			s, t := e.heldStarted, e.heldTotal
			e.heldStarted, e.heldTotal = false, false
			if s || t {
				p.cap.release(b2i(s), b2i(t))
			}
		}
		p.stats.failures.Add(1)
		p.log.Warn("pool.acquire failed", "key", e.hash, "err", err)
		return nil, err
	}
	if p.closed {
		return nil, ErrClosed
	}
	e.leases, e.excl = 1, excl
	e.releasedWall = time.Now() // used now: Daytona's activity from here on is ours
	p.log.Debug("pool.acquire", "key", e.hash, "sandbox", e.name, "took", time.Since(started))
	return &Lease{p: p, e: e, sb: e.sb, key: key, excl: excl}, nil
}

// activate makes e's sandbox run, as what is known of it requires, trying
// again after a pause when Daytona is busy or does not answer.
func (p *Pool) activate(ctx context.Context, e *entry) error {
	pause := backoff{next: retryMin, max: retryMax}
	for {
		err := p.activateOnce(ctx, e)
		if err == nil || !p.transient(err) {
			return err
		}
		p.stats.failures.Add(1)
		p.log.Warn("pool.acquire: trying again", "key", e.hash, "err", err)
		if pause.wait(ctx) != nil {
			return err
		}
	}
}

// activateOnce is one attempt of activate.
func (p *Pool) activateOnce(ctx context.Context, e *entry) error {
	switch {
	case e.sb != nil && e.state == stateStarted:
		return p.check(ctx, e)
	case e.sb != nil && (e.state == stateParked || e.state == stateArchived):
		return p.wakeUp(ctx, e)
	case e.state == stateDead:
		return p.replace(ctx, e)
	case e.id != "":
		return p.attachKnown(ctx, e)
	}
	return p.resolve(ctx, e, "")
}

// check asks Daytona whether e's sandbox, idle and believed running, still
// runs (one request), and wakes or replaces it if not.
func (p *Pool) check(ctx context.Context, e *entry) error {
	rec, err := e.sb.Refresh(ctx)
	switch {
	case errors.Is(err, daytona.ErrSandboxNotFound):
		return p.replace(ctx, e)
	case err != nil:
		return err
	case rec.Running():
		p.stats.warmHits.Add(1)
		return nil
	case rec.Dead():
		return p.replace(ctx, e)
	}
	p.setState(e, stateParked) // stopped behind the Pool's back, or on its way
	return p.wakeUp(ctx, e)
}

// wakeUp starts e's parked sandbox.
func (p *Pool) wakeUp(ctx context.Context, e *entry) error {
	if err := p.need(ctx, e, true, true); err != nil {
		return err
	}
	started := time.Now()
	if err := e.sb.Start(ctx); err != nil {
		if errors.Is(err, daytona.ErrSandboxNotFound) {
			return p.replace(ctx, e)
		}
		p.drop(e, true, false)
		return err
	}
	p.setState(e, stateStarted)
	p.stats.wakes.Add(1)
	p.log.Info("pool.wake", "key", e.hash, "sandbox", e.name, "took", time.Since(started))
	return nil
}

// attachKnown attaches e to the sandbox adopted at Open, by id.
func (p *Pool) attachKnown(ctx context.Context, e *entry) error {
	rec := daytona.RemoteSandbox{ID: e.id, Name: e.name, State: "stopped"}
	if e.state == stateStarted {
		rec.State = "started"
	}
	err := p.attach(ctx, e, rec)
	if errors.Is(err, daytona.ErrSandboxNotFound) {
		p.setState(e, stateDead)
		return p.replace(ctx, e)
	}
	return err
}

// replace gives e a new sandbox in place of one that died, under the same
// name where Daytona lets it be reused.
func (p *Pool) replace(ctx context.Context, e *entry) error {
	name := e.name
	if e.sb != nil {
		// Delete what is left of it (an error state), so the name frees.
		if err := e.sb.Destroy(ctx); err != nil {
			p.log.Warn("pool.replace: could not delete the dead sandbox", "key", e.hash, "sandbox", name, "err", err)
		}
	}
	p.mu.Lock()
	e.sb, e.id = nil, ""
	p.mu.Unlock()
	p.setState(e, stateDead)
	p.stats.replaced.Add(1)
	p.log.Info("pool.replace", "key", e.hash, "sandbox", name)
	return p.resolve(ctx, e, name)
}

// setState records e's state, counting it in p.cap: a started sandbox
// holds a started slot, any other none (a dead one keeps its total slot,
// for its replacement).
func (p *Pool) setState(e *entry, st entryState) {
	p.mu.Lock()
	e.state = st
	releaseStarted := e.heldStarted && st != stateStarted
	forceStarted := !e.heldStarted && st == stateStarted
	forceTotal := !e.heldTotal && st != stateNone && st != stateDead
	e.heldStarted = st == stateStarted
	e.heldTotal = e.heldTotal || forceTotal
	p.mu.Unlock()
	if releaseStarted {
		p.cap.release(1, 0)
	}
	if forceStarted || forceTotal {
		p.cap.force(b2i(forceStarted), b2i(forceTotal))
	}
}

// need takes, waiting in line if it must, the capacity e lacks to run
// (started) and to exist (total).
func (p *Pool) need(ctx context.Context, e *entry, started, total bool) error {
	p.mu.Lock()
	s := started && !e.heldStarted
	t := total && !e.heldTotal
	p.mu.Unlock()
	if !s && !t {
		return nil
	}
	waited, err := p.cap.acquire(ctx, b2i(s), b2i(t), func() {
		p.log.Debug("pool.wait: for capacity", "key", e.hash, "started", s, "total", t)
		p.makeRoomLater()
	})
	if waited {
		p.stats.waits.Add(1)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	e.heldStarted = e.heldStarted || s
	e.heldTotal = e.heldTotal || t
	p.mu.Unlock()
	return nil
}

// drop gives back e's capacity: started, and total if asked.
func (p *Pool) drop(e *entry, started, total bool) {
	p.mu.Lock()
	s := started && e.heldStarted
	t := total && e.heldTotal
	if s {
		e.heldStarted = false
	}
	if t {
		e.heldTotal = false
	}
	p.mu.Unlock()
	if s || t {
		p.cap.release(b2i(s), b2i(t))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
