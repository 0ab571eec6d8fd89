//go:build unix

package daytonatest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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
	ended     bool
	abrupt    bool // streams end with a dropped connection, not a close frame
}

// command is one command run in a session, with its labelled log.
type command struct {
	id      string
	text    string
	async   bool
	logPath string

	mu       sync.Mutex // guards the fields below
	logF     *os.File
	size     int64
	status   *int // reported by the shell, not yet published
	exitCode *int // published once all output is in the log
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
	c.mu.Lock()
	c.releaseLocked()
	readers := c.readers
	c.mu.Unlock()
	for _, f := range readers {
		f.Close()
	}
}

// pump reads one output FIFO, labels each line and appends it to the log.
// A last line without a newline gets one, as in the daemon.
func (c *command) pump(f *os.File, label []byte) {
	defer c.readerDone()
	buf := make([]byte, 32<<10)
	var partial []byte
	var out []byte
	for {
		n, err := f.Read(buf)
		data := buf[:n]
		out = out[:0]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				partial = append(partial, data...)
				break
			}
			out = append(out, label...)
			out = append(out, partial...)
			out = append(out, data[:i+1]...)
			partial = partial[:0]
			data = data[i+1:]
		}
		if len(out) > 0 {
			c.appendLog(out)
		}
		if err != nil {
			break
		}
	}
	if len(partial) > 0 {
		line := append(append(append([]byte{}, label...), partial...), '\n')
		c.appendLog(line)
	}
	f.Close()
}

// readLog returns the whole log.
func (c *command) readLog() []byte {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return nil
	}
	return b
}

// splitLog separates a labelled log into stdout and stderr. The log is a
// sequence of label, line, newline, so this parse is exact.
func splitLog(raw []byte) (stdout, stderr []byte) {
	stdout, stderr = []byte{}, []byte{}
	for len(raw) >= 3 {
		label := raw[:3]
		raw = raw[3:]
		end := bytes.IndexByte(raw, '\n')
		if end < 0 {
			end = len(raw) - 1
		}
		line := raw[:end+1]
		raw = raw[end+1:]
		switch {
		case bytes.Equal(label, stdoutLabel):
			stdout = append(stdout, line...)
		case bytes.Equal(label, stderrLabel):
			stderr = append(stderr, line...)
		}
	}
	return stdout, stderr
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var errSessionEnded = errors.New("session cancelled")

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
	ss.mu.Lock()
	ss.shellDone = true
	cmds := append([]*command(nil), ss.cmds...)
	ss.mu.Unlock()
	close(ss.exited)
	for _, c := range cmds {
		c.mu.Lock()
		c.releaseLocked()
		c.mu.Unlock()
	}
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
func (ss *session) run(text string, async bool) (*command, error) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return nil, errSessionEnded
	}
	cdir := filepath.Join(ss.dir, "c"+strconv.Itoa(len(ss.cmds)))
	c := &command{
		id:      newUUID(),
		text:    text,
		async:   async,
		logPath: filepath.Join(cdir, "output.log"),
		notify:  make(chan struct{}),
		done:    make(chan struct{}),
		pending: 2,
	}
	if err := c.prepare(cdir, text, async); err != nil {
		ss.mu.Unlock()
		return nil, err
	}
	ss.cmds = append(ss.cmds, c)
	ss.byID[c.id] = c
	shellDone := ss.shellDone
	ss.mu.Unlock()

	stdinPath := "/dev/null"
	if async {
		stdinPath = filepath.Join(cdir, "in")
	}
	for i, label := range [][]byte{stdoutLabel, stderrLabel} {
		f := c.readers[i]
		ss.tb.srv.wg.Go(func() { c.pump(f, label) })
	}
	if shellDone {
		c.forceEnd()
		return c, fmt.Errorf("write to session shell: %w", os.ErrClosed)
	}
	// The command's descriptors: its script's stdin, stdout and stderr are
	// the FIFOs; the status descriptor is closed for it. Then the shell
	// reports "<cmdId> <exit code>" on the status descriptor. `command`
	// bypasses any function a previous command may have named printf.
	block := fmt.Sprintf("{ . %s; } %d>&- <%s >%s 2>%s\ncommand printf '%%s %%s\\n' %s \"$?\" >&%d\n",
		shellQuote(filepath.Join(cdir, "cmd.sh")), statusFD, shellQuote(stdinPath),
		shellQuote(filepath.Join(cdir, "out")), shellQuote(filepath.Join(cdir, "err")),
		shellQuote(c.id), statusFD)
	ss.writeMu.Lock()
	_, err := io.WriteString(ss.stdin, block)
	ss.writeMu.Unlock()
	if err != nil {
		c.forceEnd()
		return c, fmt.Errorf("write to session shell: %w", err)
	}
	return c, nil
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
	for _, name := range []string{"out", "err"} {
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
		p := filepath.Join(dir, "in")
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

// kill ends the shell and every process it started: SIGTERM to the process
// group and to each descendant, then SIGKILL to what is left after grace.
// It returns once they are gone and the output readers have finished.
func (ss *session) kill(grace time.Duration) {
	killTree(ss.pgid, grace)
	ss.writeMu.Lock()
	ss.stdin.Close()
	ss.writeMu.Unlock()
	<-ss.exited
	for _, c := range ss.commandList() {
		c.forceEnd()
	}
}

// write writes data to the stdin of an async command that is still
// running; others have no stdin to write to.
func (c *command) write(data []byte) error {
	c.mu.Lock()
	f := c.input
	finished := c.finished
	c.mu.Unlock()
	if finished || f == nil {
		return errors.New("command is not running or does not read input")
	}
	_ = f.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := f.Write(data)
	return err
}
