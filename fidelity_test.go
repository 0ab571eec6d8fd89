package daytona_test

// The library against daytonatest with the real daemon's traits switched
// on (issue #10): zsh as the session shell, long lines written in 4 KiB
// pieces that stderr interleaves with, NUL bytes dropped by bash's read,
// label-like bytes splitting the sync answer, the exit-code race, and
// send-input as the daemon answers it.

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/sandboxtest"
)

// zshMissing is the reason the zsh variants skip on a machine without zsh.
const zshMissing = "zsh is not installed, so the zsh variants (the daemon's session shell on Daytona's default image) cannot run: install it (apt-get install -y zsh; .ci/run does where it can)"

// shellServer starts a server whose sessions run shell ("bash" or "zsh"),
// with more options; it skips the test if the shell is not installed.
func shellServer(t *testing.T, shell string, opts ...daytonatest.Option) *daytonatest.Server {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		if shell == "zsh" {
			t.Skip(zshMissing)
		}
		t.Skipf("%s is not installed", shell)
	}
	return newServer(t, append([]daytonatest.Option{daytonatest.WithSessionShell(shell)}, opts...)...)
}

// daemonVariants are the fakes with the daemon's traits that the
// conformance suite and the exactness tests run against: zsh (NUL bytes
// kept, long lines in 8 KiB pieces), zsh and bash with 4 KiB pieces (bash
// drops NUL bytes).
var daemonVariants = []struct {
	name, shell string
	opts        []daytonatest.Option
}{
	{"zsh", "zsh", nil},
	{"zsh-4KiB", "zsh", []daytonatest.Option{daytonatest.WithLineChunk(4096)}},
	{"bash-4KiB", "bash", []daytonatest.Option{daytonatest.WithLineChunk(4096)}},
}

// TestConformanceDaemonTraits runs the conformance suite against the fake
// in the daemon's zsh mode; with the stress tag also with 4 KiB long-line
// pieces, under zsh and bash (each suite costs 1.8 s of CPU; the
// exactness tests below run every variant either way).
func TestConformanceDaemonTraits(t *testing.T) {
	t.Parallel()
	for _, v := range daemonVariants {
		if v.name != "zsh" && !stress {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			srv := shellServer(t, v.shell, v.opts...)
			sandboxtest.Run(t, sandboxtest.Config{
				New: func(t *testing.T) workspace.Sandbox {
					return newSandbox(t, srv)
				},
				Timeout:  30 * time.Second,
				Parallel: true,
				Skip:     knownBugs,
			})
		})
	}
}

// exactCase is a command whose output the daemon's labelling would damage,
// with the exact output it must give.
type exactCase struct {
	name, command, stdout, stderr string
}

var exactCases = []exactCase{
	{"NUL bytes", `printf 'a\000b\000\n\000'; printf 'e\000\n' >&2`, "a\x00b\x00\n\x00", "e\x00\n"},
	{"label-like bytes", `printf '\001\001\001x\002\002\002y\n\001\001'; printf '\002\002\002z\001\001\001' >&2`,
		"\x01\x01\x01x\x02\x02\x02y\n\x01\x01", "\x02\x02\x02z\x01\x01\x01"},
	{"invalid UTF-8", `printf '\377\376ok\200\n\342\202'; printf '\300\n' >&2`, "\xff\xfeok\x80\n\xe2\x82", "\xc0\n"},
	{"long lines with stderr all along", `( i=0; while [ $i -lt 3000 ]; do echo "e$i"; i=$((i+1)); done ) >&2 &
long=$(head -c 30000 /dev/zero | tr '\0' a); j=0; while [ $j -lt 10 ]; do printf '%s\n' "$long"; j=$((j+1)); done; wait`,
		strings.Repeat(strings.Repeat("a", 30000)+"\n", 10), numbered("e", 3000)},
	{"CR and no final newline", `printf 'a\r\nb\rc'; printf 'x\r' >&2`, "a\r\nb\rc", "x\r"},
}

// numbered returns the lines prefix0 ... prefix(n-1), each with a newline.
func numbered(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

// TestExactThroughDaemonTraits: NUL bytes, label-like bytes, invalid
// UTF-8 and lines over 4 KiB with stderr all along come out byte-exact,
// with and without writers, under bash and zsh session shells.
func TestExactThroughDaemonTraits(t *testing.T) {
	t.Parallel()
	for _, v := range daemonVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			srv := shellServer(t, v.shell, v.opts...)
			sb := startedSandbox(t, srv)
			for _, tc := range exactCases {
				for _, m := range modes {
					opts, out, errOut := withMode(m.stream, nil)
					res, err := sb.ExecuteCommand(t.Context(), tc.command, nil, opts)
					require.NoError(t, err, "%s, %s", tc.name, m.name)
					require.Equal(t, 0, res.ExitCode, "%s, %s: %q", tc.name, m.name, res.Stderr)
					require.True(t, tc.stdout == res.Stdout, "%s, %s: stdout %s", tc.name, m.name, diffAt(tc.stdout, res.Stdout))
					require.True(t, tc.stderr == res.Stderr, "%s, %s: stderr %s", tc.name, m.name, diffAt(tc.stderr, res.Stderr))
					if m.stream {
						require.True(t, tc.stdout == out.String(), "%s: stdout writer %s", tc.name, diffAt(tc.stdout, out.String()))
						require.True(t, tc.stderr == errOut.String(), "%s: stderr writer %s", tc.name, diffAt(tc.stderr, errOut.String()))
					}
				}
			}
		})
	}
}

