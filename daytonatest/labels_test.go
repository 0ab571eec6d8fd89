//go:build unix

package daytonatest_test

import (
	"bytes"
	"net/http"
	"testing"

	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestReplaceLabelsSDK drives PUT /sandbox/{id}/labels with the SDK's
// Sandbox.SetLabels (sandbox.go:506 at v0.173.0). It runs as v0.190.0: the
// SDK's Client.List reads GET /sandbox/paginated (client.go:716), which
// today's API no longer serves.
func TestReplaceLabelsSDK(t *testing.T) {
	t.Parallel()
	srv := newServer(t, daytonatest.WithServiceVersion(daytonatest.Service0190))
	c := newClient(t, srv)
	sb := createSandbox(t, c, types.SnapshotParams{SandboxBaseParams: types.SandboxBaseParams{Name: "labelled", Labels: map[string]string{"a": "1", "b": "2"}}})
	before, _ := srv.Sandbox("labelled")

	require.NoError(t, sb.SetLabels(t.Context(), map[string]string{"c": "3"}))
	got, ok := srv.Sandbox("labelled")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"c": "3"}, got.Labels, "replaced as a whole")
	assert.Equal(t, before.State, got.State)
	assert.Equal(t, 1, srv.Count(daytonatest.OpReplaceLabels))

	// The list filters on the new labels at once.
	listed, err := c.List(t.Context(), map[string]string{"c": "3"}, nil, nil)
	require.NoError(t, err)
	require.Len(t, listed.Items, 1)
	listed, err = c.List(t.Context(), map[string]string{"a": "1"}, nil, nil)
	require.NoError(t, err)
	assert.Empty(t, listed.Items)

	// By name, without labels (unchanged), not JSON (400), missing (404).
	put := func(ref, body string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.APIURL()+"/sandbox/"+ref+"/labels", bytes.NewBufferString(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, put("labelled", `{"labels":{"d":"4"}}`))
	assert.Equal(t, http.StatusOK, put("labelled", `{}`))
	got, _ = srv.Sandbox("labelled")
	assert.Equal(t, map[string]string{"d": "4"}, got.Labels)
	assert.Equal(t, http.StatusBadRequest, put("labelled", `{"labels":`))
	assert.Equal(t, http.StatusNotFound, put("nobody", `{"labels":{}}`))

	// Faults apply to it.
	require.NoError(t, srv.FailNext(daytonatest.OpReplaceLabels, 1, http.StatusTooManyRequests, "slow down"))
	err = sb.SetLabels(t.Context(), map[string]string{"e": "5"})
	var rl *sdkerrors.DaytonaRateLimitError
	require.ErrorAs(t, err, &rl)
	got, _ = srv.Sandbox("labelled")
	assert.Equal(t, map[string]string{"d": "4"}, got.Labels, "a refused request changes nothing")
}
