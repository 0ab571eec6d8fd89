package daytona_test

// Regression tests for the hard edges found by an adversarial run (issue
// "Exact bytes on every path, honest kills, and no secrets in fmt"), one
// test per item, numbered as in the issue.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Item 1: output re-read after invalid UTF-8 on the timeout path.
func TestEdge01NonUTF8ThenTimeoutIsExact(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	var buf syncBuffer
	res, err := sb.ExecuteCommand(t.Context(), `printf 'a\377b\n'; sleep 30`, nil,
		&workspace.ExecOptions{Timeout: time.Second, Stdout: &buf})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Equal(t, "a\xffb\n", buf.String())
	assert.Equal(t, "a\xffb\n", res.Stdout)
}

// Item 1: stream cuts after invalid UTF-8.
func TestEdge01NonUTF8ThroughStreamCuts(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	srv.CutNextStreams(4, 10)
	var out, errOut syncBuffer
	res, err := sb.ExecuteCommand(t.Context(), `printf 'x\377\376\n' >&2; echo hello; echo world`, nil,
		&workspace.ExecOptions{Stdout: &out, Stderr: &errOut})
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	assert.Equal(t, "hello\nworld\n", out.String())
	assert.Equal(t, "x\xff\xfe\n", errOut.String())
	assert.Equal(t, "x\xff\xfe\n", res.Stderr)
}

// Item 2: invalid UTF-8 without writers.
func TestEdge02NonUTF8WithoutWriters(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	res, err := sb.ExecuteCommand(t.Context(), `printf 'a\377b\n'; printf '\0\001\001\001z' >&2`, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "a\xffb\n", res.Stdout)
	assert.Equal(t, "\x00\x01\x01\x01z", res.Stderr)
}

// Item 3: arguments, environment values and the working directory carry
// any byte; a command that is not valid UTF-8 is rejected.
func TestEdge03NonUTF8Input(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	dir := "d\xfe"
	_, err := sb.ExecuteCommand(t.Context(), "mkdir", []string{dir}, nil)
	require.NoError(t, err)
	res, err := sb.ExecuteCommand(t.Context(), `printf '%s|%s|' "$1" "$V"; basename "$PWD"; : `, []string{"a\xffb"},
		&workspace.ExecOptions{Env: map[string]string{"V": "v\xfd"}, Cwd: dir})
	require.NoError(t, err)
	assert.Equal(t, "|v\xfd|d\xfe\n", res.Stdout, "stdout (the args go after `: `)")
	res, err = sb.ExecuteCommand(t.Context(), `printf '%s|'`, []string{"a\xffb", "\x01\x02"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "a\xffb|\x01\x02|", res.Stdout)

	// That output stayed in a file (\x01 and \x02 are the daemon's
	// labels), which is removed in the background: wait for it.
	daytona.WaitBackground(t.Context(), sb)
	before := srv.TotalCount()
	_, err = sb.ExecuteCommand(t.Context(), "echo \xff", nil, nil)
	require.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.Contains(t, err.Error(), "UTF-8")
	assert.Equal(t, before, srv.TotalCount(), "no request for invalid input")
}

// Item 4: a working directory starting with a dash.
func TestEdge04CwdStartingWithDash(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	_, err := sb.ExecuteCommand(t.Context(), "mkdir -- -P -rf", nil, nil)
	require.NoError(t, err)
	for _, dir := range []string{"-P", "-rf"} {
		res, err := sb.ExecuteCommand(t.Context(), "basename \"$PWD\"", nil, &workspace.ExecOptions{Cwd: dir})
		require.NoError(t, err)
		assert.Equal(t, 0, res.ExitCode, res.Stderr)
		assert.Equal(t, dir+"\n", res.Stdout)
	}
}

// Item 5: a kill that failed is not reported as a kill. (A 5xx is tried
// again since issue #19 item 7, killretry_test.go; a 400 is a refusal for
// good.)
func TestEdge05FailedKillIsNotReportedAsAKill(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	var out syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	srv.FailNext(daytonatest.OpDeleteSession, 1, 400, "boom")
	go func() {
		waitFor(t, "the command's first output", func() bool { return out.String() != "" })
		cancel()
	}()
	res, err := sb.ExecuteCommand(ctx, "echo started; sleep 30", nil, &workspace.ExecOptions{Stdout: &out})
	require.Error(t, err)
	require.NotNil(t, res)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 400, daytona.StatusCode(err))
	var de *daytona.Error
	assert.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "may still run")
	assert.Equal(t, daytona.ExitCodeUnknown, res.ExitCode)
	assert.False(t, res.Killed)
	assert.False(t, res.TimedOut)
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	assert.NotEmpty(t, rec.Sessions, "the command's session (and the command) still exists")
}

