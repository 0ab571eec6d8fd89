//go:build linux

package daytonatest

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeHasData reports whether the pipe f reads from holds bytes not read
// yet (FIONREAD, which Linux names TIOCINQ).
func pipeHasData(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	return n > 0
}
