package shell

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/internal/stream"
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

// outcome is what a script printed, decoded as the library decodes it.
type outcome struct {
	stdout, stderr string
	code           int
	mode           byte
}

// decode decodes a script's stdout and stderr (as the daemon would label
// them) up to the markers.
func decode(t testing.TB, marker string, stdout, stderr []byte) outcome {
	t.Helper()
	var got [3]bytes.Buffer
	scan := [3]*stream.Scanner{nil, stream.NewScanner(marker), stream.NewScanner(marker)}
	emit := func(st stream.Stream, b []byte) error {
		return scan[st].Feed(b, func(b []byte) error { got[st].Write(b); return nil })
	}
	fr := stream.NewFrames(marker)
	if err := fr.Feed(stdout, emit); err != nil {
		t.Fatal(err)
	}
	if err := emit(stream.Stderr, stderr); err != nil {
		t.Fatal(err)
	}
	if fr.Corrupt() {
		t.Fatalf("corrupt records in %q", stdout)
	}
	code, ok := scan[stream.Stdout].Done()
	code2, ok2 := scan[stream.Stderr].Done()
	if !ok || !ok2 || code != code2 {
		t.Fatalf("markers: stdout %v %d, stderr %v %d\nstdout %q\nstderr %q", ok, code, ok2, code2, stdout, stderr)
	}
	return outcome{got[stream.Stdout].String(), got[stream.Stderr].String(), code, fr.Mode()}
}

// runScript runs spec's script with sessionShell (as the daemon runs a
// session command), with PATH set to path if not empty, and decodes it.
func runScript(t testing.TB, sessionShell string, spec Spec, path string, stdin string) outcome {
	t.Helper()
	if spec.Marker == "" {
		spec.Marker = testMarker
	}
	cmd := exec.Command(sessionShell, "-c", spec.Script())
	if path != "" {
		cmd.Env = append(os.Environ(), "PATH="+path)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	checkRecords(t, stdout.Bytes())
	return decode(t, spec.Marker, stdout.Bytes(), stderr.Bytes())
}

// checkRecords checks what the daemon relies on: records are lines of
// valid UTF-8, without NUL or label bytes, short enough to be written
// atomically.
func checkRecords(t testing.TB, out []byte) {
	t.Helper()
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		if len(line) > 4096 || !utf8.Valid(line) || bytes.ContainsAny(line, "\x00\x01\x02") {
			t.Fatalf("bad record (%d bytes): %q", len(line), line)
		}
	}
}

// sessionShells are the shells a daemon may use for sessions, where
// installed.
func sessionShells() []string {
	var out []string
	for _, sh := range []string{"bash", "zsh", "sh"} {
		if _, err := exec.LookPath(sh); err == nil {
			out = append(out, sh)
		}
	}
	return out
}

func TestScriptRuns(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "-P"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec Spec
		want outcome
	}{
		{"exit code and exact output", Spec{Command: "printf abc; printf 'x\\0y\\001\\002\\377%%z' >&2; exit 3"}, outcome{"abc", "x\x00y\x01\x02\xff%z", 3, 'F'}},
		{"trailing comment", Spec{Command: "echo hi # no closing paren here"}, outcome{"hi\n", "", 0, 'F'}},
		{"here-document", Spec{Command: "cat <<EOF\nheredoc\nEOF"}, outcome{"heredoc\n", "", 0, 'F'}},
		{"stdin is empty", Spec{Command: "cat; echo done"}, outcome{"done\n", "", 0, 'F'}},
		{"env and cwd", Spec{Command: `echo "$A $PWD"`, Env: map[string]string{"A": "x'y"}, Cwd: "/"}, outcome{"x'y /\n", "", 0, 'F'}},
		{"cwd starting with a dash", Spec{Command: `pwd`, Cwd: filepath.Join(dir, "-P")}, outcome{filepath.Join(dir, "-P") + "\n", "", 0, 'F'}},
		{"no positional parameters", Spec{Command: `echo "$#[$1]"`}, outcome{"0[]\n", "", 0, 'F'}},
		{"syntax error", Spec{Command: `echo 'x`}, outcome{"", "", 2, 'F'}},
		{"exact bytes in env", Spec{Command: `printf '%s' "$V"`, Env: map[string]string{"V": "v\xfe\x01"}}, outcome{"v\xfe\x01", "", 0, 'F'}},
		{"merged stderr keeps order", Spec{Command: "echo a; echo b >&2; echo c", MergeStderr: true}, outcome{"a\nb\nc\n", "", 0, 'F'}},
		{"long line", Spec{Command: "head -c 70000 /dev/zero | tr '\\0' x; echo; echo err >&2"}, outcome{strings.Repeat("x", 70000) + "\n", "err\n", 0, 'F'}},
	}
	for _, sh := range sessionShells() {
		for _, tc := range cases {
			t.Run(sh+"/"+tc.name, func(t *testing.T) {
				got := runScript(t, sh, tc.spec, "", "")
				if tc.name == "syntax error" {
					if got.code != 2 || !strings.Contains(got.stderr, "unexpected EOF") {
						t.Fatalf("got %+v", got)
					}
					return
				}
				if got != tc.want {
					t.Fatalf("got  %+v\nwant %+v", got, tc.want)
				}
			})
		}
	}
}