// Item 6: a follow stream refused for good leaves nothing running, and
// the status is kept; a 429 is tried again.
func TestEdge06FollowRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)

	srv.FailNext(daytonatest.OpFollowLogs, 1, 429, "slow down")
	var out syncBuffer
	res, err := sb.ExecuteCommand(t.Context(), "echo ok", nil, &workspace.ExecOptions{Stdout: &out})
	require.NoError(t, err, "a 429 on the stream is tried again")
	assert.Equal(t, "ok\n", res.Stdout)

	srv.FailNext(daytonatest.OpFollowLogs, 1, 404, "not found")
	res, err = sb.ExecuteCommand(t.Context(), "sleep 30", nil, &workspace.ExecOptions{Stdout: &out})
	require.Error(t, err)
	assert.Equal(t, 404, daytona.StatusCode(err))
	require.NotNil(t, res)
	assert.True(t, res.Killed, "a command that cannot be followed is killed")
	assert.Equal(t, daytona.ExitCodeKilled, res.ExitCode)
	rec, ok := srv.Sandbox(sb.DaytonaID())
	require.True(t, ok)
	assert.Empty(t, rec.Sessions, "the command's session was deleted, which killed it")
}

// Item 7: malformed commands get the shell's exit code on both paths.
func TestEdge07SyntaxErrorsOnBothPaths(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for _, cmd := range []string{"echo 'x", "if true; then", "echo $((1+", "(", "fi", "done", "echo \"", "case x in", "{"} {
		var out syncBuffer
		for _, opts := range []*workspace.ExecOptions{nil, {Stdout: &out}} {
			res, err := sb.ExecuteCommand(t.Context(), cmd, nil, opts)
			require.NoError(t, err, "%q (writers: %v)", cmd, opts != nil)
			assert.Equal(t, 2, res.ExitCode, "%q (writers: %v): %s", cmd, opts != nil, res.Stderr)
			// bash numbers the lines of the command from 1, whatever wraps
			// it (the error names the daemon's script, or "environment").
			assert.Regexp(t, `eval: line [12]: `, res.Stderr, cmd)
		}
	}
}

// Item 8: no verb of fmt, and no slog handler, prints the API key.
func TestEdge08NoSecretsInFmt(t *testing.T) {
	t.Parallel()
	const key = "SECRET-api-key-123"
	srv := newServer(t, daytonatest.WithAPIKey(key))
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), key))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Destroy(context.Background()) })
	require.NoError(t, sb.Start(t.Context()))
	proc, err := sb.Processes().Spawn(t.Context(), "sleep 30", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = proc.Kill(context.Background()) })
	opt := daytona.WithAPIKey(key)
	_, failed := sb.ExecuteCommand(t.Context(), "echo \xff", nil, nil)
	values := []any{sb, valueOf(sb), sb.Processes(), proc, opt, failed}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"} {
			assert.NotContains(t, sprintf(verb, v), key, "%s of %T", verb, v)
		}
	}
	var logs bytes.Buffer
	logBoth(&logs, "sandbox", sb)
	assert.Contains(t, logs.String(), sb.ID())
	assert.NotContains(t, logs.String(), key)

	_, err = daytona.New(daytona.WithAPIURL("https://user:" + key + "@example.com/api"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)
	assert.Contains(t, err.Error(), "redacted")
}

