package shell

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkSandboxCPU runs commands (`true`, without output) one after the
// other in one long-lived session shell fed on its stdin, as the daemon
// runs a session, and reports the CPU time the shell and everything it
// started used per command (user and system, from /proc, which counts in
// clock ticks: run enough commands). script=full is Script with the
// runner's definition every time, script=defined leaves it out after the
// first command, as the library does.
func BenchmarkSandboxCPU(b *testing.B) {
	for _, sh := range []string{"bash", "zsh"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		for _, kind := range []string{"full", "defined"} {
			b.Run("session="+sh+"/script="+kind, func(b *testing.B) { benchSandboxCPU(b, sh, kind) })
		}
	}
}

func benchSandboxCPU(b *testing.B, sh, kind string) {
	dir := b.TempDir()
	shell := exec.Command(sh)
	shell.Dir = dir
	in, err := shell.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := shell.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := shell.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = in.Close(); _ = shell.Wait() }()
	lines := bufio.NewReader(out)
	run := func(i int) {
		spec := Spec{Command: "true", Marker: fmt.Sprintf("\x1eB%d:", i), Defined: kind == "defined" && i >= 0}
		text := spec.Script()
		cdir := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(cdir, 0o755); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(cdir, "cmd.sh")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
		if _, err := io.WriteString(in, "{ . "+Quote(p)+"; } >/dev/null 2>&1 </dev/null; echo done\n"); err != nil {
			b.Fatal(err)
		}
		if _, err := lines.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
	}
	run(-1)
	before := cpuTicks(b, shell.Process.Pid)
	i := 0
	for b.Loop() {
		run(i)
		i++
	}
	ticks := cpuTicks(b, shell.Process.Pid) - before
	b.ReportMetric(float64(ticks)*10/float64(i), "sandbox-ms/cmd")
}

// cpuTicks returns the user and system time of pid and of its children
// that it waited for, in clock ticks (1/100 s on Linux).
func cpuTicks(b *testing.B, pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Skip("no /proc")
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	n := 0
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		v, _ := strconv.Atoi(f[i])
		n += v
	}
	return n
}
