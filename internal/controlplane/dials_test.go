package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// connCounts counts the connections a Transport dialled, those open,
// and the most open at once.
type connCounts struct{ dials, open, peak atomic.Int64 }

// countedConn is a connection counted in connCounts until closed.
type countedConn struct {
	net.Conn
	counts *connCounts
	once   sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.counts.open.Add(-1) })
	return c.Conn.Close()
}

// stormServer starts a server with handler, over HTTP/2 with TLS (as
// Daytona's API) or HTTP/1.1, and a Transport to it that counts its
// connections.
func stormServer(t *testing.T, h2 bool, handler http.HandlerFunc) (*httptest.Server, *Transport, *connCounts) {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	counts := &connCounts{}
	d := &net.Dialer{}
	tr := NewTransport(func(ctx context.Context, network, addr string) (net.Conn, error) {
		counts.dials.Add(1)
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		open := counts.open.Add(1)
		for peak := counts.peak.Load(); open > peak && !counts.peak.CompareAndSwap(peak, open); peak = counts.peak.Load() {
		}
		return &countedConn{Conn: c, counts: counts}, nil
	})
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
		tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		goleak.VerifyNone(t)
	})
	return srv, tr, counts
}

// get sends n GETs to srv at once through tr and returns how many failed,
// and the protocol of an answer.
func get(t *testing.T, ctx context.Context, srv *httptest.Server, tr *Transport, n int) (failed int64, proto string) {
	t.Helper()
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	var bad atomic.Int64
	var p atomic.Value
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Log(err)
				bad.Add(1)
				return
			}
			_ = resp.Body.Close()
			p.Store(resp.Proto)
			if resp.StatusCode != http.StatusOK {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	proto, _ = p.Load().(string)
	return bad.Load(), proto
}

// TestStormOpensFewConnections: many requests sent at once on no
// connection (many sandboxes started at once) open a few connections
// over HTTP/2, where net/http alone opens about one per request up to its
// cap, and over HTTP/1.1 no more than the cap at once, and keep them
// open for the next requests.
func TestStormOpensFewConnections(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "h2", false: "http1"}[h2], func(t *testing.T) {
			srv, tr, conns := stormServer(t, h2, func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(5 * time.Millisecond)
			})
			// Over HTTP/2, as many as one connection takes (the server's
			// 250 streams), so that one connection is all they need.
			n, limit := 600, int64(maxConnsPerHost)
			if h2 {
				// Up to minDialsPerHost are dialled before a TLS
				// handshake shows the host speaks HTTP/2. After that,
				// one at a time, and only for a request that looked
				// for a connection after the latest one net/http
				// handed out had been dialled (hostDials.handedOut),
				// that is one that found every open connection's
				// streams taken: until the server's SETTINGS arrive,
				// the client allows 100 per connection, so a few
				// more may be needed (8 or 9 seen, quiet or with
				// two CPU-burning loops beside -race). Before that
				// rule, requests handed the first connection but
				// slow to run under load dialled one after the
				// other, each a duplicate giving its turn to the
				// next (up to 17). net/http alone opened 158 to 297
				// here.
				n, limit = 240, 2*minDialsPerHost
			}
			failed, proto := get(t, t.Context(), srv, tr, n)
			if failed != 0 {
				t.Fatalf("%d requests failed", failed)
			}
			dials, open, peak := conns.dials.Load(), conns.open.Load(), conns.peak.Load()
			t.Logf("%s: %d connections for %d requests (at most %d at once, %d still open)", proto, dials, n, peak, open)
			if want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]; proto != want {
				t.Fatalf("answers over %s, not %s", proto, want)
			}
			if h2 && dials > limit {
				t.Errorf("%d connections opened, want at most %d", dials, limit)
			}
			// Over HTTP/1.1 the cap holds for connections open at
			// once. net/http closes one after its answer, and its
			// request's successor dials anew, when the pool of idle
			// connections is full (the regression: with the default
			// 2 per host, nearly all are closed after use) or when its
			// writer has not reported the request written within
			// 50 ms (maxWriteWaitBeforeConnReuse): under load, 257
			// dials were seen. So the count that shows the pool keeps
			// them is the connections still open at the end.
			if !h2 && (peak > limit || open < limit/2) {
				t.Errorf("%d connections at most at once, %d still open at the end; want at most %d, at least %d", peak, open, limit, limit/2)
			}
		})
	}
}

