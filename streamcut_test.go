package daytona_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// The output of the stream-cut test: invalid UTF-8, label look-alikes,
// CR, NUL, a 70 KB line and no final newline, on both streams.
const (
	cutPattern = `perl -e 'binmode STDOUT; print "a\xffb\x01\x01\x01c\r\n\x02\x02\x02d\0%%0A\n" x 50; print "x" x 70000; print "\n\xc3\xa9 end"'; ` +
		`perl -e 'binmode STDERR; print STDERR "e\xfe\x01\x01\x01\r\n" x 30; print STDERR "y" x 5000; print STDERR "\x02\x02\x02last"'`
)

var (
	cutStdout = strings.Repeat("a\xffb\x01\x01\x01c\r\n\x02\x02\x02d\x00%%0A\n", 50) + strings.Repeat("x", 70000) + "\n\xc3\xa9 end"
	cutStderr = strings.Repeat("e\xfe\x01\x01\x01\r\n", 30) + strings.Repeat("y", 5000) + "\x02\x02\x02last"
)

// cutOffsets are where the follow stream is cut: the edges the issue names
// and random places in the log (2 of them; 22 with the stress tag).
func cutOffsets() []int {
	offs := []int{0, 1, 2, 3, 4095, 4096, 4097, 65535, 65536, 65537}
	random := 2
	if stress {
		random = 22
	}
	rng := rand.New(rand.NewPCG(20261202, 1))
	for range random {
		offs = append(offs, rng.IntN(90000))
	}
	return offs
}

// TestStreamCutsAreExact cuts a command's log stream at 12 offsets (32
// with the stress tag), with and without writers, for commands that
// finish, time out, are cancelled or are killed (processes), and checks
// that no byte is lost or doubled.
func TestStreamCutsAreExact(t *testing.T) {
	// 14 variants at a time (two offsets' worth), whatever go test's
	// -parallel: the timeout variants need their output printed within
	// their timeout.
	sem := make(chan struct{}, 2*len(cutVariants))
	var offsets sync.WaitGroup
	for _, off := range cutOffsets() {
		offsets.Go(func() {
			t.Run(fmt.Sprint(off), func(t *testing.T) { cutAt(t, off, sem) })
		})
	}
	offsets.Wait()
}

// cutAt runs the variants, each on a server of its own, with the follow
// stream cut at off, as many at once as sem allows.
func cutAt(t *testing.T, off int, sem chan struct{}) {
	var wg sync.WaitGroup
	for _, v := range cutVariants {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(v.name, func(t *testing.T) {
				srv := newServer(t)
				// Without writers, follow the log too: commands outlive a
				// short sync window (one that leaves the request time to
				// reach the server).
				sb := startedSandbox(t, srv, daytona.WithSyncWindow(cutSyncWindow))
				srv.CutNextStreams(1, off)
				v.run(t, sb)
				if !strings.HasPrefix(v.name, "timeout/") {
					// Those follow the log only if their stream opens
					// before the timeout (and without writers, after the
					// sync window): not always on a loaded machine.
					assert.Positive(t, srv.Count(daytonatest.OpFollowLogs), "the log was not followed, so the stream was not cut")
				}
			})
		})
	}
	wg.Wait()
}

// cutSyncWindow is the sync window of the stream-cut test, and
// outliveSyncWindow makes a command that would finish within it outlive it.
// The window must leave the request time to reach the server (otherwise
// the command is not found, an error): 300 ms was not enough at a load of
// 35 on 2 cores. It is longer than the timeouts without -race: the timeout
// variants without writers take the synchronous path to their end.
const (
	cutSyncWindow     = time.Second
	outliveSyncWindow = "sleep 1.2; "
)

// cutTimeout is the timeout of the timeout variants: the command must
// have printed everything by then (with -race on a loaded machine, 800 ms
// was not always enough).
func cutTimeout() time.Duration { return 800 * time.Millisecond * raceFactor() }

