package daytona_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// Commands of any size (issue #19 item 5): Linux refuses a single argument
// or environment string over 128 KiB (MAX_ARG_STRLEN), and the command's
// data never goes through one: a 1 MiB argument, a 300 KiB here-document
// and a 100 KB environment value run exactly as small ones do, with and
// without writers, on bash and zsh session shells, with and without perl;
// and one argument of 8 MiB. (Before, the driver received the command as
// an argument, and such commands failed with exit code 126.)

// sizedText is n bytes of text with quotes, backslashes, dollars and
// newlines in it, which quoting would have to escape.
func sizedText(n int) string {
	unit := "it's a \"quote\" \\ $x `y` é;\n"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

func TestCommandsOfAnySize(t *testing.T) {
	t.Parallel()
	arg := sizedText(1 << 20)
	doc := strings.ReplaceAll(sizedText(300<<10), "EOF", "EoF")
	env := strings.ReplaceAll(sizedText(100_000), "é", "e")
	type sized struct {
		name, command string
		args          []string
		env           map[string]string
		want          string
	}
	cases := []sized{
		{"1 MiB argument", `printf '%s|%s|'`, []string{arg, "x"}, nil, arg + "|x|"},
		{"300 KiB here-document", "cat <<'EOF'\n" + doc + "\nEOF", nil, nil, doc + "\n"},
		{"100 KB environment value", `printf %s "$BIG"`, nil, map[string]string{"BIG": env}, env},
		{"1 MiB command line", "printf %s " + shellQuote(arg), nil, nil, arg},
	}
	for _, sh := range sessionShells(t) {
		for _, perl := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/perl=%v", sh, perl), func(t *testing.T) {
				t.Parallel()
				opts := []daytonatest.Option{daytonatest.WithSessionShell(sh)}
				if !perl {
					opts = append(opts, daytonatest.WithoutPrograms("perl"))
				}
				srv := newServer(t, opts...)
				sb := startedSandbox(t, srv)
				for _, tc := range cases {
					for _, mode := range modes {
						eo, out, _ := withMode(mode.stream, &workspace.ExecOptions{Env: tc.env, MaxRetainedBytes: workspace.Unlimited})
						res, err := sb.ExecuteCommand(t.Context(), tc.command, tc.args, eo)
						require.NoError(t, err, "%s, %s", tc.name, mode.name)
						what := tc.name + ", " + mode.name
						require.Equal(t, 0, res.ExitCode, "%s: %s", what, res.Stderr)
						assertSameBytes(t, tc.want, res.Stdout, what)
						if mode.stream {
							assertSameBytes(t, tc.want, out.String(), what+": writer")
						}
					}
				}
			})
		}
	}
}

// TestArgumentOf8MiB: one argument of 8 MiB arrives exactly.
func TestArgumentOf8MiB(t *testing.T) {
	t.Parallel()
	for _, sh := range sessionShells(t) {
		t.Run(sh, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, daytonatest.WithSessionShell(sh))
			sb := startedSandbox(t, srv)
			arg := sizedText(8 << 20)
			res, err := sb.ExecuteCommand(t.Context(), `printf %s "$@" | wc -c; printf %s`, []string{arg},
				&workspace.ExecOptions{MaxRetainedBytes: workspace.Unlimited})
			require.NoError(t, err)
			assert.Equal(t, 0, res.ExitCode, res.Stderr)
			assertSameBytes(t, "0\n"+arg, res.Stdout, "8 MiB argument")
		})
	}
}

// shellQuote quotes s as one POSIX shell word.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestCwdIsAlwaysADirectory (issue #19 item 6): Cwd "-" is the directory
// named -, not $OLDPWD; a relative name is not looked up in $CDPATH; a
// name starting with a dash is not an option.
func TestCwdIsAlwaysADirectory(t *testing.T) {
	t.Parallel()
	for _, sh := range sessionShells(t) {
		t.Run(sh, func(t *testing.T) {
			srv := newServer(t, daytonatest.WithSessionShell(sh))
			sb := startedSandbox(t, srv, daytona.WithEnv(map[string]string{"CDPATH": "/tmp"}))
			home := homeDir(t, srv, sb)
			for _, d := range []string{"-", "-P", "tmp"} {
				require.NoError(t, os.MkdirAll(filepath.Join(home, d), 0o755))
			}
			// Give the session shell an OLDPWD.
			_, err := sb.ExecuteCommand(t.Context(), "true", nil, nil)
			require.NoError(t, err)
			for _, mode := range modes {
				for _, d := range []string{"-", "-P", "tmp"} {
					eo, _, _ := withMode(mode.stream, &workspace.ExecOptions{Cwd: d})
					res, err := sb.ExecuteCommand(t.Context(), "pwd", nil, eo)
					require.NoError(t, err)
					assert.Equal(t, filepath.Join(home, d)+"\n", res.Stdout, "Cwd %q, %s: %s", d, mode.name, res.Stderr)
				}
			}
		})
	}
}
