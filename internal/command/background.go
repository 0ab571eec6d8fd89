package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

// ProcessPrefix starts the session id of every process spawned here; the
// session id is the process id.
const ProcessPrefix = "agentws-proc-"

// cleanupTimeout bounds deleting a session after a failed submission.
const cleanupTimeout = 10 * time.Second

// Background is a process: a command in a session of its own, followed by
// a goroutine of its own for its whole life, until it ends, its timeout
// passes, or Kill or End ends it. It is safe for concurrent use.
type Background struct {
	run  *run          // owned by the reader goroutine until readerDone is closed
	done chan struct{} // closed when the result is final

	mu         sync.Mutex         // guards the fields below and run.out's tails
	cancel     context.CancelFunc // stops the reader
	readerDone chan struct{}      // closed when the reader has returned
	result     *workspace.CommandResult
	err        error
	killing    bool
	timedOut   bool
}

// Spawn creates a session for p on r, submits p and starts following it.
// An error that proves nothing started is a *apierr.NotStarted.
func Spawn(ctx context.Context, r *Remote, p *Plan) (*Background, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	sess := &session{id: ProcessPrefix + hex.EncodeToString(b[:])}
	if err := r.TB.CreateSession(ctx, sess.id); err != nil {
		if ctx.Err() != nil {
			return nil, fault.WrapCtx(ctx, "spawn process", err)
		}
		return nil, classify("spawn process", err)
	}
	rn := newRun(r, sess, p)
	if err := rn.submitAsync(ctx); err != nil {
		// Do not leave an empty session (or a half-started command) behind.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		_, _ = r.TB.DeleteSession(cctx, sess.id)
		cancel()
		if ctx.Err() != nil {
			return nil, fault.WrapCtx(ctx, "spawn process", err)
		}
		return nil, classify("spawn process", err)
	}
	r.Log.Debug("spawned process", "pid", sess.id)
	return track(rn), nil
}

// Reattach follows again the process pid, spawned by an earlier program
// (its session still in the sandbox): its output is replayed from the
// start. A session that is unknown, empty, or not one of this package's
// gives an error matching workspace.ErrProcessNotFound.
func Reattach(ctx context.Context, r *Remote, pid string) (*Background, error) {
	cmds, err := r.TB.Commands(ctx, pid)
	switch {
	case apierr.NotFound(err):
		return nil, fault.Errorf("process %s: %w", pid, workspace.ErrProcessNotFound)
	case err != nil:
		return nil, fault.WrapCtx(ctx, "get process "+pid, err)
	case len(cmds) == 0:
		return nil, fault.Errorf("process %s: session has no command: %w", pid, workspace.ErrProcessNotFound)
	}
	last := cmds[len(cmds)-1]
	command, token, ok := shell.ParseScript(last.Script)
	if !ok || token == "" {
		return nil, fault.Errorf("process %s: session was not started by this package: %w", pid, workspace.ErrProcessNotFound)
	}
	p := &Plan{Command: command, Retain: workspace.DefaultMaxRetainedBytes}
	rn := &run{
		remote: r, sess: &session{id: pid}, p: p, token: token,
		out:     newOutput(token, nil, nil, p.Retain),
		script:  last.Script,
		cmdID:   last.ID,
		started: time.Now(),
	}
	return track(rn), nil
}

// track makes the process of rn and starts its reader.
func track(rn *run) *Background {
	b := &Background{run: rn, done: make(chan struct{})}
	rn.op = "process " + rn.sess.id
	rn.out.lock = &b.mu
	b.mu.Lock()
	b.startReaderLocked()
	b.mu.Unlock()
	return b
}

// PID returns the process id, which is its session's id.
func (b *Background) PID() string { return b.run.sess.id }

// Command returns the command the process runs.
func (b *Background) Command() string { return b.run.p.Command }

// Started returns when the process was submitted (or reattached).
func (b *Background) Started() time.Time { return b.run.started }

// On reports whether the process runs on r.
func (b *Background) On(r *Remote) bool { return b.run.remote == r }

// Done is closed when the process's result is final.
func (b *Background) Done() <-chan struct{} { return b.done }

// Result returns a copy of the final result and the error, once Done is
// closed.
func (b *Background) Result() (*workspace.CommandResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var res *workspace.CommandResult
	if b.result != nil {
		c := *b.result
		res = &c
	}
	return res, b.err
}

