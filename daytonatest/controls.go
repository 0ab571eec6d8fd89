//go:build unix

package daytonatest

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// The test controls for Go: what a test can change behind the client's
// back, and what it can inspect. httpcontrols.go serves the same over HTTP.

// fault is a queued failure of one operation (see FailNext).
type fault struct {
	remaining int
	status    int
	message   string
	empty     bool // no body at all (FailNextEmpty)
	code      string
	proxy     bool
	text      bool
}

// Fault is an error answer for [Server.FailNextWith].
type Fault struct {
	Status  int // 400-599
	Message string
	// Code is the code of a toolbox answer's body (default: the status's
	// name, such as NOT_FOUND; today's daemon also answers
	// PROCESS_NOT_FOUND, SESSION_ENDED, ...: toolbox_errors.go).
	Code string
	// Proxy makes a toolbox answer the toolbox proxy's rather than the
	// daemon's: the same body, with source DAYTONA_PROXY in
	// [ServiceCurrent]. The proxy answers so for a sandbox that is not
	// running (400 "...Is the Sandbox started?") or no longer exists (401),
	// before the daemon sees the request (toolbox.go).
	Proxy bool
	// Text answers Message alone, as text/plain, the way Go's HTTP mux
	// answers a route it does not have ("404 page not found"): what a
	// daemon that no longer serves a route answers.
	Text bool
}

// FailNext makes the next n requests of op fail with the given HTTP status
// and message, in the error body shape of the service that owns op (the
// control plane or the toolbox). Requests fail after authentication and
// latency, before they have any effect. Calls for the same op queue up.
//
// An op that is not one of the Op constants (other than [OpUnknown]) is an
// error that lists the valid ones, and installs nothing; n <= 0 does
// nothing. A status outside 400-599 is a programming error: FailNext panics.
func (s *Server) FailNext(op Op, n, status int, message string) error {
	return s.queueFault(op, n, &fault{status: status, message: message})
}

// FailNextEmpty is [Server.FailNext] with a response that has no body at
// all, as Daytona's proxy answers 502 when the runner behind it fails
// (ctx.AbortWithStatus in the reverse proxy's error handler,
// libs/common-go/pkg/proxy/proxy.go:111-123 at v0.190.0).
func (s *Server) FailNextEmpty(op Op, n, status int) error {
	return s.queueFault(op, n, &fault{status: status, empty: true})
}

// FailNextWith is [Server.FailNext] with the answer f describes: a code,
// the toolbox proxy's answer, or plain text.
func (s *Server) FailNextWith(op Op, n int, f Fault) error {
	return s.queueFault(op, n, &fault{status: f.Status, message: f.Message, code: f.Code, proxy: f.Proxy, text: f.Text})
}

// queueFault queues f for the next n requests of op.
func (s *Server) queueFault(op Op, n int, f *fault) error {
	if err := checkOp(op); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	if f.status < 400 || f.status > 599 {
		panic(fmt.Sprintf("daytonatest: FailNext: status %d is not an HTTP error status", f.status))
	}
	f.remaining = n
	s.mu.Lock()
	s.faults[op] = append(s.faults[op], f)
	s.mu.Unlock()
	return nil
}

// ClearFaults removes every pending fault, stream and download cut, and
// the exit-code races (queued ones and the rate).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	clear(s.faults)
	s.cuts = nil
	s.mu.Unlock()
	s.race.clear()
	s.cfg.downloadCuts.mu.Lock()
	s.cfg.downloadCuts.after = nil
	s.cfg.downloadCuts.mu.Unlock()
}

func (s *Server) takeFault(op Op) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	f.remaining--
	if f.remaining <= 0 {
		s.faults[op] = q[1:]
	}
	return f
}

// CutNextStreams makes the next n follow log streams break abruptly after
// sending afterBytes bytes of log: the TCP connection is closed with no
// WebSocket close frame, as when a proxy or the network drops it.
func (s *Server) CutNextStreams(n, afterBytes int) {
	for range max(n, 0) {
		s.CutStreamsAt(afterBytes)
	}
}

