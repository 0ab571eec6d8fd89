package pool

// Finding a key's sandbox, and giving a key its first one, through
// Daytona alone. Every replica follows the same protocol:
//
//  1. Look: GET the key's name and list the sandboxes labelled with its
//     hash, at once. A sandbox whose claim is complete is the key's: attach
//     to it. A claim in progress (another replica's, younger than
//     pendingTimeout) is waited for.
//  2. Claim: label a spare of this replica for the key ("pending", with a
//     token), or create a sandbox under the key's name already so
//     labelled. A name that is taken (409) sends us back to 1.
//  3. Check: look again. If any other sandbox is labelled for the key,
//     back off: hand the candidate back as a spare and go to 1 after a
//     random pause. Otherwise complete the claim ("ok").
//
// Two claims cannot both complete when the list shows what was written
// before it was read: the later of two claimers sees the earlier one's
// label in step 3 (both may back off; the random pause breaks the tie).
// Creation under the key's name is exclusive in any case (Daytona's names
// are unique); only a spare's claim relies on the list, which Daytona
// serves from a search index, eventually consistent: see the package
// documentation.

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
)

// pendingTimeout is how long a claim in progress is waited for; an older
// one was abandoned (its replica died), and never served a lease.
const pendingTimeout = 30 * time.Second

// Pauses of the protocol (system time: they pace requests).
const (
	retryMin = 20 * time.Millisecond
	retryMax = 2 * time.Second
)

// findings is what a look (step 1 or 3) found for one key.
type findings struct {
	ok      []daytona.RemoteSandbox // claims complete, alive
	dead    []daytona.RemoteSandbox // claims complete, dead
	pending []daytona.RemoteSandbox // claims in progress by others, fresh
	mine    *daytona.RemoteSandbox  // a pending claim with our token
	// abandoned are pending claims of this replica from an earlier
	// attempt (a key's claims run one at a time in a replica): never used.
	abandoned []daytona.RemoteSandbox
	// nameTaken: the key's name is held by a sandbox that is not the key's.
	nameTaken bool
}

// others returns the sandboxes other than id that the key may be using or
// about to use.
func (f *findings) others(id string) int {
	n := 0
	for _, r := range append(f.ok, f.pending...) {
		if r.ID != id {
			n++
		}
	}
	return n
}

// look gets the key's name and lists its labels at once.
func (p *Pool) look(ctx context.Context, h, tok string) (findings, error) {
	var (
		wg      sync.WaitGroup
		byName  *daytona.RemoteSandbox
		nameErr error
		listed  []daytona.RemoteSandbox
		listErr error
		name    = p.keyName(h)
		filter  = map[string]string{labelPool: p.cfg.name, labelRole: roleKey, labelKey: h}
	)
	wg.Go(func() { byName, nameErr = p.client.Lookup(ctx, name) })
	wg.Go(func() { listed, listErr = p.client.List(ctx, filter) })
	wg.Wait()
	if nameErr != nil && !errors.Is(nameErr, daytona.ErrSandboxNotFound) {
		return findings{}, nameErr
	}
	if listErr != nil {
		return findings{}, listErr
	}
	var f findings
	seen := map[string]bool{}
	if byName != nil {
		if p.isKeys(byName, h) {
			listed = append(listed, *byName)
		} else {
			f.nameTaken = true
		}
	}
	for i := range listed {
		r := listed[i]
		if seen[r.ID] || !p.isKeys(&r, h) {
			continue
		}
		seen[r.ID] = true
		p.sortFinding(&f, r, tok)
	}
	return f, nil
}

// isKeys reports whether r is labelled as the sandbox of the key h.
func (p *Pool) isKeys(r *daytona.RemoteSandbox, h string) bool {
	return r.Labels[labelPool] == p.cfg.name && r.Labels[labelRole] == roleKey && r.Labels[labelKey] == h
}

func (p *Pool) sortFinding(f *findings, r daytona.RemoteSandbox, tok string) {
	switch {
	case r.Labels[labelClaim] == claimOK && r.Dead():
		f.dead = append(f.dead, r)
	case r.Labels[labelClaim] == claimOK:
		f.ok = append(f.ok, r)
	case r.Labels[labelToken] == tok && !r.Dead():
		f.mine = &r
	case r.Dead():
	case r.Labels[labelReplica] == p.cfg.replica:
		f.abandoned = append(f.abandoned, r)
	case time.Since(tokenTime(r.Labels[labelToken])) < pendingTimeout:
		f.pending = append(f.pending, r)
	}
}

// pick returns the sandbox of a key that has more than one: the claim
// with the smallest token (the earliest), the same on every replica.
func (p *Pool) pick(h string, ok []daytona.RemoteSandbox) daytona.RemoteSandbox {
	best := ok[0]
	for _, r := range ok[1:] {
		if r.Labels[labelToken] < best.Labels[labelToken] || (r.Labels[labelToken] == best.Labels[labelToken] && r.ID < best.ID) {
			best = r
		}
	}
	if len(ok) > 1 {
		p.stats.conflicts.Add(1)
		p.log.Warn("pool.conflict: the key has more than one sandbox; using the earliest claim", "key", h, "sandboxes", len(ok), "sandbox", best.Name)
	}
	return best
}

