//go:build unix

package daytonatest_test

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// The traits of the daemon's session shell and labellers
// (apps/daemon/pkg/session/execute.go cmdWrapperFormat, and
// apps/daemon/pkg/common/get_shell.go, v0.173.0 and v0.190.0).

// zshMissing is the reason the zsh variants skip on a machine without zsh.
const zshMissing = "zsh is not installed, so the zsh variants of the daemon's session shell cannot run: install it (apt-get install -y zsh; .ci/run does where it can)"

// skipWithoutZsh skips the test if zsh is not installed.
func skipWithoutZsh(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip(zshMissing)
	}
}

// shells are the session shells the daemon may pick.
var shells = []string{"bash", "zsh"}

// shellSandbox returns a sandbox whose sessions run shell (skipping zsh
// where it is missing) and a session "s" in it.
func shellSandbox(t *testing.T, shell string, opts ...daytonatest.Option) (*daytonatest.Server, *sdk.Sandbox) {
	t.Helper()
	if shell == "zsh" {
		skipWithoutZsh(t)
	}
	srv, _, sb := newSandbox(t, append([]daytonatest.Option{daytonatest.WithSessionShell(shell)}, opts...)...)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	return srv, sb
}

// runSync runs command synchronously in session "s" and returns its stdout,
// stderr and exit code.
func runSync(t *testing.T, sb *sdk.Sandbox, command string) (string, string, int32) {
	t.Helper()
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", command, false, false)
	require.NoError(t, err)
	stdout, _ := m["stdout"].(string)
	stderr, _ := m["stderr"].(string)
	code, _ := m["exitCode"].(int32)
	return stdout, stderr, code
}

// TestSessionShellZsh: the daemon runs sessions in the first of zsh and
// bash in /etc/shells (get_shell.go:12-41), zsh on Daytona's default
// image, and user commands then follow zsh's rules; /process/execute uses
// the same shell (apps/daemon/pkg/toolbox/process/execute.go:53).
func TestSessionShellZsh(t *testing.T) {
	t.Parallel()
	_, sb := shellSandbox(t, "zsh")
	for _, tc := range []struct{ command, stdout, stderr string }{
		{`echo "a\tb"`, "a\tb\n", ""},                                 // echo expands escapes
		{`X="1 2"; for w in $X; do echo "[$w]"; done`, "[1 2]\n", ""}, // no word splitting
		{`a=(x y); echo $a[1]`, "x\n", ""},                            // arrays start at 1
	} {
		stdout, stderr, code := runSync(t, sb, tc.command)
		require.Equal(t, int32(0), code, tc.command)
		require.Equal(t, tc.stdout, stdout, tc.command)
		require.Equal(t, tc.stderr, stderr, tc.command)
	}
	_, stderr, code := runSync(t, sb, `echo nomatch*`)
	require.NotEqual(t, int32(0), code)
	require.Contains(t, stderr, "no matches found: nomatch*")

	res, err := sb.Process.ExecuteCommand(t.Context(), `echo "$ZSH_VERSION" | grep -c .`)
	require.NoError(t, err)
	require.Equal(t, "1\n", res.Result)
}

// TestSessionShellBash: the default session shell is bash, and its rules
// apply.
func TestSessionShellBash(t *testing.T) {
	t.Parallel()
	_, _, sb := newSandbox(t)
	require.NoError(t, sb.Process.CreateSession(t.Context(), "s"))
	stdout, _, code := runSync(t, sb, `X="1 2"; for w in $X; do echo "[$w]"; done; echo "$BASH_VERSION" | grep -c .`)
	require.Equal(t, int32(0), code)
	require.Equal(t, "[1]\n[2]\n1\n", stdout)
}

// TestWithSessionShellErrors: a name other than bash or zsh, and a shell
// that is not installed, are errors of Run that name the option.
func TestWithSessionShellErrors(t *testing.T) {
	_, err := daytonatest.Run(daytonatest.WithSessionShell("fish"))
	require.ErrorContains(t, err, `WithSessionShell("fish"): want bash or zsh`)
	t.Setenv("PATH", t.TempDir())
	_, err = daytonatest.Run(daytonatest.WithSessionShell("zsh"))
	require.True(t, errors.Is(err, daytonatest.ErrShellNotFound), "%v", err)
	require.ErrorContains(t, err, "apt-get install -y zsh")
}

// TestNULBytesPerShell: the labeller's `read` drops NUL bytes under bash
// and keeps them under zsh (execute.go:212-213; measured with bash 5.2 and
// zsh 5.9); a last line without a newline gets one unless bash left
// nothing of it.
func TestNULBytesPerShell(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{"bash": "ab\n", "zsh": "a\x00b\n\x00\x00\n"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			_, sb := shellSandbox(t, shell)
			stdout, _, _ := runSync(t, sb, `printf 'a\000b\n'; printf '\000\000'`)
			require.Equal(t, want, stdout)
		})
	}
}

