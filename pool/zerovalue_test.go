package pool_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/internal/zerotest"
	"github.com/agentworkspace/daytona/pool"
)

// Issue #19 item 18: a nil or zero Pool or Lease refuses every call with
// an error matching daytona.ErrInvalidInput (or returns a zero value
// where the method returns no error), never panics, and prints.
func TestZeroAndNilPoolRefuseEverything(t *testing.T) {
	t.Parallel()
	for label, v := range map[string]any{
		"(*Pool)(nil)": (*pool.Pool)(nil), "&Pool{}": &pool.Pool{},
		"(*Lease)(nil)": (*pool.Lease)(nil), "&Lease{}": &pool.Lease{},
	} {
		zerotest.Walk(t, label, v, func(c zerotest.Call) {
			if err, ok := c.Err(); ok {
				if !errors.Is(err, daytona.ErrInvalidInput) {
					t.Errorf("%s: error %v, want one matching daytona.ErrInvalidInput", c.Label, err)
				}
				return
			}
			for _, r := range c.Results {
				if !r.IsZero() {
					t.Errorf("%s returned %v, want a zero value", c.Label, r)
				}
			}
		}, "Format", "Sweep", "Crash", "AgeRelease", "NudgeRefill")
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			if out := fmt.Sprintf(verb, v); out == "" {
				t.Errorf("%s printed nothing with %s", label, verb)
			}
		}
	}
}
