package shell

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	// Mastra's test vector.
	args := []string{"a.b_c-d/e@f:g=h", "with space", "q'uote", "", "semi;colon", "tilde~", "plus+", "comma,", "%s"}
	got := Join("cmd", args)
	want := `cmd a.b_c-d/e@f:g=h 'with space' 'q'\''uote' '' 'semi;colon' 'tilde~' 'plus+' 'comma,' '%s'`
	if got != want {
		t.Fatalf("Join = %s\nwant   %s", got, want)
	}
	if Join("echo test", nil) != "echo test" {
		t.Fatal("a command without args must pass unchanged")
	}
	if got := Quote("a\xffb'\\é\n"); got != `$'a\xffb\'\\é\x0a'` {
		t.Fatalf("Quote of invalid UTF-8 = %s", got)
	}
	if !utf8.ValidString(Quote("\xff\xfe\xc3")) {
		t.Fatal("Quote must return valid UTF-8 for any input")
	}
}

// runBash runs script with bash and returns its stdout.
func runBash(t testing.TB, script string) []byte {
	t.Helper()
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("bash -c %q: %v", script, err)
	}
	return out
}

func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a b", "q'u\"o`t$e", "$(rm -rf /)", "\n\t", "'", "''", "\\", "*", "-n", "é", "\xff\xfe", "a\xc3"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.IndexByte(a, 0) >= 0 || strings.IndexByte(b, 0) >= 0 {
			t.Skip("a shell word cannot hold NUL")
		}
		for _, s := range []string{a, b} {
			if got, rest, err := Unquote(Quote(s) + " tail"); err != nil || got != s || rest != " tail" {
				t.Fatalf("Unquote(Quote(%q)) = %q, %q, %v", s, got, rest, err)
			}
		}
		out := runBash(t, Join(`printf '%s\0'`, []string{a, b}))
		want := a + "\x00" + b + "\x00"
		if !bytes.Equal(out, []byte(want)) {
			t.Fatalf("args %q %q came back as %q", a, b, out)
		}
	})
}

func TestValidate(t *testing.T) {
	bad := []Spec{
		{Command: ""},
		{Command: "  "},
		{Command: "echo \x00"},
		{Command: "echo \xff"},
		{Command: "echo", Args: []string{"a\x00"}},
		{Command: "echo", Cwd: "/tmp\x00"},
		{Command: "echo", Env: map[string]string{"INVALID-NAME": "x"}},
		{Command: "echo", Env: map[string]string{"sandbox not found; printf x": "x"}},
		{Command: "echo", Env: map[string]string{"1A": "x"}},
		{Command: "echo", Env: map[string]string{"A": "\x00"}},
	}
	for _, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", s)
		}
	}
	good := Spec{Command: "echo", Args: []string{"\xff"}, Cwd: "/t\xfe", Env: map[string]string{"_A1": "x y\xfd"}}
	if err := good.Validate(); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}

const testMarker = "\x1eM%\\'0:"

// pathWith returns a directory holding links to the named programs only.
func pathWith(t *testing.T, programs ...string) string {
	dir := t.TempDir()
	for _, p := range programs {
		full, err := exec.LookPath(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(full, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMayBackground(t *testing.T) {
	yes := []string{"sleep 10 &", "server & echo started", "nohup x", "a &\nb", "setsid x"}
	no := []string{"a && b", "echo x >&2", "cmd &> log", "a |& b", "cat <&3", "echo done"}
	for _, c := range yes {
		if !MayBackground(c) {
			t.Errorf("MayBackground(%q) = false", c)
		}
	}
	for _, c := range no {
		if MayBackground(c) {
			t.Errorf("MayBackground(%q) = true", c)
		}
	}
}

func TestMayLeaveItsShell(t *testing.T) {
	for cmd, want := range map[string]bool{
		"echo hi":                      false,
		"ls -la ./src && cat a.exec":   false,
		"find . -name x":               true, // a lone dot: source, as far as a word list can tell
		"find ./src -exec rm {} +":     false,
		"exec python app.py":           true,
		"trap 'rm -f $t' EXIT; make":   true,
		"kill -9 $$":                   true,
		"echo $BASHPID":                true,
		"eval \"$x\"":                  true,
		". ./env.sh; run":              true,
		"source venv/bin/activate":     true,
		"f() { :; }; f":                true,
		"set -euo pipefail; make test": true,
		"shopt -s globstar; ls **":     true,
		"unset PATH":                   true,
		"builtin cd /":                 true,
		"echo reset; ls --unset":       false,
		"echo settings":                false,
	} {
		if got := MayLeaveItsShell(cmd); got != want {
			t.Errorf("MayLeaveItsShell(%q) = %v, want %v", cmd, got, want)
		}
	}
}
