package shell

// Local check against the daemon's real session service (built from
// daytonaio/daytona v0.190.0 at /tmp/realdaemon/harness); never committed.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentworkspace/daytona/internal/stream"
)

type harness struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   *json.Encoder
	out  *bufio.Reader
	home string
}

type hres struct {
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	MS     int64           `json:"ms"`
}

func startHarness(t *testing.T, shell string) *harness {
	home := t.TempDir()
	cmd := exec.Command("/tmp/realdaemon/harness", filepath.Join(home, ".daytona"))
	cmd.Env = append(os.Environ(), "HOME="+home, "HARNESS_SHELL="+shell)
	cmd.Dir = home
	w, _ := cmd.StdinPipe()
	r, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { w.Close(); cmd.Process.Kill(); cmd.Wait() })
	return &harness{t: t, cmd: cmd, in: json.NewEncoder(w), out: bufio.NewReaderSize(r, 1<<20), home: home}
}

func (h *harness) do(req map[string]any) hres {
	if err := h.in.Encode(req); err != nil {
		h.t.Fatal(err)
	}
	line, err := h.out.ReadBytes('\n')
	if err != nil {
		h.t.Fatal(err)
	}
	var r hres
	if err := json.Unmarshal(line, &r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

type execRes struct {
	CmdID  string  `json:"cmdId"`
	Output *string `json:"output"`
	Stdout *string `json:"stdout"`
	Stderr *string `json:"stderr"`
	Exit   *int    `json:"exitCode"`
}

func (h *harness) exec(sid string, script string) (execRes, hres) {
	r := h.do(map[string]any{"op": "exec", "session": sid, "cmd": script})
	var e execRes
	if r.Error == "" {
		if err := json.Unmarshal(r.Result, &e); err != nil {
			h.t.Fatal(err)
		}
	}
	return e, r
}

func TestZZRealDaemon(t *testing.T) {
	for _, sh := range []string{"/usr/bin/bash", "/usr/bin/zsh"} {
		t.Run(filepath.Base(sh), func(t *testing.T) {
			h := startHarness(t, sh)
			if r := h.do(map[string]any{"op": "create", "session": "s"}); r.Error != "" {
				t.Fatal(r.Error)
			}
			for i, tc := range exactCases {
				dir := t.TempDir()
				o, e := filepath.Join(dir, "o"), filepath.Join(dir, "e")
				os.WriteFile(o, []byte(tc.out), 0o600)
				os.WriteFile(e, []byte(tc.err), 0o600)
				spec := Spec{Command: `cat "$O"; cat "$E" >&2; exit 3`, Env: map[string]string{"O": o, "E": e}, Marker: fmt.Sprintf("\x1eR%d-%x:", i, randomBytes(6)), Defined: i > 0}
				res, r := h.exec("s", spec.FileScript())
				if r.Error != "" {
					t.Fatalf("%s: %s", tc.name, r.Error)
				}
				got := decodeFiles(t, spec, labelled(*res.Output, 1), labelled(*res.Output, 2))
				if got.stdout != tc.out || got.stderr != tc.err || got.code != 3 || *res.Exit != 3 {
					t.Fatalf("%s: got %q / %q code %d (daemon %d)", tc.name, trim([]byte(got.stdout)), trim([]byte(got.stderr)), got.code, *res.Exit)
				}
				if !strings.Contains(got.files[1], "/.daytona/sessions/s/"+res.CmdID+"/agentws-") {
					t.Fatalf("files at %q", got.files)
				}
				// What the daemon demuxed itself (the sync answer's members) is exact for inline streams.
				if !got.bulk[1] && *res.Stdout != tc.out+map[bool]string{true: "", false: "\n"}[tc.out == "" || strings.HasSuffix(tc.out, "\n")] {
					t.Logf("%s: daemon stdout member %q", tc.name, trim([]byte(*res.Stdout)))
				}
				t.Logf("%s: %d ms, bulk %v", tc.name, r.MS, got.bulk)
			}
		})
	}
}

// labelled returns the log's lines of one stream, labels kept, so that
// decodeFiles can demux them.
func labelled(log string, st stream.Stream) []byte {
	var out []byte
	var d stream.Demuxer
	_ = d.Feed([]byte(log), func(s stream.Stream, b []byte) error {
		if s == st {
			out = append(out, b...)
		}
		return nil
	})
	// decodeFiles demuxes again: put one label back at each line start.
	label := []byte{1, 1, 1}
	if st == stream.Stderr {
		label = []byte{2, 2, 2}
	}
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		if len(line) > 0 {
			b.Write(label)
			b.Write(line)
		}
	}
	return b.Bytes()
}

func TestZZRealDaemonKill(t *testing.T) {
	for _, sh := range []string{"/usr/bin/bash", "/usr/bin/zsh"} {
		for _, kind := range []string{"perl", "files"} {
			t.Run(filepath.Base(sh)+"/"+kind, func(t *testing.T) {
				h := startHarness(t, sh)
				h.do(map[string]any{"op": "create", "session": "k"})
				ready := filepath.Join(h.home, "pid")
				spec := Spec{Command: `bash -c 'trap "" TERM; echo $$ > "$1"; exec sleep 300' bash "$R"`, Env: map[string]string{"R": ready}, Marker: "\x1eK1:"}
				script := spec.Script()
				if kind == "files" {
					script = spec.FileScript()
				}
				r := h.do(map[string]any{"op": "exec", "session": "k", "cmd": script, "async": true})
				if r.Error != "" {
					t.Fatal(r.Error)
				}
				var pid int
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if b, err := os.ReadFile(ready); err == nil && bytes.HasSuffix(b, []byte("\n")) {
						fmt.Sscan(string(b), &pid)
						break
					}
				}
				if pid == 0 {
					t.Fatal("no pid")
				}
				r = h.do(map[string]any{"op": "delete", "session": "k"})
				time.Sleep(200 * time.Millisecond)
				alive := exec.Command("kill", "-0", fmt.Sprint(pid)).Run() == nil
				if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && bytes.Contains(st, []byte(") Z ")) {
					alive = false
				}
				t.Logf("%s/%s: delete took %d ms (%s); TERM-ignoring process alive after delete: %v", sh, kind, r.MS, r.Error, alive)
				exec.Command("kill", "-9", fmt.Sprint(pid)).Run()
			})
		}
	}
}

