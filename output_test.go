package daytona_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Output at any size and of any bytes (issue #21): the matrix of what the
// daemon's labelling damages (NUL, label bytes, invalid UTF-8, long lines
// with stderr, no final newline), sizes around the log's limit and far
// over it, on bash and zsh session shells, with and without perl in the
// sandbox, without writers, with two writers and with one.

// outputCase is output that a command prints on its two streams.
type outputCase struct {
	name     string
	out, err []byte
}

func outputCases() []outputCase {
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	return []outputCase{
		{"plain", []byte("hello\n"), []byte("oops\n")},
		{"no final newline", []byte("a\nb"), []byte("c")},
		{"empty", nil, nil},
		{"NUL and label bytes", []byte("x\x00y\x01\x01\x01z\x02\x02\x02\n\x00"), []byte("\x02\x02\x02e\x01\n")},
		{"invalid UTF-8", []byte("a\xffb\xc3\n\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80"), []byte("\xc2\n\xfe")},
		{"valid UTF-8 and controls", []byte("é→✓日本𝄞\n\x1b[31mred\x1b[0m\r\n"), []byte("ü\t\v\f")},
		{"long lines with stderr", bytes.Repeat([]byte("o"), 70000), append(bytes.Repeat([]byte("e"), 30000), '\n')},
		{"around the log's limit", bytes.Repeat([]byte("x"), 16<<10+1), bytes.Repeat([]byte("y"), 16<<10)},
		{"3 MiB of random bytes", random(3 << 20), random(100 << 10)},
	}
}

// sessionShells are the session shells to run under: bash, and zsh where
// installed (the daemon's choice on Daytona's default image).
func sessionShells(t testing.TB) []string {
	shells := []string{"bash"}
	if _, err := exec.LookPath("zsh"); err == nil {
		shells = append(shells, "zsh")
	} else {
		t.Log("zsh is not installed: bash sessions only")
	}
	return shells
}

// writerModes are the ways to take output: the result only (one
// request), two writers, one writer for both streams (merged in the
// sandbox, in the command's order).
var writerModes = []string{"result", "writers", "one writer"}

func TestOutputExactMatrix(t *testing.T) {
	t.Parallel()
	cases := outputCases()
	for _, sh := range sessionShells(t) {
		for _, perl := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/perl=%v", sh, perl), func(t *testing.T) {
				t.Parallel()
				opts := []daytonatest.Option{daytonatest.WithSessionShell(sh)}
				if !perl {
					opts = append(opts, daytonatest.WithoutPrograms("perl"))
				}
				checkOutputCases(t, newServer(t, opts...), cases, "", "")
			})
		}
	}
}

// checkOutputCases checks each case in every writer mode on a sandbox of
// srv (with cmd and script, see checkOutputCmd), and that every file
// downloaded was removed afterwards.
func checkOutputCases(t *testing.T, srv *daytonatest.Server, cases []outputCase, cmd, script string) {
	t.Helper()
	sb := startedSandbox(t, srv)
	dir := homeDir(t, srv, sb)
	for i, tc := range cases {
		o, e := filepath.Join(dir, fmt.Sprintf("o%d", i)), filepath.Join(dir, fmt.Sprintf("e%d", i))
		require.NoError(t, os.WriteFile(o, tc.out, 0o600))
		require.NoError(t, os.WriteFile(e, tc.err, 0o600))
		for _, mode := range writerModes {
			checkOutputCmd(t, sb, tc, mode, o, e, cmd, script)
		}
	}
	daytona.WaitBackground(t.Context(), sb)
	requireRemoved(t, srv.RequestsFor(daytonatest.OpDownloadFile))
}

