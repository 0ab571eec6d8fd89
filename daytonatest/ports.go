//go:build unix

package daytonatest

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// handlePortInUse answers GET /port/{port}/in-use as the daemon does
// (apps/daemon/pkg/toolbox/port/detector.go:98-133 at v0.173.0): a port
// that is not a number between 3000 and 9999 is a 400 with an empty body
// (gin's AbortWithError writes no body); otherwise {"isInUse": true} when
// a TCP connection to localhost:{port} succeeds within 50 ms. The daemon
// also answers true for a port its poller saw listening in the last
// second (IPv4 listeners only, from /proc/net/tcp); dialing finds those
// too, and IPv6 ones.
func (s *Server) handlePortInUse(w http.ResponseWriter, r *http.Request, _ []byte) {
	if s.toolboxFor(w, r) == nil {
		return
	}
	port, err := strconv.Atoi(r.PathValue("port"))
	if err != nil || port < 3000 || port > 9999 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	inUse := false
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("localhost", strconv.Itoa(port)), 50*time.Millisecond); err == nil {
		_ = c.Close()
		inUse = true
	}
	writeJSON(w, http.StatusOK, map[string]bool{"isInUse": inUse})
}
