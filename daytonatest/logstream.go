//go:build unix

package daytonatest

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 4096,
	// Any origin: this is a local test server, and the SDK sends none.
	CheckOrigin: func(*http.Request) bool { return true },
}

func isWebSocketUpgrade(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// handleFollow streams a command's log over a WebSocket, as the daemon's
// follow mode does: the log is replayed from its first byte in binary
// frames, then followed; once the command has exited and everything was
// sent, the stream closes with 1000 after the close delay. Deleting the
// session closes it with 1000 at once; stopping the sandbox drops it.
func (s *Server) handleFollow(w http.ResponseWriter, r *http.Request) {
	ss, c := s.commandFor(w, r)
	if c == nil {
		return
	}
	if !s.enter() {
		writeToolboxError(w, r, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	defer s.wg.Done()
	var hdr http.Header
	if p := r.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		first, _, _ := strings.Cut(p, ",")
		hdr = http.Header{"Sec-WebSocket-Protocol": {strings.TrimSpace(first)}}
	}
	conn, err := upgrader.Upgrade(w, r, hdr)
	if err != nil {
		return // the upgrader has answered
	}
	if !s.trackConn(conn) {
		conn.Close()
		return
	}
	defer s.untrackConn(conn)
	defer conn.Close()

	// Read (and discard) what the client sends, to notice when it leaves.
	clientGone := make(chan struct{})
	s.wg.Go(func() {
		defer close(clientGone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	})

	f, err := os.Open(c.logPath)
	if err != nil {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "log not available"),
			time.Now().Add(time.Second))
		return
	}
	defer f.Close()

	cut, cutting := s.takeCut()
	buf := make([]byte, s.cfg.frameSize)
	var off int64
	sent := 0
	closeNormally := func() {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
	drop := func() {
		// An abrupt end: no close frame, just the TCP connection closing.
		_ = conn.UnderlyingConn().Close()
	}
	for {
		if cutting && sent >= cut {
			drop()
			return
		}
		size, exit, _, changed := c.snapshot()
		if off < size {
			n := int64(len(buf))
			if size-off < n {
				n = size - off
			}
			if cutting && int64(cut-sent) < n {
				n = int64(cut - sent)
			}
			m, err := f.ReadAt(buf[:n], off)
			if m == 0 && err != nil {
				return
			}
			if err := conn.WriteMessage(websocket.BinaryMessage, buf[:m]); err != nil {
				return
			}
			off += int64(m)
			sent += m
			continue
		}
		if exit != nil {
			// Everything was sent and the command has exited.
			t := time.NewTimer(s.CloseDelay())
			select {
			case <-t.C:
				closeNormally()
			case <-ss.gone:
				if ss.isAbrupt() {
					drop()
				} else {
					closeNormally()
				}
			case <-clientGone:
			case <-s.done:
			}
			t.Stop()
			return
		}
		select {
		case <-changed:
		case <-ss.gone:
			if ss.isAbrupt() {
				drop()
			} else {
				closeNormally()
			}
			return
		case <-clientGone:
			return
		case <-s.done:
			return
		}
	}
}