// longLineCommand prints ten lines of 30,000 "a" on stdout while a loop
// writes short lines to stderr all along, from before the first long line
// until after the last (the measurement of the issue: constant stderr).
const longLineCommand = `long=$(head -c 30000 /dev/zero | tr '\0' a)
( i=0; while [ $i -lt 15000 ]; do echo "e$i"; [ $i = 3000 ] && : >stderr-started; i=$((i+1)); done ) >&2 &
while [ ! -e stderr-started ]; do :; done
j=0; while [ $j -lt 10 ]; do printf '%s\n' "$long"; j=$((j+1)); done
wait; rm stderr-started`

// longLines returns how many of stdout's lines are whole lines of 30,000
// "a", and how many lines there are.
func longLines(stdout string) (whole, lines int) {
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		lines++
		if l == strings.Repeat("a", 30000) {
			whole++
		}
	}
	return whole, lines
}

// TestLongLinesInterleaveWithStderr: the labeller's printf writes a long
// line in pieces of its stdio buffer (4096 under bash, 8192 under zsh), so
// the stderr labeller's lines land inside long stdout lines
// (execute.go:211-213): the labelled log has a stderr label inside a run
// of "a", and the daemon's demultiplexing then cuts the stdout lines. With
// a chunk larger than the lines, they stay whole.
func TestLongLinesInterleaveWithStderr(t *testing.T) {
	t.Parallel()
	inside := regexp.MustCompile("a\x02\x02\x02e[0-9]+\na")
	for _, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			_, sb := shellSandbox(t, shell)
			m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", longLineCommand, false, false)
			require.NoError(t, err)
			logs, err := sb.Process.GetSessionCommandLogs(t.Context(), "s", m["id"].(string))
			require.NoError(t, err)
			whole, lines := longLines(logs.Stdout)
			require.True(t, inside.MatchString(logs.Output), "no stderr line inside a long stdout line (%d whole of %d lines)", whole, lines)
			require.Less(t, whole, 10, "every long line came out whole")
		})
	}
	t.Run("no chunks", func(t *testing.T) {
		t.Parallel()
		_, sb := shellSandbox(t, "bash", daytonatest.WithLineChunk(1<<20))
		stdout, stderr, code := runSync(t, sb, longLineCommand)
		require.Equal(t, int32(0), code)
		whole, lines := longLines(stdout)
		require.Equal(t, 10, whole)
		require.Equal(t, 10, lines)
		require.Equal(t, 15000, strings.Count(stderr, "\n"))
	})
}

// TestSyncAnswerSplitsAtLabelLikeBytes: the daemon demultiplexes the sync
// answer (and the logs) at any label-like sequence, not only at line
// starts (DemuxLogBytes and findNextMarker, execute.go:157-186); the
// labelled output is the log as written.
func TestSyncAnswerSplitsAtLabelLikeBytes(t *testing.T) {
	t.Parallel()
	_, sb := shellSandbox(t, "bash")
	m, err := sb.Process.ExecuteSessionCommand(t.Context(), "s", `printf 'a\001\001\001b\n'; printf 'c\002\002\002d\n'`, false, false)
	require.NoError(t, err)
	require.Equal(t, "ab\nc", m["stdout"])
	require.Equal(t, "d\n", m["stderr"])
	logs, err := sb.Process.GetSessionCommandLogs(t.Context(), "s", m["id"].(string))
	require.NoError(t, err)
	require.Equal(t, "\x01\x01\x01a\x01\x01\x01b\n\x01\x01\x01c\x02\x02\x02d\n", logs.Output)
	require.Equal(t, "ab\nc", logs.Stdout)
	require.Equal(t, "d\n", logs.Stderr)
}

// TestOutputRate: with WithOutputRate, each stream moves into the log at
// that rate, as the daemon's byte-by-byte read loop does (about
// DaemonOutputRate); the command blocks on its full pipe meanwhile.
func TestOutputRate(t *testing.T) {
	t.Parallel()
	const size, rate = 600_000, 1_000_000
	_, sb := shellSandbox(t, "bash", daytonatest.WithOutputRate(rate))
	start := time.Now()
	stdout, _, code := runSync(t, sb, fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x | fold -w 100", size/101*100))
	took := time.Since(start)
	require.Equal(t, int32(0), code)
	require.Len(t, stdout, size/101*101)
	// A lower bound only: the rate is a limit.
	require.GreaterOrEqual(t, took, time.Duration(float64(len(stdout))/rate*float64(time.Second))*9/10)
}
