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

// Sizes of the shared transport's pool of connections: a burst of
// concurrent commands on one sandbox holds one connection each, all to the
// same host (Daytona's toolbox proxy). The transport opens no more
// connections to a host than it keeps idle, so that none is closed after
// use only to be opened again: over HTTP/1.1, where each request in flight
// needs a connection of its own, many sandboxes started at once used to
// open a connection per request in flight, close those beyond the idle
// pool once done, and open them again for the next wave (starting 1,000
// sandboxes opened 1,000 to 1,700). A burst of up to 256 commands on one
// sandbox still gets its 256 connections; the 257th request in flight to
// one host over HTTP/1.1 waits for one to come free. HTTP/2, which
// Daytona's API speaks over TLS, multiplexes requests on one connection,
// so the cap never holds requests back there. Dials are paced too (see
// dialPacer).
const (
	maxIdleConnsPerHost = 256
	maxConnsPerHost     = maxIdleConnsPerHost
	maxIdleConns        = 1024
	idleConnTimeout     = 90 * time.Second
)

// SharedHTTP is the default client of every Sandbox. It has no overall
// timeout: each request is bounded by its context.
var SharedHTTP = &http.Client{Transport: NewTransport(nil)}

// Transport is the shared client's transport: an *http.Transport with
// http.DefaultTransport's settings, a pool sized for bursts (the default
// keeps 2 idle connections per host), a cap on the connections to one
// host, and dials paced by a dialPacer, which its RoundTrip informs.
type Transport struct {
	*http.Transport
	pacer *dialPacer
}

// NewTransport returns a Transport that dials with dial (a net.Dialer's
// if nil; tests count connections with theirs).
func NewTransport(dial DialFunc) *Transport {
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	p := newDialPacer(dial)
	return &Transport{pacer: p, Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           p.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		MaxConnsPerHost:       maxConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// RoundTrip sends req through the *http.Transport, telling the pacer when
// req no longer waits for a connection (see dialPacer).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req, ended := trackWait(req)
	resp, err := t.Transport.RoundTrip(req)
	ended(resp)
	return resp, err
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
	t, ok := hc.Transport.(*http.Transport)
	if ours, isOurs := hc.Transport.(*Transport); isOurs {
		t, ok = ours.Transport, true
	}
	if ok {
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