// TestBurstRunsAtOnce: a burst of 256 requests that each wait for all the
// others (a burst of 256 commands on one sandbox) is in flight at once,
// over HTTP/1.1 (256 connections) and HTTP/2 (whose server here takes 250
// streams per connection): neither the cap nor the pacing serialises it.
func TestBurstRunsAtOnce(t *testing.T) {
	const n = 256
	for _, h2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "h2", false: "http1"}[h2], func(t *testing.T) {
			var arrived atomic.Int64
			all := make(chan struct{})
			srv, tr, _ := stormServer(t, h2, func(w http.ResponseWriter, r *http.Request) {
				if arrived.Add(1) == n {
					close(all)
				}
				select {
				case <-all:
				case <-r.Context().Done():
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			})
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if failed, _ := get(t, ctx, srv, tr, n); failed != 0 {
				t.Fatalf("%d of %d requests failed (%d arrived together)", failed, n, arrived.Load())
			}
		})
	}
}

// TestUnneededDialNeverBegins: a request whose dial waits for its turn
// and which ends meanwhile (its context cancelled) returns at once, and
// its dial never begins; dials that are not a request's (log streams)
// wait for their turn too, and end with their context.
func TestUnneededDialNeverBegins(t *testing.T) {
	release := make(chan struct{})
	var dials atomic.Int64
	p := newDialPacer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		<-release
		return nil, errors.New("refused (test)")
	})
	tr := &Transport{pacer: p, Transport: &http.Transport{DialContext: p.dial}}
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range minDialsPerHost {
		wg.Go(func() { _, _ = hc.Get("http://storm.test/") })
	}
	for dials.Load() < minDialsPerHost {
		time.Sleep(time.Millisecond) // polling a count, not synchronising
	}
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://storm.test/", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := hc.Do(req)
		errc <- err
	}()
	dctx, dcancel := context.WithCancel(t.Context())
	dialErr := make(chan error, 1)
	go func() {
		_, err := p.dial(dctx, "tcp", "storm.test:80")
		dialErr <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	dcancel()
	if err := <-dialErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial: %v", err)
	}
	close(release)
	wg.Wait()
	tr.CloseIdleConnections()
	if n := dials.Load(); n != minDialsPerHost {
		t.Errorf("%d dials began, want %d", n, minDialsPerHost)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.hosts) != 0 {
		t.Errorf("the pacer still tracks %d hosts", len(p.hosts))
	}
}

// TestHandedOutDialWaits: a dial that waits for its turn while another
// dial's connection negotiates HTTP/2 (net/http hands that one to every
// request waiting) does not begin when that connection, a duplicate, is
// closed and gives its turn back; it ends once its request has the
// connection. A connection that fails before net/http hands it out hands
// nothing: then a waiting dial begins.
func TestHandedOutDialWaits(t *testing.T) {
	const addr = "h2.test:443"
	var dials atomic.Int64
	var mu sync.Mutex
	var peers []net.Conn
	p := newDialPacer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		c, s := net.Pipe()
		mu.Lock()
		peers = append(peers, s)
		mu.Unlock()
		return c, nil
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range peers {
			_ = s.Close()
		}
	})
	request := func() context.Context {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+addr+"/", nil)
		req, _ = trackWait(req)
		return req.Context()
	}
	type result struct {
		c   net.Conn
		err error
	}
	waitingDial := func() (context.Context, chan result) {
		ctx, res := request(), make(chan result, 1)
		go func() {
			c, err := p.dial(ctx, "tcp", addr)
			res <- result{c, err}
		}()
		return ctx, res
	}
	// until polls the pacer's state (polling a count, not synchronising).
	until := func(what string, cond func(h *hostDials) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			p.mu.Lock()
			h := p.hosts[addr]
			ok := h != nil && cond(h)
			p.mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pacer never got to: %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	first := request()
	conns := []net.Conn{}
	for i := range minDialsPerHost {
		ctx := first
		if i > 0 {
			ctx = request()
		}
		c, err := p.dial(ctx, "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	handed, b := waitingDial()
	_, c := waitingDial()
	until("two dials waiting", func(h *hostDials) bool { return h.waiting == 2 })

	// The first connection negotiates HTTP/2; net/http closes it as a
	// duplicate, handing it to the requests waiting.
	httptrace.ContextClientTrace(first).TLSHandshakeDone(tls.ConnectionState{NegotiatedProtocol: http2Proto}, nil)
	_ = conns[0].Close()
	until("both dials held though a turn is free", func(h *hostDials) bool { return h.held >= 2 })
	httptrace.ContextClientTrace(handed).GotConn(httptrace.GotConnInfo{})
	if r := <-b; !errors.Is(r.err, errDialUnneeded) {
		t.Fatalf("dial of a request handed a connection: %v, %v", r.c, r.err)
	}

	// A connection that fails before it is handed out (no HTTP/2
	// handshake) lets the other one dial.
	_ = conns[1].Close()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("dial after a failure: %v", r.err)
		}
		conns = append(conns, r.c)
	case <-time.After(10 * time.Second):
		t.Fatal("a dial stays held after a connection failed")
	}
	if n := dials.Load(); n != minDialsPerHost+1 {
		t.Errorf("%d dials began, want %d", n, minDialsPerHost+1)
	}
	for _, c := range conns {
		_ = c.Close()
	}
}
