package daytona_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/workspace"
)

// FuzzExecuteArgs checks, through the real SDK, daytonatest and a real
// shell, that arbitrary arguments reach the command exactly as given.
func FuzzExecuteArgs(f *testing.F) {
	for _, seed := range [][2]string{
		{"", "plain"}, {"with space", "q'uote"}, {"$HOME", "`id`"}, {"$(echo x)", "a\nb"},
		{"\\", "%s"}, {"*", "-n"}, {"é ü", "\t"}, {"'", "''"}, {"\x1eDTN", "\x01\x01\x01label"},
	} {
		f.Add(seed[0], seed[1])
	}
	srv := newServer(f)
	sb := startedSandbox(f, srv)
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.IndexByte(a, 0) >= 0 || strings.IndexByte(b, 0) >= 0 {
			t.Skip("a shell argument cannot hold NUL")
		}
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			// The toolbox carries commands and output as JSON text.
			t.Skip("Daytona's API carries text")
		}
		res, err := sb.ExecuteCommand(t.Context(), `printf '%s\0'`, []string{a, b}, &workspace.ExecOptions{MaxRetainedBytes: workspace.Unlimited})
		if err != nil {
			t.Fatal(err)
		}
		if want := a + "\x00" + b + "\x00"; res.Stdout != want {
			t.Fatalf("args %q %q came back as %q", a, b, res.Stdout)
		}
	})
}
