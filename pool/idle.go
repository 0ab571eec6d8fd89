package pool

// The idle policy (park, archive, destroy sandboxes nobody holds a lease
// on, after the periods of Idle) and making room under the caps.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/workspace"
)

// activityGuard is how much later than this Pool's last release Daytona's
// last activity of a sandbox may be and still count as this Pool's own
// (the session upkeep of a released Sandbox goes on for a minute): later
// activity means another replica used the sandbox, and it is not parked.
const activityGuard = 2 * time.Minute

// sweepJobs is how many parks, archives and destroys a sweep runs at once.
const sweepJobs = 16

// action is what a sweep does to an idle sandbox.
type action int

const (
	actPark action = iota
	actArchive
	actDestroy
)

func (a action) String() string { return [...]string{"park", "archive", "destroy"}[a] }

type job struct {
	e   *entry
	act action
	f   *flight
}

// sweepEvery is how often the sweep runs: an eighth of the shortest idle
// period, between a millisecond and 30 seconds.
func (p *Pool) sweepEvery() time.Duration {
	every := 30 * time.Second
	for _, d := range []time.Duration{p.cfg.idle.Park, p.cfg.idle.Archive, p.cfg.idle.Destroy} {
		if d > 0 {
			every = min(every, d/8)
		}
	}
	return max(every, time.Millisecond)
}

// sweepLoop runs the sweep, and makes room when asked, until the pool
// closes.
func (p *Pool) sweepLoop() {
	defer p.bg.Done()
	every := p.sweepEvery()
	for {
		var tick <-chan time.Time
		if !p.cfg.manualSweeps {
			tick = p.cfg.clock.After(every)
		}
		select {
		case <-p.done:
			return
		case <-p.room:
			p.makeRoom(p.bgCtx)
		case <-tick:
			p.sweep(p.bgCtx)
		}
	}
}

// sweep applies the idle policy once, at the Pool's clock's time, and
// parks what is over the started cap.
func (p *Pool) sweep(ctx context.Context) {
	p.sweepMu.Lock()
	defer p.sweepMu.Unlock()
	p.runJobs(ctx, p.dueJobs(p.cfg.clock.Now()))
	p.makeRoom(ctx)
}

// dueJobs picks the entries whose idle period is over, marking them busy.
func (p *Pool) dueJobs(now time.Time) []job {
	idle := p.cfg.idle
	p.mu.Lock()
	defer p.mu.Unlock()
	var jobs []job
	for _, e := range p.entries {
		if e.leases > 0 || e.busy != nil || len(e.waiters) > 0 || e.state == stateNone || e.state == stateDead {
			continue
		}
		d := now.Sub(e.lastUsed)
		var act action
		switch {
		case idle.Destroy > 0 && d >= idle.Destroy:
			act = actDestroy
		case idle.Archive > 0 && d >= idle.Archive && e.state != stateArchived:
			act = actArchive
		case idle.Park > 0 && d >= idle.Park && e.state == stateStarted:
			act = actPark
		default:
			continue
		}
		e.busy = newFlight()
		jobs = append(jobs, job{e: e, act: act, f: e.busy})
	}
	return jobs
}

// runJobs runs jobs, sweepJobs at a time.
func (p *Pool) runJobs(ctx context.Context, jobs []job) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, sweepJobs)
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p.runJob(ctx, j)
		})
	}
	wg.Wait()
}

func (p *Pool) runJob(ctx context.Context, j job) {
	var err error
	switch j.act {
	case actPark:
		_, err = p.park(ctx, j.e)
	case actArchive:
		err = p.archive(ctx, j.e)
	case actDestroy:
		err = p.destroy(ctx, j.e, true)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		p.stats.failures.Add(1)
		p.log.Warn("pool."+j.act.String()+" failed", "key", j.e.hash, "sandbox", j.e.name, "err", err)
	}
	p.mu.Lock()
	j.e.busy = nil
	p.mu.Unlock()
	close(j.f.done)
}

// value returns e's Sandbox, making one attached to its remote sandbox if
// this process has none yet (an entry adopted at Open).
func (p *Pool) value(e *entry) (*daytona.Sandbox, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.sb != nil {
		return e.sb, nil
	}
	sb, err := p.newSandbox(e.id, e.name)
	if err != nil {
		return nil, err
	}
	e.sb = sb
	return sb, nil
}

