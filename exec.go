package daytona

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	toolbox "github.com/daytonaio/daytona/libs/toolbox-api-client-go"

	"github.com/agentworkspace/daytona/internal/follow"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

// Exit codes of commands that did not exit on their own, as a shell
// reports them.
const (
	ExitCodeTimeout = 124 // killed after the timeout
	ExitCodeKilled  = 137 // killed (SIGKILL) on cancellation or writer failure
	ExitCodeUnknown = -1  // the command's fate is unknown; an error says why
)

// syncWindow is how long a synchronous request may wait for a command. The
// SDK's HTTP client gives up after 60 s whatever the request; a command
// still running after syncWindow is followed through its log instead.
var syncWindow = 50 * time.Second

// maxStreamReconnects bounds how often a broken follow stream is reopened.
const maxStreamReconnects = 3

// plan is a validated ExecuteCommand call.
type plan struct {
	command   string
	args      []string
	spec      shell.Spec
	timeout   time.Duration // 0: none
	retain    int           // stream.Tail.Max
	stdout    io.Writer
	stderr    io.Writer
	streaming bool
}

// ExecuteCommand runs command (a shell snippet; args are shell-quoted and
// appended) in the sandbox, starting the sandbox first if needed, and waits
// for it to finish.
//
// The command runs in a subshell with stdin at end of file, in opts.Cwd (or
// the sandbox's default directory), with the sandbox's environment (WithEnv,
// SetEnv) plus opts.Env. Nothing it does to its shell (cd, export, exit)
// reaches later commands.
//
// Output streams to opts.Stdout and opts.Stderr as it arrives, with os/exec
// semantics, and the result keeps up to opts.MaxRetainedBytes of each
// stream. Output is exact: a last line without a newline gets none added.
//
// Outcomes:
//   - the command exits: its exit code, nil error (a non-zero exit is not an
//     error);
//   - the timeout (opts.Timeout, else WithTimeout) expires: the remote
//     process tree is killed and the result has ExitCode 124 and TimedOut,
//     with nil error;
//   - ctx ends: the remote process tree is killed and the partial result
//     (ExitCode 137, Killed) comes with an error matching ctx.Err();
//   - a writer fails: the command is killed and the partial result comes
//     with the writer's error;
//   - invalid input: an error matching ErrInvalidInput, before any request;
//   - infrastructure failures: an *Error wrapping the SDK's error.
//
// If the sandbox turns out to be stopped or deleted when the command is
// submitted (Daytona's auto-stop, or another client), ExecuteCommand
// restarts or recreates it the way Start does and submits the command once
// more; it never resubmits a command that may have started.
func (s *Sandbox) ExecuteCommand(ctx context.Context, command string, args []string, opts *workspace.ExecOptions) (*workspace.CommandResult, error) {
	p, err := s.plan("ExecuteCommand", command, args, opts)
	if err != nil {
		return nil, err
	}
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return nil, err
	}
	retriedDead, retriedSession := false, false
	for {
		res, err := s.execOnce(ctx, r, p)
		var notRun *notStarted
		if !errors.As(err, &notRun) {
			return res, err
		}
		switch {
		case notRun.lostSession && !retriedSession:
			// The daemon no longer knows our sessions (the sandbox was
			// restarted behind our back): start afresh with a new one.
			retriedSession = true
			r.pool.forgetAll()
			s.log.Debug("session lost; retrying with a new session", "err", notRun.err)
			continue
		case notRun.dead && !retriedDead && ctx.Err() == nil:
			retriedDead = true
			s.log.Debug("sandbox is not running; restarting it and retrying once", "err", notRun.err)
			if r, err = s.recoverDead(ctx, r); err != nil {
				return nil, err
			}
			continue
		}
		return nil, wrapCtx(ctx, "execute command", notRun.err)
	}
}

