package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/internal/retry"
	"github.com/agentworkspace/daytona/internal/toolbox"
)

// Session pool limits. A burst of N concurrent commands needs N sessions;
// they are created once and kept, so that the next burst creates none and
// costs one request per command. What a burst left is trimmed only after
// it has been idle for SessionIdleTTL, so deletions never compete with a
// burst. On the daemon, an idle session is one shell waiting on its stdin
// (bash: about 3.5 MB of resident memory, most of it shared): the hard cap
// bounds that at about 1 GB for a sandbox that runs 256 commands at once,
// and for a minute after.
const (
	// maxIdleSessions is how many idle sessions a sandbox keeps at most;
	// more are deleted as they come back.
	maxIdleSessions = 256
	// minIdleSessions are kept however long they idle, and replaced when
	// they are retired (see put), so that a lone command always finds one.
	minIdleSessions = 1
)

// MaxSessionUses retires a session after this many commands, so that the
// logs the daemon keeps per session do not grow without bound (a variable
// for tests).
var MaxSessionUses = 200

// SessionIdleTTL is how long a surplus idle session is kept (a variable
// for tests).
var SessionIdleTTL = 60 * time.Second

// session is a Daytona session this package created to run commands. Each
// command runs in a subshell, so no state carries over between commands.
type session struct {
	id        string
	uses      int
	idleSince time.Time // when it was last returned to the pool
	defined   bool      // its shell has the runner (shell.Spec.Defined)
}

// Pool hands out sessions that are free to run a command. A Daytona
// session runs one command at a time, so concurrent commands use different
// sessions; a finished command's session is reused, which keeps a command
// to a single request on a warm sandbox. It is safe for concurrent use.
type Pool struct {
	tb     *toolbox.Client
	log    *slog.Logger
	bg     *Tracker // its deferred deletions
	prefix string

	mu      sync.Mutex // guards the fields below
	idle    []*session // the most recently returned last
	n       int
	closed  bool
	janitor *time.Timer // trims surplus idle sessions; nil when not due
	// refilling counts the sessions being created in the background to
	// stand in for retired ones (see refill).
	refilling int
}

// NewPool returns the pool of the sandbox tb reaches, logging to log; its
// work in the background is counted by bg.
func NewPool(tb *toolbox.Client, log *slog.Logger, bg *Tracker) *Pool {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Pool{tb: tb, log: log, bg: bg, prefix: "agentws-" + hex.EncodeToString(b[:]) + "-"}
}

// get returns an idle session, or creates one.
func (p *Pool) get(ctx context.Context) (*session, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		sess := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return sess, nil
	}
	p.mu.Unlock()
	return p.create(ctx)
}

// create creates a new session.
func (p *Pool) create(ctx context.Context) (*session, error) {
	p.mu.Lock()
	p.n++
	id := p.prefix + strconv.Itoa(p.n)
	p.mu.Unlock()
	if err := p.tb.CreateSession(ctx, id); err != nil {
		return nil, err
	}
	p.log.Debug("created session", "session", id)
	return &session{id: id}, nil
}

// put returns a session whose command has completed. A session that has
// run MaxSessionUses commands is retired (deleted in the background); when
// that leaves fewer than minIdleSessions, a new session replaces it, also
// in the background. (Trimming never goes below minIdleSessions; without
// the replacement, a retirement could: a lone command would then find no
// session and wait for one to be created.)
func (p *Pool) put(sess *session) {
	sess.uses++
	retired := sess.uses >= MaxSessionUses
	p.mu.Lock()
	if !p.closed && !retired && len(p.idle) < maxIdleSessions {
		p.addLocked(sess)
		p.mu.Unlock()
		return
	}
	refill := !p.closed && retired && len(p.idle)+p.refilling < minIdleSessions
	if refill {
		p.refilling++
	}
	p.mu.Unlock()
	p.deleteLater(sess)
	if refill {
		p.refill()
	}
}

// addLocked makes sess idle.
func (p *Pool) addLocked(sess *session) {
	sess.idleSince = time.Now()
	p.idle = append(p.idle, sess)
	p.scheduleLocked(SessionIdleTTL)
}

// refill creates a session in the background to stand in for a retired
// one, and makes it idle, unless the pool was closed or filled up
// meanwhile: then it is deleted again.
func (p *Pool) refill() {
	p.bg.Go(func(ctx context.Context) {
		sess, err := p.create(ctx)
		if err != nil {
			p.mu.Lock()
			p.refilling--
			p.mu.Unlock()
			p.log.Debug("could not replace a retired session", "err", err)
			return
		}
		p.mu.Lock()
		p.refilling--
		unwanted := p.closed || len(p.idle) >= maxIdleSessions
		if !unwanted {
			p.addLocked(sess)
		}
		p.mu.Unlock()
		if unwanted {
			_, _ = p.tb.DeleteSession(ctx, sess.id)
		}
	})
}

