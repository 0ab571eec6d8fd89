//go:build unix

package daytonatest_test

import (
	"os/user"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// TestRecordSaysCommandsAreNotIsolated: every sandbox record says that its
// commands run without isolation, as the user running daytonatest, while
// "user" keeps what the sandbox was created with.
func TestRecordSaysCommandsAreNotIsolated(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	me, err := user.Current()
	require.NoError(t, err)
	want := map[string]any{"isolated": false, "user": me.Username}

	got := authed(t, srv, "GET", "/api/sandbox/"+sb.ID, nil).JSON(t)
	require.Equal(t, want, got["execution"])
	require.Equal(t, daytonatest.DefaultUser, got["user"])

	list := authed(t, srv, "GET", "/api/sandbox", nil).JSON(t)
	items, _ := list["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, want, items[0].(map[string]any)["execution"])
}