// plan validates the call and resolves its settings. It sends nothing.
func (s *Sandbox) plan(op, command string, args []string, opts *workspace.ExecOptions) (*plan, error) {
	if opts == nil {
		opts = &workspace.ExecOptions{}
	}
	env := s.Env()
	for k, v := range opts.Env {
		env[k] = v
	}
	p := &plan{
		command: command,
		args:    append([]string(nil), args...),
		spec:    shell.Spec{Command: command, Args: args, Env: env, Cwd: opts.Cwd},
		stdout:  opts.Stdout,
		stderr:  opts.Stderr,
	}
	if err := p.spec.Validate(); err != nil {
		return nil, invalid("%s: %v", op, err)
	}
	switch {
	case opts.Timeout == 0:
		p.timeout = s.cfg.timeout
	case opts.Timeout == workspace.NoTimeout:
		p.timeout = workspace.NoTimeout
	case opts.Timeout < 0:
		return nil, invalid("%s: negative timeout %v (use workspace.NoTimeout for none)", op, opts.Timeout)
	default:
		p.timeout = opts.Timeout
	}
	if p.timeout == workspace.NoTimeout {
		p.timeout = 0
	}
	switch m := opts.MaxRetainedBytes; {
	case m == 0:
		p.retain = workspace.DefaultMaxRetainedBytes
	case m == workspace.RetainNone:
		p.retain = 0
	case m == workspace.Unlimited:
		p.retain = -1
	case m < 0:
		return nil, invalid("%s: negative MaxRetainedBytes %d (use workspace.RetainNone or workspace.Unlimited)", op, m)
	default:
		p.retain = m
	}
	// One synchronous request when nothing needs streaming; otherwise an
	// asynchronous command whose log we follow. Keeping no output, a
	// synchronous answer would still hold all of it in memory at once.
	p.streaming = p.stdout != nil || p.stderr != nil || p.retain == 0 ||
		shell.MayBackground(command)
	return p, nil
}

// notStarted is an error the daemon answered before the command started,
// so running it again cannot run it twice.
type notStarted struct {
	err         error
	dead        bool // the sandbox is not running
	lostSession bool // the session is unknown to the daemon
}

func (e *notStarted) Error() string { return e.err.Error() }
func (e *notStarted) Unwrap() error { return e.err }

// classify inspects a toolbox error that came before the command started.
func classify(err error) error {
	code := StatusCode(err)
	msg, _ := sdkMessage(err)
	msg = strings.ToLower(msg)
	switch {
	case strings.Contains(msg, "session not found") && (code == http.StatusNotFound || code == http.StatusInternalServerError):
		return &notStarted{err: err, lostSession: true}
	case code == http.StatusUnauthorized:
		// The proxy no longer grants access: the sandbox was deleted.
		return &notStarted{err: err, dead: true}
	case code == http.StatusBadRequest && (strings.Contains(msg, "is the sandbox started") ||
		strings.Contains(msg, "failed to resolve container ip") || strings.Contains(msg, "sandbox is not running")):
		return &notStarted{err: err, dead: true}
	case code == http.StatusNotFound:
		// Sandbox container not found (deleted or archived).
		return &notStarted{err: err, dead: true}
	}
	return wrapErr("execute command", err)
}

// recoverDead confirms with the control plane that r is no longer usable,
// forgets it, and starts the sandbox again (shared with other callers).
func (s *Sandbox) recoverDead(ctx context.Context, r *remote) (*remote, error) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		rec, err := c.record(ctx, r.sb.ID)
		switch {
		case err == nil:
			s.log.Debug("control plane reports the sandbox", "daytonaID", r.sb.ID, "state", rec.GetState())
		case isNotFound(err):
			s.log.Debug("control plane reports the sandbox gone", "daytonaID", r.sb.ID)
		case ctx.Err() != nil:
			return nil, wrapCtx(ctx, "execute command", err)
		default:
			s.log.Debug("could not confirm the sandbox state", "err", err)
		}
	}
	s.mu.Lock()
	if s.remote == r {
		s.remote = nil
		s.status = workspace.StatusStopped
		r.pool.close()
	}
	s.mu.Unlock()
	return s.ensureRunning(ctx)
}

// execOnce runs the command once in a session of r.
func (s *Sandbox) execOnce(ctx context.Context, r *remote, p *plan) (*workspace.CommandResult, error) {
	sess, err := r.pool.get(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, wrapCtx(ctx, "execute command", err)
		}
		return nil, classify(err)
	}
	token := newToken()
	spec := p.spec
	spec.Marker = token
	script := spec.Script()
	o := newOutput(token, p)
	started := time.Now()
	if p.streaming {
		return s.execStreaming(ctx, r, sess, script, o, p, started)
	}
	return s.execSync(ctx, r, sess, script, o, p, started)
}

