package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/daytonatest"
)

// runFailing runs the command against srv (nil: no credentials) with
// args, expecting an error, and returns the error's text and stderr.
func runFailing(t *testing.T, srv *daytonatest.Server, args ...string) (errText, stderr string) {
	t.Helper()
	t.Chdir(t.TempDir()) // no .env
	t.Setenv("DAYTONA_JWT_TOKEN", "")
	if srv == nil {
		t.Setenv("DAYTONA_API_KEY", "")
	} else {
		t.Setenv("DAYTONA_API_KEY", srv.APIKey())
		t.Setenv("DAYTONA_API_URL", srv.APIURL())
	}
	var errBuf bytes.Buffer
	err := run(t.Context(), args, strings.NewReader(""), io.Discard, &errBuf, func(string) string { return "" })
	if err == nil {
		t.Fatalf("run(%q) succeeded; stderr:\n%s", args, errBuf.String())
	}
	return err.Error(), errBuf.String()
}

// claimsNothing fails if the output says a sandbox was destroyed, kept,
// or could not be destroyed.
func claimsNothing(t *testing.T, what string, out string) {
	t.Helper()
	for _, claim := range []string{"destroyed sandbox", "kept sandbox", "could not destroy"} {
		if strings.Contains(out, claim) {
			t.Errorf("%s: the output claims %q of a sandbox that was never created:\n%s", what, claim, out)
		}
	}
}

// TestFailedStartSaysWhatHappened: without credentials, or when the start
// fails, the command says what failed, and nothing about a sandbox that
// does not exist.
func TestFailedStartSaysWhatHappened(t *testing.T) {
	t.Run("no credentials", func(t *testing.T) {
		errText, stderr := runFailing(t, nil)
		if !strings.Contains(errText, "no Daytona credentials") || !strings.Contains(errText, "-local") {
			t.Errorf("error: %s", errText)
		}
		claimsNothing(t, "no credentials", errText+stderr)
		if stderr != "" {
			t.Errorf("stderr: %q", stderr)
		}
	})
	t.Run("create refused", func(t *testing.T) {
		srv := daytonatest.NewServer(t)
		if err := srv.FailNext(daytonatest.OpCreate, 5, 400, "quota exceeded: no more sandboxes"); err != nil {
			t.Fatal(err)
		}
		errText, stderr := runFailing(t, srv)
		if !strings.Contains(errText, "start the sandbox") || !strings.Contains(errText, "quota exceeded") {
			t.Errorf("error: %s", errText)
		}
		claimsNothing(t, "create refused", errText+stderr)
	})
	t.Run("API unreachable", func(t *testing.T) {
		srv := daytonatest.NewServer(t)
		srv.Close()
		errText, stderr := runFailing(t, srv)
		if !strings.Contains(errText, "connection refused") || !strings.Contains(errText, "for the same reason") {
			t.Errorf("error: %s", errText)
		}
		claimsNothing(t, "API unreachable", errText+stderr)
	})
	t.Run("existing sandbox not found", func(t *testing.T) {
		srv := daytonatest.NewServer(t)
		errText, stderr := runFailing(t, srv, "-id", "no-such-sandbox")
		if !strings.Contains(errText, "no-such-sandbox") || !strings.Contains(errText, "does not exist") {
			t.Errorf("error: %s", errText)
		}
		claimsNothing(t, "-id not found", errText+stderr)
	})
}

// TestFailedStartRemovesWhatItMade: a sandbox created by a start that then
// failed (it went into an error state) is removed.
func TestFailedStartRemovesWhatItMade(t *testing.T) {
	srv := daytonatest.NewServer(t, daytonatest.WithTransitionDelay(time.Minute))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	go func() { // once the sandbox exists (creating), break it
		for ctx.Err() == nil {
			if sbs := srv.Sandboxes(); len(sbs) > 0 {
				srv.SetSandboxState(sbs[0].ID, daytonatest.StateError, "the runner ran out of disk")
				return
			}
			time.Sleep(5 * time.Millisecond) // polling the fake's state, not synchronising on time
		}
	}()
	errText, stderr := runFailing(t, srv)
	cancel()
	if !strings.Contains(errText, "start the sandbox") || !strings.Contains(errText, "out of disk") {
		t.Errorf("error: %s", errText)
	}
	if strings.Contains(errText+stderr, "kept sandbox") {
		t.Errorf("output:\n%s\n%s", errText, stderr)
	}
	for _, sb := range srv.Sandboxes() {
		// A deleted sandbox is renamed DESTROYED_{name}_{ms} at once; an
		// errored one reads error until the runner removes it
		// (sandbox.entity.ts:310-324, sandbox.dto.ts:371-397 @v0.190.0).
		deleted := strings.HasPrefix(sb.Name, "DESTROYED_")
		if !deleted && sb.State != daytonatest.StateDestroying && sb.State != daytonatest.StateDestroyed {
			t.Errorf("left behind: sandbox %s, %s", sb.Name, sb.State)
		}
	}
}
