package command_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/command"
	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/internal/stream"
	"github.com/agentworkspace/daytona/workspace"
)

// The engine, alone: a remote sandbox acquired through the control
// plane's layer from daytonatest, and commands run on it with no Sandbox
// above. (The root package's tests cover the engine's edges through the
// public API.)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newRemote acquires a sandbox from a fresh daytonatest server and returns
// the engine's view of it, and the server; everything is released at
// cleanup.
func newRemote(t *testing.T) (*command.Remote, *daytonatest.Server) {
	t.Helper()
	srv := daytonatest.NewServer(t, daytonatest.WithCloseDelay(0), daytonatest.WithTransitionDelay(0), daytonatest.WithKillGrace(time.Second))
	log := slog.New(slog.DiscardHandler)
	conn := controlplane.Connection{APIKey: controlplane.NewSecret(srv.APIKey()), APIURL: srv.APIURL()}
	c, err := controlplane.New(conn, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Acquire(t.Context(), controlplane.Target{Create: controlplane.CreateSpec{Name: t.Name(), Language: "python"}})
	if err != nil {
		t.Fatal(err)
	}
	bg := &command.Tracker{}
	r := &command.Remote{TB: a.Toolbox, Pool: command.NewPool(a.Toolbox, log, bg), Log: log}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r.Pool.Close()
		bg.Wait(ctx)
		if err := c.Delete(ctx, a.Toolbox.ID()); err != nil {
			t.Error(err)
		}
	})
	return r, srv
}

// plan is a command as the root's plan makes it, without validation.
func plan(cmd string, timeout time.Duration, stdout, stderr *bytes.Buffer) *command.Plan {
	p := &command.Plan{
		Command: cmd,
		Spec:    shell.Spec{Command: cmd},
		Timeout: timeout,
		Retain:  workspace.DefaultMaxRetainedBytes,
	}
	if stdout != nil {
		p.Stdout, p.Stderr = stdout, stderr
		p.Streaming = true
	}
	return p
}

func TestExecBothPaths(t *testing.T) {
	r, _ := newRemote(t)
	const cmd = `printf 'out\n'; printf 'err\n' >&2; exit 3`
	res, err := command.Exec(t.Context(), r, plan(cmd, time.Minute, nil, nil))
	if err != nil || res.ExitCode != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Errorf("sync: %+v, %v", res, err)
	}
	var stdout, stderr bytes.Buffer
	res, err = command.Exec(t.Context(), r, plan(cmd, time.Minute, &stdout, &stderr))
	if err != nil || res.ExitCode != 3 || stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("streaming: %+v, %v (writers %q %q)", res, err, stdout.String(), stderr.String())
	}
}

func TestExecTimeoutKills(t *testing.T) {
	r, _ := newRemote(t)
	var stdout, stderr bytes.Buffer
	res, err := command.Exec(t.Context(), r, plan("echo started; sleep 30", 500*time.Millisecond, &stdout, &stderr))
	if err != nil || !res.TimedOut || !res.Killed || res.ExitCode != command.ExitTimeout || res.Stdout != "started\n" {
		t.Errorf("got %+v, %v", res, err)
	}
}

// TestExecNotStartedIsTheCallers: a sandbox that is gone fails the
// command with a *apierr.NotStarted, for the caller to decide about
// another try; the engine never tries again itself.
func TestExecNotStartedIsTheCallers(t *testing.T) {
	r, srv := newRemote(t)
	if err := srv.DeleteSandbox(r.TB.ID()); err != nil {
		t.Fatal(err)
	}
	_, err := command.Exec(t.Context(), r, plan("echo x", time.Minute, nil, nil))
	var notRun *apierr.NotStarted
	if !errors.As(err, &notRun) || !notRun.Dead {
		t.Errorf("err = %v; want a *apierr.NotStarted for a dead sandbox", err)
	}
}

func TestBackgroundInputAndKill(t *testing.T) {
	r, _ := newRemote(t)
	p := plan(`while IFS= read -r line; do echo "got $line"; done`, 0, nil, nil)
	p.Spec.KeepStdin = true
	b, err := command.Spawn(t.Context(), r, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SendInput(t.Context(), "hello\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Retained(stream.Stdout) != "got hello\n" {
		if time.Now().After(deadline) {
			t.Fatalf("stdout %q", b.Retained(stream.Stdout))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.Kill(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := b.Result()
	if err != nil || !res.Killed || res.ExitCode != command.ExitKilled {
		t.Errorf("after Kill: %+v, %v", res, err)
	}
}
