package shell

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
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
}

// runSh runs script with the system shell and returns its stdout.
func runSh(t testing.TB, script string) []byte {
	t.Helper()
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	return out
}

func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a b", "q'u\"o`t$e", "$(rm -rf /)", "\n\t", "'", "''", "\\", "*", "-n", "é"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.IndexByte(a, 0) >= 0 || strings.IndexByte(b, 0) >= 0 {
			t.Skip("a shell word cannot hold NUL")
		}
		out := runSh(t, Join(`printf '%s\0'`, []string{a, b}))
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
	if err := (Spec{Command: "echo", Env: map[string]string{"_A1": "x y"}}).Validate(); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}

func TestScript(t *testing.T) {
	s := Spec{
		Command: "echo",
		Args:    []string{"hello world", "it's", "", "a=b", "$HOME"},
		Env:     map[string]string{"OVR": "new", "BASE": "v a l"},
		Cwd:     "/tmp/my dir",
	}
	want := "( export BASE='v a l' && export OVR=new && cd '/tmp/my dir' && (\n" +
		"echo 'hello world' 'it'\\''s' '' a=b '$HOME'\n) ) </dev/null"
	if got := s.Script(); got != want {
		t.Fatalf("Script =\n%s\nwant\n%s", got, want)
	}
}

func TestScriptRuns(t *testing.T) {
	cases := []struct {
		name string
		spec Spec
		out  string
	}{
		{"exit code and exact output", Spec{Command: "printf abc; exit 3", Marker: "\x1eM:"}, "abc\x1eM:3\n"},
		{"trailing comment", Spec{Command: "echo hi # no closing paren here", Marker: "#M:"}, "hi\n#M:0\n"},
		{"here-document", Spec{Command: "cat <<EOF\nheredoc\nEOF", Marker: "#M:"}, "heredoc\n#M:0\n"},
		{"stdin is empty", Spec{Command: "cat; echo done", Marker: "#M:"}, "done\n#M:0\n"},
		{"env and cwd", Spec{Command: `echo "$A $PWD"`, Env: map[string]string{"A": "x'y"}, Cwd: "/", Marker: "%M:"}, "x'y /\n%M:0\n"},
		{"percent and backslash in marker", Spec{Command: "true", Marker: `%\'M:`}, "%\\'M:0\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			script := tc.spec.Script()
			cmd := exec.Command("sh", "-c", script)
			out, _ := cmd.Output()
			if string(out) != tc.out {
				t.Fatalf("script %q\nstdout %q; want %q", script, out, tc.out)
			}
		})
	}
}

func TestScriptCdFailure(t *testing.T) {
	script := Spec{Command: "echo never", Cwd: "/does/not/exist", Marker: "#M:"}.Script()
	out, _ := exec.Command("sh", "-c", script).Output()
	// bash says 1, dash 2: any failure status, and the command never ran.
	if s := string(out); s == "#M:0\n" || !strings.HasPrefix(s, "#M:") {
		t.Fatalf("got %q", out)
	}
}

func TestScriptExitCodeAndIsolation(t *testing.T) {
	// In one shell: the first command's exports, cd and exit must not
	// reach the second.
	first := Spec{Command: "export LEAK=1; cd /; exit 4", Marker: "#M:"}.Script()
	second := Spec{Command: `echo "[$LEAK] $PWD"`, Marker: "#M:"}.Script()
	out := runSh(t, "cd /tmp && "+first+"\n"+second)
	if string(out) != "#M:4\n[] /tmp\n#M:0\n" {
		t.Fatalf("got %q", out)
	}
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

func TestParseScript(t *testing.T) {
	for _, spec := range []Spec{
		{Command: "echo hi", Marker: "\x1eDTN0a1b:"},
		{Command: "cat <<EOF\n%d ) )\nEOF", Env: map[string]string{"A": "1"}, Cwd: "/tmp", Marker: "%\\'M:", KeepStdin: true},
	} {
		cmd, marker, ok := ParseScript(spec.Script())
		if !ok || cmd != spec.Command || marker != spec.Marker {
			t.Errorf("ParseScript(%q) = %q, %q, %v", spec.Script(), cmd, marker, ok)
		}
	}
	if _, _, ok := ParseScript("echo not ours"); ok {
		t.Error("ParseScript accepted a foreign script")
	}
}

func TestKeepStdin(t *testing.T) {
	script := Spec{Command: "read x; echo \"[$x]\"", KeepStdin: true}.Script()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdin = strings.NewReader("hello\n")
	out, err := cmd.Output()
	if err != nil || string(out) != "[hello]\n" {
		t.Fatalf("got %q, %v", out, err)
	}
}
