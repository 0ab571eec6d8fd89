package pool

// Adoption at Open: the sandboxes that carry the pool's label, left by
// earlier runs of this service (a restart, a crash) or made by its other
// replicas.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
)

// adopt lists the pool's sandboxes and takes over what is this Pool's to
// take: every key's sandbox (as a record; it is attached on the key's
// first Acquire), this replica's running spares, and the garbage (spares
// that no longer run, claims abandoned half-way), destroyed in the
// background.
func (p *Pool) adopt(ctx context.Context) error {
	all, err := p.client.List(ctx, map[string]string{labelPool: p.cfg.name})
	if err != nil {
		return fmt.Errorf("pool: list the sandboxes of pool %s: %w", p.cfg.name, err)
	}
	byKey := map[string][]daytona.RemoteSandbox{}
	for _, r := range all {
		switch {
		case r.Labels[labelPool] != p.cfg.name:
		case r.Labels[labelRole] == roleSpare:
			p.adoptSpareRecord(r)
		case r.Labels[labelRole] != roleKey || r.Labels[labelKey] == "":
		case r.Labels[labelClaim] == claimOK && !r.Dead():
			byKey[r.Labels[labelKey]] = append(byKey[r.Labels[labelKey]], r)
		case r.Labels[labelClaim] == claimOK:
			// Dead: replaced (under its name) on the key's next Acquire.
			h := r.Labels[labelKey]
			if p.entries[h] == nil {
				p.entries[h] = &entry{hash: h, name: r.Name, state: stateDead}
			}
		case time.Since(tokenTime(r.Labels[labelToken])) >= pendingTimeout:
			p.garbage = append(p.garbage, r) // abandoned claim: garbage
		}
	}
	now, wall := p.cfg.clock.Now(), time.Now()
	for h, rs := range byKey {
		r := p.pick(h, rs)
		e := &entry{hash: h, id: r.ID, name: r.Name, lastUsed: now, releasedWall: wall}
		p.entries[h] = e
		switch {
		case r.Running():
			p.setState(e, stateStarted)
		case r.State == "archived":
			p.setState(e, stateArchived)
		default:
			p.setState(e, stateParked)
		}
	}
	p.log.Info("pool.open", "sandboxes", len(all), "keys", len(byKey), "spares", p.making, "garbage", len(p.garbage))
	return nil
}

// adoptSpareRecord takes a spare found at Open: one of this replica that
// runs is attached by the refill loop; one that does not run, of any
// replica, is garbage.
func (p *Pool) adoptSpareRecord(r daytona.RemoteSandbox) {
	mine := r.Labels[labelReplica] == p.cfg.replica
	switch {
	case mine && !r.Parked() && !r.Dead():
		p.making++
		p.cap.force(1, 1)
		p.pendingSpares = append(p.pendingSpares, r)
	case r.Parked() || (mine && r.Dead()):
		p.garbage = append(p.garbage, r)
	}
}

// settleAdopted runs in the background after Open: it attaches the
// adopted spares and destroys the garbage.
func (p *Pool) settleAdopted() {
	defer p.bg.Done()
	p.mu.Lock()
	spares, garbage := p.pendingSpares, p.garbage
	p.pendingSpares, p.garbage = nil, nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, r := range garbage {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p.destroyByID(p.bgCtx, r.ID, r.Name)
		})
	}
	for _, r := range spares {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p.attachSpare(r)
		})
	}
	wg.Wait()
	p.nudgeRefill()
}

// attachSpare starts a spare adopted at Open and adds it to the ready
// ones; one that fails is destroyed.
func (p *Pool) attachSpare(r daytona.RemoteSandbox) {
	sb, err := p.newSandbox(r.ID, r.Name)
	if err == nil {
		err = sb.Start(p.bgCtx)
	}
	p.mu.Lock()
	p.making--
	ok := err == nil && !p.closed
	if ok {
		p.spares = append(p.spares, &spare{sb: sb, id: r.ID, name: r.Name, touchedAt: p.cfg.clock.Now()})
	}
	p.mu.Unlock()
	if ok {
		p.log.Info("pool.spare: adopted", "sandbox", r.Name)
		return
	}
	p.cap.release(1, 1)
	p.log.Warn("pool.spare: could not adopt a spare; destroying it", "sandbox", r.Name, "err", err)
	p.destroyByID(context.WithoutCancel(p.bgCtx), r.ID, r.Name)
}
