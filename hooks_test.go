package daytona_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// hookLog records the created argument of each call of a start hook.
type hookLog struct {
	mu      sync.Mutex
	created []bool
}

func (l *hookLog) add(created bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.created = append(l.created, created)
}

func (l *hookLog) calls() []bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bool(nil), l.created...)
}

// provision is a start hook that writes a file with a command, as a real
// one would clone a repository.
func provision(log *hookLog) daytona.StartHook {
	return func(ctx context.Context, sb *daytona.Sandbox, created bool) error {
		log.add(created)
		res, err := sb.ExecuteCommand(ctx, "echo provisioned > provisioned.txt", nil, nil)
		if err == nil && !res.Success() {
			err = errors.New(res.Stderr)
		}
		return err
	}
}

func TestOnStartRunsOnceForACreatedSandbox(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var log hookLog
	sb := newSandbox(t, srv, daytona.WithName("hooked"), daytona.WithOnStart(provision(&log)))
	var wg sync.WaitGroup
	for range 4 { // concurrent first calls share one start, and wait for its hook
		wg.Go(func() {
			res, err := sb.ExecuteCommand(t.Context(), "cat provisioned.txt", nil, nil)
			assert.NoError(t, err)
			assert.Equal(t, "provisioned\n", res.Stdout)
		})
	}
	wg.Wait()
	assert.Equal(t, []bool{true}, log.calls())
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))

	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Start(t.Context()))
	assert.Equal(t, []bool{true, false}, log.calls(), "a restart reconnects: created is false")
}

func TestOnStartReportsReconnect(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var first, second hookLog
	startedSandbox(t, srv, daytona.WithName("shared"), daytona.WithOnStart(provision(&first)))
	startedSandbox(t, srv, daytona.WithName("shared"), daytona.WithOnStart(provision(&second)))
	assert.Equal(t, []bool{true}, first.calls())
	assert.Equal(t, []bool{false}, second.calls(), "another Sandbox reconnecting by name")
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))
}

func TestOnStartErrorFailsStartAndLeavesSandboxRunning(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var log hookLog
	fail := errors.New("git clone failed")
	var mu sync.Mutex
	failing := true
	sb := newSandbox(t, srv, daytona.WithOnStart(func(ctx context.Context, sb *daytona.Sandbox, created bool) error {
		log.add(created)
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return fail
		}
		return nil
	}))
	err := sb.Start(t.Context())
	var he *daytona.StartHookError
	require.ErrorAs(t, err, &he)
	assert.ErrorIs(t, err, fail)
	assert.True(t, he.Created)
	assert.Empty(t, he.Mount)
	assert.Contains(t, err.Error(), "was left running")
	assert.Equal(t, sb.DaytonaID(), he.DaytonaID)
	assert.Equal(t, workspace.StatusError, sb.Status())
	rec, ok := srv.Sandbox(he.DaytonaID)
	require.True(t, ok)
	assert.Equal(t, daytonatest.StateStarted, rec.State, "left running")

	mu.Lock()
	failing = false
	mu.Unlock()
	require.NoError(t, sb.Start(t.Context()))
	assert.Equal(t, []bool{true, true}, log.calls(), "the retry is told the sandbox is new: its provisioning never finished")
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate), "the retry reconnected")
}

func TestOnStartMustNotStopAndPanicsAreErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv, daytona.WithOnStart(func(ctx context.Context, sb *daytona.Sandbox, _ bool) error {
		return sb.Stop(ctx)
	}))
	err := sb.Start(t.Context())
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.Contains(t, err.Error(), "from within a start, stop or destroy hook")

	sb = newSandbox(t, srv, daytona.WithOnStart(func(context.Context, *daytona.Sandbox, bool) error { panic("boom") }))
	err = sb.Start(t.Context())
	assert.ErrorContains(t, err, "start hook panicked: boom")
}

func TestOnStopAndOnDestroy(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var mu sync.Mutex
	var calls []string
	hook := func(name string) daytona.StopHook {
		return func(ctx context.Context, sb *daytona.Sandbox) error {
			mu.Lock()
			calls = append(calls, name)
			mu.Unlock()
			_, err := sb.ExecuteCommand(ctx, "echo "+name+" > "+name+".txt", nil, nil)
			return err
		}
	}
	sb := startedSandbox(t, srv, daytona.WithOnStop(hook("stop")), daytona.WithOnDestroy(hook("destroy")))
	id := sb.DaytonaID()
	home, _ := srv.Sandbox(id)
	require.NoError(t, sb.Stop(t.Context()))
	require.NoError(t, sb.Stop(t.Context()), "not running: no hook")
	_, err := os.Stat(filepath.Join(home.Dir, "stop.txt"))
	assert.NoError(t, err, "the stop hook ran while the sandbox ran")
	require.NoError(t, sb.Start(t.Context()))
	require.NoError(t, sb.Destroy(t.Context()))
	assert.Equal(t, []string{"stop", "destroy"}, calls)
}

func TestOnStopErrorKeepsSandboxRunningOnce(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	calls := 0
	sb := startedSandbox(t, srv, daytona.WithOnStop(func(context.Context, *daytona.Sandbox) error {
		calls++
		return errors.New("could not save")
	}))
	err := sb.Stop(t.Context())
	assert.ErrorContains(t, err, "could not save")
	assert.Equal(t, workspace.StatusRunning, sb.Status())
	require.NoError(t, sb.Stop(t.Context()), "the second Stop goes ahead without the hook")
	assert.Equal(t, workspace.StatusStopped, sb.Status())
	assert.Equal(t, 1, calls)
}

func TestHookOptionsRejectNil(t *testing.T) {
	t.Parallel()
	for _, o := range []daytona.Option{daytona.WithOnStart(nil), daytona.WithOnStop(nil), daytona.WithOnDestroy(nil)} {
		_, err := daytona.New(o)
		assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	}
}
