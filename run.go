package daytona

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/follow"
	"github.com/agentworkspace/daytona/internal/retry"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

// run is one command in flight in a session of a running remote sandbox:
// what ExecuteCommand and a Process need to submit it, follow its log,
// kill it and recover from a lost stream. It is used by one goroutine at a
// time.
type run struct {
	s       *Sandbox
	r       *remote
	sess    *session
	p       *plan
	out     *output
	op      string    // "execute command", or "process <pid>"
	token   string    // the completion marker
	script  string    // the text submitted to the session
	cmdID   string    // the daemon's id of the command, once known
	started time.Time // when it was submitted
}

// newRun prepares p to run in sess of r, with a fresh completion marker.
func (s *Sandbox) newRun(r *remote, sess *session, p *plan) *run {
	token := newToken()
	spec := p.spec
	spec.Marker = token
	return &run{
		s: s, r: r, sess: sess, p: p, token: token,
		out:     newOutput(token, p.stdout, p.stderr, p.retain),
		op:      "execute command",
		script:  spec.Script(),
		started: time.Now(),
	}
}

// resetOutput forgets the output parsed so far, to read the command's log
// again from its first byte. Only the synchronous path, which has no
// writers, does that.
func (c *run) resetOutput() {
	c.out = newOutput(c.token, c.p.stdout, c.p.stderr, c.p.retain)
}

// result builds the command's result with the given exit code from the
// output retained so far.
func (c *run) result(exitCode int) *workspace.CommandResult {
	res := &workspace.CommandResult{
		Command:  c.p.command,
		Args:     c.p.args,
		ExitCode: exitCode,
		Duration: time.Since(c.started),
	}
	c.out.fill(res)
	return res
}

// finished builds the result of a command that ended on its own with the
// given exit code. A sandbox without bash ran nothing: that is an error.
func (c *run) finished(code int) (*workspace.CommandResult, error) {
	c.out.flush()
	res := c.result(code)
	if c.out.mode() == stream.ModeNoBash {
		return res, fault.Errorf("%s: %s: %w", c.op, shell.NoBashMessage, workspace.ErrUnsupported)
	}
	return res, nil
}

// submitAsync submits the command asynchronously and records its id.
func (c *run) submitAsync(ctx context.Context) (err error) {
	c.cmdID, err = c.r.tb.Submit(ctx, c.sess.id, c.script)
	return err
}

// findCommand looks up the id of the command running c.script in its
// session, if the daemon knows it.
func (c *run) findCommand(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return c.r.tb.FindCommand(ctx, c.sess.id, c.script)
}

// recoverSubmitted handles a submission that failed in a way that does not
// prove the command never started (an answer after the daemon took it, a
// broken connection): if the daemon knows the command, its log is followed
// to the end (it is never submitted again); if not, it never started, and
// the session, which may be in any state, is deleted.
func (c *run) recoverSubmitted(ctx context.Context, cause error) (*workspace.CommandResult, error) {
	if c.cmdID = c.findCommand(ctx); c.cmdID != "" {
		c.s.log.Debug("the daemon has the command although its submission failed; following it", "session", c.sess.id, "err", cause)
		return c.await(ctx)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = c.r.pool.remove(cctx, c.sess)
	return nil, fault.WrapCtx(ctx, c.op, cause)
}

// release returns the session of a command that finished to the pool.
func (c *run) release() {
	if shell.MayBackground(c.p.command) {
		// A background job may still hold the command's output, and the
		// daemon runs nothing else in the session until it lets go: reuse
		// the session only once that is known.
		c.r.pool.putWhenDone(c.sess, c.cmdID)
		return
	}
	c.r.pool.put(c.sess)
}

// await follows the submitted command's log until its completion marker,
// the timeout (counted from c.started), or the end of ctx, and builds the
// result.
func (c *run) await(ctx context.Context) (*workspace.CommandResult, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.p.timeout > 0 {
		t := time.AfterFunc(c.p.timeout-time.Since(c.started), cancel)
		defer t.Stop()
	}
	code, done, lastErr := c.follow(runCtx)
	if done {
		c.release()
		return c.finished(code)
	}
	if runCtx.Err() != nil || c.out.werr != nil {
		// Timeout, cancellation (endKilled tells them apart by ctx) or a
		// failed writer.
		return c.endKilled(ctx)
	}
	// The stream ended without a marker: find out what happened.
	return c.lost(ctx, lastErr)
}

// readBufs holds the buffers log streams are read into.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// follow reads the command's log until both completion markers arrived
// (done), ctx ends, a writer fails, or the stream cannot be reopened. A
// broken stream is reopened, skipping what was already read; see
// reopenFollow for when.
func (c *run) follow(ctx context.Context) (code int, done bool, lastErr error) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for failures := 0; ; failures++ {
		before := c.out.demux.Offset()
		code, done, err := c.followOnce(ctx, *bp)
		if done {
			return code, true, nil
		}
		if ctx.Err() != nil || c.out.werr != nil {
			return 0, false, err
		}
		if c.out.demux.Offset() > before {
			failures = 0 // it made progress: a new budget
		}
		if !reopenFollow(err, failures) {
			return 0, false, err
		}
		c.s.log.Debug("follow stream broke; reopening it", "failures", failures+1, "err", err)
		if err := retry.Sleep(ctx, time.Duration(failures+1)*streamReconnectStep); err != nil {
			return 0, false, err
		}
	}
}