func TestScriptExactArgs(t *testing.T) {
	args := []string{"a\xffb", "é", "'", "\x01\x02\x1e", "-n", "%s"}
	got := runScript(t, "bash", Spec{Command: `printf '%s\0' "$@"`, Args: args}, "", "")
	// The command line's args become "$@" of printf inside eval.
	if want := strings.Join(args, "\x00") + "\x00"; got.stdout != want {
		t.Fatalf("got %q, want %q", got.stdout, want)
	}
}

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

func TestScriptWithoutPerl(t *testing.T) {
	got := runScript(t, "bash", Spec{Command: "echo out; echo err >&2; exit 4"}, pathWith(t, "bash"), "")
	if want := (outcome{"out\n", "err\n", 4, 'R'}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestScriptWithoutBash(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", Spec{Command: "echo never", Marker: testMarker}.Script())
	cmd.Env = []string{"PATH=" + pathWith(t)}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	got := decode(t, testMarker, stdout.Bytes(), stderr.Bytes())
	if got.mode != 'N' || got.code != 127 || got.stdout != "" || !strings.Contains(got.stderr, NoBashMessage) {
		t.Fatalf("got %+v", got)
	}
}

func TestScriptCdFailure(t *testing.T) {
	got := runScript(t, "bash", Spec{Command: "echo never", Cwd: "/does/not/exist"}, "", "")
	if got.code == 0 || got.stdout != "" || !strings.Contains(got.stderr, "/does/not/exist") {
		t.Fatalf("got %+v", got)
	}
}

func TestScriptExitCodeAndIsolation(t *testing.T) {
	// In one shell: the first command's exports, cd and exit must not
	// reach the second.
	first := Spec{Command: "export LEAK=1; cd /; exit 4", Marker: "#M:"}.Script()
	second := Spec{Command: `echo "[$LEAK] $PWD"`, Marker: "#N:"}.Script()
	cmd := exec.Command("bash", "-c", "cd /tmp && "+first+"\necho \"status $?\"\n"+second)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	// The first script exits with the command's status; the second sees
	// nothing of the first.
	parts := bytes.SplitN(out, []byte("status "), 2)
	if len(parts) != 2 || !bytes.HasPrefix(parts[1], []byte("4\n")) {
		t.Fatalf("got %q", out)
	}
	if got := decode(t, "#N:", bytes.TrimPrefix(parts[1], []byte("4\n")), []byte("#N:0\n")); got.stdout != "[] /tmp\n" {
		t.Fatalf("second command saw %+v", got)
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
		{Command: "it's\nelse fi", Marker: "m"},
	} {
		cmd, marker, ok := ParseScript(spec.Script())
		if !ok || cmd != spec.Command || marker != spec.Marker {
			t.Errorf("ParseScript(%q) = %q, %q, %v", spec.Script(), cmd, marker, ok)
		}
	}
	for _, s := range []string{"echo not ours", scriptTag + "zz\n", scriptTag + "41\n" + cmdVar + "='open"} {
		if _, _, ok := ParseScript(s); ok {
			t.Errorf("ParseScript accepted %q", s)
		}
	}
}

func TestKeepStdin(t *testing.T) {
	got := runScript(t, "bash", Spec{Command: "read x; echo \"[$x]\"", KeepStdin: true}, "", "hello\n")
	if got.stdout != "[hello]\n" || got.code != 0 {
		t.Fatalf("got %+v", got)
	}
}

// FuzzScriptOutputExact sends arbitrary bytes through the script's
// encoder on both streams and checks that they come back exactly.
func FuzzScriptOutputExact(f *testing.F) {
	f.Add([]byte("hello\n"), []byte("err"))
	f.Add([]byte("\x00\x01\x01\x01\x02\x02\x02%%0A\n\r"), []byte("\xff\xfe\xc3\xa9\xe2\x82\xed\xa0\x80\xf4\x90\x80\x80\xc0\x80"))
	f.Add(bytes.Repeat([]byte("é"), 3000), bytes.Repeat([]byte{0xff}, 5000))
	f.Fuzz(func(t *testing.T, out, errOut []byte) {
		dir := t.TempDir()
		o, e := filepath.Join(dir, "o"), filepath.Join(dir, "e")
		if err := os.WriteFile(o, out, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(e, errOut, 0o600); err != nil {
			t.Fatal(err)
		}
		got := runScript(t, "bash", Spec{Command: `cat "$O"; cat "$E" >&2`, Env: map[string]string{"O": o, "E": e}}, "", "")
		if got.stdout != string(out) || got.stderr != string(errOut) || got.code != 0 || got.mode != 'F' {
			t.Fatalf("sent %q / %q\ngot  %q / %q (code %d, mode %c)", out, errOut, got.stdout, got.stderr, got.code, got.mode)
		}
	})
}
