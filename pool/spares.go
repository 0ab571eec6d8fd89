package pool

// Spares: started sandboxes of this replica that belong to no key, kept at
// the number WithSpares asks for by a background loop that creates one at
// a time, rests after repeated failures, and refreshes their activity so
// that Daytona's auto-stop leaves them running.

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/agentworkspace/daytona"
)

// spareFailLimit is how many creations of spares may fail in a row before
// the refill rests for the cool-down.
const spareFailLimit = 3

// takeSpare removes a ready spare from the pool's list, or returns nil.
func (p *Pool) takeSpare() *spare {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.spares)
	if n == 0 {
		return nil
	}
	s := p.spares[n-1] // the most recently made: the least likely to have stopped
	p.spares = p.spares[:n-1]
	return s
}

// adoptSpare makes the spare s e's sandbox, moving its capacity to e.
func (p *Pool) adoptSpare(e *entry, s *spare) {
	p.mu.Lock()
	e.sb, e.id, e.name, e.state = s.sb, s.id, s.name, stateStarted
	dupStarted, dupTotal := e.heldStarted, e.heldTotal
	e.heldStarted, e.heldTotal = true, true
	p.mu.Unlock()
	if dupStarted || dupTotal {
		p.cap.release(b2i(dupStarted), b2i(dupTotal))
	}
}

// discardSpare destroys a spare that could not be claimed.
func (p *Pool) discardSpare(s *spare, err error) {
	p.log.Warn("pool.spare: could not claim a spare; discarding it", "sandbox", s.name, "err", err)
	if !errors.Is(err, daytona.ErrSandboxNotFound) {
		p.destroySandbox(s.sb, s.name)
	}
	p.cap.release(1, 1)
	p.nudgeRefill()
}

// nudgeRefill wakes the refill loop.
func (p *Pool) nudgeRefill() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// refillLoop keeps the spares at the target until the pool closes. After
// a failed creation it waits (1 s, doubling) before the next, and after
// spareFailLimit failures in a row it rests for the cool-down; being
// nudged (a spare was taken) does not shorten either wait.
func (p *Pool) refillLoop() {
	defer p.bg.Done()
	var r refill
	r.reset(p.cfg.coolDown)
	for {
		now := p.cfg.clock.Now()
		wait := p.touchSpares(now)
		switch {
		case now.Before(r.restUntil):
			wait = min(wait, r.restUntil.Sub(now))
			p.log.Debug("pool.spare: resting", "until", r.restUntil)
		case now.Before(r.retryAt):
			wait = min(wait, r.retryAt.Sub(now))
		case p.spareWanted():
			err := p.makeSpare()
			if err == nil {
				r.reset(p.cfg.coolDown)
				continue
			}
			if p.isClosed() {
				return
			}
			p.stats.failures.Add(1)
			r.failed(p, p.cfg.clock.Now(), err)
			continue
		}
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-p.cfg.clock.After(wait):
		}
	}
}

// refill is the pacing of the refill loop after failures.
type refill struct {
	failures           int
	pause, coolDown    time.Duration
	retryAt, restUntil time.Time
}

func (r *refill) reset(coolDown time.Duration) {
	*r = refill{pause: time.Second, coolDown: coolDown}
}

// failed records a failed creation at now: the next waits for the pause,
// or for the cool-down after spareFailLimit failures in a row.
func (r *refill) failed(p *Pool, now time.Time, err error) {
	r.failures++
	p.log.Warn("pool.spare: could not create a spare", "failures", r.failures, "err", err)
	if r.failures >= spareFailLimit {
		r.reset(r.coolDown)
		r.restUntil = now.Add(r.coolDown)
		p.log.Warn("pool.spare: resting after repeated failures", "for", r.coolDown)
		return
	}
	r.retryAt = now.Add(r.pause)
	r.pause = min(r.pause*2, r.coolDown)
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// spareWanted reports whether a spare is missing and there is room for
// it; if so, it counts one being made and takes its capacity.
func (p *Pool) spareWanted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.spares)+p.making >= p.cfg.spares || !p.cap.tryAcquire(1, 1) {
		return false
	}
	p.making++
	return true
}

