package shell

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/agentworkspace/daytona/internal/stream"
)

// labelLoop is the daemon's labeller (apps/daemon/pkg/session/execute.go,
// cmdWrapperFormat, v0.190.0), run by the session shell: it labels each
// line of a stream.
const labelLoop = `while IFS= read -r line || [ -n "$line" ]; do printf '%s%%s\n' "$line"; done`

// filesRun is what a Script printed, decoded as the library decodes it.
type filesRun struct {
	stdout, stderr string
	code           int
	mode           byte
	bulk           [3]bool
	files          [3]string // the files the header named
	inline         [3][]byte // what came through the log before the marker
}

// runScript runs spec's script as the daemon does: written to cmd.sh in
// a directory of its own, sourced by sessionShell, each output stream
// labelled by that shell's labelling loop into a log. It decodes the log
// and reads the files of streams marked bulk. env, if not nil, is the
// session shell's environment; stdin is the command's.
func runScript(t testing.TB, sessionShell string, spec Spec, env []string, stdin string) filesRun {
	t.Helper()
	return runScriptIn(t, "", sessionShell, spec, env, stdin)
}

// runScriptIn is runScript with the session shell started in
// directory wd (if not empty).
func runScriptIn(t testing.TB, wd, sessionShell string, spec Spec, env []string, stdin string) filesRun {
	t.Helper()
	if spec.Marker == "" {
		// Random, as the library's: the runner names its files after it.
		spec.Marker = fmt.Sprintf("%s%x:", testMarker, randomBytes(12))
	}
	dir := filepath.Join(t.TempDir(), "sessions", "s1", "cmd-1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := spec.Script()
	if !utf8.ValidString(script) {
		t.Fatal("the script is not valid UTF-8")
	}
	path := filepath.Join(dir, "cmd.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sessionShell, "-c", ". "+Quote(path))
	cmd.Env = env
	cmd.Dir = wd
	cmd.Stdin = strings.NewReader(stdin)
	logs := [2]*bytes.Buffer{{}, {}}
	var wg sync.WaitGroup
	for i, label := range []string{`\001\001\001`, `\002\002\002`} {
		lab := exec.Command(sessionShell, "-c", fmt.Sprintf(labelLoop, label))
		lab.Env = env
		w, err := lab.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		lab.Stdout = logs[i]
		if err := lab.Start(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			cmd.Stdout = w
		} else {
			cmd.Stderr = w
		}
		wg.Go(func() { _ = lab.Wait() })
		defer func() { _ = w.Close() }()
	}
	_ = cmd.Run()
	for _, w := range []any{cmd.Stdout, cmd.Stderr} {
		_ = w.(interface{ Close() error }).Close()
	}
	wg.Wait()
	return decodeFiles(t, spec, logs[0].Bytes(), logs[1].Bytes())
}

// decodeFiles decodes the labelled logs of stdout and stderr.
func decodeFiles(t testing.TB, spec Spec, outLog, errLog []byte) filesRun {
	t.Helper()
	var r filesRun
	var got [3]bytes.Buffer
	scan := [3]*stream.Scanner{nil, stream.NewScanner(spec.Marker), stream.NewScanner(spec.Marker)}
	fr := stream.NewHeader(spec.Marker)
	emit := func(st stream.Stream, b []byte) error {
		if st == stream.Stdout && fr.Mode() == ModeFiles && scan[st].After == nil {
			// stderr's part follows stdout's marker on stdout
			scan[st].After = func(b []byte) error {
				return scan[stream.Stderr].Feed(b, func(b []byte) error { got[stream.Stderr].Write(b); return nil })
			}
		}
		return scan[st].Feed(b, func(b []byte) error { got[st].Write(b); return nil })
	}
	for _, log := range [][]byte{outLog, errLog} {
		var d stream.Demuxer
		err := d.Feed(log, func(st stream.Stream, b []byte) error {
			if st == stream.Stdout {
				return fr.Feed(b, func(b []byte) error { return emit(stream.Stdout, b) })
			}
			return emit(st, b)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	r.mode = fr.Mode()
	r.files[1], r.files[2], _ = fr.Files()
	for _, f := range r.files[1:] {
		if strings.HasPrefix(f, "/tmp/agentws-") {
			// Not next to the script (a session shell that does not tell
			// its script's path): the caller removes what the runner left.
			t.Cleanup(func() { _ = os.Remove(f) })
		}
	}
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		code, ok := scan[st].Done()
		if !ok {
			t.Fatalf("no marker on stream %d\nstdout log %q\nstderr log %q", st, trim(outLog), trim(errLog))
		}
		r.code = code
		r.bulk[st] = scan[st].Bulk()
		r.inline[st] = got[st].Bytes()
	}
	r.stdout, r.stderr = got[stream.Stdout].String(), got[stream.Stderr].String()
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		if !r.bulk[st] {
			continue
		}
		if len(r.inline[st]) > 0 {
			t.Fatalf("stream %d is bulk but came with %q", st, trim(r.inline[st]))
		}
		f := r.files[st]
		if f == "" {
			f = r.files[stream.Stdout]
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if st == stream.Stdout {
			r.stdout = string(b)
		} else {
			r.stderr = string(b)
		}
	}
	return r
}

func trim(b []byte) []byte {
	if len(b) > 300 {
		return append(append(b[:150:150], "..."...), b[len(b)-150:]...)
	}
	return b
}

// filesShells are the session shells to try: bash, zsh and sh where
// installed (sh runs the runner under bash too).
func filesShells(t *testing.T) []string {
	var out []string
	for _, sh := range []string{"bash", "zsh", "sh"} {
		if p, err := exec.LookPath(sh); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no shell")
	}
	return out
}

// noPerlEnv returns an environment whose PATH holds the programs tests
// use, but not perl.
func noPerlEnv(t *testing.T) []string {
	path := pathWith(t, "bash", "cat", "head", "printf", "rm", "sleep", "tr", "seq", "true")
	if _, err := exec.LookPath("zsh"); err == nil {
		if err := os.Symlink(must(exec.LookPath("zsh")), filepath.Join(path, "zsh")); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"PATH=" + path, "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// exactCases are outputs that the daemon's labelling changes or loses
// (NUL, label bytes, invalid UTF-8, long lines interleaved with stderr, no
// final newline), small and large.
var exactCases = []struct {
	name     string
	out, err string
}{
	{"plain", "hello\n", "oops\n"},
	{"no final newline", "a\nb", "c"},
	{"empty", "", ""},
	{"NUL and label bytes", "x\x00y\x01\x01\x01z\x02\x02\x02\n\x00", "\x02\x02\x02e\x01\n"},
	{"invalid UTF-8", "a\xffb\xc3\n\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80", "\xc2\n\xfe"},
	{"valid UTF-8", "é→✓日本𝄞\n\x1b[31mred\x1b[0m\r\n", "ü\t\v\f"},
	{"DEL", "a\x7fb", "\x7f"},
	{"long lines with stderr", strings.Repeat("o", 70000) + "\n" + strings.Repeat("p", 9000), strings.Repeat("e", 30000) + "\n"},
	{"just over inline", strings.Repeat("x", InlineMax+1), strings.Repeat("y", InlineMax)},
	{"large binary", string(randomBytes(3 << 20)), string(randomBytes(100 << 10))},
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestScriptExact runs every exactness case on every session shell,
// with and without perl on the PATH, with both streams and merged.
func TestScriptExact(t *testing.T) {
	for _, sh := range filesShells(t) {
		for _, perl := range []bool{true, false} {
			env := os.Environ()
			if !perl {
				env = noPerlEnv(t)
			}
			for _, tc := range exactCases {
				name := fmt.Sprintf("%s/perl=%v/%s", filepath.Base(sh), perl, tc.name)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					dir := t.TempDir()
					o, e := filepath.Join(dir, "o"), filepath.Join(dir, "e")
					if err := os.WriteFile(o, []byte(tc.out), 0o600); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(e, []byte(tc.err), 0o600); err != nil {
						t.Fatal(err)
					}
					spec := Spec{Command: `cat "$O"; cat "$E" >&2; exit 3`, Env: map[string]string{"O": o, "E": e}}
					got := runScript(t, sh, spec, env, "")
					if got.stdout != tc.out || got.stderr != tc.err || got.code != 3 || got.mode != ModeFiles {
						t.Fatalf("got stdout %q\n    stderr %q\n    code %d mode %c bulk %v", trim([]byte(got.stdout)), trim([]byte(got.stderr)), got.code, got.mode, got.bulk)
					}
					checkInline(t, got)
					spec.MergeStderr = true
					spec.Command = `cat "$O"; cat "$E" >&2; cat "$O"`
					got = runScript(t, sh, spec, env, "")
					if want := tc.out + tc.err + tc.out; got.stdout != want || got.stderr != "" || got.code != 0 || got.files[2] != "" {
						t.Fatalf("merged: got stdout %q\n    stderr %q\n    code %d files %q", trim([]byte(got.stdout)), trim([]byte(got.stderr)), got.code, got.files)
					}
				})
			}
		}
	}
}

// checkInline checks what the daemon's JSON answers rely on: output that
// came through the log is valid UTF-8 without NUL or label bytes, no more
// than InlineMax bytes; larger or binary output stayed in its file.
func checkInline(t *testing.T, r filesRun) {
	t.Helper()
	for _, st := range []stream.Stream{stream.Stdout, stream.Stderr} {
		b := r.inline[st]
		if len(b) > InlineMax || !utf8.Valid(b) || bytes.ContainsAny(b, "\x00\x01\x02\x7f") {
			t.Fatalf("stream %d came through the log with %d bytes: %q", st, len(b), trim(b))
		}
		want := r.stdout
		if st == stream.Stderr {
			want = r.stderr
		}
		if !r.bulk[st] && string(b) != want {
			t.Fatalf("stream %d inline %q, want %q", st, trim(b), trim([]byte(want)))
		}
	}
}

// TestScriptAnySize: a command line, an argument, a here-document and
// an environment value far over Linux's 128 KiB limit on one argument or
// environment string arrive exactly on every session shell; the data
// never goes through an argument list (under zsh, bash is started with
// the runner only).
func TestScriptAnySize(t *testing.T) {
	big := func(n int) string {
		// Text with quotes, backslashes and invalid UTF-8 in it, which
		// quoting would have to escape.
		unit := "it's a \"quote\" \\ $x `y` é \xff\n"
		return strings.Repeat(unit, n/len(unit)+1)[:n]
	}
	arg := big(1 << 20)
	doc := strings.ReplaceAll(big(300<<10), "EOF", "EoF")
	env := strings.ReplaceAll(big(100_000), "\xff", "")
	huge := big(8 << 20)
	cases := []struct {
		name string
		spec Spec
		want string
	}{
		{"1 MiB argument", Spec{Command: `printf '%s|%s|'`, Args: []string{arg, "x"}}, arg + "|x|"},
		{"300 KiB here-document", Spec{Command: "cat <<'EOF'\n" + doc + "\nEOF"}, doc + "\n"},
		{"100 KB environment value", Spec{Command: `printf %s "$BIG"; printf '%s' "${#BIG}" >/dev/null`, Env: map[string]string{"BIG": env}}, env},
		{"8 MiB argument", Spec{Command: `printf %s`, Args: []string{huge}}, huge},
	}
	for _, sh := range filesShells(t) {
		for _, tc := range cases {
			t.Run(filepath.Base(sh)+"/"+tc.name, func(t *testing.T) {
				got := runScript(t, sh, tc.spec, os.Environ(), "")
				if got.stdout != tc.want || got.stderr != "" || got.code != 0 {
					t.Fatalf("got %d bytes %q, stderr %q, code %d; want %d bytes", len(got.stdout), trim([]byte(got.stdout)), trim([]byte(got.stderr)), got.code, len(tc.want))
				}
			})
		}
	}
}

// TestScriptCwd: the directory is always a path: "-" is the directory
// named -, never $OLDPWD; a relative name is not looked up in CDPATH; a
// name starting with a dash is not an option.
func TestScriptCwd(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"-", "-P", "sub", "cd/path"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "CDPATH="+other)
	for _, sh := range filesShells(t) {
		for _, tc := range []struct{ cwd, want string }{
			{"-", filepath.Join(base, "-")},
			{"-P", filepath.Join(base, "-P")},
			{"sub", filepath.Join(base, "sub")},
			{filepath.Join(base, "cd/path"), filepath.Join(base, "cd/path")},
		} {
			t.Run(filepath.Base(sh)+"/"+tc.cwd, func(t *testing.T) {
				// The session shell starts in base, with an OLDPWD.
				got := runScriptIn(t, base, sh, Spec{Command: "pwd", Cwd: tc.cwd}, append(env, "OLDPWD="+other), "")
				if got.stdout != tc.want+"\n" || got.stderr != "" || got.code != 0 {
					t.Fatalf("got %+v", got)
				}
			})
		}
	}
}

// FuzzScriptOutputExact sends arbitrary bytes through the runner on
// both streams, and the daemon's labelling loop after it, and checks that
// they come back exactly: through the log when they are small and clean,
// else through their files.
func FuzzScriptOutputExact(f *testing.F) {
	f.Add([]byte("hello\n"), []byte("err"))
	f.Add([]byte("\x00\x01\x01\x01\x02\x02\x02%%0A\n\r"), []byte("\xff\xfe\xc3\xa9\xe2\x82\xed\xa0\x80\xf4\x90\x80\x80\xc0\x80"))
	f.Add(bytes.Repeat([]byte("é"), 3000), bytes.Repeat([]byte{0xff}, 5000))
	f.Add([]byte("\xef\xbf\xbf\xc2\x85\u2028"), []byte("\x1b[1m\x7f"))
	bash := must(exec.LookPath("bash"))
	f.Fuzz(func(t *testing.T, out, errOut []byte) {
		dir := t.TempDir()
		o, e := filepath.Join(dir, "o"), filepath.Join(dir, "e")
		if err := os.WriteFile(o, out, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(e, errOut, 0o600); err != nil {
			t.Fatal(err)
		}
		got := runScript(t, bash, Spec{Command: `cat "$O"; cat "$E" >&2`, Env: map[string]string{"O": o, "E": e}}, os.Environ(), "")
		if got.stdout != string(out) || got.stderr != string(errOut) || got.code != 0 || got.mode != ModeFiles {
			t.Fatalf("sent %q / %q\ngot  %q / %q (code %d, mode %c)", out, errOut, got.stdout, got.stderr, got.code, got.mode)
		}
		checkInline(t, got)
	})
}