// scheduleLocked makes the janitor run after d if there is a surplus of
// idle sessions and it is not due already. It holds no goroutine while it
// waits.
func (p *Pool) scheduleLocked(d time.Duration) {
	if p.janitor == nil && len(p.idle) > minIdleSessions {
		p.janitor = time.AfterFunc(d, p.trim)
	}
}

// trim deletes the surplus idle sessions that have been idle for
// SessionIdleTTL, oldest first, and schedules itself again for the rest.
func (p *Pool) trim() {
	p.mu.Lock()
	p.janitor = nil
	if p.closed {
		p.mu.Unlock()
		return
	}
	cutoff := time.Now().Add(-SessionIdleTTL)
	n := 0
	for n < len(p.idle)-minIdleSessions && !p.idle[n].idleSince.After(cutoff) {
		n++
	}
	expired := append([]*session(nil), p.idle[:n]...)
	p.idle = append(p.idle[:0], p.idle[n:]...)
	if len(p.idle) > minIdleSessions {
		p.scheduleLocked(time.Until(p.idle[0].idleSince.Add(SessionIdleTTL)))
	}
	p.mu.Unlock()
	for _, sess := range expired {
		p.deleteLater(sess)
	}
	if len(expired) > 0 {
		p.log.Debug("deleted idle sessions", "count", len(expired))
	}
}

// putWhenDone returns a session once the daemon reports its command's exit
// code. A command answered early (by its completion marker) may have left a
// background job that holds its output open, and the daemon runs nothing
// else in that session until the job ends; such a session is left alone
// (with the job) and never reused.
func (p *Pool) putWhenDone(sess *session, cmdID string) {
	p.whenDone(sess, cmdID, func(context.Context) { p.put(sess) })
}

// deleteWhenDone deletes a process's session once the daemon reports its
// command's exit code; a session kept busy by a job the process left in the
// background is left alone, with the job.
func (p *Pool) deleteWhenDone(sess *session, cmdID string) {
	p.whenDone(sess, cmdID, func(ctx context.Context) { _, _ = p.tb.DeleteSession(ctx, sess.id) })
}

// sessionPollSchedule paces the background polling of a session whose
// command was answered early (by its completion marker), until the daemon
// reports the command's exit code.
var sessionPollSchedule = []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 400 * time.Millisecond, time.Second}

// whenDone polls, in the background and for a short while, until the daemon
// reports the exit code of cmdID, then calls then.
func (p *Pool) whenDone(sess *session, cmdID string, then func(ctx context.Context)) {
	p.bg.Go(func(ctx context.Context) {
		for _, wait := range sessionPollSchedule {
			if retry.Sleep(ctx, wait) != nil {
				return
			}
			_, ended, err := p.tb.ExitCode(ctx, sess.id, cmdID)
			if err != nil {
				return // session or sandbox gone
			}
			if ended {
				then(ctx)
				return
			}
		}
		p.log.Debug("session still busy after its command finished (a background job?); leaving it alone", "session", sess.id)
	})
}

// deleteLater deletes a session in the background.
func (p *Pool) deleteLater(sess *session) {
	p.bg.Go(func(ctx context.Context) {
		_, _ = p.tb.DeleteSession(ctx, sess.id)
	})
}

// ForgetAll drops the idle sessions, after the daemon lost one (a restart
// loses them all).
func (p *Pool) ForgetAll() {
	p.mu.Lock()
	p.idle = nil
	p.mu.Unlock()
}

// Close stops reuse; the sessions die with the remote sandbox.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.idle = nil
	if p.janitor != nil {
		p.janitor.Stop()
		p.janitor = nil
	}
	p.mu.Unlock()
}

// Warm creates one session ahead of the first command.
func (p *Pool) Warm(ctx context.Context) {
	sess, err := p.get(ctx)
	if err != nil {
		p.log.Debug("could not create a session ahead of time", "err", err)
		return
	}
	p.mu.Lock()
	p.idle = append(p.idle, sess)
	p.mu.Unlock()
}

// Tracker counts goroutines doing upkeep in the background, so that Stop
// and Destroy can wait for them. Unlike sync.WaitGroup it allows adding
// while someone waits. The zero value is ready to use.
type Tracker struct {
	mu   sync.Mutex // guards the fields below
	n    int
	idle chan struct{} // closed when n drops to 0
}

// upkeepTimeout bounds each piece of background upkeep.
const upkeepTimeout = 30 * time.Second

// Go runs f in a goroutine that Wait waits for, with a bounded context.
func (t *Tracker) Go(f func(ctx context.Context)) {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
	go func() {
		defer t.done()
		ctx, cancel := context.WithTimeout(context.Background(), upkeepTimeout)
		defer cancel()
		f(ctx)
	}()
}

func (t *Tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
	t.mu.Unlock()
}

// Wait waits until no goroutine is tracked, or ctx ends.
func (t *Tracker) Wait(ctx context.Context) {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return
	}
	ch := t.idle
	t.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}
