package controlplane

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Connections. Every request of every Sandbox in a process (control plane,
// toolbox, synchronous commands) goes through one HTTP client, and every
// log stream is dialled the same way, so that connections are reused
// across Sandboxes and across the commands of a burst instead of costing a
// TCP and TLS handshake each. WithHTTPClient replaces the client.

// Sizes of the shared transport's pool of idle connections: a burst of
// concurrent commands on one sandbox holds one connection each, all to the
// same host (Daytona's toolbox proxy).
const (
	maxIdleConnsPerHost = 256
	maxIdleConns        = 1024
	idleConnTimeout     = 90 * time.Second
)

// SharedHTTP is the default client of every Sandbox. It has no overall
// timeout: each request is bounded by its context.
var SharedHTTP = &http.Client{Transport: newTransport()}

// newTransport returns http.DefaultTransport's settings with a pool sized
// for bursts (the default keeps 2 idle connections per host).
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// dialers holds one WebSocket dialer per HTTP client, made to dial as the
// client's transport does (its proxy, dialer and TLS configuration).
var dialers sync.Map // *http.Client → *websocket.Dialer

// Dialer returns the WebSocket dialer for log streams of hc.
func Dialer(hc *http.Client) *websocket.Dialer {
	if d, ok := dialers.Load(hc); ok {
		return d.(*websocket.Dialer)
	}
	d := &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 30 * time.Second,
		ReadBufferSize:   32 << 10,
		WriteBufferSize:  1 << 10,
	}
	if t, ok := hc.Transport.(*http.Transport); ok {
		d.Proxy = t.Proxy
		d.NetDialContext = t.DialContext
		d.NetDialTLSContext = t.DialTLSContext
		if t.TLSClientConfig != nil {
			d.TLSClientConfig = t.TLSClientConfig.Clone()
		}
	}
	actual, _ := dialers.LoadOrStore(hc, d)
	return actual.(*websocket.Dialer)
}