// dial opens the command's follow stream, which replays its log from the
// first byte. Closing the connection when ctx ends interrupts a blocked
// read at once; the returned function releases the stream.
func (c *run) dial(ctx context.Context) (*follow.Stream, func(), error) {
	st, err := c.r.tb.Follow(ctx, c.sess.id, c.cmdID)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Close() })
	return st, func() {
		stop()
		_ = st.Close()
	}, nil
}

// followOnce reads the command's log from one follow stream until both
// markers arrived or the stream ends. While the stream is idle it is
// pinged, so that nothing between here and the daemon takes it for dead.
func (c *run) followOnce(ctx context.Context, buf []byte) (code int, done bool, err error) {
	st, release, err := c.dial(ctx)
	if err != nil {
		return 0, false, err
	}
	defer release()
	defer st.KeepAlive(pingInterval)()
	return c.readStream(st, buf, nil)
}

// readStream feeds what st carries beyond what was already parsed (a
// stream replays from byte 0) until both markers arrived or the stream
// ends; beforeRead, if set, is called before each read.
func (c *run) readStream(st *follow.Stream, buf []byte, beforeRead func()) (code int, done bool, err error) {
	skip := c.out.demux.Offset()
	for {
		if beforeRead != nil {
			beforeRead()
		}
		n, rerr := st.Read(buf)
		chunk := buf[:n]
		if skip > 0 {
			d := min(skip, int64(len(chunk)))
			chunk = chunk[d:]
			skip -= d
		}
		if len(chunk) > 0 {
			if ferr := c.out.feedLog(chunk); ferr != nil {
				return 0, false, ferr
			}
			if code, ok := c.out.done(); ok {
				return code, true, nil
			}
		}
		if rerr != nil {
			return 0, false, rerr
		}
	}
}

// readRest feeds what the command's log holds beyond what was parsed, when
// the command is known and the writers still work. The log's JSON answer
// is exact when the output was framed (it is then valid UTF-8, so offsets
// into it are offsets into the log); otherwise, if it holds a U+FFFD (which
// may stand for bytes the command printed), the rest is read from the
// binary stream instead, until it ends or pauses for drainIdle.
func (c *run) readRest(ctx context.Context) error {
	if c.cmdID == "" || c.out.werr != nil {
		return nil
	}
	raw, err := c.r.tb.Logs(ctx, c.sess.id, c.cmdID)
	if err != nil {
		return err
	}
	off := c.out.demux.Offset()
	if c.out.mode() != stream.ModeFramed && strings.ContainsRune(raw, '\uFFFD') {
		return c.drain(ctx)
	}
	if int64(len(raw)) > off {
		_ = c.out.feedLog([]byte(raw[off:]))
	}
	return nil
}