// ExitCode returns the exit code and true once the process has ended with
// one (124 after its timeout, 137 after a kill).
func (b *Background) ExitCode() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.result == nil || b.result.ExitCode == ExitUnknown {
		return 0, false
	}
	return b.result.ExitCode, true
}

// Retained returns the output of st retained so far.
func (b *Background) Retained(st stream.Stream) string { return b.run.out.retained(st) }

// SendInput sends text to the process's standard input (see
// toolbox.Client.SendInput); the error is the toolbox's.
func (b *Background) SendInput(ctx context.Context, text string) error {
	return b.run.remote.TB.SendInput(ctx, b.PID(), b.run.cmdID, text)
}

// startReaderLocked starts the goroutine that follows the process's log.
// It is called with b.mu held.
func (b *Background) startReaderLocked() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.cancel, b.readerDone = cancel, done
	go b.read(ctx, cancel, done)
}

// stopReader marks the process as being ended by the caller (Kill, End),
// stops its reader and waits for it, so that the caller owns b.run. It
// returns false if the process has ended or is being ended already.
func (b *Background) stopReader() bool {
	b.mu.Lock()
	if b.result != nil || b.err != nil || b.killing {
		b.mu.Unlock()
		return false
	}
	b.killing = true
	cancel, readerDone := b.cancel, b.readerDone
	b.mu.Unlock()
	cancel()
	<-readerDone
	return true
}

// read follows the process's log until it ends; it owns b.run until it
// returns.
func (b *Background) read(ctx context.Context, cancel context.CancelFunc, readerDone chan struct{}) {
	defer close(readerDone)
	defer cancel()
	rn := b.run
	defer rn.remote.hold()()
	if rn.p.Timeout > 0 {
		t := time.AfterFunc(rn.p.Timeout-time.Since(rn.started), func() {
			b.mu.Lock()
			b.timedOut = true
			b.mu.Unlock()
			cancel()
		})
		defer t.Stop()
	}
	code, done, err := rn.follow(ctx)
	if done {
		cerr := rn.collect(ctx, false)
		if cerr != nil {
			cerr = fault.Errorf("%s: %w", rn.op, cerr)
		}
		res, ferr := rn.finished(code)
		b.finish(res, joinErrs(cerr, ferr))
		// Its session has done its work; delete it once the daemon agrees
		// the command is over (a job it left in the background keeps it).
		rn.remote.Pool.deleteWhenDone(rn.sess, rn.cmdID)
		return
	}
	b.mu.Lock()
	killing, timedOut := b.killing, b.timedOut
	b.mu.Unlock()
	switch {
	case killing:
		// Kill or End is ending it and will record the result.
		return
	case timedOut || rn.out.werr != nil:
		b.finish(rn.endKilled(context.Background()))
		return
	}
	// The stream ended without the process's marker: the sandbox stopped,
	// the session was deleted, or the stream could not be followed.
	b.finish(rn.lost(context.Background(), err))
}

// finish records the final result once.
func (b *Background) finish(res *workspace.CommandResult, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.result != nil || b.err != nil {
		return
	}
	b.result, b.err = res, err
	close(b.done)
}

// Kill kills the process and everything it started (by deleting its
// session), and waits until it is gone; its result then has ExitCode 137
// and Killed. Killing a process that has ended does nothing. If the kill
// fails, the process is followed as before (it may still run) and the
// error is returned.
func (b *Background) Kill(ctx context.Context) error {
	if !b.stopReader() {
		select {
		case <-b.done:
			return nil
		case <-ctx.Done():
			return fault.Wrap("kill process "+b.PID(), ctx.Err())
		}
	}
	rn := b.run
	killed, err := rn.kill(ctx)
	if code, ok := rn.out.done(); ok {
		b.finish(rn.finished(code)) // it ended on its own first
		return nil
	}
	switch {
	case err != nil:
		b.mu.Lock()
		b.killing = false
		b.startReaderLocked()
		b.mu.Unlock()
		return fault.Errorf("kill process %s: %w", b.PID(), err)
	case !killed:
		b.finish(rn.result(ExitUnknown), fault.Errorf("process %s: its session was gone before it could be killed", b.PID()))
		return nil
	}
	res := rn.result(ExitKilled)
	res.Killed = true
	b.finish(res, nil)
	return nil
}

// End marks the process killed without a request, because its sandbox is
// about to be stopped or deleted; its reader stops first.
func (b *Background) End() {
	if !b.stopReader() {
		return
	}
	res := b.run.result(ExitKilled)
	res.Killed = true
	b.finish(res, nil)
}
