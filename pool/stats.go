package pool

import "sync/atomic"

// Stats is a snapshot of a Pool: how many sandboxes it knows in each
// state, and what it did since Open.
type Stats struct {
	// Keyed sandboxes by state. Leased ones run and have a lease held;
	// Idle ones run and have none.
	Leased, Idle, Parked, Archived, Dead int
	// Spares ready, and being made.
	Spares, SparesMaking int
	// Started and Total are what counts against the caps (spares
	// included); Waiting is how many Acquires wait for capacity now.
	Started, Total, Waiting int

	// SpareHits and SpareMisses count new keys given a spare, and given a
	// sandbox created for them.
	SpareHits, SpareMisses int64
	// WarmHits counts Acquires of an idle running sandbox (one request);
	// LocalHits those that shared a lease already held (no request).
	WarmHits, LocalHits int64
	// Waits counts Acquires that waited: for capacity, or for a lease.
	Waits int64
	// Creates counts sandboxes created (keyed and spares).
	Creates int64
	// Parks, Wakes, Archives and Destroys count those steps.
	Parks, Wakes, Archives, Destroys int64
	// Replaced counts sandboxes replaced because they died.
	Replaced int64
	// Yields counts claims of a key given up because another sandbox
	// claimed it at the same time; Conflicts counts keys found with more
	// than one sandbox (see the package documentation).
	Yields, Conflicts int64
	// Failures counts failed steps: Acquires, creates, parks, ...
	Failures int64
}

// counters are the running totals behind Stats.
type counters struct {
	spareHits, spareMisses, warmHits, localHits, waits, creates atomic.Int64
	parks, wakes, archives, destroys, replaced, yields          atomic.Int64
	conflicts, failures                                         atomic.Int64
}

// Stats returns a snapshot of the Pool's state and counters. It makes no
// request: the states are what the Pool last saw.
func (p *Pool) Stats() Stats {
	var s Stats
	if p == nil || p.entries == nil {
		return s
	}
	p.mu.Lock()
	for _, e := range p.entries {
		switch e.state {
		case stateStarted:
			if e.leases > 0 {
				s.Leased++
			} else {
				s.Idle++
			}
		case stateParked:
			s.Parked++
		case stateArchived:
			s.Archived++
		case stateDead:
			s.Dead++
		}
	}
	s.Spares, s.SparesMaking = len(p.spares), p.making
	p.mu.Unlock()
	s.Started, s.Total = p.cap.counts()
	_, s.Waiting, _, _ = p.cap.pressure()
	c := &p.stats
	s.SpareHits, s.SpareMisses = c.spareHits.Load(), c.spareMisses.Load()
	s.WarmHits, s.LocalHits, s.Waits, s.Creates = c.warmHits.Load(), c.localHits.Load(), c.waits.Load(), c.creates.Load()
	s.Parks, s.Wakes, s.Archives, s.Destroys = c.parks.Load(), c.wakes.Load(), c.archives.Load(), c.destroys.Load()
	s.Replaced, s.Yields, s.Conflicts, s.Failures = c.replaced.Load(), c.yields.Load(), c.conflicts.Load(), c.failures.Load()
	return s
}
