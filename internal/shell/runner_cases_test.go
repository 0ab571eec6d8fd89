package shell

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestScriptSemantics: what a command sees and how it ends, on every
// session shell.
func TestScriptSemantics(t *testing.T) {
	cases := []struct {
		name string
		spec Spec
		want filesRun // stdout, stderr, code
	}{
		{"exit code", Spec{Command: "echo out; echo err >&2; exit 4"}, filesRun{stdout: "out\n", stderr: "err\n", code: 4}},
		{"killed by a signal", Spec{Command: "echo before; kill -9 $BASHPID"}, filesRun{stdout: "before\n", code: 137}},
		{"syntax error", Spec{Command: "echo 'x"}, filesRun{code: 2}},
		{"syntax error on its second line", Spec{Command: "echo ok\necho 'x"}, filesRun{code: 2}},
		{"no positional parameters", Spec{Command: `echo "$#[$1]"`}, filesRun{stdout: "0[]\n"}},
		{"exact arguments", Spec{Command: `printf '%s\0'`, Args: []string{"a\xffb", "é", "'", "\x01\x02\x1e", "-n", "%s", "", "\\x41"}},
			filesRun{stdout: "a\xffb\x00é\x00'\x00\x01\x02\x1e\x00-n\x00%s\x00\x00\\x41\x00"}},
		{"exact environment", Spec{Command: `printf '%s|%s' "$V" "$W"`, Env: map[string]string{"V": "v\xfe\x01\n'\\", "W": ""}}, filesRun{stdout: "v\xfe\x01\n'\\|"}},
		{"a readonly name fails", Spec{Command: "echo never", Env: map[string]string{"BASHOPTS": "x"}}, filesRun{code: 1}},
		{"trailing comment", Spec{Command: "echo hi # no closing paren here )"}, filesRun{stdout: "hi\n"}},
		{"stdin is empty", Spec{Command: "cat; echo done"}, filesRun{stdout: "done\n"}},
		{"exec", Spec{Command: "exec printf replaced"}, filesRun{stdout: "replaced"}},
		{"return", Spec{Command: "echo a; return 5; echo b"}, filesRun{stdout: "a\n", code: 5}},
		{"EXIT trap of its own", Spec{Command: "trap 'echo bye' EXIT; echo hi"}, filesRun{stdout: "hi\nbye\n"}},
		{"cd failure", Spec{Command: "echo never", Cwd: "/does/not/exist"}, filesRun{code: 1}},
		{"stdout reopened in append mode", Spec{Command: "echo a; echo b >>/dev/stdout; echo c"}, filesRun{stdout: "a\nb\nc\n"}},
		{"xtrace", Spec{Command: "set -x; echo hi"}, filesRun{stdout: "hi\n", stderr: "+ echo hi\n"}},
		{"xtrace and exit", Spec{Command: "set -x; exit 3"}, filesRun{stderr: "+ exit 3\n", code: 3}},
		{"xtrace and errexit", Spec{Command: "set -ex; false"}, filesRun{stderr: "+ false\n", code: 1}},
		{"errexit", Spec{Command: "set -e; echo a; false; echo never"}, filesRun{stdout: "a\n", code: 1}},
		{"nounset and errexit", Spec{Command: "set -eu; echo \"$undefined_name\""}, filesRun{code: 1}},
		{"IFS and noglob", Spec{Command: "IFS=/; set -f; echo hi; (exit 6)"}, filesRun{stdout: "hi\n", code: 6}},
		// Commands that run in the runner's own process (MayLeaveItsShell
		// is false, the set builtin hidden from it): the options they set
		// there do not reach the runner's report.
		{"xtrace in the runner's process", Spec{Command: `"$S" -x; echo hi`, Env: map[string]string{"S": "set"}}, filesRun{stdout: "hi\n", stderr: "+ echo hi\n"}},
		{"xtrace and exit in the runner's process", Spec{Command: `"$S" -x; exit 3`, Env: map[string]string{"S": "set"}}, filesRun{stderr: "+ exit 3\n", code: 3}},
		{"nounset and pipefail in the runner's process", Spec{Command: `"$S" -uo pipefail; false | true`, Env: map[string]string{"S": "set"}}, filesRun{code: 1}},
		{"IFS and noglob in the runner's process", Spec{Command: `IFS=/; "$S" -f; echo hi; (exit 6)`, Env: map[string]string{"S": "set"}}, filesRun{stdout: "hi\n", code: 6}},
		{"a child killed by a signal", Spec{Command: `bash -c "$K"; echo after`, Env: map[string]string{"K": "kill -9 $$"}}, filesRun{stdout: "after\n"}},
	}
	for _, sh := range filesShells(t) {
		for _, tc := range cases {
			t.Run(filepath.Base(sh)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				got := runScript(t, sh, tc.spec, os.Environ(), "")
				switch tc.name {
				case "syntax error on its second line":
					// bash numbers the command's lines from 1, as in bash -c,
					// for the first command of a session shell and later ones.
					if got.code != 2 || got.stdout != "ok\n" || !strings.Contains(got.stderr, "eval: line 2: unexpected EOF") {
						t.Fatalf("got %+v", got)
					}
					return
				case "a child killed by a signal":
					if got.code != 0 || got.stdout != "after\n" || !strings.Contains(got.stderr, "Killed") {
						t.Fatalf("got %+v", got)
					}
					return
				case "xtrace", "xtrace and exit", "xtrace and errexit", "xtrace in the runner's process", "xtrace and exit in the runner's process":
					// The command's own trace, one line (its depth of + is
					// the runner's business), and nothing of the runner's.
					if got.code != tc.want.code || got.stdout != tc.want.stdout || !strings.HasSuffix(got.stderr, tc.want.stderr) || strings.Count(got.stderr, "\n") != 1 {
						t.Fatalf("got %+v", got)
					}
					return
				case "syntax error", "cd failure", "a readonly name fails", "nounset and errexit":
					if got.code != tc.want.code || got.stdout != "" || got.stderr == "" {
						t.Fatalf("got %+v", got)
					}
					return
				}
				if got.stdout != tc.want.stdout || got.stderr != tc.want.stderr || got.code != tc.want.code {
					t.Fatalf("got stdout %q stderr %q code %d\nwant stdout %q stderr %q code %d",
						got.stdout, got.stderr, got.code, tc.want.stdout, tc.want.stderr, tc.want.code)
				}
			})
		}
	}
}

