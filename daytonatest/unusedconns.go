//go:build unix

package daytonatest

import (
	"net"
	"net/http"
	"sync"
)

// unusedConns holds the connections that have not begun a request yet.
// Close closes them before it shuts the HTTP server down: Shutdown waits
// for a connection in http.StateNew for up to 5 seconds, in case a request
// is on its way, and an HTTP client often holds such a connection, dialled
// for a request that another connection then served. A test would wait
// those 5 seconds in its cleanup for nothing.
type unusedConns struct {
	mu     sync.Mutex // guards the fields below
	m      map[net.Conn]struct{}
	closed bool // closeAll was called: new connections are closed at once
}

// connState is the http.Server's ConnState hook.
func (u *unusedConns) connState(c net.Conn, st http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if st == http.StateNew {
		if u.closed {
			_ = c.Close()
			return
		}
		if u.m == nil {
			u.m = make(map[net.Conn]struct{})
		}
		u.m[c] = struct{}{}
		return
	}
	delete(u.m, c)
}

// closeAll closes the connections that have not begun a request, and
// from now on every new one.
func (u *unusedConns) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for c := range u.m {
		_ = c.Close()
	}
	clear(u.m)
}