// checkOutputCmd runs a command that prints tc's output from files o
// and e, in the given writer mode, and checks that it arrives exactly;
// the command is cmd with script as its one argument, if cmd is not empty.
func checkOutputCmd(t *testing.T, sb *daytona.Sandbox, tc outputCase, mode, o, e, cmd, script string) {
	t.Helper()
	opts := &workspace.ExecOptions{MaxRetainedBytes: workspace.Unlimited, Env: map[string]string{"O": o, "E": e}}
	var out, errOut syncBuffer
	switch mode {
	case "writers":
		opts.Stdout, opts.Stderr = &out, &errOut
	case "one writer":
		opts.Stdout, opts.Stderr = &out, &out
	}
	if cmd == "" {
		cmd, script = `cat "$O"; cat "$E" >&2; exit 3`, ""
		if mode == "one writer" {
			cmd = `cat "$O"; cat "$E" >&2; cat "$O"; exit 3`
		}
	} else if mode == "one writer" {
		script = `cat "$O"; cat "$E" >&2; cat "$O"; exit 3`
	}
	var args []string
	if script != "" {
		args = []string{script}
	}
	res, err := sb.ExecuteCommand(t.Context(), cmd, args, opts)
	require.NoError(t, err, "%s, %s", tc.name, mode)
	what := tc.name + ", " + mode
	assert.Equal(t, 3, res.ExitCode, what)
	wantOut, wantErr := string(tc.out), string(tc.err)
	if mode == "one writer" {
		wantOut, wantErr = string(tc.out)+string(tc.err)+string(tc.out), ""
	}
	assertSameBytes(t, wantOut, res.Stdout, what+": result stdout")
	assertSameBytes(t, wantErr, res.Stderr, what+": result stderr")
	switch mode {
	case "writers":
		assertSameBytes(t, wantOut, out.String(), what+": stdout writer")
		assertSameBytes(t, wantErr, errOut.String(), what+": stderr writer")
	case "one writer":
		assertSameBytes(t, wantOut, out.String(), what+": the writer")
	}
}

// assertSameBytes compares outputs without printing megabytes.
func assertSameBytes(t *testing.T, want, got, what string) {
	t.Helper()
	if want != got {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		t.Errorf("%s: %d bytes, want %d; first difference at %d: %q vs %q", what, len(got), len(want), i,
			got[i:min(len(got), i+20)], want[i:min(len(want), i+20)])
	}
}

// TestOutputOverTheLogsLimitIsDownloaded: output that does not fit the log
// (or is not text) stays in its file and is downloaded: a command without
// writers reads just the tail its result keeps; one with writers reads it
// all; either way the log carries no more than its limit, and the file is
// removed afterwards.
func TestOutputOverTheLogsLimitIsDownloaded(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	const size = 5 << 20
	cmd := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' 'x'", size)
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv.ResetRequests()
			opts, out, _ := withMode(mode.stream, &workspace.ExecOptions{MaxRetainedBytes: 1000})
			res, err := sb.ExecuteCommand(t.Context(), cmd, nil, opts)
			require.NoError(t, err)
			assert.Equal(t, strings.Repeat("x", 1000), res.Stdout)
			assert.EqualValues(t, size-1000, res.StdoutDroppedBytes)
			if mode.stream {
				assert.Equal(t, size, out.Len(), "the writer got it all")
			}
			var logged int
			for _, r := range srv.Requests() {
				logged += len(r.Body)
			}
			assert.Less(t, logged, 100<<10, "the output did not go through the log")
			daytona.WaitBackground(t.Context(), sb)
			downloads := srv.RequestsFor(daytonatest.OpDownloadFile)
			require.NotEmpty(t, downloads)
			requireRemoved(t, downloads)
		})
	}
}

// TestOutputExactWithoutTheRunnersReport: a command that replaces its
// shell in a way the library cannot see beforehand (exec through a
// variable) ends without the runner's report; its output, which stayed in
// its files, and the exit code the daemon recorded still arrive exactly,
// on bash and zsh sessions, in every writer mode.
func TestOutputExactWithoutTheRunnersReport(t *testing.T) {
	all := outputCases()
	cases := []outputCase{all[0], all[3], all[len(all)-1]}
	for _, sh := range sessionShells(t) {
		t.Run(sh, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, daytonatest.WithSessionShell(sh))
			checkOutputCases(t, srv, cases, `X=ex; ${X}ec bash -c`, `cat "$O"; cat "$E" >&2; exit 3`)
		})
	}
}
