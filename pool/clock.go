package pool

import "time"

// Clock is the time the Pool reads: when a lease was released, when an
// idle period ends, when the refill's cool-down is over. WithClock
// replaces the system clock, so that a test or a simulation can let hours
// pass in an instant.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// realClock is the system clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
