package daytona_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
)

// newServer starts a daytonatest server with instant transitions and
// streams that close as soon as their command exits, unless opts say
// otherwise.
func newServer(t testing.TB, opts ...daytonatest.Option) *daytonatest.Server {
	t.Helper()
	base := []daytonatest.Option{
		daytonatest.WithCloseDelay(0),
		daytonatest.WithTransitionDelay(0),
		daytonatest.WithKillGrace(time.Second),
	}
	return daytonatest.NewServer(t, append(base, opts...)...)
}

// newSandbox returns a Sandbox pointed at srv and destroys it at cleanup
// (with a fresh context: t.Context is already cancelled then).
func newSandbox(t testing.TB, srv *daytonatest.Server, opts ...daytona.Option) *daytona.Sandbox {
	t.Helper()
	sb, err := daytona.New(append([]daytona.Option{daytona.WithEndpoint(srv.APIURL(), srv.APIKey())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = sb.Destroy(ctx)
	})
	return sb
}

// startedSandbox is newSandbox followed by a successful Start.
func startedSandbox(t testing.TB, srv *daytonatest.Server, opts ...daytona.Option) *daytona.Sandbox {
	t.Helper()
	sb := newSandbox(t, srv, opts...)
	require.NoError(t, sb.Start(t.Context()))
	return sb
}

// lastCreateBody decodes the body of the last create request.
func lastCreateBody(t testing.TB, srv *daytonatest.Server) map[string]any {
	t.Helper()
	reqs := srv.RequestsFor(daytonatest.OpCreate)
	require.NotEmpty(t, reqs, "no create request was sent")
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &body))
	return body
}

// waitFor polls cond until it holds, or fails the test after 30 s (a
// deadline for a loaded machine: a condition that holds comes much sooner).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
