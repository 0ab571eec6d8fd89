package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
)

// DialFunc dials a network connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// minDialsPerHost is how many connections to one host may be dialled at
// once while fewer than that are open; with more open, as many as are
// open may be dialled at once (so the number of connections can double
// per round of dials).
const minDialsPerHost = 8

// errDialUnneeded ends a dial whose request got a connection while the
// dial waited for its turn. net/http drops it: the request has its
// connection.
var errDialUnneeded = errors.New("controlplane: the request got a connection before its dial began")

// dialPacer paces the dials of a Transport, per host. net/http dials a
// connection for every request that finds none idle, and since Go 1.23
// finishes each dial even when its request got another connection
// meanwhile (one that came free, or an HTTP/2 connection it shares). A
// storm of requests (many sandboxes started at once) thus opened a
// connection per request, over HTTP/2 too. Here a dial waits for its turn
// (see minDialsPerHost), and does not begin at all if its request got a
// connection in the meantime, or was handed an HTTP/2 one it has yet to
// take (see hostDials.handedOut): over HTTP/2 the first connection serves
// every waiting request (and once a host is known to speak HTTP/2, its
// connections are dialled one at a time, when the streams of those open
// run out), and over HTTP/1.1 connections that come free serve most of
// them, while the number of dials at once grows with the connections
// open, as long as requests keep waiting.
type dialPacer struct {
	next  DialFunc
	mu    sync.Mutex
	hosts map[string]*hostDials
}

// hostDials is a host's connections: open (ready), being dialled or set
// up, dials waiting for their turn, and a channel closed (and replaced) when a turn may
// have come free.
type hostDials struct {
	open, dialing, waiting int
	freed                  chan struct{}
	// multiplexed: a connection to the host speaks HTTP/2, whose first
	// connection serves every request until its streams run out; then
	// one dial at a time.
	multiplexed bool
	// served maps a request target (see wait.target) to when (an order)
	// the latest HTTP/2 connection to it that net/http handed out had
	// been dialled, or its TLS handshake had ended; failed is when a
	// connection to the host last failed before it was handed out. See
	// handedOut.
	served map[string]uint64
	failed uint64
	held   int // times a dial waited though a turn was free
}

// handedOut reports whether the request behind a dial that began waiting
// for its turn at began has been handed an HTTP/2 connection already,
// though it may not have taken it yet. net/http hands every new HTTP/2
// connection, used or a duplicate it closes, to all the requests waiting
// for a connection to its target (Transport.tryPutIdleConn), and a
// request looking later finds it idle; one that finds it full looks
// again, with a dial that begins later. So a dial that began before such
// a connection's TLS handshake ended (or, unknown that, its dial
// completed: both come before net/http hands it out), and after any
// connection failed (whose waiting requests get nothing), has no request
// to serve: it waits until its request has its connection or ends. Under load a request can take
// many milliseconds to run and report it: such dials began one after the
// other, each ending as a duplicate that gave its turn to the next (a
// storm of 240 requests opened up to 17 connections).
func (h *hostDials) handedOut(w *wait, began uint64) bool {
	if w == nil || w.target == "" {
		return false
	}
	return h.failed < began && began < h.served[w.target]
}

// turns returns how many dials to h may be under way at once.
func (h *hostDials) turns() int {
	if h.multiplexed && h.open > 0 {
		return 1
	}
	return max(minDialsPerHost, h.open)
}

func newDialPacer(dial DialFunc) *dialPacer {
	return &dialPacer{next: dial, hosts: make(map[string]*hostDials)}
}

// dial dials addr once its turn has come, unless the request behind ctx
// no longer waits for a connection by then. A request's connection keeps
// its turn until a request has it (net/http sets up TLS and HTTP/2 after
// the dial): the first connection to an HTTP/2 host then serves the
// requests waiting before they dial. Another dial's (a log stream's)
// gives its turn back once connected.
func (p *dialPacer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	w := waitOf(ctx)
	h, err := p.acquire(ctx, w, addr)
	if err != nil {
		return nil, err
	}
	c, err := p.next(ctx, network, addr)
	if err != nil {
		p.mu.Lock()
		h.dialing--
		h.failed = order.Add(1)
		p.changed(addr, h)
		p.mu.Unlock()
		return nil, err
	}
	pc := &pacedConn{Conn: c, pacer: p, addr: addr, host: h, dialled: order.Add(1)}
	if w == nil {
		pc.markReady(false)
	} else {
		pc.target = w.target
		w.dialled(pc)
	}
	return pc, nil
}

