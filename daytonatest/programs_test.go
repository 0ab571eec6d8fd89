//go:build unix

package daytonatest_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona/daytonatest"
)

// WithoutPrograms hides perl from the sandbox's shells, as on an image
// without it, and leaves every other program.
func TestWithoutPrograms(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("no perl to hide")
	}
	for _, hide := range []bool{false, true} {
		var opts []daytonatest.Option
		if hide {
			opts = append(opts, daytonatest.WithoutPrograms("perl"))
		}
		_, _, sb := newSandbox(t, opts...)
		ctx := t.Context()
		require.NoError(t, sb.Process.CreateSession(ctx, "s"))
		m, err := sb.Process.ExecuteSessionCommand(ctx, "s", "command -v perl >/dev/null && echo perl; command -v bash cat >/dev/null && echo others", false, true)
		require.NoError(t, err)
		want := "perl\nothers\n"
		if hide {
			want = "others\n"
		}
		require.Equal(t, want, m["stdout"], "hidden %v", hide)
	}
	require.Error(t, daytonatest.WithoutPrograms("/usr/bin/perl")(nil))
}

// SandboxCPU counts the CPU time of the session shells and what they ran,
// once they exit.
func TestSandboxCPU(t *testing.T) {
	t.Parallel()
	srv, _, sb := newSandbox(t)
	ctx := t.Context()
	require.Zero(t, srv.SandboxCPU())
	require.NoError(t, sb.Process.CreateSession(ctx, "s"))
	// A busy loop in the shell: some tens of milliseconds of CPU.
	_, err := sb.Process.ExecuteSessionCommand(ctx, "s", `n=0; while [ $n -lt 50000 ]; do n=$((n+1)); done`, false, true)
	require.NoError(t, err)
	require.Zero(t, srv.SandboxCPU(), "counted before the shell exits")
	require.NoError(t, sb.Process.DeleteSession(ctx, "s"))
	waitFor(t, 10*time.Second, "the shell's CPU time", func() bool { return srv.SandboxCPU() > 10*time.Millisecond })
}
