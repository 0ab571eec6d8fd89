package daytona_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/workspace"
)

// A hook that calls back into its Sandbox either works or fails fast with
// a clear error, never waits for itself (issue #19, item 11).

// bounded is how long a call that must not wait for itself may take here.
const bounded = 20 * time.Second

// within runs f and fails the test if it has not returned after d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// TestStartHookCallsBackIntoItsSandbox: a start hook's calls on the
// Sandbox it is given reach the sandbox being started, whatever context
// they carry (here one that never ends): commands, files, processes, live
// information; Stop and Destroy fail at once, saying why.
func TestStartHookCallsBackIntoItsSandbox(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		call func(ctx context.Context, sb *daytona.Sandbox) error
	}{
		{"ExecuteCommand", func(ctx context.Context, sb *daytona.Sandbox) error {
			res, err := sb.ExecuteCommand(ctx, "echo provisioned > provisioned.txt", nil, nil)
			if err == nil && !res.Success() {
				err = errors.New(res.Stderr)
			}
			return err
		}},
		{"Filesystem", func(ctx context.Context, sb *daytona.Sandbox) error {
			fsys := sb.Filesystem()
			if err := fsys.WriteFile(ctx, "provisioned.txt", []byte("provisioned\n"), 0o644); err != nil {
				return err
			}
			_, err := fsys.Stat(ctx, "provisioned.txt")
			return err
		}},
		{"Processes", func(ctx context.Context, sb *daytona.Sandbox) error {
			proc, err := sb.Processes().Spawn(ctx, "echo provisioned > provisioned.txt", nil)
			if err != nil {
				return err
			}
			res, err := proc.Wait(ctx)
			if err == nil && !res.Success() {
				err = errors.New(res.Stderr)
			}
			return err
		}},
		{"GetInfo", func(ctx context.Context, sb *daytona.Sandbox) error {
			info, err := sb.GetInfo(ctx)
			if err == nil && info.Resources == nil {
				err = errors.New("GetInfo from the hook reports no resources of the sandbox being started")
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			hookErr := make(chan error, 1)
			sb := newSandbox(t, srv, daytona.WithOnStart(func(_ context.Context, sb *daytona.Sandbox, _ bool) error {
				err := tc.call(context.Background(), sb)
				hookErr <- err
				return err
			}))
			ctx, cancel := context.WithTimeout(t.Context(), bounded)
			defer cancel()
			require.NoError(t, sb.Start(ctx))
			require.NoError(t, <-hookErr)
			assert.Equal(t, workspace.StatusRunning, sb.Status())
		})
	}
}

// TestStartHookCannotEndItsSandbox: Stop and Destroy from a start hook
// fail at once with an error that says why, whatever the context.
func TestStartHookCannotEndItsSandbox(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var stopErr, destroyErr error
	sb := newSandbox(t, srv, daytona.WithOnStart(func(_ context.Context, sb *daytona.Sandbox, _ bool) error {
		stopErr = sb.Stop(context.Background())
		destroyErr = sb.Destroy(context.Background())
		return nil
	}))
	ctx, cancel := context.WithTimeout(t.Context(), bounded)
	defer cancel()
	require.NoError(t, sb.Start(ctx))
	for _, err := range []error{stopErr, destroyErr} {
		assert.ErrorIs(t, err, daytona.ErrInvalidInput)
		assert.ErrorContains(t, err, "would wait for itself")
	}
}

// TestStartHookContextEndsWithItsCaller: the hook's ctx ends once no
// caller waits for the start (not while another still does), and the
// failed start is tried again, hook included, by the next call.
func TestStartHookContextEndsWithItsCaller(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	entered := make(chan context.Context, 2)
	ended := make(chan struct{}, 2)
	sb := newSandbox(t, srv, daytona.WithOnStart(func(ctx context.Context, _ *daytona.Sandbox, _ bool) error {
		entered <- ctx
		<-ctx.Done()
		ended <- struct{}{}
		return ctx.Err()
	}))
	first, cancelFirst := context.WithCancel(context.Background())
	second, cancelSecond := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { errs <- sb.Start(first) }()
	hookCtx := <-entered
	go func() { errs <- sb.Start(second) }()
	waitFor(t, "the second caller to wait", func() bool { return daytona.StartWaiters(sb) == 2 })

	cancelFirst()
	assert.ErrorIs(t, <-errs, context.Canceled)
	assert.NoError(t, hookCtx.Err(), "the hook's ctx ended while a caller still waited")

	cancelSecond()
	assert.ErrorIs(t, <-errs, context.Canceled)
	select {
	case <-ended:
	case <-time.After(bounded):
		t.Fatal("the hook's ctx did not end when its last caller's did")
	}
	waitFor(t, "the start to fail", func() bool { return sb.Status() == workspace.StatusError })
}

// TestDestroyReturnsWithinItsContext: a destroy hook that never looks at
// its ctx does not hold Destroy past the caller's ctx; once it returns, a
// later Destroy goes ahead.
func TestDestroyReturnsWithinItsContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	release := make(chan struct{})
	sb := startedSandbox(t, srv, daytona.WithOnDestroy(func(context.Context, *daytona.Sandbox) error {
		<-release
		return nil
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var err error
	within(t, bounded, "Destroy with a blocked hook", func() { err = sb.Destroy(ctx) })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "destroy hook")
	assert.Equal(t, workspace.StatusRunning, sb.Status(), "nothing was deleted")

	close(release)
	require.NoError(t, sb.Destroy(t.Context()))
	assert.Equal(t, workspace.StatusDestroyed, sb.Status())
}

// TestDestroyDuringABlockedStartReturnsWithinItsContext: Destroy waits for
// a start in progress only as long as its ctx lasts.
func TestDestroyDuringABlockedStartReturnsWithinItsContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	sb := newSandbox(t, srv, daytona.WithOnStart(func(context.Context, *daytona.Sandbox, bool) error {
		close(entered)
		<-release
		return nil
	}))
	started := make(chan error, 1)
	go func() { started <- sb.Start(context.Background()) }()
	<-entered
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var err error
	within(t, bounded, "Destroy during a blocked start", func() { err = sb.Destroy(ctx) })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	require.NoError(t, <-started)
	require.NoError(t, sb.Destroy(t.Context()))
}