// Item 9: misuse gets errors (or a clear panic at the call), never a panic
// inside the library.
func TestEdge09NoPanics(t *testing.T) {
	t.Parallel()
	var zero daytona.Sandbox
	ctx := t.Context()
	_, err := zero.ExecuteCommand(ctx, "echo", nil, nil)
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.Contains(t, err.Error(), "daytona.New")
	assert.ErrorIs(t, zero.Start(ctx), daytona.ErrInvalidInput)
	assert.ErrorIs(t, zero.Stop(ctx), daytona.ErrInvalidInput)
	assert.ErrorIs(t, zero.Destroy(ctx), daytona.ErrInvalidInput)
	_, err = zero.GetInfo(ctx)
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	_, err = zero.Processes().Spawn(ctx, "echo", nil)
	assert.ErrorIs(t, err, daytona.ErrInvalidInput)
	assert.NotEmpty(t, zero.String())

	srv := newServer(t)
	sb := newSandbox(t, srv)
	assert.PanicsWithValue(t, "daytona: ExecuteCommand called with a nil Context", func() {
		//lint:ignore SA1012 the point is a nil Context
		_, _ = sb.ExecuteCommand(nil, "echo", nil, nil) //nolint:staticcheck
	})

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	res, err := sb.ExecuteCommand(cancelled, "echo", nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res, "a cancelled call returns a result")
	assert.Equal(t, daytona.ExitCodeUnknown, res.ExitCode)
	assert.False(t, res.Killed)
}

// Item 10: one writer for both streams keeps the command's order.
func TestEdge10OneWriterKeepsOrder(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv)
	for range 3 {
		var both syncBuffer
		res, err := sb.ExecuteCommand(t.Context(), "echo a; echo b >&2; echo c", nil,
			&workspace.ExecOptions{Stdout: &both, Stderr: &both})
		require.NoError(t, err)
		assert.Equal(t, "a\nb\nc\n", both.String())
		assert.Equal(t, "a\nb\nc\n", res.Stdout)
		assert.Equal(t, "", res.Stderr)
	}
}

// Item 11: attaching to a sandbox that does not exist is an error unless
// asked to create one; attached values share the logical id.
func TestEdge11Reconnect(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	typo := newSandbox(t, srv, daytona.WithExistingSandbox("typo-id"))
	err := typo.Start(t.Context())
	require.ErrorIs(t, err, daytona.ErrSandboxNotFound)
	assert.Contains(t, err.Error(), "typo-id")
	assert.Zero(t, srv.Count(daytonatest.OpCreate), "nothing is created")

	created := newSandbox(t, srv, daytona.WithExistingSandbox("typo-id"), daytona.WithCreateIfMissing())
	require.NoError(t, created.Start(t.Context()))
	assert.Equal(t, 1, srv.Count(daytonatest.OpCreate))

	first := startedSandbox(t, srv)
	second := startedSandbox(t, srv, daytona.WithExistingSandbox(first.DaytonaID()))
	third := startedSandbox(t, srv, daytona.WithExistingSandbox(first.DaytonaID()))
	assert.Equal(t, first.ID(), second.ID())
	assert.Equal(t, first.ID(), third.ID())
	info, err := second.GetInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, first.ID(), info.ID)
}

// Item 12: a refused key says so, and where it came from.
func TestEdge12RefusedKeyNamesItsSource(t *testing.T) {
	srv := newServer(t)
	const wrong = "wrong-key-456"
	sb := newSandbox(t, srv, daytona.WithEndpoint(srv.APIURL(), wrong))
	err := sb.Start(t.Context())
	require.Error(t, err)
	assert.Equal(t, 401, daytona.StatusCode(err))
	assert.Contains(t, err.Error(), "API key from WithEndpoint was refused")
	assert.NotContains(t, err.Error(), wrong)

	t.Setenv("DAYTONA_API_KEY", wrong)
	t.Setenv("DAYTONA_JWT_TOKEN", "")
	t.Chdir(t.TempDir())
	sb2, err := daytona.New(daytona.WithAPIURL(srv.APIURL()))
	require.NoError(t, err)
	err = sb2.Start(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "API key from DAYTONA_API_KEY in the environment was refused")
	assert.NotContains(t, err.Error(), wrong)
}

// valueOf returns a copy of *sb as a value (what %v of a dereferenced
// Sandbox prints), made by reflection so that no lock is copied in sight
// of vet.
func valueOf(sb *daytona.Sandbox) any { return reflect.ValueOf(sb).Elem().Interface() }

func sprintf(verb string, v any) string { return fmt.Sprintf(verb, v) }

// logBoth logs v under key with slog's JSON and text handlers into w.
func logBoth(w io.Writer, key string, v any) {
	slog.New(slog.NewJSONHandler(w, nil)).Info("msg", key, v)
	slog.New(slog.NewTextHandler(w, nil)).Info("msg", key, v)
}
