//go:build unix

package daytonatest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Log labels: every line a command prints is stored in its log behind the
// label of the stream it came from, as the daemon does.
var (
	stdoutLabel = []byte{0x01, 0x01, 0x01}
	stderrLabel = []byte{0x02, 0x02, 0x02}
)

// statusFD is the shell's descriptor for reporting exit codes. The shell
// receives the status pipe as fd 3 and moves it here, and no command sees it.
const statusFD = 7

// session is one long-lived shell. Commands are written to its stdin, so
// they run one at a time in the same shell: cd, export and variables carry
// over, and `exit` ends the shell, as in a Daytona session.
type session struct {
	id   string
	tb   *toolbox
	dir  string // where the commands' logs live (outside the sandbox home)
	cmd  *exec.Cmd
	pgid int

	writeMu sync.Mutex // serializes writes to stdin
	stdin   io.WriteCloser

	exited chan struct{} // closed when the shell process has exited
	gone   chan struct{} // closed when the session is deleted or its sandbox stopped

	mu        sync.Mutex // guards the fields below
	cmds      []*command
	byID      map[string]*command
	shellDone bool
	stdinHeld bool // the shell died during an async command (see run)
	ended     bool
	abrupt    bool // streams end with a dropped connection, not a close frame
}

// command is one command run in a session, with its labelled log.
type command struct {
	id          string
	text        string
	async       bool
	echoInput   bool // send-input echoes the input into the log (suppressInputEcho false)
	logPath     string
	inputPath   string // the stdin FIFO of an async command
	startedPath string // created by the session shell when the command starts
	turns       *turns // the order of the labellers' writes to the log
	stop        chan struct{}
	stopOnce    sync.Once

	mu       sync.Mutex // guards the fields below
	logF     *os.File
	size     int64
	status   *int // reported by the shell, not yet published
	exitCode *int // published once all output is in the log
	exitRead bool // a client has been given the exit code
	pending  int  // output readers still running
	finished bool // all output is in the log (with or without an exit code)
	notify   chan struct{}
	done     chan struct{} // closed when finished
	readers  []*os.File
	dummies  []*os.File // our write ends of the output FIFOs
	input    *os.File   // write end of the stdin FIFO (async commands)
}

func (c *command) broadcastLocked() {
	close(c.notify)
	c.notify = make(chan struct{})
}

// snapshot returns the log size, the exit code if published, whether the
// output is complete, and a channel closed at the next change.
func (c *command) snapshot() (size int64, exit *int, finished bool, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.exitCode, c.finished, c.notify
}

func (c *command) appendLog(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.logF == nil {
		return
	}
	n, _ := c.logF.Write(b)
	c.size += int64(n)
	c.broadcastLocked()
}

// setStatus records the exit code the shell reported and lets the output
// readers reach end of file.
func (c *command) setStatus(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == nil {
		c.status = &code
	}
	c.releaseLocked()
}

// releaseLocked closes our write ends of the output FIFOs and the stdin
// FIFO, so that readers see end of file once the command's processes are
// done with them.
func (c *command) releaseLocked() {
	for _, f := range c.dummies {
		f.Close()
	}
	c.dummies = nil
	if c.input != nil {
		c.input.Close()
		c.input = nil
	}
}

// readerDone is called when an output reader reached end of file. After the
// last one, the exit code (if the shell reported one) is published: like
// the daemon, an exit code appears only after all output is in the log.
func (c *command) readerDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending--
	if c.pending > 0 || c.finished {
		return
	}
	c.finished = true
	c.exitCode = c.status
	if c.logF != nil {
		c.logF.Close()
		c.logF = nil
	}
	if c.input != nil {
		c.input.Close()
		c.input = nil
	}
	close(c.done)
	c.broadcastLocked()
}

// forceEnd unblocks the output readers even if processes that escaped the
// kill still hold the FIFOs open.
func (c *command) forceEnd() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.mu.Lock()
	c.releaseLocked()
	readers := c.readers
	c.mu.Unlock()
	for _, f := range readers {
		f.Close()
	}
}

// readLog returns the whole log.
func (c *command) readLog() []byte {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return nil
	}
	return b
}

