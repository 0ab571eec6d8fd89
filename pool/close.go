package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/agentworkspace/daytona"
)

// closeTimeout bounds the parks and destroys of Close.
const closeTimeout = 5 * time.Minute

// Close shuts the Pool down. Acquires waiting, and later ones, fail with
// ErrClosed. Close stops the background work, waits (until ctx ends) for
// the leases held to be released, then destroys this replica's spares and
// treats the keyed sandboxes as WithOnClose says: parks the running ones
// (not those another replica used lately), destroys every sandbox of the
// pool, or leaves them; those steps run on their own deadline (five
// minutes), even after ctx ends. A lease still held when ctx ends loses
// its sandbox to that treatment; Close then returns ctx's error with the
// others.
// Close is idempotent: later calls return nil at once. Close of a Pool not
// made by Open is an error matching daytona.ErrInvalidInput.
func (p *Pool) Close(ctx context.Context) error {
	if ctx == nil {
		panic("pool: Close called with a nil Context")
	}
	if p == nil || p.entries == nil {
		return errNotOpened("Close")
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	drained := make(chan struct{})
	if p.inUse == 0 {
		close(drained)
	} else {
		p.drained = drained
	}
	for _, e := range p.entries {
		for _, w := range e.waiters {
			close(w.ready)
		}
		e.waiters = nil
	}
	p.mu.Unlock()
	p.cap.close()
	close(p.done)
	p.bgStop()
	p.bg.Wait()
	defer p.release()

	var errs []error
	select {
	case <-drained:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("pool: Close: leases still held: %w", ctx.Err()))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	errs = append(errs, p.closeSpares(ctx)...)
	switch p.cfg.onClose {
	case ClosePark:
		errs = append(errs, p.parkAll(ctx)...)
	case CloseDestroy:
		errs = append(errs, p.destroyAll(ctx)...)
	}
	p.log.Info("pool.close", "action", p.cfg.onClose, "errors", len(errs))
	return errors.Join(errs...)
}

// closeSpares destroys this replica's spares.
func (p *Pool) closeSpares(ctx context.Context) []error {
	p.mu.Lock()
	spares := p.spares
	p.spares = nil
	p.mu.Unlock()
	return parallel(len(spares), func(i int) error {
		s := spares[i]
		if err := s.sb.Destroy(ctx); err != nil && !errors.Is(err, daytona.ErrSandboxNotFound) {
			return fmt.Errorf("pool: destroy spare %s: %w", s.name, err)
		}
		p.stats.destroys.Add(1)
		p.cap.release(1, 1)
		p.log.Info("pool.destroy", "sandbox", s.name, "spare", true)
		return nil
	})
}

// claimAll marks busy, and returns, the entries in one of states that
// nothing else works on (an activation that outlived Close's ctx does).
func (p *Pool) claimAll(states ...entryState) []job {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []job
	for _, e := range p.entries {
		if e.busy == nil && (e.sb != nil || e.id != "") && slices.Contains(states, e.state) {
			e.busy = newFlight()
			out = append(out, job{e: e, f: e.busy})
		}
	}
	return out
}

// finish ends the job of j.
func (p *Pool) finish(j job) {
	p.mu.Lock()
	j.e.busy = nil
	p.mu.Unlock()
	close(j.f.done)
}

// parkAll parks every running keyed sandbox not used elsewhere lately.
func (p *Pool) parkAll(ctx context.Context) []error {
	js := p.claimAll(stateStarted)
	return parallel(len(js), func(i int) error {
		defer p.finish(js[i])
		if _, err := p.park(ctx, js[i].e); err != nil {
			return fmt.Errorf("pool: park %s: %w", js[i].e.name, err)
		}
		return nil
	})
}

// destroyAll destroys every sandbox of the pool: those this Pool knows,
// then those the list shows (other replicas' included).
func (p *Pool) destroyAll(ctx context.Context) []error {
	js := p.claimAll(stateStarted, stateParked, stateArchived, stateDead)
	errs := parallel(len(js), func(i int) error {
		defer p.finish(js[i])
		if err := p.destroy(ctx, js[i].e, false); err != nil && !errors.Is(err, daytona.ErrSandboxNotFound) {
			return fmt.Errorf("pool: destroy %s: %w", js[i].e.name, err)
		}
		return nil
	})
	rest, err := p.client.List(ctx, map[string]string{labelPool: p.cfg.name})
	if err != nil {
		return append(errs, fmt.Errorf("pool: list the sandboxes left: %w", err))
	}
	return append(errs, parallel(len(rest), func(i int) error {
		r := rest[i]
		if r.State == "destroying" || r.State == "destroyed" {
			return nil
		}
		p.destroyByID(ctx, r.ID, r.Name)
		return nil
	})...)
}

// parallel runs f(0..n-1), sweepJobs at a time, and returns the errors.
func parallel(n int, f func(i int) error) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, sweepJobs)
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}
