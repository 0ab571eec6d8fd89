//go:build unix

package daytonatest

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Rate limiting of the lifecycle routes, as the API's "sandbox-lifecycle"
// throttler does it when an operator configures one: delete, recover,
// start, stop, pause and archive (@ThrottlerScope('sandbox-lifecycle'),
// apps/api/src/sandbox/controllers/sandbox.controller.ts:400, 434, 486,
// 528, 574, 1135 @v0.190.0; 404, 438, 490, 530, 1102 @v0.173.0) share one
// counter per organization (AuthenticatedRateLimitGuard,
// apps/api/src/common/guards/authenticated-rate-limit.guard.ts:31-53),
// counted by @nestjs/throttler 6.4.0's guard (dist/throttler.guard.js:
// 101-134) in Redis (@nest-lab/throttler-storage-redis 1.1.0,
// src/throttler-storage-redis.service.js): a window opens at the first
// request; the request that goes over the limit blocks the route for one
// window, and every request meanwhile is a 429 with Retry-After-
// sandbox-lifecycle; when the block ends, counting starts again. The
// guard runs before the sandbox is looked up, so requests for unknown
// sandboxes count too.

// lifecycleOps are the operations of the lifecycle routes.
var lifecycleOps = map[Op]bool{OpStart: true, OpStop: true, OpDelete: true, OpArchive: true, OpRecover: true, OpPause: true}

// rateLimit is the part of config WithLifecycleRateLimit sets.
type rateLimit struct {
	limit  int           // requests per window; 0: no limit
	window time.Duration // the window, and how long going over blocks
}

// WithLifecycleRateLimit limits the lifecycle routes (start, stop, delete,
// archive, recover, pause) to limit requests per window, all sandboxes
// together, as Daytona's API does with its sandbox-lifecycle throttler
// configured (RATE_LIMIT_SANDBOX_LIFECYCLE_LIMIT and _TTL,
// apps/api/src/config/configuration.ts:273-280 @v0.190.0): going over is a
// 429 "ThrottlerException: Too Many Requests" with a
// Retry-After-sandbox-lifecycle header (seconds), for one window. Answers
// within the limit carry X-RateLimit-Limit-sandbox-lifecycle,
// X-RateLimit-Remaining-sandbox-lifecycle and
// X-RateLimit-Reset-sandbox-lifecycle. The default is no limit.
func WithLifecycleRateLimit(limit int, window time.Duration) Option {
	return checked(limit >= 1 && window >= time.Millisecond, func(c *config) { c.rateLimit = rateLimit{limit, window} },
		"daytonatest: WithLifecycleRateLimit(%d, %v): want a limit of at least 1 and a window of at least 1ms", limit, window)
}

// throttle is the counter of one throttler: the Redis keys of the
// storage's script, hits and blocked.
type throttle struct {
	mu          sync.Mutex
	hits        int
	hitsExpire  time.Time
	blockExpire time.Time
}

// increment counts a request at now, as the storage's script does, and
// says whether the route is blocked and for how long the window and the
// block last.
func (t *throttle) increment(now time.Time, rl rateLimit) (hits int, toExpire time.Duration, blocked bool, toBlock time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !now.Before(t.hitsExpire) {
		t.hits, t.hitsExpire = 0, now.Add(rl.window)
	}
	t.hits++
	switch {
	case now.Before(t.blockExpire):
		blocked, toBlock = true, t.blockExpire.Sub(now)
	case t.hits > rl.limit:
		t.blockExpire = now.Add(rl.window)
		blocked, toBlock = true, rl.window
	}
	return t.hits, t.hitsExpire.Sub(now), blocked, toBlock
}

// seconds is a duration in whole seconds, rounded up, as the storage
// reports it (Math.ceil(ms / 1000)).
func seconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// throttled counts a request of op against the lifecycle limit, if op is
// a lifecycle route and a limit is set: it sets the guard's headers, and
// answers 429 and returns true if the route is blocked.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, op Op) bool {
	rl := s.cfg.rateLimit
	if rl.limit == 0 || !lifecycleOps[op] {
		return false
	}
	hits, toExpire, blocked, toBlock := s.lifecycleThrottle.increment(time.Now(), rl)
	const suffix = "-sandbox-lifecycle"
	h := w.Header()
	if blocked {
		h.Set("Retry-After"+suffix, seconds(toBlock))
		writeAPIError(w, r, http.StatusTooManyRequests, "ThrottlerException: Too Many Requests")
		return true
	}
	h.Set("X-RateLimit-Limit"+suffix, strconv.Itoa(rl.limit))
	h.Set("X-RateLimit-Remaining"+suffix, strconv.Itoa(max(0, rl.limit-hits)))
	h.Set("X-RateLimit-Reset"+suffix, seconds(toExpire))
	return false
}