// acquire waits for a turn to dial addr.
func (p *dialPacer) acquire(ctx context.Context, w *wait, addr string) (*hostDials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[addr]
	if h == nil {
		h = &hostDials{freed: make(chan struct{})}
		p.hosts[addr] = h
	}
	began := order.Add(1)
	for h.dialing >= h.turns() || h.handedOut(w, began) {
		if h.dialing < h.turns() {
			h.held++
		}
		freed, waiting := h.freed, w.current()
		h.waiting++
		p.mu.Unlock()
		var err error
		select {
		case <-freed:
		case <-waiting:
			err = errDialUnneeded
		case <-ctx.Done():
			err = ctx.Err()
		}
		p.mu.Lock()
		h.waiting--
		if err != nil {
			p.changed(addr, h)
			return nil, err
		}
	}
	if w.satisfied() {
		p.changed(addr, h)
		return nil, errDialUnneeded
	}
	h.dialing++
	return h, nil
}

// changed wakes the dials waiting for a turn at h, and forgets a host
// with nothing open, dialling or waiting. p.mu must be held.
func (p *dialPacer) changed(addr string, h *hostDials) {
	close(h.freed)
	h.freed = make(chan struct{})
	if h.open == 0 && h.dialing == 0 && h.waiting == 0 && p.hosts[addr] == h {
		delete(p.hosts, addr)
	}
}

// pacedConn holds its host's turn to dial until it is ready (a request
// has it), and then counts as open until it is closed.
type pacedConn struct {
	net.Conn
	pacer   *dialPacer
	addr    string
	host    *hostDials
	target  string // the target of the request that dialled it, if any
	dialled uint64 // when (an order) the dial completed
	// shook is when (an order) a TLS handshake that negotiated HTTP/2
	// ended, if one did; broken is set on a failed read or write.
	shook  atomic.Uint64
	broken atomic.Bool
	ready  bool // guarded by pacer.mu
	closed bool // guarded by pacer.mu
}

// markReady gives back the turn of a connection that a request has got,
// and records that its host speaks HTTP/2 if h2.
func (c *pacedConn) markReady(h2 bool) {
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	if h2 {
		c.host.multiplexed = true
		c.handedOut()
	}
	if c.ready || c.closed {
		return
	}
	c.ready = true
	c.host.dialing--
	c.host.open++
	c.pacer.changed(c.addr, c.host)
}

// handedOut records that net/http handed c out (see hostDials.handedOut):
// every request waiting when c's dial completed, or its TLS handshake
// ended, was handed it. pacer.mu must be held.
func (c *pacedConn) handedOut() {
	if c.target == "" {
		return
	}
	if c.host.served == nil {
		c.host.served = make(map[string]uint64)
	}
	c.host.served[c.target] = max(c.host.served[c.target], c.dialled, c.shook.Load())
}

func (c *pacedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.broken.Store(true)
	}
	return n, err
}

func (c *pacedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.broken.Store(true)
	}
	return n, err
}

// Close gives back c's turn if it was never ready: net/http closes a
// connection unused when its TLS handshake or HTTP/2 setup failed, or as
// a duplicate, after handing it out (over HTTP/2, one already open can
// take the requests).
func (c *pacedConn) Close() error {
	c.pacer.mu.Lock()
	if !c.closed {
		c.closed = true
		switch {
		case c.ready:
			c.host.open--
		case c.shook.Load() != 0 && !c.broken.Load():
			c.host.dialing--
			c.host.multiplexed = true
			c.handedOut()
		default:
			c.host.dialing--
			c.host.failed = order.Add(1)
		}
		c.pacer.changed(c.addr, c.host)
	}
	c.pacer.mu.Unlock()
	return c.Conn.Close()
}

