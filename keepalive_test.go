package daytona_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// autoStopUnit is how long a minute of auto-stop lasts on the servers of
// these tests: a sandbox with WithAutoStopInterval(time.Minute) is
// stopped after being idle that long.
const autoStopUnit = 400 * time.Millisecond

// longCommand runs for three auto-stop intervals without a request of its
// own (the sandbox is stopped after one, in time when the keep-alive
// fails).
const longCommand = "sleep 1.2; echo done"

// stoppedCommand runs for five auto-stop intervals: time enough for the
// auto-stop and the stop it begins (with three, the command once finished
// first, in a full run after the bulk-output merge).
const stoppedCommand = "sleep 2; echo done"

func TestLongCommandIsAutoStoppedWithoutKeepAlive(t *testing.T) {
	srv := newServer(t, daytonatest.WithAutoStopUnit(autoStopUnit))
	sb := startedSandbox(t, srv, daytona.WithAutoStopInterval(time.Minute), daytona.WithKeepAlive(false))
	var out bytes.Buffer
	res, err := sb.ExecuteCommand(t.Context(), stoppedCommand, nil, &workspace.ExecOptions{Stdout: &out})
	assert.False(t, err == nil && res.Success(), "the command survived Daytona's auto-stop: %+v", res)
	assert.NotContains(t, out.String(), "done")
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	assert.Equal(t, daytonatest.StateStopped, rec.State, "Daytona's auto-stop stopped the sandbox")
	assert.Zero(t, srv.Count(daytonatest.OpLastActivity))
}

func TestKeepAliveKeepsLongCommandRunning(t *testing.T) {
	srv := newServer(t, daytonatest.WithAutoStopUnit(autoStopUnit))
	sb := startedSandbox(t, srv, daytona.WithAutoStopInterval(time.Minute), daytona.WithKeepAliveInterval(autoStopUnit/8))
	for _, opts := range []*workspace.ExecOptions{{Stdout: &bytes.Buffer{}}, nil} { // streaming, then synchronous
		res, err := sb.ExecuteCommand(t.Context(), longCommand, nil, opts)
		require.NoError(t, err)
		assert.Equal(t, "done\n", res.Stdout)
	}
	rec, _ := srv.Sandbox(sb.DaytonaID())
	assert.Equal(t, daytonatest.StateStarted, rec.State)
	assert.Positive(t, srv.Count(daytonatest.OpLastActivity))
	assert.Zero(t, daytona.KeepAliveHolders(sb), "nothing runs: no refresher")
}

func TestKeepAliveKeepsProcessRunning(t *testing.T) {
	srv := newServer(t, daytonatest.WithAutoStopUnit(autoStopUnit))
	sb := startedSandbox(t, srv, daytona.WithAutoStopInterval(time.Minute), daytona.WithKeepAliveInterval(autoStopUnit/8))
	proc, err := sb.Processes().Spawn(t.Context(), longCommand, nil)
	require.NoError(t, err)
	waitFor(t, "the process's reader to hold the keep-alive", func() bool { return daytona.KeepAliveHolders(sb) == 1 })
	res, err := proc.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	assert.Equal(t, "done\n", res.Stdout)
	waitFor(t, "the process's reader to let go", func() bool { return daytona.KeepAliveHolders(sb) == 0 })
	rec, _ := srv.Sandbox(sb.DaytonaID())
	assert.Equal(t, daytonatest.StateStarted, rec.State)
}

func TestSetAutoStopInterval(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	for _, d := range []time.Duration{-time.Minute, 90 * time.Second} {
		assert.ErrorIs(t, sb.SetAutoStopInterval(t.Context(), d), daytona.ErrInvalidInput, "%v", d)
	}
	assert.Zero(t, srv.TotalCount(), "bad input is refused before any request")
	require.NoError(t, sb.SetAutoStopInterval(t.Context(), 45*time.Minute))
	rec, _ := srv.Sandbox(sb.DaytonaID())
	assert.Equal(t, 45, rec.AutoStopInterval)
	require.NoError(t, sb.SetAutoStopInterval(t.Context(), 0))
	rec, _ = srv.Sandbox(sb.DaytonaID())
	assert.Equal(t, 0, rec.AutoStopInterval)
}

func TestKeepAliveOptions(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := daytona.New(daytona.WithKeepAliveInterval(d))
		assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	}
	_, err := daytona.New(daytona.WithKeepAlive(false), daytona.WithKeepAlive(true))
	assert.NoError(t, err)
}