// splitLog separates a labelled log into stdout and stderr as the daemon
// does (DemuxLogBytes and findNextMarker, apps/daemon/pkg/session/
// execute.go:157-186, v0.173.0 and v0.190.0): a label starts a piece of
// its stream that runs to the next label-like sequence (01 01 01 or 02 02
// 02) anywhere, not only at the start of a line, or to the end; bytes
// before the first label go nowhere. So output that itself contains such
// a sequence is split there, and its tail changes stream or vanishes into
// a label.
func splitLog(raw []byte) (stdout, stderr []byte) {
	stdout, stderr = []byte{}, []byte{}
	pos := 0
	for pos < len(raw) {
		var dst *[]byte
		switch {
		case bytes.HasPrefix(raw[pos:], stdoutLabel):
			dst = &stdout
		case bytes.HasPrefix(raw[pos:], stderrLabel):
			dst = &stderr
		default:
			pos++
			continue
		}
		start := pos + len(stdoutLabel)
		end := nextLabel(raw, start)
		*dst = append(*dst, raw[start:end]...)
		pos = end
	}
	return stdout, stderr
}

// nextLabel returns the offset of the first label-like sequence in raw at
// or after from, or len(raw).
func nextLabel(raw []byte, from int) int {
	for i := from; i+len(stdoutLabel) <= len(raw); i++ {
		j := bytes.IndexAny(raw[i:], "\x01\x02")
		if j < 0 {
			break
		}
		i += j
		if bytes.HasPrefix(raw[i:], stdoutLabel) || bytes.HasPrefix(raw[i:], stderrLabel) {
			return i
		}
	}
	return len(raw)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var errSessionEnded = errors.New("session cancelled")

// errBrokenPipe is the daemon's error for a command given to a session
// whose shell has died (a command killed it): it registers the command,
// then fails to write it to the shell's stdin, and answers 500 with this
// text behind "failed to execute command: " (Execute, apps/daemon/pkg/
// session/execute.go:36-41 and 79-82, v0.190.0; the controller wraps it,
// so the middleware's default handler answers: toolbox/process/session/
// execute.go:67-70). The command stays listed, without an exit code.
var errBrokenPipe = errors.New("bad request: failed to write command: write |1: broken pipe")

func (tb *toolbox) startSession(id string) (*session, error) {
	tb.mu.Lock()
	tb.seq++
	dir := filepath.Join(tb.logRoot, "s"+strconv.Itoa(tb.seq))
	tb.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(tb.srv.shell)
	cmd.Dir = tb.home
	cmd.Env = tb.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.ExtraFiles = []*os.File{pw}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	pw.Close()
	ss := &session{
		id:     id,
		tb:     tb,
		dir:    dir,
		cmd:    cmd,
		pgid:   cmd.Process.Pid,
		stdin:  stdin,
		exited: make(chan struct{}),
		gone:   make(chan struct{}),
		byID:   make(map[string]*command),
	}
	tb.srv.wg.Go(ss.watchShell)
	tb.srv.wg.Go(func() { ss.readStatus(pr) })
	// Move the status pipe out of the way of commands' file descriptors.
	if _, err := io.WriteString(stdin, fmt.Sprintf("exec %d>&3 3>&-\n", statusFD)); err != nil {
		ss.kill(0)
		return nil, err
	}
	return ss, nil
}

// watchShell waits for the shell to exit, then releases the commands that
// will never get an exit code: those that never ran, and the one that
// ended the shell.
func (ss *session) watchShell() {
	_ = ss.cmd.Wait()
	ss.tb.srv.countCPU(ss.cmd.ProcessState)
	ss.mu.Lock()
	ss.shellDone = true
	cmds := append([]*command(nil), ss.cmds...)
	for _, c := range cmds {
		if c.async && c.runningAtExit() && ss.tb.srv.cfg.daemon.kind == kindZsh {
			ss.stdinHeld = true
		}
	}
	ss.mu.Unlock()
	close(ss.exited)
	for _, c := range cmds {
		c.mu.Lock()
		c.releaseLocked()
		c.mu.Unlock()
	}
}

// runningAtExit reports whether c had started and not finished.
func (c *command) runningAtExit() bool {
	if _, err := os.Stat(c.startedPath); err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status == nil && !c.finished
}

// readStatus reads the "<cmdId> <exit code>" lines that the shell reports
// on the status pipe, and gives each command its code.
func (ss *session) readStatus(r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		id, code, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(code)
		if err != nil {
			continue
		}
		ss.mu.Lock()
		c := ss.byID[id]
		ss.mu.Unlock()
		if c != nil {
			c.setStatus(n)
		}
	}
}

// mkfifo creates a FIFO. It uses x/sys/unix, which has Mkfifo on every
// Unix (the syscall package lacks it on some, such as Solaris and AIX).
func mkfifo(path string) error {
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	return nil
}

