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
	conn := s.upgrade(w, r)
	if conn == nil {
		return
	}
	defer s.untrackConn(conn)
	defer conn.Close()
	fs := &followStream{srv: s, conn: conn, ss: ss, c: c, clientGone: s.watchClient(conn)}
	if clientOutput(r.Header).combined {
		// A combined-output client gets the log without labels
		// (apps/daemon/pkg/session/log.go:84-94, v0.173.0).
		fs.filter = &logLabelFilter{}
	}
	f, err := os.Open(c.logPath)
	if err != nil {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "log not available"),
			time.Now().Add(time.Second))
		return
	}
	defer f.Close()
	fs.cut, fs.cutting = s.takeCut()
	fs.run(f)
}

// upgrade answers the WebSocket handshake, with the first subprotocol the
// client offers, and tracks the connection for Close. It returns nil if the
// handshake failed (the upgrader has answered) or the server is closing.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) *websocket.Conn {
	var hdr http.Header
	if p := r.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		first, _, _ := strings.Cut(p, ",")
		hdr = http.Header{"Sec-WebSocket-Protocol": {strings.TrimSpace(first)}}
	}
	conn, err := upgrader.Upgrade(w, r, hdr)
	if err != nil {
		return nil
	}
	if !s.trackConn(conn) {
		conn.Close()
		return nil
	}
	return conn
}

// watchClient reads (and discards) what the client sends, to notice when
// it leaves: the returned channel is closed then.
func (s *Server) watchClient(conn *websocket.Conn) <-chan struct{} {
	gone := make(chan struct{})
	s.wg.Go(func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	})
	return gone
}

// followStream is one follow stream: a command's log sent over conn.
type followStream struct {
	srv        *Server
	conn       *websocket.Conn
	ss         *session
	c          *command
	clientGone <-chan struct{}
	cutting    bool            // whether the stream is cut (CutNextStreams) ...
	cut        int             // ... after this many bytes
	sent       int             // bytes of log sent
	filter     *logLabelFilter // strips labels for a combined-output client
}

// run sends the log from f as it grows, until the stream ends.
func (fs *followStream) run(f *os.File) {
	buf := make([]byte, fs.srv.cfg.frameSize)
	var off int64
	for {
		if fs.cutting && fs.sent >= fs.cut {
			fs.drop()
			return
		}
		size, exit, _, changed := fs.c.snapshot()
		if off < size {
			m, ok := fs.send(f, buf, off, size)
			if !ok {
				return
			}
			off += int64(m)
			continue
		}
		if exit != nil {
			// Everything was sent and the command has exited.
			fs.closeAfterExit()
			return
		}
		select {
		case <-changed:
		case <-fs.ss.gone:
			fs.sessionGone()
			return
		case <-fs.clientGone:
			return
		case <-fs.srv.done:
			return
		}
	}
}

// send sends one frame: the log from off, up to a frame's size, the end of
// the log (size) and the cut. It reports the bytes sent, and false if the
// stream is over.
func (fs *followStream) send(f *os.File, buf []byte, off, size int64) (int, bool) {
	n := int64(len(buf))
	if size-off < n {
		n = size - off
	}
	if fs.cutting && int64(fs.cut-fs.sent) < n {
		n = int64(fs.cut - fs.sent)
	}
	m, err := f.ReadAt(buf[:n], off)
	if m == 0 && err != nil {
		return 0, false
	}
	payload := buf[:m]
	if fs.filter != nil {
		payload = fs.filter.frame(payload)
	}
	if len(payload) > 0 || fs.filter == nil {
		if err := fs.conn.WriteMessage(websocket.BinaryMessage, payload); err != nil {
			return 0, false
		}
	}
	fs.sent += m
	return m, true
}

// closeAfterExit ends the stream of a command that has exited, once all
// its output was sent: with 1000 after the close delay, or sooner if the
// session goes, the client leaves or the server closes.
func (fs *followStream) closeAfterExit() {
	t := time.NewTimer(fs.srv.CloseDelay())
	defer t.Stop()
	select {
	case <-t.C:
		fs.closeNormally()
	case <-fs.ss.gone:
		fs.sessionGone()
	case <-fs.clientGone:
	case <-fs.srv.done:
	}
}

// sessionGone ends the stream of a session that was deleted (1000), or
// whose sandbox stopped (dropped).
func (fs *followStream) sessionGone() {
	if fs.ss.isAbrupt() {
		fs.drop()
	} else {
		fs.closeNormally()
	}
}

func (fs *followStream) closeNormally() {
	if fs.filter != nil {
		if rest := fs.filter.rest(); len(rest) > 0 {
			_ = fs.conn.WriteMessage(websocket.BinaryMessage, rest)
		}
	}
	_ = fs.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

// drop ends the stream abruptly: no close frame, just the TCP connection
// closing.
func (fs *followStream) drop() { _ = fs.conn.UnderlyingConn().Close() }