// execSync runs the command with one synchronous request, which answers
// with the exit code and both streams once the command has finished. A
// command still running after syncWindow is followed through its log.
func (s *Sandbox) execSync(ctx context.Context, r *remote, sess *session, script string, o *output, p *plan, started time.Time) (*workspace.CommandResult, error) {
	window := syncWindow
	if p.timeout > 0 && p.timeout < window {
		window = p.timeout
	}
	callCtx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	ans, tooBig, err := postSync(callCtx, r, sess.id, script)
	if err == nil && tooBig {
		// A large output: rather than hold all of it, read it again
		// through the log stream, which keeps only what is retained.
		cmdID := s.findCommand(r, sess, script)
		if cmdID == "" {
			res := o.result(p, started, ExitCodeUnknown)
			return res, &Error{Op: "execute command", Err: errors.New("the command's output was too large to read in one answer, and the command could not be found in its session")}
		}
		return s.await(ctx, r, sess, cmdID, o, p, started)
	}
	if err == nil {
		if err := o.feedStream(stream.Stdout, ans.Stdout); err != nil {
			return nil, wrapErr("execute command", err)
		}
		if err := o.feedStream(stream.Stderr, ans.Stderr); err != nil {
			return nil, wrapErr("execute command", err)
		}
		code, ok := o.done()
		if !ok {
			o.flush()
			if ans.ExitCode != nil {
				code = *ans.ExitCode
			}
		}
		r.pool.put(sess)
		return o.result(p, started, code), nil
	}
	if callCtx.Err() == nil {
		// The daemon refused the command, or the connection failed; the
		// session is not reused.
		return nil, classify(err)
	}
	cmdID := s.findCommand(r, sess, script)
	if ctx.Err() != nil || (p.timeout > 0 && time.Since(started) >= p.timeout) {
		// Cancelled or timed out: recover what it printed, then kill it.
		return s.kill(ctx, r, sess, cmdID, o, p, started, 0)
	}
	if cmdID == "" {
		// Still running, but the daemon cannot tell us which command it is:
		// stop it rather than leave it running unobserved.
		_ = s.terminate(ctx, r, sess, "", o, 0)
		res := o.result(p, started, ExitCodeUnknown)
		res.Killed = true
		return res, &Error{Op: "execute command", Err: errors.New("the command outlived the synchronous request and could not be found in its session, so it was stopped")}
	}
	// Still running, with time left: follow its log from the start.
	s.log.Debug("command outlived the synchronous window; following its log", "session", sess.id, "command", cmdID)
	return s.await(ctx, r, sess, cmdID, o, p, started)
}

// findCommand returns the id of the command running script in sess, if the
// daemon knows it.
func (s *Sandbox) findCommand(r *remote, sess *session, script string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := r.sb.Process.GetSession(ctx, sess.id)
	if err != nil {
		return ""
	}
	cmds, _ := info["commands"].([]toolbox.Command)
	for i := len(cmds) - 1; i >= 0; i-- {
		if cmds[i].GetCommand() == script {
			return cmds[i].GetId()
		}
	}
	return ""
}

// terminate reads what the log holds beyond offset (when the command is
// known and the writers still work), then deletes the session, which kills
// the command's process tree.
func (s *Sandbox) terminate(ctx context.Context, r *remote, sess *session, cmdID string, o *output, offset int64) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cmdID != "" && o.werr == nil {
		if logs, err := r.sb.Process.GetSessionCommandLogs(cctx, sess.id, cmdID); err == nil {
			if raw := logs.GetOutput(); int64(len(raw)) > offset {
				_ = o.feedLog([]byte(raw[offset:]))
			}
		}
	}
	err := r.pool.kill(cctx, sess)
	if err != nil {
		s.log.Warn("could not kill the command's session", "session", sess.id, "err", err)
	}
	o.flush()
	return err
}

// kill ends a command that timed out, was cancelled or whose writer failed,
// and builds its result: a failed writer's error, the caller's context
// error, or (neither) the timeout result.
func (s *Sandbox) kill(ctx context.Context, r *remote, sess *session, cmdID string, o *output, p *plan, started time.Time, offset int64) (*workspace.CommandResult, error) {
	_ = s.terminate(ctx, r, sess, cmdID, o, offset)
	res := o.result(p, started, ExitCodeKilled)
	res.Killed = true
	switch {
	case o.werr != nil:
		return res, fmt.Errorf("daytona: execute command: output writer: %w", o.werr)
	case ctx.Err() != nil:
		return res, wrapErr("execute command", ctx.Err())
	}
	res.ExitCode = ExitCodeTimeout
	res.TimedOut = true
	if res.Stderr == "" {
		res.Stderr = "Command timed out after " + p.timeout.String()
	}
	return res, nil
}

// execStreaming submits the command asynchronously and follows its log,
// returning as soon as the completion marker has arrived on both streams.
func (s *Sandbox) execStreaming(ctx context.Context, r *remote, sess *session, script string, o *output, p *plan, started time.Time) (*workspace.CommandResult, error) {
	m, err := r.sb.Process.ExecuteSessionCommand(ctx, sess.id, script, true, false)
	if err != nil {
		if ctx.Err() != nil {
			// It may have been submitted: make sure it does not run on.
			return s.kill(ctx, r, sess, "", o, p, started, 0)
		}
		return nil, classify(err)
	}
	cmdID, _ := m["id"].(string)
	return s.await(ctx, r, sess, cmdID, o, p, started)
}