// diffAt describes where got first differs from want, briefly (the
// outputs compared are up to 300 KB).
func diffAt(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	end := func(s string) string { return s[i:min(len(s), i+40)] }
	return fmt.Sprintf("differs at byte %d of %d (got %d): want %q, got %q", i, len(want), len(got), end(want), end(got))
}

// TestExitCodeRaceStress: with the daemon's exit-code race firing on 5% of
// the reads of a finished command's exit code (sync execs and command
// lookups), and surely on the first of each, 200 commands run 20 at a time
// (1,000 with the stress tag) each report their own exit code and output,
// with and without writers.
func TestExitCodeRaceStress(t *testing.T) {
	t.Parallel()
	commands := 200
	if stress {
		commands = 1000
	}
	const parallel = 20
	srv := newServer(t, daytonatest.WithRequestLogLimit(100000))
	sb := startedSandbox(t, srv)
	require.NoError(t, srv.SetExitCodeRaceRate(0.05))
	require.NoError(t, srv.RaceExitCodeNext(daytonatest.OpSessionExec, 1))
	require.NoError(t, srv.RaceExitCodeNext(daytonatest.OpGetCommand, 1))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	errs := make([]error, commands)
	for i := range commands {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = runNumbered(t.Context(), sb, i)
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "command %d", i)
	}
	raced := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusInternalServerError && (r.Op == daytonatest.OpSessionExec || r.Op == daytonatest.OpGetCommand) {
			raced++
		}
	}
	t.Logf("%d of %d requests lost the exit-code race", raced, srv.TotalCount())
	require.Positive(t, raced, "the race never fired")
}

// runNumbered runs command number i, whose exit code and output depend on
// i, and checks what it reports.
func runNumbered(ctx context.Context, sb *daytona.Sandbox, i int) error {
	code := []int{0, 1, 2, 3, 42, 127, 255}[i%7]
	stdout := fmt.Sprintf("out %d %s\n", i, strings.Repeat("x", i%97))
	stderr := fmt.Sprintf("err %d\n", i)
	command := fmt.Sprintf("printf 'out %%d %%s\\n' %d %s; printf 'err %%d\\n' %d >&2; exit %d", i, strings.Repeat("x", i%97), i, code)
	if i%97 == 0 {
		command = fmt.Sprintf("printf 'out %%d \\n' %d; printf 'err %%d\\n' %d >&2; exit %d", i, i, code)
	}
	opts, out, errOut := withMode(i%2 == 1, nil)
	res, err := sb.ExecuteCommand(ctx, command, nil, opts)
	switch {
	case err != nil:
		return err
	case res.ExitCode != code:
		return fmt.Errorf("exit code %d, want %d (stderr %q)", res.ExitCode, code, res.Stderr)
	case res.Stdout != stdout || res.Stderr != stderr:
		return fmt.Errorf("output %q %q, want %q %q", res.Stdout, res.Stderr, stdout, stderr)
	case i%2 == 1 && (out.String() != stdout || errOut.String() != stderr):
		return fmt.Errorf("writers got %q %q, want %q %q", out.String(), errOut.String(), stdout, stderr)
	}
	return nil
}

// TestSendStdinAsTheDaemonTakesIt: input sent right after Spawn, while the
// daemon's wrapper still sets the command up (500 "failed to open input
// pipe"), is delivered once the command runs; the input is not echoed into
// the output; data without a newline is given one (so "a" arrives as a
// line); empty data and input after the end are errors.
func TestSendStdinAsTheDaemonTakesIt(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			srv := shellServer(t, shell, daytonatest.WithStartDelay(300*time.Millisecond))
			sb := startedSandbox(t, srv)
			ctx := t.Context()
			p, err := sb.Processes().Spawn(ctx, `read x; echo "got $x"; read y; echo "then [$y]"`, nil)
			require.NoError(t, err)
			require.NoError(t, p.SendStdin(ctx, []byte("hi\n")))
			require.ErrorIs(t, p.SendStdin(ctx, nil), daytona.ErrInvalidInput)
			require.NoError(t, p.SendStdin(ctx, []byte("a")))
			res, err := p.Wait(ctx)
			require.NoError(t, err)
			require.Equal(t, 0, res.ExitCode)
			require.Equal(t, "got hi\nthen [a]\n", res.Stdout, "input echoed, or its newline missing")

			var statuses []int
			for _, r := range srv.RequestsFor(daytonatest.OpSendInput) {
				statuses = append(statuses, r.Status)
			}
			require.Equal(t, http.StatusInternalServerError, statuses[0], "the first input came before the command ran: %v", statuses)
			require.Equal(t, http.StatusNoContent, statuses[len(statuses)-1], "%v", statuses)

			require.ErrorIs(t, p.SendStdin(ctx, []byte("late\n")), workspace.ErrNotReady)
		})
	}
}

// TestSendStdinKeepsTheDaemonsError: an input refused by the daemon keeps
// its status and message (here the 410 of a command whose exit code was
// read, before the process noticed its end).
func TestSendStdinKeepsTheDaemonsError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	ctx := t.Context()
	p, err := sb.Processes().Spawn(ctx, `read x`, nil)
	require.NoError(t, err)
	require.NoError(t, srv.FailNext(daytonatest.OpSendInput, 1, http.StatusGone, "gone: command has already completed with exit code 0"))
	err = p.SendStdin(ctx, []byte("x\n"))
	require.ErrorIs(t, err, workspace.ErrNotReady)
	require.Equal(t, http.StatusGone, daytona.StatusCode(err))
	require.Contains(t, err.Error(), "gone: command has already completed with exit code 0")
	require.NoError(t, p.SendStdin(ctx, []byte("x\n")))
	res, err := p.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	require.Empty(t, res.Stdout)
}
