//go:build unix

package daytonatest

import (
	"os"
	"time"
)

// SandboxCPU returns the CPU time (user and system) that the sandboxes'
// session shells and the commands of /process/execute have used, with
// everything they started and waited for, counted as each shell or
// command exits: delete the sessions, or stop the sandboxes, before
// reading it. It is what commands cost a sandbox apart from the daemon
// itself (whose labelling this server does in Go), such as the work of a
// client's wrapper around each command.
func (s *Server) SandboxCPU() time.Duration {
	return time.Duration(s.cfg.cpu.Load())
}

// countCPU adds the CPU time of an exited process and its waited-for
// descendants (wait4's resource usage) to the server's total.
func (s *Server) countCPU(st *os.ProcessState) {
	if st != nil {
		s.cfg.cpu.Add(int64(st.UserTime() + st.SystemTime()))
	}
}