// paced returns the pacedConn under c (a *tls.Conn's too), and whether
// c negotiated HTTP/2 with TLS.
func paced(c net.Conn) (pc *pacedConn, h2 bool) {
	for c != nil {
		switch t := c.(type) {
		case *pacedConn:
			return t, h2
		case *tls.Conn:
			h2 = t.ConnectionState().NegotiatedProtocol == http2Proto
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil, false
		}
		c = u.NetConn()
	}
	return nil, false
}

// http2Proto is HTTP/2's name in TLS's protocol negotiation (ALPN).
const http2Proto = "h2"

// wait tracks whether a request waits for a connection: net/http calls
// GetConn when it starts looking for one and GotConn when it has one
// (again for a request it retries on a new connection). current returns
// a channel closed once the request has the connection it is looking for
// now, or has ended.
type wait struct {
	mu   sync.Mutex
	ch   chan struct{}
	done bool       // ch is closed
	conn *pacedConn // the connection the request got last, if paced
	// dials are the connections dialled for the request whose TLS
	// handshake has not ended.
	dials []*pacedConn
	// target is the scheme and host the request is for; empty for an
	// upgrade, which net/http sends on a connection of its own.
	target string
}

// order orders the moments dials begin waiting for their turn, dials
// complete and connections fail (see hostDials.handedOut).
var order atomic.Uint64

type waitKey struct{}

// waitOf returns the wait of the request that ctx belongs to, or nil for
// a dial that no Transport.RoundTrip made (a log stream's).
func waitOf(ctx context.Context) *wait {
	w, _ := ctx.Value(waitKey{}).(*wait)
	return w
}

// trackWait returns req with a wait in its context, and the function to
// call with its outcome once it has ended.
func trackWait(req *http.Request) (*http.Request, func(*http.Response)) {
	w := &wait{ch: make(chan struct{})}
	if req.Header.Get("Upgrade") == "" {
		w.target = req.URL.Scheme + "://" + req.URL.Host
	}
	ctx := context.WithValue(req.Context(), waitKey{}, w)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:          func(string) { w.looking() },
		TLSHandshakeDone: w.handshakeDone,
		GotConn: func(info httptrace.GotConnInfo) {
			pc, h2 := paced(info.Conn)
			if pc != nil {
				pc.markReady(h2)
			}
			w.mu.Lock()
			w.conn = pc
			w.mu.Unlock()
			w.got()
		},
	})
	return req.WithContext(ctx), w.ended
}

// ended marks the request as no longer waiting, and the host of its
// connection as multiplexed if it answered over HTTP/2 (without TLS, the
// answer is the first sign).
func (w *wait) ended(resp *http.Response) {
	w.got()
	w.mu.Lock()
	pc := w.conn
	w.mu.Unlock()
	if pc != nil && resp != nil && resp.ProtoMajor == 2 {
		pc.markReady(true)
	}
}

// dialled records that c was dialled for the request.
func (w *wait) dialled(c *pacedConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dials = append(w.dials, c)
}

// handshakeDone marks the connection dialled for the request as speaking
// HTTP/2 if its TLS handshake negotiated it. net/http runs the handshake
// in the goroutine that dialled, but tells the request only its outcome:
// with two dials of the request under way, it is not known whose it is,
// and neither is marked.
func (w *wait) handshakeDone(cs tls.ConnectionState, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.dials) == 1 && err == nil && cs.NegotiatedProtocol == http2Proto {
		w.dials[0].shook.Store(order.Add(1))
	}
	w.dials = nil
}

func (w *wait) looking() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		w.ch, w.done = make(chan struct{}), false
	}
}

func (w *wait) got() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		close(w.ch)
		w.done = true
	}
}

// current returns the channel closed when the request has its
// connection; nil (never closed) without a wait.
func (w *wait) current() <-chan struct{} {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}

// satisfied reports whether the request has its connection.
func (w *wait) satisfied() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}
