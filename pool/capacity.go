package pool

import (
	"context"
	"sync"
)

// capacity counts the sandboxes a Pool has started and holds, against its
// caps (0: none), and makes those who need more than is left wait in line:
// the first to wait is the first served, and nobody passes a waiter ahead
// of them, so that a stream of small needs cannot starve a large one.
type capacity struct {
	maxStarted, maxTotal int

	mu             sync.Mutex // guards the fields below
	started, total int
	queue          []*capWaiter
	closed         bool
}

// capWaiter is one wait in line.
type capWaiter struct {
	started, total int
	ready          chan struct{} // closed when served (granted) or the pool closed
	granted        bool
}

// fitsLocked reports whether started and total more fit under the caps.
func (c *capacity) fitsLocked(started, total int) bool {
	return (c.maxStarted == 0 || c.started+started <= c.maxStarted) &&
		(c.maxTotal == 0 || c.total+total <= c.maxTotal)
}

// acquire takes started and total, waiting in line until they fit or ctx
// ends. queued is called (without the lock held) if it has to wait, so
// that the pool can make room. It returns errClosed if the pool closes
// first, and reports whether it waited.
func (c *capacity) acquire(ctx context.Context, started, total int, queued func()) (waited bool, err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false, errClosed
	}
	if len(c.queue) == 0 && c.fitsLocked(started, total) {
		c.started += started
		c.total += total
		c.mu.Unlock()
		return false, nil
	}
	w := &capWaiter{started: started, total: total, ready: make(chan struct{})}
	c.queue = append(c.queue, w)
	c.mu.Unlock()
	if queued != nil {
		queued()
	}
	select {
	case <-w.ready:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.granted {
		if ctx.Err() != nil {
			// Served as ctx ended: give it back.
			c.releaseLocked(started, total)
			return true, ctx.Err()
		}
		return true, nil
	}
	c.removeLocked(w)
	if c.closed {
		return true, errClosed
	}
	return true, ctx.Err()
}

// tryAcquire takes started and total if they fit now and nobody waits.
func (c *capacity) tryAcquire(started, total int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.queue) > 0 || !c.fitsLocked(started, total) {
		return false
	}
	c.started += started
	c.total += total
	return true
}

// force counts started and total whatever the caps: for sandboxes that
// run or exist already (adopted, or started by another replica).
func (c *capacity) force(started, total int) {
	c.mu.Lock()
	c.started += started
	c.total += total
	c.mu.Unlock()
}

// release gives back started and total, and serves the waiters they fit.
func (c *capacity) release(started, total int) {
	c.mu.Lock()
	c.releaseLocked(started, total)
	c.mu.Unlock()
}

func (c *capacity) releaseLocked(started, total int) {
	c.started -= started
	c.total -= total
	for len(c.queue) > 0 && c.fitsLocked(c.queue[0].started, c.queue[0].total) {
		w := c.queue[0]
		c.queue = c.queue[1:]
		c.started += w.started
		c.total += w.total
		w.granted = true
		close(w.ready)
	}
}

func (c *capacity) removeLocked(w *capWaiter) {
	for i, q := range c.queue {
		if q == w {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			break
		}
	}
	// The head may fit now that w no longer blocks it.
	c.releaseLocked(0, 0)
}

// over returns how many more started sandboxes there are than the cap
// allows, and how many waiters want some.
func (c *capacity) pressure() (overStarted int, waiting int, wantStarted bool, wantTotal bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.maxStarted > 0 && c.started > c.maxStarted {
		overStarted = c.started - c.maxStarted
	}
	for _, w := range c.queue {
		wantStarted = wantStarted || w.started > 0
		wantTotal = wantTotal || w.total > 0
	}
	return overStarted, len(c.queue), wantStarted, wantTotal
}

// counts returns the sandboxes counted as started and held.
func (c *capacity) counts() (started, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started, c.total
}

// close makes every waiter and later acquire fail with errClosed.
func (c *capacity) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, w := range c.queue {
		close(w.ready)
	}
	c.queue = nil
}
