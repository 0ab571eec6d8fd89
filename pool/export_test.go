package pool

import (
	"context"
	"time"
)

// Sweep runs the idle policy once, now (tests drive it with a manual
// clock).
func (p *Pool) Sweep(ctx context.Context) { p.sweep(ctx) }

// Crash stops the Pool's background work and forgets it, leaving every
// sandbox as it is: what a process that dies leaves behind.
func (p *Pool) Crash() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cap.close()
	close(p.done)
	p.bgStop()
	p.bg.Wait()
	p.release()
}

// AgeRelease makes the last release of key look d older to the guard
// against parking a sandbox another replica uses.
func (p *Pool) AgeRelease(key string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.entries[p.hashKey(key)]; e != nil {
		e.releasedWall = e.releasedWall.Add(-d)
	}
}

// WithManualSweeps makes the idle policy run only when Sweep is called, so
// that a test that moves a manual clock knows when it runs.
func WithManualSweeps() Option {
	return func(c *config) error {
		c.manualSweeps = true
		return nil
	}
}

// NudgeRefill wakes the refill loop, which then looks at the clock again.
func (p *Pool) NudgeRefill() { p.nudgeRefill() }