// CutStreamsAt makes the next follow log streams break as CutNextStreams
// does, the first after offsets[0] bytes of log, the next after offsets[1],
// and so on: since a stream replays the log from its first byte, rising
// offsets make each reopened stream deliver some bytes the last did not.
func (s *Server) CutStreamsAt(offsets ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, off := range offsets {
		s.cuts = append(s.cuts, max(off, 0))
	}
}

func (s *Server) takeCut() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cuts) == 0 {
		return 0, false
	}
	n := s.cuts[0]
	s.cuts = s.cuts[1:]
	return n, true
}

// SetLatency changes the latency added to every request to the API and the
// toolbox (see [WithLatency]); a negative d counts as 0.
func (s *Server) SetLatency(d time.Duration) { s.setDuration(&s.latency, d) }

// Latency returns the latency added to every request to the API and the
// toolbox.
func (s *Server) Latency() time.Duration { return s.duration(&s.latency) }

// SetCloseDelay changes how long follow streams stay open after their
// command exited; it applies to streams that reach that point afterwards. A
// negative d counts as 0.
func (s *Server) SetCloseDelay(d time.Duration) { s.setDuration(&s.closeDelay, d) }

// CloseDelay returns how long follow streams stay open after their command
// exited.
func (s *Server) CloseDelay() time.Duration { return s.duration(&s.closeDelay) }

// SetTransitionDelay changes how long sandboxes spend in transitional states,
// for transitions that begin afterwards. A negative d counts as 0.
func (s *Server) SetTransitionDelay(d time.Duration) { s.setDuration(&s.transition, d) }

// setDuration sets one of the durations that s.mu guards.
func (s *Server) setDuration(field *time.Duration, d time.Duration) {
	s.mu.Lock()
	*field = max(d, 0)
	s.mu.Unlock()
}

// duration reads one of the durations that s.mu guards.
func (s *Server) duration(field *time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *field
}

// Requests returns a copy of the request log, oldest first. A request is
// logged when it arrives, so one still in flight (such as an open follow
// stream) has Status 0.
func (s *Server) Requests() []Request { return s.log.snapshot() }

