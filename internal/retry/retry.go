// Package retry holds the primitives of every wait in this module: a
// sleep that ends with its context, and a delay that doubles. The loops
// that use them, and their limits, live beside what they retry.
package retry

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends (then it returns ctx.Err()).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Backoff is a delay that doubles after each wait, from Next up to Max.
type Backoff struct {
	Next, Max time.Duration
}

// Wait sleeps for the current delay, then doubles it.
func (b *Backoff) Wait(ctx context.Context) error {
	err := Sleep(ctx, b.Next)
	b.Next = min(b.Next*2, b.Max)
	return err
}
