package pool

import "context"

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
