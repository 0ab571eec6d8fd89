package follow

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestURL(t *testing.T) {
	got, err := URL("https://proxy.example/toolbox/abc/", "s/1?x", "c#2")
	if err != nil {
		t.Fatal(err)
	}
	want := "wss://proxy.example/toolbox/abc/process/session/s%2F1%3Fx/command/c%232/logs?follow=true"
	if got != want {
		t.Fatalf("URL = %s; want %s", got, want)
	}
	if _, err := URL("ftp://x", "s", "c"); err == nil {
		t.Fatal("URL accepted an ftp base")
	}
}

// serve starts a WebSocket server that sends frames, then ends as end says.
func serve(t *testing.T, frames [][]byte, end func(*websocket.Conn)) string {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for _, f := range frames {
			_ = c.WriteMessage(websocket.BinaryMessage, f)
		}
		end(c)
	}))
	t.Cleanup(srv.Close)
	u, _ := URL(srv.URL, "s", "c")
	return u
}

func TestReadUntilNormalClose(t *testing.T) {
	u := serve(t, [][]byte{[]byte("ab"), {}, []byte("cd")}, func(c *websocket.Conn) {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	})
	s, err := Dial(t.Context(), nil, u, http.Header{"Authorization": {"Bearer k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(b, []byte("abcd")) {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
}

func TestAbruptEndIsAnError(t *testing.T) {
	u := serve(t, [][]byte{[]byte("partial")}, func(c *websocket.Conn) { _ = c.UnderlyingConn().Close() })
	s, err := Dial(t.Context(), nil, u, http.Header{"Authorization": {"Bearer k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := io.ReadAll(s)
	if err == nil || string(b) != "partial" {
		t.Fatalf("ReadAll = %q, %v; want the data and an error", b, err)
	}
}

func TestRefusedHandshake(t *testing.T) {
	u := serve(t, nil, func(*websocket.Conn) {})
	_, err := Dial(t.Context(), nil, u, nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v; want a HandshakeError with 401", err)
	}
}

func TestCloseInterruptsRead(t *testing.T) {
	release := make(chan struct{})
	u := serve(t, nil, func(*websocket.Conn) { <-release })
	defer close(release)
	s, err := Dial(t.Context(), nil, u, http.Header{"Authorization": {"Bearer k"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 8))
		done <- err
	}()
	_ = s.Close()
	if err := <-done; err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Read after Close = %v; want an error that is not EOF", err)
	}
}

// TestKeepAlivePings: an idle stream is pinged every interval, so that
// proxies do not take it for dead, while a read is blocked; stopping the
// pings ends their goroutine.
func TestKeepAlivePings(t *testing.T) {
	pings := make(chan struct{}, 16)
	release := make(chan struct{})
	u := serve(t, nil, func(c *websocket.Conn) {
		c.SetPingHandler(func(string) error {
			pings <- struct{}{}
			return nil
		})
		go func() { // the server reads, so that pings are handled
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		<-release
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	})
	s, err := Dial(t.Context(), nil, u, http.Header{"Authorization": {"Bearer k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := s.KeepAlive(5 * time.Millisecond)
	readDone := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 8))
		readDone <- err
	}()
	for range 3 {
		select {
		case <-pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping arrived while the stream was idle")
		}
	}
	stop()
	close(release)
	if err := <-readDone; !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the close: %v, want io.EOF", err)
	}
}