// TestScriptKeepStdin: a process's command reads the session's input.
func TestScriptKeepStdin(t *testing.T) {
	for _, sh := range filesShells(t) {
		got := runScript(t, sh, Spec{Command: `read x; echo "[$x]"`, KeepStdin: true}, os.Environ(), "hello\n")
		if got.stdout != "[hello]\n" || got.code != 0 {
			t.Fatalf("%s: got %+v", sh, got)
		}
	}
}

// TestScriptIsolation: in one session shell, a command's exports, cd,
// variables, functions, traps and exit do not reach the next command, and
// the shell reports each command's exit code as its status.
func TestScriptIsolation(t *testing.T) {
	for _, sh := range filesShells(t) {
		dir := t.TempDir()
		first := Spec{Command: "export LEAK=1; X=2; f() { :; }; trap 'echo trapped' EXIT; cd /; exit 4", Marker: "#M1:"}.Script()
		second := Spec{Command: `echo "[$LEAK][$X][$(type -t f)] $PWD"`, Marker: "#M2:"}.Script()
		p1, p2 := filepath.Join(dir, "1.sh"), filepath.Join(dir, "2.sh")
		for p, s := range map[string]string{p1: first, p2: second} {
			if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(sh, "-c", ". "+Quote(p1)+"; echo \"status $?\"; . "+Quote(p2))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte("#M1:4\nstatus 4\n")) {
			t.Fatalf("%s: first command: %q", sh, out)
		}
		if want := "#M2:D"; !bytes.Contains(out, []byte(want)) {
			t.Fatalf("%s: %q", sh, out)
		}
		// The second command's output came inline.
		if !bytes.Contains(out, []byte("\n[][][] "+dir+"\n#M2:0\n")) {
			t.Fatalf("%s: second command saw state of the first: %q", sh, out)
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

// TestScriptFiles: the output files are next to the script when the
// session shell sources it from a directory it may write (as the daemon's
// does), else in /tmp, which the runner cleans itself unless a stream
// stayed in its file; with Raw, or with no writable directory, output goes
// to the log as the daemon relays it.
func TestScriptFiles(t *testing.T) {
	bash := must(exec.LookPath("bash"))
	small := Spec{Command: "echo hi"}
	got := runScript(t, bash, small, os.Environ(), "")
	if got.mode != ModeFiles || !strings.Contains(got.files[1], "/sessions/s1/cmd-1/agentws-") || got.stdout != "hi\n" {
		t.Fatalf("got %+v", got)
	}
	if _, err := os.Stat(got.files[1]); err != nil {
		t.Fatalf("the file next to the script: %v", err)
	}

	// Not sourced from its file: /tmp, removed by the runner.
	for _, spec := range []Spec{small, {Command: "head -c 20000 /dev/zero"}} {
		spec.Marker = "#T" + hexOf(string(randomBytes(8))) + ":"
		cmd := exec.Command(bash, "-c", spec.Script())
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		o := "/tmp/agentws-" + hexOf(spec.Marker) + ".out"
		if !bytes.HasPrefix(out, []byte(spec.Marker+"D"+o+"\t")) {
			t.Fatalf("header %q", out)
		}
		_, err = os.Stat(o)
		if bulk := bytes.Contains(out, []byte(spec.Marker+"B0\n")); bulk != (err == nil) {
			t.Fatalf("bulk %v, file: %v", bulk, err)
		}
		_ = os.Remove(o)
		_ = os.Remove(strings.TrimSuffix(o, ".out") + ".err")
	}

	raw := runScript(t, bash, Spec{Command: "printf 'a\\0b'; echo e >&2", Raw: true}, os.Environ(), "")
	if raw.mode != 'R' || raw.files[1] != "" || raw.stdout != "ab" || raw.stderr != "e\n" {
		t.Fatalf("raw: got %+v", raw)
	}
}

// TestScriptWithoutBash: a sandbox without bash runs nothing and says
// why.
func TestScriptWithoutBash(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	got := runScript(t, sh, Spec{Command: "echo never"}, []string{"PATH=" + pathWith(t)}, "")
	if got.mode != 'N' || got.code != 127 || got.stdout != "" || !strings.Contains(got.stderr, NoBashMessage) {
		t.Fatalf("got %+v", got)
	}
}

// TestScriptSurvivesTerm: the daemon deletes a session by sending
// SIGTERM to its process group, then SIGKILL to what is left only if its
// shell still has a child once the grace period is over. The runner and
// the command's subshell stay while a command that ignores SIGTERM runs,
// so that the SIGKILL comes.
func TestScriptSurvivesTerm(t *testing.T) {
	for _, sh := range filesShells(t) {
		for _, own := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/own=%v", filepath.Base(sh), own), func(t *testing.T) {
				t.Parallel()
				scriptSurvivesTerm(t, sh, own)
			})
		}
	}
}

