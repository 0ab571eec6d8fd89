// Package follow reads a Daytona session command's log over the toolbox's
// follow WebSocket (…/process/session/{sid}/command/{cid}/logs?follow=true)
// as a plain io.Reader of log bytes.
//
// Unlike the SDK's GetSessionCommandLogsStream it does not own the caller's
// channels, allocates nothing per frame, escapes the ids in the URL, and
// can be interrupted at any moment by closing it from another goroutine.
package follow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

var dialer = &websocket.Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 30 * time.Second,
	ReadBufferSize:   32 << 10,
	WriteBufferSize:  1 << 10,
}

// Stream is an open follow stream. Read returns log bytes; it returns
// io.EOF when the server closes the stream normally (close code 1000 or
// 1001), and another error when the stream breaks. Close may be called
// concurrently with Read to interrupt it.
type Stream struct {
	conn *websocket.Conn
	r    io.Reader
}

// HandshakeError reports a follow stream the server refused, with the HTTP
// status it answered.
type HandshakeError struct {
	StatusCode int
	Err        error
}

func (e *HandshakeError) Error() string {
	return "follow stream refused with HTTP " + http.StatusText(e.StatusCode) + ": " + e.Err.Error()
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// URL returns the follow-stream URL for a command, from the toolbox's base
// URL (http or https, turned into ws or wss). The ids are path-escaped.
func URL(toolboxBase, sessionID, commandID string) (string, error) {
	base := strings.TrimRight(toolboxBase, "/")
	switch {
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	default:
		return "", errors.New("follow: toolbox URL scheme must be http or https")
	}
	return base + "/process/session/" + url.PathEscape(sessionID) +
		"/command/" + url.PathEscape(commandID) + "/logs?follow=true", nil
}

// Dial opens the follow stream at rawURL with the given request headers
// (the toolbox client's default headers, which carry the authorization),
// with d (nil: a default dialer).
func Dial(ctx context.Context, d *websocket.Dialer, rawURL string, header http.Header) (*Stream, error) {
	if d == nil {
		d = dialer
	}
	conn, resp, err := d.DialContext(ctx, rawURL, header)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
			return nil, &HandshakeError{StatusCode: resp.StatusCode, Err: err}
		}
		return nil, err
	}
	return &Stream{conn: conn}, nil
}

// Read reads log bytes into p.
func (s *Stream) Read(p []byte) (int, error) {
	for {
		if s.r == nil {
			_, r, err := s.conn.NextReader()
			if err != nil {
				if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
					return 0, io.EOF
				}
				return 0, err
			}
			s.r = r
		}
		n, err := s.r.Read(p)
		if errors.Is(err, io.EOF) {
			s.r = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// Close closes the connection without a close handshake.
func (s *Stream) Close() error { return s.conn.Close() }

// SetReadDeadline sets the deadline for reads; a read that reaches it
// fails with an error matching os.ErrDeadlineExceeded, and the stream is
// then unusable.
func (s *Stream) SetReadDeadline(t time.Time) { _ = s.conn.SetReadDeadline(t) }

// KeepAlive pings the server every interval until the returned function is
// called (which waits for the pinging goroutine to end). Pings may be
// written while another goroutine reads.
func (s *Stream) KeepAlive(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)) != nil {
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