func TestZZRealDaemonDeadShellSync(t *testing.T) {
	h := startHarness(t, "/usr/bin/zsh")
	h.do(map[string]any{"op": "create", "session": "d"})
	// A sync command that kills its shell in the background, after the daemon
	// answered... the sync exec itself waits forever, so kill from a later
	// async-free path: the command backgrounds the kill and exits.
	_, r := h.exec("d", "( sleep 0.2; kill -9 $$ ) >/dev/null 2>&1 </dev/null & echo bye")
	t.Logf("first: %+v", r.Error)
	time.Sleep(500 * time.Millisecond)
	_, r = h.exec("d", "echo hi")
	t.Logf("next command: error %q after %d ms", r.Error, r.MS)
}

func TestZZRealDaemonDeadShell(t *testing.T) {
	h := startHarness(t, "/usr/bin/zsh")
	h.do(map[string]any{"op": "create", "session": "d"})
	r := h.do(map[string]any{"op": "exec", "session": "d", "cmd": "kill -9 $$", "async": true})
	t.Logf("killing command: %+v", r)
	time.Sleep(300 * time.Millisecond)
	_, r = h.exec("d", "echo hi")
	t.Logf("next command: error %q after %d ms", r.Error, r.MS)
}

func TestZZRealDaemonShellGone(t *testing.T) {
	for _, sh := range []string{"/usr/bin/bash", "/usr/bin/zsh"} {
		h := startHarness(t, sh)
		h.do(map[string]any{"op": "create", "session": "g"})
		spec := Spec{Command: `echo before; P=$(cat "$HOME/spid"); kill -9 "$P"; while kill -0 "$P" 2>/dev/null; do case $(cat /proc/$P/stat 2>/dev/null) in *") Z "*) break ;; esac; done; echo after`, Marker: "\x1eG1:"}
		_, r := h.exec("g", "echo $$ > $HOME/spid")
		r = h.do(map[string]any{"op": "exec", "session": "g", "cmd": spec.FileScript(), "async": true})
		var e execRes
		json.Unmarshal(r.Result, &e)
		time.Sleep(500 * time.Millisecond)
		dir := filepath.Join(h.home, ".daytona", "sessions", "g", e.CmdID)
		log, _ := os.ReadFile(filepath.Join(dir, "output.log"))
		t.Logf("%s: log %q", sh, log)
		_, r = h.exec("g", "echo next")
		t.Logf("%s: next: %q", sh, r.Error)
	}
}