// RequestsFor returns the logged requests of one operation, oldest first.
func (s *Server) RequestsFor(op Op) []Request {
	var out []Request
	for _, r := range s.log.snapshot() {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests of op arrived since the server started or
// the log was last reset.
func (s *Server) Count(op Op) int { return s.log.count(op) }

// Counts returns the number of requests per operation.
func (s *Server) Counts() map[Op]int { return s.log.countsCopy() }

// TotalCount returns the number of logged requests of all operations.
func (s *Server) TotalCount() int {
	n := 0
	for _, c := range s.log.countsCopy() {
		n += c
	}
	return n
}

// ResetRequests empties the request log and its counts.
func (s *Server) ResetRequests() { s.log.reset() }

// Sandbox returns the server-side record of the sandbox with this id or
// name, and whether it exists.
func (s *Server) Sandbox(idOrName string) (Sandbox, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.lookupLocked(idOrName)
	if sb == nil {
		return Sandbox{}, false
	}
	return s.publicLocked(sb), true
}

// Sandboxes returns the records of all sandboxes, newest first.
func (s *Server) Sandboxes() []Sandbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Sandbox{}
	for _, sb := range s.filteredLocked(nil) {
		out = append(out, s.publicLocked(sb))
	}
	return out
}

// StopSandbox stops a sandbox behind the client's back, as Daytona's
// auto-stop or another process would: at once, with no transition. Its
// processes are killed before StopSandbox returns; its files stay. A
// sandbox with autoDeleteInterval 0 is deleted instead, as Daytona does.
// Stopping a stopped sandbox does nothing. An unknown sandbox is an error
// that matches [ErrSandboxNotFound].
func (s *Server) StopSandbox(idOrName string) error {
	sb, err := s.lockSandbox(idOrName)
	if err != nil {
		return err
	}
	if sb.autoDelete == 0 {
		s.mu.Unlock()
		return s.DeleteSandbox(idOrName)
	}
	sb.cancelTransition()
	old := s.takeToolboxLocked(sb, true)
	sb.state, sb.desired = StateStopped, "stopped"
	sb.updatedAt = time.Now().UTC()
	sb.notifyLocked()
	s.mu.Unlock()
	old.shutdown(s.cfg.killGrace)
	return nil
}

// DeleteSandbox deletes a sandbox behind the client's back: at once, with
// no transition. Its processes are killed and its directory removed before
// DeleteSandbox returns. Afterwards the control plane answers 404 and the
// toolbox 401, as Daytona does. An unknown sandbox is an error that matches
// [ErrSandboxNotFound].
func (s *Server) DeleteSandbox(idOrName string) error {
	sb, err := s.lockSandbox(idOrName)
	if err != nil {
		return err
	}
	tb := s.forgetLocked(sb)
	s.mu.Unlock()
	tb.shutdown(s.cfg.killGrace)
	_ = os.RemoveAll(sb.dir)
	return nil
}

// FinishTransition ends a sandbox's transition in progress (creating,
// starting, stopping, pausing, restoring, ...) now, as if the transition
// delay had passed: with a long [WithTransitionDelay] (or
// [Server.SetTransitionDelay]), a test holds a sandbox in a transitional
// state for as long as it needs, then lets it go on, without depending on
// how fast the machine is. A transition that leads to another (an archived
// sandbox restores, then starts) stops at the next one; call again to end
// that. It is an error if the sandbox has no transition in progress; an
// unknown sandbox is an error that matches [ErrSandboxNotFound].
func (s *Server) FinishTransition(idOrName string) error {
	sb, err := s.lockSandbox(idOrName)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if sb.finish == nil {
		return fmt.Errorf("daytonatest: sandbox %s has no transition in progress (it is %s)", sb.id, sb.state)
	}
	finish := sb.finish
	sb.cancelTransition()
	finish()
	return nil
}

// SetSandboxState forces a sandbox into state, with reason as its
// errorReason (may be empty), as a failure or another client would. Any
// state other than started kills the sandbox's processes before
// SetSandboxState returns. Pending transitions are cancelled. A sandbox put
// in state destroying disappears after the transition delay; one in state
// destroyed stays visible (as a dead record) until deleted. An unknown
// sandbox is an error that matches [ErrSandboxNotFound].
func (s *Server) SetSandboxState(idOrName string, state State, reason string) error {
	return s.setState(idOrName, state, reason, false)
}

// FailSandbox puts a sandbox in state error, with reason as its
// errorReason, as the runner reports a failure; recoverable marks it as
// one that POST /sandbox/{id}/recover can bring back (since v0.190.0 only
// such a sandbox can be recovered). Its processes are killed before
// FailSandbox returns. An unknown sandbox is an error that matches
// [ErrSandboxNotFound].
func (s *Server) FailSandbox(idOrName, reason string, recoverable bool) error {
	return s.setState(idOrName, StateError, reason, recoverable)
}

// setState is SetSandboxState with the recoverable flag.
func (s *Server) setState(idOrName string, state State, reason string, recoverable bool) error {
	if !slices.Contains(allStates, state) {
		return fmt.Errorf("daytonatest: unknown sandbox state %q", state)
	}
	sb, err := s.lockSandbox(idOrName)
	if err != nil {
		return err
	}
	sb.cancelTransition()
	var old *toolbox
	if state != StateStarted {
		old = s.takeToolboxLocked(sb, true)
	}
	sb.state, sb.desired, sb.errorReason, sb.recoverable = state, desiredState(state), reason, recoverable
	sb.updatedAt = time.Now().UTC()
	sb.notifyLocked()
	if state == StateDestroying {
		// Destroying is on its way out: the sandbox goes after the
		// transition delay, as if someone had deleted it.
		s.transitionLocked(sb, StateDestroying, "destroyed", func() { s.removeLocked(sb) })
	}
	s.mu.Unlock()
	old.shutdown(s.cfg.killGrace)
	return nil
}

// lockSandbox locks s.mu and finds the sandbox idOrName. If there is none,
// it returns an error and s.mu is not held.
func (s *Server) lockSandbox(idOrName string) (*sandbox, error) {
	s.mu.Lock()
	sb := s.lookupLocked(idOrName)
	if sb == nil {
		s.mu.Unlock()
		return nil, sandboxNotFound(idOrName)
	}
	return sb, nil
}