// drain reads the command's log from the binary stream, beyond what was
// parsed, until the markers, the stream's end, or drainIdle without data.
func (c *run) drain(ctx context.Context) error {
	st, release, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer release()
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	_, _, err = c.readStream(st, *bp, func() { st.SetReadDeadline(time.Now().Add(drainIdle)) })
	if errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) {
		return nil // the end, or a pause: that is all there is for now
	}
	return err
}

// kill deletes the command's session, which kills its process tree, after
// reading what its log holds beyond what was parsed (which may show that it
// has just finished: then it is not killed). killed reports that the
// daemon deleted the session; a session already gone gives false and no
// error.
func (c *run) kill(ctx context.Context) (killed bool, err error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.readRest(cctx)
	if _, ok := c.out.done(); ok {
		return false, nil
	}
	killed, err = c.r.pool.remove(cctx, c.sess)
	if err != nil {
		c.s.log.Warn("could not kill the command's session", "session", c.sess.id, "err", err)
		err = fault.Wrap("kill the command's session "+c.sess.id, err)
	}
	c.out.flush()
	return killed, err
}

// endKilled ends a command that timed out, was cancelled or whose writer
// failed, and builds its result. The command is reported killed (137, or
// 124 and TimedOut after the timeout) only when the kill succeeded;
// otherwise its exit code is unknown and the error says it may still run.
// The error is a failed writer's, or the caller's context error, or (after
// a timeout) nil.
func (c *run) endKilled(ctx context.Context) (*workspace.CommandResult, error) {
	killed, kerr := c.kill(ctx)
	var cause error
	switch {
	case c.out.werr != nil:
		cause = fault.Errorf("%s: output writer: %w", c.op, c.out.werr)
	case ctx.Err() != nil:
		cause = fault.Wrap(c.op, ctx.Err())
	}
	if code, ok := c.out.done(); ok {
		// It finished just before it would have been killed.
		res, err := c.finished(code)
		return res, joinErrs(cause, err)
	}
	if !killed {
		if kerr == nil {
			kerr = errors.New("its session was already gone")
		}
		res := c.result(ExitCodeUnknown)
		if cause == nil {
			cause = fault.Errorf("%s: timed out after %v", c.op, c.p.timeout)
		}
		return res, fault.Errorf("%w, and the command could not be killed (it may still run): %w", cause, kerr)
	}
	res := c.result(ExitCodeKilled)
	res.Killed = true
	if cause != nil {
		return res, cause
	}
	res.ExitCode = ExitCodeTimeout
	res.TimedOut = true
	if res.Stderr == "" {
		res.Stderr = "Command timed out after " + c.p.timeout.String()
	}
	return res, nil
}

// lost handles a follow stream that ended, or could not be opened, before
// the marker: the command may have run, so it is never submitted again.
// What the log holds is read; a command that ended without a marker (it
// was killed by a signal, or its shell misbehaved) reports the exit code
// the daemon recorded; one that can no longer be followed is killed.
func (c *run) lost(ctx context.Context, cause error) (*workspace.CommandResult, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.readRest(cctx); err == nil {
		if code, ok := c.out.done(); ok {
			return c.finished(code)
		}
	}
	if code, ok := c.exitCode(cctx); ok {
		return c.finished(code)
	}
	if cause == nil || errors.Is(cause, io.EOF) {
		cause = errors.New("the command's log stream ended before the command finished (was its session deleted?)")
	}
	killed, kerr := c.kill(ctx)
	c.out.flush()
	res := c.result(ExitCodeUnknown)
	err := fault.WrapCtx(ctx, c.op, cause)
	switch {
	case killed:
		res.ExitCode, res.Killed = ExitCodeKilled, true
		err = fault.Errorf("%w; the command could not be followed, so it was killed", err)
	case kerr != nil:
		err = fault.Errorf("%w, and the command could not be killed (it may still run): %w", err, kerr)
	}
	return res, err
}

// exitCode asks the daemon for the command's recorded exit code.
func (c *run) exitCode(ctx context.Context) (int, bool) {
	if c.cmdID == "" {
		return 0, false
	}
	code, ok, err := c.r.tb.ExitCode(ctx, c.sess.id, c.cmdID)
	return code, ok && err == nil
}

// joinErrs joins two errors of a command's end, either of which may be
// nil.
func joinErrs(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return fault.Errorf("%w; %w", a, b)
}
