//go:build unix

package daytonatest

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDescendantsBothWays: the walk through the children files and the scan
// of /proc find the same tree (a shell, its jobs, a job's own child, and a
// child in another process group); killTree ends them all.
func TestDescendantsBothWays(t *testing.T) {
	if !haveChildrenFiles() {
		t.Skip("this kernel has no /proc/<pid>/task/<tid>/children")
	}
	cmd := exec.Command("sh", "-c", `sleep 30 & sh -c 'sleep 30 & wait' & setsid sleep 30 & wait`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	t.Cleanup(func() { killTree(cmd.Process.Pid, 0); <-waited })
	// Four processes below the shell once the inner shell has forked its
	// sleep: sleep, sh, its sleep and setsid's sleep.
	var byChildren, byScan []int
	deadline := time.Now().Add(30 * time.Second)
	for len(byChildren) != 4 || !slices.Equal(byChildren, byScan) {
		require.True(t, time.Now().Before(deadline), "by children %v, by scan %v", names(byChildren), names(byScan))
		time.Sleep(10 * time.Millisecond)
		byChildren, byScan = descendantsByChildren(cmd.Process.Pid), descendantsByScan(cmd.Process.Pid)
		slices.Sort(byChildren)
		slices.Sort(byScan)
	}

	killTree(cmd.Process.Pid, time.Second)
	for _, p := range byChildren {
		require.False(t, alive(p), "process %d outlived killTree", p)
	}
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the shell outlived killTree")
	}
}

// names returns the command names of pids, for messages.
func names(pids []int) []string {
	var out []string
	for _, p := range pids {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm")
		out = append(out, strconv.Itoa(p)+":"+strings.TrimSpace(string(b)))
	}
	return out
}