func scriptSurvivesTerm(t *testing.T, sh string, own bool) {
	{
		{
			dir := t.TempDir()
			ready := filepath.Join(dir, "ready")
			spec := Spec{Command: `bash -c 'trap "" TERM; : >"$1"; exec sleep 30' bash "$R"`, Env: map[string]string{"R": ready}, Marker: "#K:"}
			if own {
				// Nothing MayLeaveItsShell sees: the command runs in the
				// runner's process.
				spec.Command, spec.Env["I"] = `bash -c "$I" bash "$R"`, `trap "" TERM; : >"$1"; exec sleep 30`
			}
			p := filepath.Join(dir, "cmd.sh")
			if err := os.WriteFile(p, []byte(spec.Script()), 0o600); err != nil {
				t.Fatal(err)
			}
			// The daemon's wrapper traps TERM in the session shell.
			cmd := exec.Command(sh, "-c", "trap : TERM; . "+Quote(p))
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
			waitFor(t, func() bool { _, err := os.Stat(ready); return err == nil })
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			// The shell's child, the runner, outlives SIGTERM for as long as
			// the command does.
			deadline := time.Now().Add(300 * time.Millisecond)
			for time.Now().Before(deadline) {
				if len(children(cmd.Process.Pid)) == 0 {
					t.Fatal("the session shell has no child left after SIGTERM: the daemon would not send SIGKILL")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// children lists the live children of pid, from /proc.
func children(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

func TestParseScript(t *testing.T) {
	for _, spec := range []Spec{
		{Command: "echo hi", Marker: "\x1eDTN0a1b:"},
		{Command: "cat <<EOF\n%d ) )\nEOF", Args: []string{"a b", "\xff\\x41", ""}, Env: map[string]string{"A": "1\n"}, Cwd: "/tmp", Marker: "%\\'M:", KeepStdin: true},
		{Command: "it's\nelse fi\n__DAYTONA_6D\n", Marker: "m", MergeStderr: true},
	} {
		cmd, marker, ok := ParseScript(spec.Script())
		if !ok || cmd != Join(spec.Command, spec.Args) || marker != spec.Marker {
			t.Errorf("ParseScript(%q) = %q, %q, %v", spec.Script(), cmd, marker, ok)
		}
	}
	good := Spec{Command: "x", Marker: "m"}.Script()
	for _, s := range []string{
		strings.TrimSuffix(good, "\n"),
		strings.Replace(good, "c0000000001x", "c0000000009x", 1),
		strings.Replace(good, "c0000000001x", "q0000000001x", 1),
		strings.Replace(good, "z0000000000", "", 1),
	} {
		if _, _, ok := ParseScript(s); ok {
			t.Errorf("ParseScript accepted %q", s)
		}
	}
}

// TestScriptDefined: a script without the runner's definition runs in
// a session shell that ran a full one before; in a fresh one it runs
// nothing and says so.
func TestScriptDefined(t *testing.T) {
	for _, sh := range filesShells(t) {
		dir := t.TempDir()
		full := Spec{Command: "echo one", Marker: "#D1:"}.Script()
		short := Spec{Command: "echo two; exit 3", Marker: "#D2:", Defined: true}.Script()
		if strings.Contains(short, runnerName+"()") || len(short) > 1000 {
			t.Fatalf("the short script defines the runner: %d bytes", len(short))
		}
		p1, p2 := filepath.Join(dir, "1.sh"), filepath.Join(dir, "2.sh")
		for p, s := range map[string]string{p1: full, p2: short} {
			if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		out, _ := exec.Command(sh, "-c", ". "+Quote(p1)+"; . "+Quote(p2)+"; echo \"status $?\"").Output()
		if !bytes.Contains(out, []byte("one\n#D1:0\n")) || !bytes.Contains(out, []byte("two\n#D2:3\n#D2:3\nstatus 3\n")) {
			t.Fatalf("%s: %q", sh, out)
		}
		out, _ = exec.Command(sh, "-c", ". "+Quote(p2)+"; echo \"status $?\"").Output()
		if string(out) != "#D2:V\n#D2:127\nstatus 0\n" {
			t.Fatalf("%s: fresh shell: %q", sh, out)
		}
	}
}

// TestScriptShellGone: a command that kills its session's shell still
// gets its output and exit code back (the runner outlives the shell), and
// the marker says that the shell is gone.
func TestScriptShellGone(t *testing.T) {
	for _, sh := range filesShells(t) {
		for _, c := range []struct{ merge, own bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			merge, own := c.merge, c.own
			dir := t.TempDir()
			spid := filepath.Join(dir, "spid")
			// The command waits until the shell is dead (a zombie, here)
			// before it ends.
			spec := Spec{Command: `echo before; P=$(cat "$S"); kill -9 "$P"; while kill -0 "$P" 2>/dev/null; do case $(cat /proc/$P/stat 2>/dev/null) in *") Z "*) break ;; esac; done; echo after`,
				Env: map[string]string{"S": spid}, Marker: "#G:", MergeStderr: merge}
			if own {
				// The same, in a bash the command starts: the command runs
				// in the runner's process.
				spec.Command, spec.Env["G"] = `bash -c "$G"`, spec.Command
			}
			p := filepath.Join(dir, "cmd.sh")
			if err := os.WriteFile(p, []byte(spec.Script()), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			cmd := exec.Command(sh, "-c", "echo $$ > "+Quote(spid)+"; . "+Quote(p))
			cmd.Stdout = &stdout
			// Run returns once every writer of stdout is done: the runner,
			// orphaned, writes its trailer after the shell died.
			_ = cmd.Run()
			if !bytes.Contains(stdout.Bytes(), []byte("before\nafter\n#G:X0\n")) {
				t.Fatalf("%s (merge %v, own %v): %q", sh, merge, own, stdout.Bytes())
			}
		}
	}
}

// FuzzScriptData: any command, arguments, environment value and
// directory name reach the command exactly through the data's encoding.
func FuzzScriptData(f *testing.F) {
	f.Add("printf '%s|'", "a\xffb", "v\x01\n\\x41", "d-\x1b")
	f.Add("printf '%s|' \"$V\"", "", "%b\\c\\0", "-")
	f.Fuzz(func(t *testing.T, command, arg, value, dirName string) {
		spec := Spec{Command: command, Args: []string{arg}, Env: map[string]string{"V": value}, Cwd: dirName}
		if spec.Validate() != nil || dirName == "" || strings.ContainsAny(dirName, "/\x00") || dirName == "." || dirName == ".." {
			t.Skip()
		}
		// The fields come back as written, whatever the command does.
		cmd, args, err := parseData(string(spec.data()))
		if err != nil || cmd != command || len(args) != 1 || args[0] != arg {
			t.Fatalf("parseData: %q %q %v", cmd, args, err)
		}
		base := t.TempDir()
		if err := os.Mkdir(filepath.Join(base, dirName), 0o755); err != nil {
			t.Skip(err) // a name the file system refuses
		}
		spec.Command = `printf '%s|' "$V"; pwd; printf '|%s'`
		got := runScriptIn(t, base, must(exec.LookPath("bash")), spec, os.Environ(), "")
		if want := value + "|" + filepath.Join(base, dirName) + "\n|" + arg; got.stdout != want || got.code != 0 {
			t.Fatalf("got %q (code %d, stderr %q), want %q", got.stdout, got.code, got.stderr, want)
		}
	})
}

// TestScriptProcesses: the command runs in the runner's process, a child
// of the session shell (a subshell of a bash session shell, bash under
// another), one process per command; a command that may leave its shell
// runs in a subshell of the runner, one more.
func TestScriptProcesses(t *testing.T) {
	// The shell that runs the command reads its own /proc/self/stat
	// (a redirection of a builtin: no process started) and prints its
	// parent's process id.
	const parent = `IFS=' ' read -r _ _ _ pp _ </proc/self/stat; echo "$pp"`
	for _, sh := range filesShells(t) {
		for _, leave := range []bool{false, true} {
			dir := t.TempDir()
			spec := Spec{Command: parent, Marker: "#P:"}
			if leave {
				spec.Command += " # exec"
			}
			p := filepath.Join(dir, "cmd.sh")
			if err := os.WriteFile(p, []byte(spec.Script()), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(sh, "-c", "echo $$; . "+Quote(p)).Output()
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(out), "\n")
			shellPID, got := lines[0], runScriptOutput(t, out, spec)
			if own := got == shellPID+"\n"; own == leave {
				t.Errorf("%s, may leave %v: the command's shell's parent is %q, the session shell is %s", sh, leave, got, shellPID)
			}
		}
	}
}

// runScriptOutput returns the stdout of a command that printed one small
// line: the header names its file, and its marker follows the line.
func runScriptOutput(t *testing.T, out []byte, spec Spec) string {
	t.Helper()
	i := bytes.Index(out, []byte(spec.Marker+"D"))
	if i < 0 {
		t.Fatalf("no header in %q", out)
	}
	rest := out[i+len(spec.Marker)+1:]
	nl := bytes.IndexByte(rest, '\n')
	body := rest[nl+1:]
	j := bytes.Index(body, []byte(spec.Marker))
	if j < 0 {
		t.Fatalf("no marker in %q", out)
	}
	return string(body[:j])
}

// TestScriptWithoutReport: a command that replaces the runner's process
// in a way MayLeaveItsShell does not see ends without the runner's
// report (the caller then takes the exit code the daemon recorded); its
// output is in its file, and the session shell's status is its exit code.
func TestScriptWithoutReport(t *testing.T) {
	for _, sh := range filesShells(t) {
		dir := t.TempDir()
		spec := Spec{Command: `X=ex; ${X}ec bash -c 'printf replaced; exit 7'`, Marker: "#W:"}
		if MayLeaveItsShell(spec.Command) {
			t.Fatal("MayLeaveItsShell sees this exec: hide it better")
		}
		p := filepath.Join(dir, "cmd.sh")
		if err := os.WriteFile(p, []byte(spec.Script()), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(sh, "-c", ". "+Quote(p)+`; echo "status $?"`).Output()
		header, rest, _ := bytes.Cut(out, []byte("\n"))
		files, ok := bytes.CutPrefix(header, []byte("#W:D"))
		if !ok || string(rest) != "status 7\n" {
			t.Fatalf("%s: %q", sh, out)
		}
		o, _, _ := strings.Cut(string(files), "\t")
		if b, err := os.ReadFile(o); err != nil || string(b) != "replaced" {
			t.Fatalf("%s: the file holds %q, %v", sh, b, err)
		}
		if strings.HasPrefix(o, "/tmp/") {
			_ = os.Remove(o)
			_ = os.Remove(strings.TrimSuffix(o, ".out") + ".err")
		}
	}
}