// resolve finds the sandbox of e's key, or gives the key one, and attaches
// e to it. A new sandbox gets the name prefer if given (a replacement
// keeps its predecessor's), else the key's name.
func (p *Pool) resolve(ctx context.Context, e *entry, prefer string) error {
	tok := p.newToken()
	pause := backoff{next: retryMin, max: retryMax}
	for {
		f, err := p.look(ctx, e.hash, tok)
		if err != nil {
			if !p.transient(err) || pause.wait(ctx) != nil {
				return err
			}
			continue
		}
		done, err := p.resolveOnce(ctx, e, f, tok, prefer)
		if err != nil && !errors.Is(err, errAgain) {
			p.abandonClaim(ctx, e.hash, tok)
			return err
		}
		if done {
			return nil
		}
		if err := pause.waitJitter(ctx); err != nil {
			return err
		}
	}
}

// resolveOnce acts on one look: attach, wait, or claim. done is false when
// the look must be repeated.
func (p *Pool) resolveOnce(ctx context.Context, e *entry, f findings, tok, prefer string) (done bool, err error) {
	switch {
	case len(f.ok) > 0:
		err := p.attach(ctx, e, p.pick(e.hash, f.ok))
		if errors.Is(err, daytona.ErrSandboxNotFound) {
			return false, errAgain
		}
		return err == nil, err
	case f.mine != nil:
		// Our create went through although its answer was lost.
		if err := p.attach(ctx, e, *f.mine); err != nil {
			return false, err
		}
		return p.settle(ctx, e, claimed{sb: e.sb, id: f.mine.ID, name: f.mine.Name}, tok)
	case len(f.pending) > 0:
		return false, errAgain
	}
	for _, d := range f.dead {
		if prefer == "" {
			prefer = d.Name
		}
		p.destroyByID(ctx, d.ID, d.Name)
	}
	for _, a := range f.abandoned {
		p.destroyByID(ctx, a.ID, a.Name)
	}
	name := prefer
	if name == "" {
		name = p.keyName(e.hash)
		if f.nameTaken {
			name += "-" + randomID(6)
		}
	}
	c, err := p.claim(ctx, e, tok, name, prefer != "")
	if err != nil {
		return false, err
	}
	return p.settle(ctx, e, c, tok)
}

// abandonClaim destroys what a failed resolve may have left labelled as
// a claim in progress (with token tok), so that other replicas need not
// wait for it to grow stale. It runs on its own short deadline: ctx may
// be what ended the resolve.
func (p *Pool) abandonClaim(ctx context.Context, h, tok string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	f, err := p.look(ctx, h, tok)
	if err != nil || f.mine == nil {
		return
	}
	p.log.Info("pool.abandon: clearing a claim left half-way", "key", h, "sandbox", f.mine.Name)
	p.destroyByID(ctx, f.mine.ID, f.mine.Name)
}

// abandonTimeout bounds abandonClaim.
const abandonTimeout = 10 * time.Second

// claimed is a sandbox labelled for a key, its claim not yet complete.
type claimed struct {
	sb        *daytona.Sandbox
	id, name  string
	fromSpare bool
}

// claim labels a spare of this replica for e's key, or creates a sandbox
// so labelled under name (always, for a replacement: it keeps its
// predecessor's name). A taken name is errAgain.
func (p *Pool) claim(ctx context.Context, e *entry, tok, name string, replacement bool) (claimed, error) {
	labels := p.keyLabels(e.hash, tok, claimPending)
	for !replacement {
		s := p.takeSpare()
		if s == nil {
			break
		}
		err := s.sb.SetLabels(ctx, labels)
		if err == nil {
			p.adoptSpare(e, s)
			return claimed{sb: s.sb, id: s.id, name: s.name, fromSpare: true}, nil
		}
		p.discardSpare(s, err)
		if ctx.Err() != nil {
			return claimed{}, err
		}
	}
	if err := p.need(ctx, e, true, true); err != nil {
		return claimed{}, err
	}
	rec, err := p.create(ctx, name, labels)
	if err != nil {
		p.drop(e, true, false)
		return claimed{}, err
	}
	p.stats.creates.Add(1)
	if err := p.attach(ctx, e, *rec); err != nil {
		return claimed{}, err
	}
	return claimed{sb: e.sb, id: rec.ID, name: rec.Name}, nil
}