var cutVariants = []struct {
	name string
	run  func(t *testing.T, sb *daytona.Sandbox)
}{
	{"finish/writers", func(t *testing.T, sb *daytona.Sandbox) {
		var out, errOut syncBuffer
		res, err := sb.ExecuteCommand(t.Context(), cutPattern, nil, &workspace.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		checkCut(t, res, &out, &errOut, 0)
	}},
	{"finish/no writers", func(t *testing.T, sb *daytona.Sandbox) {
		res, err := sb.ExecuteCommand(t.Context(), outliveSyncWindow+cutPattern, nil, nil)
		require.NoError(t, err)
		checkCut(t, res, nil, nil, 0)
	}},
	{"timeout/writers", func(t *testing.T, sb *daytona.Sandbox) {
		var out, errOut syncBuffer
		res, err := sb.ExecuteCommand(t.Context(), cutPattern+"; sleep 30", nil,
			&workspace.ExecOptions{Stdout: &out, Stderr: &errOut, Timeout: cutTimeout()})
		require.NoError(t, err)
		checkCut(t, res, &out, &errOut, daytona.ExitCodeTimeout)
	}},
	{"timeout/no writers", func(t *testing.T, sb *daytona.Sandbox) {
		res, err := sb.ExecuteCommand(t.Context(), cutPattern+"; sleep 30", nil, &workspace.ExecOptions{Timeout: cutTimeout()})
		require.NoError(t, err)
		checkCut(t, res, nil, nil, daytona.ExitCodeTimeout)
	}},
	{"cancel/writers", func(t *testing.T, sb *daytona.Sandbox) {
		var out, errOut syncBuffer
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			waitFor(t, "all output", func() bool { return out.String() == cutStdout && errOut.String() == cutStderr })
			cancel()
		}()
		res, err := sb.ExecuteCommand(ctx, cutPattern+"; sleep 30", nil, &workspace.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.ErrorIs(t, err, context.Canceled)
		checkCut(t, res, &out, &errOut, daytona.ExitCodeKilled)
	}},
	{"kill/writers", func(t *testing.T, sb *daytona.Sandbox) {
		var out, errOut syncBuffer
		proc, err := sb.Processes().Spawn(t.Context(), cutPattern+"; sleep 30", &workspace.SpawnOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		waitFor(t, "all output", func() bool { return out.String() == cutStdout && errOut.String() == cutStderr })
		require.NoError(t, proc.Kill(t.Context()))
		res, err := proc.Wait(t.Context())
		require.NoError(t, err)
		checkCut(t, res, &out, &errOut, daytona.ExitCodeKilled)
	}},
	{"kill/no writers", func(t *testing.T, sb *daytona.Sandbox) {
		proc, err := sb.Processes().Spawn(t.Context(), cutPattern+"; sleep 30", nil)
		require.NoError(t, err)
		waitFor(t, "all output", func() bool { return proc.Stdout() == cutStdout && proc.Stderr() == cutStderr })
		require.NoError(t, proc.Kill(t.Context()))
		res, err := proc.Wait(t.Context())
		require.NoError(t, err)
		checkCut(t, res, nil, nil, daytona.ExitCodeKilled)
	}},
}

// checkCut checks a result (and writers, if given) against the pattern.
func checkCut(t *testing.T, res *workspace.CommandResult, out, errOut *syncBuffer, code int) {
	t.Helper()
	require.NotNil(t, res)
	assert.Equal(t, code, res.ExitCode, "exit code")
	assert.True(t, res.Stdout == cutStdout, "Stdout: %d bytes, want %d; first difference at %d", len(res.Stdout), len(cutStdout), firstDiff(res.Stdout, cutStdout))
	assert.True(t, res.Stderr == cutStderr || (code == daytona.ExitCodeTimeout && res.Stderr == cutStderr),
		"Stderr: %d bytes, want %d; first difference at %d", len(res.Stderr), len(cutStderr), firstDiff(res.Stderr, cutStderr))
	if out != nil {
		assert.True(t, out.String() == cutStdout, "Stdout writer: first difference at %d", firstDiff(out.String(), cutStdout))
		assert.True(t, errOut.String() == cutStderr, "Stderr writer: first difference at %d", firstDiff(errOut.String(), cutStderr))
	}
}

// firstDiff returns the index of the first byte where a and b differ, or
// -1.
func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestStreamReopensWhileItProgresses: a stream that delivered new bytes
// before it broke starts a new count of reopenings, so a long command on a
// flaky network is followed to its end however often its stream breaks;
// one that breaks again and again without progress is given up (and the
// command killed).
func TestStreamReopensWhileItProgresses(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	// Output that goes through the log (raw) makes a long log to cut.
	sb := startedSandbox(t, srv, daytona.WithRawOutput())
	var offsets []int
	for i := 1; i <= 8; i++ {
		offsets = append(offsets, i*3000)
	}
	srv.CutStreamsAt(offsets...)
	var out syncBuffer
	res, err := sb.ExecuteCommand(t.Context(), "seq 1 10000", nil, &workspace.ExecOptions{Stdout: &out})
	require.NoError(t, err, "8 breaks, each after progress")
	assert.Equal(t, seqOutput(10000), out.String())
	assert.Equal(t, seqOutput(10000), res.Stdout)
	assert.Equal(t, 9, srv.Count(daytonatest.OpFollowLogs))

	srv.CutNextStreams(10, 10) // each reopened stream breaks before it gets anywhere
	res, err = sb.ExecuteCommand(t.Context(), "echo start; sleep 30", nil, &workspace.ExecOptions{Stdout: &out})
	require.Error(t, err)
	assert.True(t, res.Killed, "a command that cannot be followed is killed")
}
