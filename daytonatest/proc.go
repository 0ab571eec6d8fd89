//go:build unix

package daytonatest

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// killTree terminates the process group pgid (whose leader is the process
// pgid) and every descendant of its leader, including ones that moved to
// another process group: SIGTERM first, SIGKILL to whatever is still alive
// after grace. It returns when they are all gone (zombies count as gone).
func killTree(pgid int, grace time.Duration) {
	pids := descendants(pgid)
	pids = append(pids, pgid)
	signalAll(pgid, pids, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !anyAlive(pids) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Look again: processes may have forked while we waited.
	pids = append(pids, descendants(pgid)...)
	signalAll(pgid, pids, syscall.SIGKILL)
	deadline = time.Now().Add(5 * time.Second)
	for anyAlive(pids) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// terminateCheck is how often terminateSession looks for the shell's
// children (the daemon's default is 100 ms; a shorter period only makes a
// delete return sooner).
const terminateCheck = 10 * time.Millisecond

// terminateSession ends a session shell the way the daemon deletes a
// session (terminateSession and waitForTermination in
// apps/daemon/pkg/session/delete.go:44-134, v0.190.0): SIGTERM to the
// shell's process group and to each of its descendants; then a wait, of at
// most grace, until the shell has no live child (the shell itself traps
// SIGTERM, as the daemon's wrapper makes it: see session.block); SIGKILL to
// the group and the descendants only if a child is still there then.
// Whatever ignored SIGTERM after its parent, the shell's child, was gone
// thus lives on, as on the daemon. Last the shell itself is killed (the
// daemon cancels the shell's exec.CommandContext).
func terminateSession(pid int, grace time.Duration) {
	signalAll(pid, append(descendants(pid), pid), syscall.SIGTERM)
	for deadline := time.Now().Add(grace); ; time.Sleep(terminateCheck) {
		if !hasLiveChild(pid) {
			break
		}
		if time.Now().After(deadline) {
			pids := append(descendants(pid), pid)
			signalAll(pid, pids, syscall.SIGKILL)
			awaitDeath(pids)
			break
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// awaitDeath waits, for up to 5 seconds, until none of pids is alive:
// SIGKILL takes effect when the process is next scheduled.
func awaitDeath(pids []int) {
	for deadline := time.Now().Add(5 * time.Second); anyAlive(pids) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// hasLiveChild reports whether pid has a child that is not a zombie.
func hasLiveChild(pid int) bool {
	p := strconv.Itoa(pid)
	b, err := os.ReadFile("/proc/" + p + "/task/" + p + "/children")
	if err != nil {
		// No such file: look through /proc.
		for _, c := range descendants(pid) {
			if f := statFields(strconv.Itoa(c)); len(f) > 1 && f[1] == p && alive(c) {
				return true
			}
		}
		return false
	}
	for _, c := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(c); err == nil && alive(n) {
			return true
		}
	}
	return false
}

func signalAll(pgid int, pids []int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
}

func anyAlive(pids []int) bool {
	for _, p := range pids {
		if alive(p) {
			return true
		}
	}
	return false
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if os.IsNotExist(err) {
			return false
		}
		// No /proc: fall back to signal 0 (zombies then look alive).
		return syscall.Kill(pid, 0) == nil
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	st := b[i+2]
	return st != 'Z' && st != 'X'
}

// descendants lists the processes below root, read from /proc (empty where
// there is no /proc; the process-group kill still covers most cases).
func descendants(root int) []int {
	if haveChildrenFiles() {
		return descendantsByChildren(root)
	}
	return descendantsByScan(root)
}

// haveChildrenFiles reports whether the kernel lists each task's children
// in /proc/<pid>/task/<tid>/children (Linux 3.5 and later, with
// CONFIG_PROC_CHILDREN).
var haveChildrenFiles = sync.OnceValue(func() bool {
	pid := strconv.Itoa(os.Getpid())
	_, err := os.Stat("/proc/" + pid + "/task/" + pid + "/children")
	return err == nil
})

// descendantsByChildren walks the tree below root through the children
// files of its tasks: it reads a few files per process in the tree, where
// descendantsByScan reads one per process on the machine (a session kill
// did, and a test deletes hundreds of sessions).
func descendantsByChildren(root int) []int {
	var out []int
	queue := []int{root}
	seen := map[int]bool{root: true}
	for len(queue) > 0 {
		dir := "/proc/" + strconv.Itoa(queue[0]) + "/task/"
		queue = queue[1:]
		tasks, err := os.ReadDir(dir)
		if err != nil {
			continue // gone
		}
		for _, task := range tasks {
			b, _ := os.ReadFile(dir + task.Name() + "/children")
			for _, f := range bytes.Fields(b) {
				if c, err := strconv.Atoi(string(f)); err == nil && !seen[c] {
					seen[c] = true
					out = append(out, c)
					queue = append(queue, c)
				}
			}
		}
	}
	return out
}

// descendantsByScan finds the processes below root by reading the parent
// of every process in /proc.
func descendantsByScan(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := make(map[int][]int)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(b[i+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(string(fields[1]))
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := []int{root}
	seen := map[int]bool{root: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// straggler is a process left behind by a command that has exited, such as
// a server started in the background. Its start time tells it apart from a
// later process that reuses its PID.
type straggler struct {
	pid   int
	start string
}

// statFields returns the fields of /proc/<pid>/stat after the command name:
// state, ppid, pgrp, ..., starttime (index 19).
func statFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// groupMembers lists the live processes of process group pgid (empty where
// there is no /proc).
func groupMembers(pgid int) []straggler {
	if syscall.Kill(-pgid, 0) != nil {
		return nil // the group is empty
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []straggler
	for _, e := range entries {
		f := statFields(e.Name())
		if len(f) < 20 || f[2] != strconv.Itoa(pgid) || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, straggler{pid: pid, start: f[19]})
		}
	}
	return out
}

// alive reports whether the straggler is still running (and is the same
// process, not a new one with its PID).
func (p straggler) alive() bool {
	f := statFields(strconv.Itoa(p.pid))
	return len(f) >= 20 && f[19] == p.start && f[0] != "Z" && f[0] != "X"
}