// run queues text to run in the session shell. Async commands get a stdin
// that stays open (for send-input) until they end; others see end of file.
// echoInput is the opposite of the request's suppressInputEcho.
func (ss *session) run(text string, async, echoInput bool) (*command, error) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return nil, errSessionEnded
	}
	// Each command's files are in a directory named by its id, as the
	// daemon's (apps/daemon/pkg/session/types.go:35-41, v0.173.0).
	id := newUUID()
	cdir := filepath.Join(ss.dir, id)
	c := newCommand(id, cdir, text, async, echoInput)
	if err := c.prepare(cdir, text, async); err != nil {
		ss.mu.Unlock()
		return nil, err
	}
	ss.cmds = append(ss.cmds, c)
	ss.byID[c.id] = c
	shellDone, held := ss.shellDone, ss.stdinHeld
	ss.mu.Unlock()

	d := &ss.tb.srv.cfg.daemon
	c.turns.pipes = [2]*os.File{c.readers[0], c.readers[1]}
	for i, label := range [][]byte{stdoutLabel, stderrLabel} {
		l := &labeller{c: c, stream: i, label: label, dropNUL: d.kind.dropsNUL(), chunk: d.lineChunk, pace: pacer{rate: d.outputRate}}
		f := c.readers[i]
		ss.tb.srv.wg.Go(func() { l.run(f) })
	}
	if shellDone && held {
		// The daemon's wrapper holds an async command's input pipe open
		// with a loop in the background (execute.go:63-66, v0.190.0),
		// which under zsh inherits the shell's stdin (bash gives a
		// background job /dev/null instead): once a zsh session's shell has
		// died during one, the loop keeps that stdin open, so later
		// commands are written, and wait there, never to run (measured on
		// the daemon's session code built from v0.190.0).
		return c, nil
	}
	if shellDone {
		c.forceEnd()
		return c, errBrokenPipe
	}
	ss.writeMu.Lock()
	_, err := io.WriteString(ss.stdin, ss.block(c, cdir))
	ss.writeMu.Unlock()
	if err != nil && ss.heldOnceExited() {
		return c, nil // as above: the shell died just now
	}
	if err != nil {
		c.forceEnd()
		return c, errBrokenPipe
	}
	return c, nil
}

// heldOnceExited waits (up to a second) for the exit of a shell that a
// write found gone to be recorded, and reports whether its stdin is held
// (see run).
func (ss *session) heldOnceExited() bool {
	select {
	case <-ss.exited:
	case <-time.After(time.Second):
		return false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.stdinHeld
}

func newCommand(id, dir, text string, async, echoInput bool) *command {
	return &command{
		id:          id,
		text:        text,
		async:       async,
		echoInput:   echoInput,
		logPath:     filepath.Join(dir, "output.log"),
		inputPath:   filepath.Join(dir, "input.pipe"),
		startedPath: filepath.Join(dir, "started"),
		turns:       newTurns(),
		stop:        make(chan struct{}),
		notify:      make(chan struct{}),
		done:        make(chan struct{}),
		pending:     2,
	}
}

// block is what the session shell is given to run c: after the start
// delay (WithStartDelay: the daemon's wrapper makes its FIFOs before the
// command runs), it traps SIGHUP, SIGINT and SIGTERM as the wrapper does
// (trap 'cleanup' EXIT HUP INT TERM, execute.go:205, v0.190.0: the shell
// outlives them, running the trap once its foreground command is done),
// creates the started file, which send-input checks; it
// runs the script with its stdin, stdout and stderr on the FIFOs and the
// status descriptor closed; then it reports "<cmdId> <exit code>" on the
// status descriptor. The printf is the shell's builtin whatever function
// a previous command named printf (and whatever PATH it set).
func (ss *session) block(c *command, dir string) string {
	stdinPath := "/dev/null"
	if c.async {
		stdinPath = c.inputPath
	}
	var b strings.Builder
	if d := ss.tb.srv.cfg.daemon; d.startDelay > 0 {
		fmt.Fprintf(&b, "%s %s; ", shellQuote(d.sleepPath), strconv.FormatFloat(d.startDelay.Seconds(), 'f', -1, 64))
	}
	fmt.Fprintf(&b, "trap : HUP INT TERM; : >%s; { . %s; } %d>&- <%s >%s 2>%s\n%s '%%s %%s\\n' %s \"$?\" >&%d\n",
		shellQuote(c.startedPath), shellQuote(filepath.Join(dir, "cmd.sh")), statusFD, shellQuote(stdinPath),
		shellQuote(filepath.Join(dir, "stdout.pipe")), shellQuote(filepath.Join(dir, "stderr.pipe")),
		ss.tb.srv.cfg.daemon.kind.builtinPrintf(), shellQuote(c.id), statusFD)
	return b.String()
}

// prepare creates the command's directory, script, FIFOs and log. Our ends
// of the FIFOs are opened without blocking: the readers, and a write end of
// each output FIFO that we hold until the shell reports the exit code, so
// that no reader sees end of file before the command has opened its end.
func (c *command) prepare(dir, text string, async bool) (err error) {
	var opened []*os.File
	defer func() {
		if err != nil {
			for _, f := range opened {
				f.Close()
			}
		}
	}()
	if err = os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err = os.WriteFile(filepath.Join(dir, "cmd.sh"), []byte(text), 0o600); err != nil {
		return err
	}
	for _, name := range []string{"stdout.pipe", "stderr.pipe"} {
		p := filepath.Join(dir, name)
		if err = mkfifo(p); err != nil {
			return err
		}
		var r, w *os.File
		if r, err = os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0); err != nil {
			return err
		}
		opened = append(opened, r)
		if w, err = os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err != nil {
			return err
		}
		opened = append(opened, w)
		c.readers = append(c.readers, r)
		c.dummies = append(c.dummies, w)
	}
	if async {
		p := c.inputPath
		if err = mkfifo(p); err != nil {
			return err
		}
		// Read-write, so that opening never blocks and the command's stdin
		// stays open until we close it.
		if c.input, err = os.OpenFile(p, os.O_RDWR, 0); err != nil {
			return err
		}
		opened = append(opened, c.input)
	}
	if c.logF, err = os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return err
	}
	return nil
}