// await follows a submitted command's log until its completion marker, the
// timeout (counted from started), or the end of ctx.
func (s *Sandbox) await(ctx context.Context, r *remote, sess *session, cmdID string, o *output, p *plan, started time.Time) (*workspace.CommandResult, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.timeout > 0 {
		t := time.AfterFunc(p.timeout-time.Since(started), cancel)
		defer t.Stop()
	}
	code, finished, lastErr := s.followUntilDone(runCtx, r, sess, cmdID, o)
	if finished {
		if shell.MayBackground(p.command) {
			// A background job may still hold the command's output, and
			// the daemon runs nothing else in the session until it lets
			// go: reuse the session only once that is known.
			r.pool.putWhenDone(sess, cmdID)
		} else {
			r.pool.put(sess)
		}
		return o.result(p, started, code), nil
	}
	if runCtx.Err() != nil || o.werr != nil {
		// Timeout, cancellation (kill tells them apart by ctx) or a failed
		// writer.
		return s.kill(ctx, r, sess, cmdID, o, p, started, o.demux.Offset())
	}
	// The stream ended without a marker: find out what happened.
	return s.lostStream(ctx, r, sess, cmdID, o, p, started, lastErr)
}

// readBufs holds the buffers log streams are read into.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// followUntilDone follows a command's log until both completion markers
// arrived (finished), ctx ends, a writer fails, or the stream cannot be
// reopened. A broken stream is reopened, skipping what was already read.
func (s *Sandbox) followUntilDone(ctx context.Context, r *remote, sess *session, cmdID string, o *output) (code int, finished bool, lastErr error) {
	cfg := r.sb.ToolboxClient.GetConfig()
	url, err := follow.URL(cfg.Servers[0].URL, sess.id, cmdID)
	if err != nil {
		return 0, false, err
	}
	header := http.Header{}
	for k, v := range cfg.DefaultHeader {
		header.Set(k, v)
	}
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for attempt := 0; attempt <= maxStreamReconnects; attempt++ {
		if attempt > 0 {
			s.log.Debug("follow stream broke; reopening it", "attempt", attempt, "err", lastErr)
			t := time.NewTimer(time.Duration(attempt) * 50 * time.Millisecond)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 0, false, ctx.Err()
			}
		}
		code, finished, err := s.follow(ctx, url, header, buf, o)
		if finished {
			return code, true, nil
		}
		if ctx.Err() != nil || o.werr != nil {
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

// follow reads the command's log from the follow stream, skipping what was
// already parsed, until both markers arrived or the stream ends. Closing
// the connection when ctx ends interrupts a blocked read at once.
func (s *Sandbox) follow(ctx context.Context, url string, header http.Header, buf []byte, o *output) (code int, finished bool, err error) {
	st, err := follow.Dial(ctx, url, header)
	if err != nil {
		return 0, false, err
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Close() })
	defer func() {
		stop()
		_ = st.Close()
	}()
	skip := o.demux.Offset() // a reopened stream replays from byte 0
	for {
		n, rerr := st.Read(buf)
		chunk := buf[:n]
		if skip > 0 {
			d := min(skip, int64(len(chunk)))
			chunk = chunk[d:]
			skip -= d
		}
		if len(chunk) > 0 {
			if ferr := o.feedLog(chunk); ferr != nil {
				return 0, false, ferr
			}
			if code, ok := o.done(); ok {
				return code, true, nil
			}
		}
		if rerr != nil {
			return 0, false, rerr
		}
	}
}

// lostStream handles a follow stream that ended before the marker: the
// session was deleted, the sandbox stopped, or the network failed for good.
// The command may have run, so it is never resubmitted.
func (s *Sandbox) lostStream(ctx context.Context, r *remote, sess *session, cmdID string, o *output, p *plan, started time.Time, cause error) (*workspace.CommandResult, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if logs, err := r.sb.Process.GetSessionCommandLogs(cctx, sess.id, cmdID); err == nil {
		if raw := logs.GetOutput(); int64(len(raw)) > o.demux.Offset() {
			_ = o.feedLog([]byte(raw[o.demux.Offset():]))
		}
		if code, ok := o.done(); ok {
			return o.result(p, started, code), nil
		}
	} else {
		cause = err
	}
	o.flush()
	res := o.result(p, started, ExitCodeUnknown)
	if cause == nil || errors.Is(cause, io.EOF) {
		cause = errors.New("the command's log stream ended before the command finished (was its session deleted?)")
	}
	return res, wrapCtx(ctx, "execute command", cause)
}