// makeSpare creates one spare (counted by spareWanted) and adds it.
func (p *Pool) makeSpare() error {
	ctx := p.bgCtx
	name := p.spareName()
	rec, err := p.create(ctx, name, p.spareLabels())
	if errors.Is(err, errAgain) {
		// The name is taken: by this very spare, if an earlier attempt
		// went through although its answer was lost.
		if rec, err = p.client.Lookup(ctx, name); err == nil && !p.isMySpare(rec) {
			rec, err = nil, errors.New("the name of a new spare was taken")
		}
	}
	var sb *daytona.Sandbox
	if err == nil {
		p.stats.creates.Add(1)
		sb, err = p.newSandbox(rec.ID, rec.Name)
	}
	if err == nil {
		err = sb.Start(ctx)
	}
	p.mu.Lock()
	p.making--
	if err == nil && !p.closed {
		p.spares = append(p.spares, &spare{sb: sb, id: rec.ID, name: rec.Name, touchedAt: p.cfg.clock.Now()})
		p.mu.Unlock()
		p.log.Info("pool.spare: ready", "sandbox", name)
		return nil
	}
	p.mu.Unlock()
	p.cap.release(1, 1)
	if sb != nil || rec != nil {
		p.destroyByID(context.WithoutCancel(ctx), idOf(rec), name)
	}
	if err == nil {
		return errClosed
	}
	return err
}

// isMySpare reports whether r is labelled as a spare of this replica.
func (p *Pool) isMySpare(r *daytona.RemoteSandbox) bool {
	return r.Labels[labelPool] == p.cfg.name && r.Labels[labelRole] == roleSpare && r.Labels[labelReplica] == p.cfg.replica
}

func idOf(r *daytona.RemoteSandbox) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// touchSpares refreshes the activity of the spares due (every half of the
// auto-stop interval), so that Daytona does not stop them, and returns how
// long until the next is due. A spare found gone is dropped.
func (p *Pool) touchSpares(now time.Time) time.Duration {
	every := p.touchEvery()
	p.mu.Lock()
	var due []*spare
	next := every
	for _, s := range p.spares {
		if left := s.touchedAt.Add(every).Sub(now); left <= 0 {
			due = append(due, s)
			s.touchedAt = now
		} else {
			next = min(next, left)
		}
	}
	p.mu.Unlock()
	for _, s := range due {
		err := s.sb.Touch(p.bgCtx)
		p.log.Debug("pool.spare: touched", "sandbox", s.name, "err", err)
		if err != nil && errors.Is(err, daytona.ErrSandboxNotFound) {
			p.mu.Lock()
			n := len(p.spares)
			p.spares = slices.DeleteFunc(p.spares, func(x *spare) bool { return x == s })
			gone := n != len(p.spares)
			p.mu.Unlock()
			if gone {
				p.cap.release(1, 1)
				p.log.Warn("pool.spare: a spare disappeared", "sandbox", s.name)
			}
		}
	}
	return next
}

// touchEvery is how often spares are touched: half the auto-stop interval
// the pool sets, or an hour without auto-stop.
func (p *Pool) touchEvery() time.Duration {
	if p.cfg.idle.Park <= 0 {
		return time.Hour
	}
	return max((p.cfg.idle.Park+time.Minute-1)/time.Minute*time.Minute/2, time.Second)
}

// destroySandbox deletes sb's remote sandbox, logging a failure.
func (p *Pool) destroySandbox(sb *daytona.Sandbox, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := sb.Destroy(ctx); err != nil {
		p.log.Warn("pool.destroy failed", "sandbox", name, "err", err)
		return
	}
	p.stats.destroys.Add(1)
	p.log.Info("pool.destroy", "sandbox", name)
}

// destroyByID deletes the remote sandbox id (by name if id is empty).
func (p *Pool) destroyByID(ctx context.Context, id, name string) {
	ref := id
	if ref == "" {
		ref = name
	}
	sb, err := p.newSandbox(ref, name)
	if err != nil {
		return
	}
	if err := sb.Destroy(ctx); err != nil {
		p.log.Warn("pool.destroy failed", "sandbox", name, "err", err)
		return
	}
	p.stats.destroys.Add(1)
	p.log.Info("pool.destroy", "sandbox", name)
}