func (ss *session) command(id string) *command {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byID[id]
}

func (ss *session) commandList() []*command {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]*command(nil), ss.cmds...)
}

// end marks the session ended (deleted, or its sandbox stopped): open
// streams finish, waiting requests give up. abrupt streams are dropped
// without a close frame.
func (ss *session) end(abrupt bool) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return false
	}
	ss.ended = true
	ss.abrupt = abrupt
	close(ss.gone)
	return true
}

func (ss *session) isAbrupt() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.abrupt
}

// kill ends the shell and the processes it started as the daemon's delete
// does (see terminateSession). It returns once the shell is gone and the
// output readers have finished.
func (ss *session) kill(grace time.Duration) {
	terminateSession(ss.pgid, grace)
	if left := groupMembers(ss.pgid); len(left) > 0 {
		ss.tb.mu.Lock()
		ss.tb.strays = append(ss.tb.strays, left...)
		ss.tb.mu.Unlock()
	}
	ss.writeMu.Lock()
	ss.stdin.Close()
	ss.writeMu.Unlock()
	<-ss.exited
	for _, c := range ss.commandList() {
		c.forceEnd()
	}
}

// inputError is a refusal of send-input, in the daemon's words.
type inputError struct {
	status int
	msg    string
}

// sendInput gives data to the command's stdin as the daemon's SendInput
// does (apps/daemon/pkg/session/input.go:29-74, v0.173.0 and v0.190.0):
//
//   - a command whose exit code a client has read is gone: 410;
//   - the input pipe exists only from when the wrapper has made it, just
//     before the command runs, until the wrapper removes it after the
//     command: before (a command still queued behind another, or just
//     submitted) and after (exited, its exit code not read yet), opening
//     it fails: 500 "failed to open input pipe";
//   - data that does not end with a newline gets one;
//   - unless the command was submitted with suppressInputEcho, the data is
//     also appended to the log behind the stdout label, as the command's
//     output. The daemon appends it just after writing the pipe, and its
//     labeller is slow enough that the echo comes before what the command
//     prints in reply; here the echo goes just before, for the same order.
//
// A synchronous command's stdin is the end of file the daemon gives it,
// so input to it is accepted and lost.
func (c *command) sendInput(data string) *inputError {
	c.mu.Lock()
	read, exit, exited, f := c.exitRead, c.exitCode, c.status != nil || c.finished, c.input
	c.mu.Unlock()
	if read && exit != nil {
		return &inputError{http.StatusGone, fmt.Sprintf("gone: command has already completed with exit code %d", *exit)}
	}
	if _, err := os.Stat(c.startedPath); err != nil || exited || (c.async && f == nil) {
		return &inputError{http.StatusInternalServerError,
			fmt.Sprintf("internal server error: failed to open input pipe: open %s: no such file or directory", c.inputPath)}
	}
	if !strings.HasSuffix(data, "\n") {
		data += "\n"
	}
	if c.echoInput {
		c.appendLog(append(append([]byte{}, stdoutLabel...), data...))
	}
	if !c.async {
		return nil
	}
	_ = f.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := f.Write([]byte(data)); err != nil {
		return &inputError{http.StatusInternalServerError, "internal server error: failed to write to input pipe: " + err.Error()}
	}
	return nil
}
