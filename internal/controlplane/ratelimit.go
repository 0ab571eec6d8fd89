package controlplane

import (
	"context"
	"net/http"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/retry"
)

// Rate limits. The API answers 429 when an organization goes over one of
// its throttlers: the sandbox-lifecycle throttler covers start, stop,
// delete, archive, recover and pause (@ThrottlerScope('sandbox-lifecycle'),
// apps/api/src/sandbox/controllers/sandbox.controller.ts @v0.190.0), and
// others cover creation and everything else, each with a
// Retry-After-{throttler} header in seconds (@nestjs/throttler 6.4.0,
// dist/throttler.guard.js:118-128). The TypeScript SDK does not retry
// them (@daytonaio/sdk 0.218.0, its RetryAdapter never retries on an
// answer); a start or an end that gives up at the first 429 leaves the
// caller with nothing to do but wait, so the lifecycle waits here.
const (
	// rateLimitMin and rateLimitMax pace the tries after a 429 that says
	// nothing of how long to wait.
	rateLimitMin = 500 * time.Millisecond
	rateLimitMax = 10 * time.Second
)

// throttled calls f, a request of the lifecycle (what, for sandbox id),
// again while the API answers 429: after the wait the answer's
// Retry-After headers ask for, else after a backoff, for as long as ctx
// lasts. A wait that would outlast ctx's deadline is not begun: the 429 is
// returned at once.
func (c *Client) throttled(ctx context.Context, what, id string, f func() error) error {
	b := retry.Backoff{Next: rateLimitMin, Max: rateLimitMax}
	for {
		err := f()
		if apierr.StatusCode(err) != http.StatusTooManyRequests {
			return err
		}
		wait := apierr.RetryAfter(err, time.Now())
		if wait <= 0 {
			wait = b.Next
			b.Next = min(2*b.Next, b.Max)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err
		}
		c.log.Debug("rate limited; waiting", "op", what, "sandbox", id, "wait", wait)
		if retry.Sleep(ctx, wait) != nil {
			return err
		}
	}
}