// create creates a sandbox named name with labels, repeating the request
// on transient failures (under the same name: a repeat that finds the
// name taken means the first went through). A taken name is errAgain.
func (p *Pool) create(ctx context.Context, name string, labels map[string]string) (*daytona.RemoteSandbox, error) {
	pause := backoff{next: retryMin * 5, max: retryMax * 5}
	for {
		started := time.Now()
		rec, err := p.client.Create(ctx, daytona.WithName(name), daytona.WithID(name), daytona.WithLabels(labels))
		switch {
		case err == nil:
			p.log.Info("pool.create", "key", labels[labelKey], "sandbox", name, "took", time.Since(started))
			return rec, nil
		case daytona.StatusCode(err) == http.StatusConflict:
			return nil, errAgain
		case !p.transient(err):
			return nil, err
		}
		p.stats.failures.Add(1)
		p.log.Warn("pool.create failed; trying again", "sandbox", name, "err", err)
		if pause.wait(ctx) != nil {
			return nil, err
		}
	}
}

// settle is step 3: it completes c's claim if no other sandbox is
// labelled for the key, and otherwise hands c back and reports not done
// (or attaches to the other sandbox, if its claim is complete).
func (p *Pool) settle(ctx context.Context, e *entry, c claimed, tok string) (done bool, err error) {
	f, err := p.look(ctx, e.hash, tok)
	if err == nil && f.others(c.id) == 0 {
		if err = c.sb.SetLabels(ctx, p.keyLabels(e.hash, tok, claimOK)); err == nil {
			p.claimDone(e, c)
			return true, nil
		}
	}
	// Someone else claims the key, or we cannot tell: hand c back.
	p.yield(ctx, e, c)
	if err != nil {
		if p.transient(err) {
			return false, errAgain
		}
		return false, err
	}
	p.stats.yields.Add(1)
	p.log.Info("pool.yield: another sandbox claims the key; backing off", "key", e.hash, "sandbox", c.name)
	if len(f.ok) > 0 {
		err := p.attach(ctx, e, p.pick(e.hash, f.ok))
		return err == nil, err
	}
	return false, errAgain
}

// claimDone records e's completed claim on c.
func (p *Pool) claimDone(e *entry, c claimed) {
	if c.fromSpare {
		p.stats.spareHits.Add(1)
	} else {
		p.stats.spareMisses.Add(1)
	}
	p.log.Info("pool.claim", "key", e.hash, "sandbox", c.name, "spare", c.fromSpare)
	p.nudgeRefill()
}

// yield hands a candidate back: it becomes a spare of this replica again
// (or is destroyed if there are enough), and e lets go of it.
func (p *Pool) yield(ctx context.Context, e *entry, c claimed) {
	p.mu.Lock()
	e.sb, e.id, e.name = nil, "", ""
	p.mu.Unlock()
	p.setState(e, stateNone)
	p.drop(e, true, true)
	err := c.sb.SetLabels(ctx, p.spareLabels())
	p.mu.Lock()
	keep := err == nil && !p.closed && len(p.spares)+p.making < p.cfg.spares
	if keep {
		p.spares = append(p.spares, &spare{sb: c.sb, id: c.id, name: c.name, touchedAt: p.cfg.clock.Now()})
	}
	p.mu.Unlock()
	if keep {
		p.cap.force(1, 1)
		return
	}
	p.destroySandbox(c.sb, c.name)
}

// attach makes e use the sandbox rec describes: a Sandbox attached to it
// by id, started (and so woken, if it was parked).
func (p *Pool) attach(ctx context.Context, e *entry, rec daytona.RemoteSandbox) error {
	sb, err := p.newSandbox(rec.ID, rec.Name)
	if err != nil {
		return err
	}
	if rec.Running() {
		p.setState(e, stateStarted) // it runs already: count it
	} else if err := p.need(ctx, e, true, true); err != nil {
		return err
	}
	if err := sb.Start(ctx); err != nil {
		p.drop(e, true, false)
		return err
	}
	p.mu.Lock()
	e.sb, e.id, e.name = sb, rec.ID, rec.Name
	p.mu.Unlock()
	p.setState(e, stateStarted)
	if !rec.Running() {
		p.stats.wakes.Add(1)
		p.log.Info("pool.wake", "key", e.hash, "sandbox", rec.Name)
	}
	return nil
}

// transient reports a failure worth another try after a pause: the
// service busy (429, 502, 503, 504) or no answer.
func (p *Pool) transient(err error) bool {
	switch daytona.StatusCode(err) {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 0:
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
			!errors.Is(err, daytona.ErrInvalidInput) && !errors.Is(err, daytona.ErrNoCredentials) &&
			!errors.Is(err, ErrClosed)
	}
	return false
}

// backoff is a pause that doubles up to max.
type backoff struct{ next, max time.Duration }

func (b *backoff) wait(ctx context.Context) error {
	return b.sleep(ctx, b.next)
}

// waitJitter pauses for a random part of the current delay, so that two
// replicas that backed off at once do not come back at once.
func (b *backoff) waitJitter(ctx context.Context) error {
	return b.sleep(ctx, time.Duration(rand.Int64N(int64(b.next))+1))
}

func (b *backoff) sleep(ctx context.Context, d time.Duration) error {
	b.next = min(b.next*2, b.max)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
