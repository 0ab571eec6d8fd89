package daytona_test

import (
	"os/user"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
)

// TestInstructionsOnDaytonatest: once started on daytonatest, which runs
// commands on this machine as the current user, the instructions say so,
// and claim neither isolation nor the user daytona; after Stop too.
func TestInstructionsOnDaytonatest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sb := startedSandbox(t, srv, daytona.WithLanguage(daytona.Python))
	me, err := user.Current()
	require.NoError(t, err)
	check := func(when string) {
		got := sb.GetInstructions()
		assert.True(t, strings.HasPrefix(got, "Sandbox without isolation (python runtime): commands run directly on the host machine, with this user's access to it. "), "%s: %s", when, got)
		assert.Contains(t, got, " Running as user: "+me.Username+".", when)
		assert.NotContains(t, got, "isolated execution", when)
		if me.Username != "daytona" {
			assert.NotContains(t, got, "daytona.", when)
		}
	}
	check("running")
	require.NoError(t, sb.Stop(t.Context()))
	check("stopped")
}

// TestInstructionsBeforeStart: before the start nothing is known of the
// sandbox but its options: the instructions describe Daytona's.
func TestInstructionsBeforeStart(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, newServer(t), daytona.WithUser("app"))
	assert.Equal(t, "Cloud sandbox with isolated execution (typescript runtime). Default working directory: /home/daytona. "+
		"Command timeout: 300s. Running as user: app.", sb.GetInstructions())
}
