//go:build unix

package daytonatest

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// Options for the traits of the real daemon that reach a command's output
// (see labeller.go).

// DaemonOutputRate is about how many bytes a second the real daemon moves
// from a command's output stream to its log: its labeller reads the pipe
// one byte per system call (10 MB of output took 4.3 s on the daemon of
// v0.173.0 and v0.190.0). See [WithOutputRate].
const DaemonOutputRate = 2_300_000

// ErrShellNotFound is the error (wrapped) of [Run] when the shell that
// [WithSessionShell] names is not installed.
var ErrShellNotFound = errors.New("shell not installed")

// daemonConfig holds the daemon traits that options choose.
type daemonConfig struct {
	kind       shellKind
	lineChunk  int           // 0: the session shell's stdio buffer
	outputRate int           // bytes a second per stream; 0: no limit
	startDelay time.Duration // before each session command runs
	sleepPath  string        // sleep(1), for startDelay
}

// shellKind is the family of the session shell, which decides how the
// daemon's labeller treats output.
type shellKind int

const (
	kindBash shellKind = iota // bash, and any shell but zsh
	kindZsh
)

func kindOf(shellPath string) shellKind {
	if filepath.Base(shellPath) == "zsh" {
		return kindZsh
	}
	return kindBash
}

// dropsNUL reports whether the shell's read drops NUL bytes: bash's does,
// zsh's keeps them.
func (k shellKind) dropsNUL() bool { return k != kindZsh }

// stdioBuffer is the size of the buffer through which the shell's printf
// writes to the log file (see stdioWrites): a file's st_blksize for bash
// (glibc's choice; 4096 on ext4 and overlayfs), 8192 for zsh.
func (k shellKind) stdioBuffer() int {
	if k == kindZsh {
		return 8192
	}
	return 4096
}

// builtinPrintf is how the session shell calls its own printf whatever
// functions and PATH a command left behind: `command` runs builtins in
// bash and sh, but only external commands in zsh, which has `builtin`.
func (k shellKind) builtinPrintf() string {
	if k == kindZsh {
		return "builtin printf"
	}
	return "command printf"
}

// resolve completes the daemon traits once the shell is known.
func (d *daemonConfig) resolve(shellPath string) error {
	d.kind = kindOf(shellPath)
	if d.lineChunk == 0 {
		d.lineChunk = d.kind.stdioBuffer()
	}
	if d.startDelay > 0 {
		p, err := exec.LookPath("sleep")
		if err != nil {
			return fmt.Errorf("daytonatest: WithStartDelay: %w", err)
		}
		d.sleepPath = p
	}
	return nil
}

// WithSessionShell sets the shell of sessions and of /process/execute, by
// name: "bash" or "zsh", found in PATH. The daemon uses the first of zsh
// and bash listed in /etc/shells (apps/daemon/pkg/common/get_shell.go:12-41,
// v0.173.0), so on Daytona's default image, which installs zsh, sessions
// run zsh. The default here is bash (see [WithShell]), which every machine
// that runs the tests has.
//
// The shell also decides how the daemon's labeller treats output: under
// bash, NUL bytes are dropped from it and long lines are written 4096 bytes
// at a time; under zsh, NUL bytes stay and long lines go 8192 bytes at a
// time (see [WithLineChunk]).
//
// A shell that is not installed makes [Run] fail with an error that
// matches [ErrShellNotFound] and says how to install it.
func WithSessionShell(name string) Option {
	return func(c *config) error {
		if name != "bash" && name != "zsh" {
			return fmt.Errorf("daytonatest: WithSessionShell(%q): want bash or zsh", name)
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return fmt.Errorf("daytonatest: WithSessionShell(%q): %w: install it (for example apt-get install -y %s)", name, ErrShellNotFound, name)
		}
		c.shell = p
		return nil
	}
}

// WithLineChunk sets the stdio buffer size of the daemon's labeller, n
// bytes: a labelled line longer than that reaches the log in several
// writes (stdioWrites in labeller.go tells which), and a line the other
// stream prints meanwhile goes in between, so that its label lands inside
// the long line (apps/daemon/pkg/session/execute.go:211-213, v0.173.0 and
// v0.190.0). The default is the session shell's: 4096 under bash, 8192
// under zsh. n must be at least 16; a value larger than any line the tests
// print keeps every line whole.
func WithLineChunk(n int) Option {
	return checked(n >= 16, func(c *config) { c.daemon.lineChunk = n },
		"daytonatest: WithLineChunk(%d): must be at least 16", n)
}

// WithOutputRate limits how fast each output stream of a session command
// moves into its log to bytesPerSecond, as the daemon's labeller, which
// reads one byte per system call, moves about [DaemonOutputRate]. A
// command that writes faster blocks on its full pipe, as on the daemon.
// The default, 0, sets no limit: most tests want their output at once,
// and the rate of a real sandbox depends on its CPU; set it to measure
// throughput or timeouts as a real sandbox would show them.
func WithOutputRate(bytesPerSecond int) Option {
	return checked(bytesPerSecond >= 0, func(c *config) { c.daemon.outputRate = bytesPerSecond },
		"daytonatest: WithOutputRate(%d): negative rate", bytesPerSecond)
}

// WithStartDelay sets how long the daemon's wrapper takes, once the session
// shell reaches a command, before the command runs: the wrapper first
// makes the command's FIFOs and starts its labellers (execute.go:196-220,
// v0.173.0), a few milliseconds on a real sandbox. Until then the command
// has no input pipe, and send-input answers 500 "failed to open input
// pipe". The default is 0: the command starts as soon as the shell reaches
// it.
func WithStartDelay(d time.Duration) Option {
	return duration("WithStartDelay", d, func(c *config) { c.daemon.startDelay = d })
}
