package daytona_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
)

// TestTransientTroubleIsRetriedWhereSafe: lookups and session creation are
// tried again after a 502/503/504 or "failed to get runner info"; a
// command's submission only after "failed to get runner info" (the proxy's
// answer before it forwards anything), never after a 502, which it may
// have reached the daemon before.
func TestTransientTroubleIsRetriedWhereSafe(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := newSandbox(t, srv)
	require.NoError(t, srv.FailNext(daytonatest.OpGet, 2, 502, "bad gateway"))
	require.NoError(t, srv.FailNext(daytonatest.OpCreateSession, 1, 503, "unavailable"))
	require.NoError(t, sb.Start(t.Context()), "the lookup and the session are tried again")
	assert.Equal(t, 3, srv.Count(daytonatest.OpGet), "two failed lookups, then one")

	srv.ResetRequests()
	require.NoError(t, srv.FailNext(daytonatest.OpSessionExec, 1, 400, "bad request: failed to get runner info: no runner"))
	res, err := sb.ExecuteCommand(t.Context(), "echo ok", nil, nil)
	require.NoError(t, err, "resubmitted after the proxy could not reach the runner")
	assert.Equal(t, "ok\n", res.Stdout)
	assert.Equal(t, 2, srv.Count(daytonatest.OpSessionExec))

	srv.ResetRequests()
	require.NoError(t, srv.FailNext(daytonatest.OpSessionExec, 1, 502, ""))
	_, err = sb.ExecuteCommand(t.Context(), "echo once", nil, nil)
	require.Error(t, err, "a 502 on the submission is not retried: the command may have reached the daemon")
	assert.Equal(t, 502, daytona.StatusCode(err))
	assert.Equal(t, 1, srv.Count(daytonatest.OpSessionExec))

	res, err = sb.ExecuteCommand(t.Context(), "echo after", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "after\n", res.Stdout)
}
