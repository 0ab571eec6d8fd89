package daytona

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	toolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"

	"github.com/agentworkspace/daytona/internal/follow"
	"github.com/agentworkspace/daytona/internal/shell"
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
		s: s, r: r, sess: sess, p: p,
		out:     newOutput(token, p.stdout, p.stderr, p.retain),
		script:  spec.Script(),
		started: time.Now(),
	}
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

// submitAsync submits the command asynchronously and records its id.
func (c *run) submitAsync(ctx context.Context) error {
	m, err := c.r.sb.Process.ExecuteSessionCommand(ctx, c.sess.id, c.script, true, false)
	if err != nil {
		return err
	}
	c.cmdID, _ = m["id"].(string)
	return nil
}

// findCommand looks up the id of the command running c.script in its
// session, if the daemon knows it.
func (c *run) findCommand() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.r.sb.Process.GetSession(ctx, c.sess.id)
	if err != nil {
		return ""
	}
	cmds, _ := info["commands"].([]toolbox.Command)
	for i := len(cmds) - 1; i >= 0; i-- {
		if cmds[i].GetCommand() == c.script {
			return cmds[i].GetId()
		}
	}
	return ""
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
	code, finished, lastErr := c.follow(runCtx)
	if finished {
		c.release()
		return c.result(code), nil
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
// (finished), ctx ends, a writer fails, or the stream cannot be reopened.
// A broken stream is reopened, skipping what was already read.
func (c *run) follow(ctx context.Context) (code int, finished bool, lastErr error) {
	cfg := c.r.sb.ToolboxClient.GetConfig()
	url, err := follow.URL(cfg.Servers[0].URL, c.sess.id, c.cmdID)
	if err != nil {
		return 0, false, err
	}
	header := http.Header{}
	for k, v := range cfg.DefaultHeader {
		header.Set(k, v)
	}
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for attempt := 0; attempt <= maxStreamReconnects; attempt++ {
		if attempt > 0 {
			c.s.log.Debug("follow stream broke; reopening it", "attempt", attempt, "err", lastErr)
			if err := sleep(ctx, time.Duration(attempt)*streamReconnectStep); err != nil {
				return 0, false, err
			}
		}
		code, finished, err := c.followOnce(ctx, url, header, *bp)
		if finished {
			return code, true, nil
		}
		if ctx.Err() != nil || c.out.werr != nil {
			return 0, false, err
		}
		lastErr = err
		var he *follow.HandshakeError
		if errors.As(err, &he) && he.StatusCode < http.StatusInternalServerError {
			return 0, false, err // refused: the session or sandbox is gone
		}
		if errors.Is(err, io.EOF) {
			return 0, false, err // closed normally without a marker: the session was deleted
		}
	}
	return 0, false, lastErr
}

// followOnce reads the command's log from one follow stream, skipping what
// was already parsed, until both markers arrived or the stream ends.
// Closing the connection when ctx ends interrupts a blocked read at once.
func (c *run) followOnce(ctx context.Context, url string, header http.Header, buf []byte) (code int, finished bool, err error) {
	st, err := follow.Dial(ctx, url, header)
	if err != nil {
		return 0, false, err
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Close() })
	defer func() {
		stop()
		_ = st.Close()
	}()
	skip := c.out.demux.Offset() // a reopened stream replays from byte 0
	for {
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
// the command is known and the writers still work.
func (c *run) readRest(ctx context.Context) error {
	if c.cmdID == "" || c.out.werr != nil {
		return nil
	}
	logs, err := c.r.sb.Process.GetSessionCommandLogs(ctx, c.sess.id, c.cmdID)
	if err != nil {
		return err
	}
	if raw, off := logs.GetOutput(), c.out.demux.Offset(); int64(len(raw)) > off {
		_ = c.out.feedLog([]byte(raw[off:]))
	}
	return nil
}

// kill reads what the log holds beyond what was parsed, then deletes the
// session, which kills the command's process tree.
func (c *run) kill(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.readRest(cctx)
	err := c.r.pool.remove(cctx, c.sess)
	if err != nil {
		c.s.log.Warn("could not kill the command's session", "session", c.sess.id, "err", err)
	}
	c.out.flush()
	return err
}

// endKilled kills a command that timed out, was cancelled or whose writer
// failed, and builds its result: a failed writer's error, the caller's
// context error, or (neither) the timeout result.
func (c *run) endKilled(ctx context.Context) (*workspace.CommandResult, error) {
	_ = c.kill(ctx)
	res := c.result(ExitCodeKilled)
	res.Killed = true
	switch {
	case c.out.werr != nil:
		return res, fmt.Errorf("daytona: execute command: output writer: %w", c.out.werr)
	case ctx.Err() != nil:
		return res, wrapErr("execute command", ctx.Err())
	}
	res.ExitCode = ExitCodeTimeout
	res.TimedOut = true
	if res.Stderr == "" {
		res.Stderr = "Command timed out after " + c.p.timeout.String()
	}
	return res, nil
}

// lost handles a follow stream that ended before the marker: the session
// was deleted, the sandbox stopped, or the network failed for good. The
// command may have run, so it is never resubmitted.
func (c *run) lost(ctx context.Context, cause error) (*workspace.CommandResult, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.readRest(cctx); err != nil {
		cause = err
	} else if code, ok := c.out.done(); ok {
		return c.result(code), nil
	}
	c.out.flush()
	res := c.result(ExitCodeUnknown)
	if cause == nil || errors.Is(cause, io.EOF) {
		cause = errors.New("the command's log stream ended before the command finished (was its session deleted?)")
	}
	return res, wrapCtx(ctx, "execute command", cause)
}