// inUseElsewhere asks Daytona about e's sandbox and reports whether it
// runs and was used after this Pool let go of it (by another replica), in
// which case it is left running and counted as used now. A sandbox that
// is gone is forgotten; one that is parked already is recorded so.
func (p *Pool) inUseElsewhere(ctx context.Context, e *entry, sb *daytona.Sandbox) (skip bool, err error) {
	rec, err := sb.Refresh(ctx)
	switch {
	case errors.Is(err, daytona.ErrSandboxNotFound):
		p.forget(e)
		return true, nil
	case err != nil:
		return true, err
	case rec.Dead():
		p.setState(e, stateDead)
		return true, nil
	case rec.State == "archived":
		p.setState(e, stateArchived)
		return true, nil
	case rec.Parked():
		p.setState(e, stateParked)
		return true, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.LastActivityAt.After(e.releasedWall.Add(activityGuard)) {
		e.lastUsed, e.releasedWall = p.cfg.clock.Now(), rec.LastActivityAt
		p.log.Info("pool.park skipped: used by another replica", "key", e.hash, "sandbox", e.name)
		return true, nil
	}
	return false, nil
}

// park stops e's sandbox if it runs and nobody else used it lately, and
// reports whether it stopped it.
func (p *Pool) park(ctx context.Context, e *entry) (bool, error) {
	sb, err := p.value(e)
	if err != nil {
		return false, err
	}
	if skip, err := p.inUseElsewhere(ctx, e, sb); skip || err != nil {
		return false, err
	}
	if sb.Status() != workspace.StatusRunning {
		// Adopted: attach first, to hold what Stop stops.
		if err := sb.Start(ctx); err != nil {
			return false, err
		}
	}
	started := time.Now()
	if err := sb.Stop(ctx); err != nil {
		return false, err
	}
	p.setState(e, stateParked)
	p.stats.parks.Add(1)
	p.log.Info("pool.park", "key", e.hash, "sandbox", e.name, "took", time.Since(started))
	return true, nil
}

// archive archives e's sandbox (parking it first if it runs).
func (p *Pool) archive(ctx context.Context, e *entry) error {
	if e.state == stateStarted {
		if stopped, err := p.park(ctx, e); !stopped || err != nil {
			return err
		}
	}
	sb, err := p.value(e)
	if err != nil {
		return err
	}
	started := time.Now()
	if err := sb.Archive(ctx); err != nil {
		if errors.Is(err, daytona.ErrSandboxNotFound) {
			p.forget(e)
			return nil
		}
		return err
	}
	p.setState(e, stateArchived)
	p.stats.archives.Add(1)
	p.log.Info("pool.archive", "key", e.hash, "sandbox", e.name, "took", time.Since(started))
	return nil
}

// destroy deletes e's sandbox and forgets e. With guard, a running
// sandbox another replica used lately is spared.
func (p *Pool) destroy(ctx context.Context, e *entry, guard bool) error {
	sb, err := p.value(e)
	if err != nil {
		return err
	}
	if guard && e.state == stateStarted {
		skip, err := p.inUseElsewhere(ctx, e, sb)
		if err != nil {
			return err
		}
		if skip && (e.state == stateStarted || e.state == stateNone) {
			return nil // used by another replica lately, or gone already
		}
	}
	if err := sb.Destroy(ctx); err != nil {
		return err
	}
	p.forget(e)
	p.stats.destroys.Add(1)
	p.log.Info("pool.destroy", "key", e.hash, "sandbox", e.name)
	return nil
}

// forget drops e (its sandbox is gone) and gives back its capacity.
func (p *Pool) forget(e *entry) {
	p.mu.Lock()
	if p.entries[e.hash] == e && e.leases == 0 {
		delete(p.entries, e.hash)
	}
	e.sb, e.id, e.state = nil, "", stateNone
	p.mu.Unlock()
	p.drop(e, true, true)
}

// makeRoomLater asks the sweep loop to make room (an Acquire waits for
// capacity).
func (p *Pool) makeRoomLater() {
	select {
	case p.room <- struct{}{}:
	default:
	}
}

// makeRoom parks the least recently used idle sandboxes, or destroys
// spares, while an Acquire waits for capacity or more sandboxes run than
// the cap allows.
func (p *Pool) makeRoom(ctx context.Context) {
	skipped := map[*entry]bool{}
	for ctx.Err() == nil {
		over, waiting, wantStarted, _ := p.cap.pressure()
		if over == 0 && waiting == 0 {
			return
		}
		if s := p.takeSpare(); s != nil {
			p.destroySandbox(s.sb, s.name)
			p.cap.release(1, 1)
			continue
		}
		if over == 0 && !wantStarted {
			return // only total is short: wait for Idle.Destroy
		}
		e, f := p.leastRecentlyUsed(skipped)
		if e == nil {
			return
		}
		stopped, err := p.park(ctx, e)
		if err != nil {
			p.log.Warn("pool.park failed", "key", e.hash, "err", err)
		}
		if !stopped {
			skipped[e] = true
		}
		p.mu.Lock()
		e.busy = nil
		p.mu.Unlock()
		close(f.done)
	}
}

// leastRecentlyUsed returns the started entry nobody holds or waits for
// that was released longest ago (not one of skip), marked busy.
func (p *Pool) leastRecentlyUsed(skip map[*entry]bool) (*entry, *flight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lru *entry
	for _, e := range p.entries {
		if e.state != stateStarted || e.leases > 0 || e.busy != nil || len(e.waiters) > 0 || skip[e] {
			continue
		}
		if lru == nil || e.lastUsed.Before(lru.lastUsed) {
			lru = e
		}
	}
	if lru == nil {
		return nil, nil
	}
	lru.busy = newFlight()
	return lru, lru.busy
}
