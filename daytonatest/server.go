//go:build unix

package daytonatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Tester is the part of [testing.TB] that [NewServer] uses. It is declared
// here so that this package does not import "testing".
type Tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Defaults used when no option overrides them.
const (
	// DefaultCloseDelay is how long a follow log stream stays open after the
	// command has exited and all its output was sent, like the real daemon,
	// which notices the exit only after about a second of silence.
	DefaultCloseDelay = time.Second
	// DefaultTransitionDelay is how long a sandbox spends in a transitional
	// state (creating, starting, stopping, destroying, ...).
	DefaultTransitionDelay = 50 * time.Millisecond
	// DefaultKillGrace is how long a session's processes get between SIGTERM
	// and SIGKILL when the session is deleted or its sandbox is stopped.
	DefaultKillGrace = 5 * time.Second
	// DefaultFrameSize is the largest payload of one follow-stream frame,
	// the read size of the real daemon.
	DefaultFrameSize = 1024
)

// Server is an in-process Daytona: the control-plane API under URL+"/api",
// the per-sandbox toolbox under URL+"/toolbox/{sandboxId}", and test controls
// under URL+"/_daytonatest/". Commands run with a real shell on this machine,
// as the current user, in a per-sandbox directory. This is not isolation.
//
// A Server is safe for concurrent use. Its zero value is not usable: create
// one with [NewServer] or [Run], and call [Server.Close] when finished.
type Server struct {
	cfg       config
	url       string
	ln        net.Listener
	srv       *http.Server
	mux       *http.ServeMux
	root      string
	runDir    string // the daemons' per-command files; "" means under each sandbox's directory
	rootOwned bool
	shell     string
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
	closeOnce sync.Once
	log       requestLog   // has its own lock
	race      exitCodeRace // has its own lock (exitrace.go)
	// lifecycleThrottle counts the lifecycle routes (ratelimit.go); it has
	// its own lock.
	lifecycleThrottle throttle

	mu         sync.Mutex // guards the fields below
	sandboxes  map[string]*sandbox
	names      map[string]string    // name -> id
	held       map[string]time.Time // names destroyed sandboxes hold, until when
	faults     map[Op][]*fault
	cuts       []int
	latency    time.Duration
	closeDelay time.Duration
	transition time.Duration
	conns      map[io.Closer]struct{} // hijacked WebSocket connections
	tbSeq      int
	closed     bool
	svc        serverServices // preview listeners, signed tokens, stub tools (services.go)
}

// NewServer starts a Server for a test and registers its Close with
// t.Cleanup. It calls t.Fatalf if the server cannot start.
func NewServer(t Tester, opts ...Option) *Server {
	t.Helper()
	s, err := Run(opts...)
	if err != nil {
		t.Fatalf("daytonatest: %v", err)
		return nil
	}
	t.Cleanup(s.Close)
	return s
}

// Run starts a Server and returns it once it is listening. The caller must
// call [Server.Close] when finished.
func Run(opts ...Option) (*Server, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        cfg,
		shell:      cfg.shell,
		done:       make(chan struct{}),
		sandboxes:  make(map[string]*sandbox),
		names:      make(map[string]string),
		held:       make(map[string]time.Time),
		faults:     make(map[Op][]*fault),
		latency:    cfg.latency,
		closeDelay: cfg.closeDelay,
		transition: cfg.transitionDelay,
		conns:      make(map[io.Closer]struct{}),
	}
	s.log.max = cfg.maxLog
	s.mux = s.newMux()
	if err := s.makeRoot(); err != nil {
		return nil, err
	}
	s.runDir = makeRunDir()
	if err := s.prepareServices(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		if s.rootOwned {
			os.RemoveAll(s.root)
		}
		if s.runDir != "" {
			os.RemoveAll(s.runDir)
		}
		return nil, fmt.Errorf("daytonatest: listen on %s: %w", cfg.addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
		Protocols:         serverProtocols(),
	}
	// One reference held until Close has stopped everything, so that
	// goroutines may be added to wg at any time before that.
	s.wg.Add(1)
	s.wg.Go(func() { _ = s.srv.Serve(ln) })
	s.startServices()
	return s, nil
}

// makeRoot creates the directory under which sandboxes get theirs: the one
// given with [WithRoot], else a fresh temporary one that Close removes.
func (s *Server) makeRoot() error {
	if s.cfg.root == "" {
		dir, err := os.MkdirTemp("", "daytonatest-")
		if err != nil {
			return fmt.Errorf("daytonatest: create root directory: %w", err)
		}
		s.root, s.rootOwned = dir, true
		return nil
	}
	if err := os.MkdirAll(s.cfg.root, 0o755); err != nil {
		return fmt.Errorf("daytonatest: create root directory: %w", err)
	}
	abs, err := filepath.Abs(s.cfg.root)
	if err != nil {
		return fmt.Errorf("daytonatest: root directory: %w", err)
	}
	s.root = abs
	return nil
}

// serverProtocols are HTTP/1.1 and HTTP/2 without TLS (with prior
// knowledge), so that a client can multiplex its requests over one
// connection, as it does with Daytona over TLS; log streams upgrade
// HTTP/1.1 connections to WebSocket.
func serverProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// makeRunDir returns a fresh directory in memory (/dev/shm) for the
// daemons' per-command files (FIFOs, logs, exit codes), or "" where there
// is none: creating FIFOs costs about 0.5 ms of system time each on a
// virtual disk and 0.02 ms in memory, and every command makes two or three.
// The daemon keeps them in its own configuration directory too, apart
// from the sandbox's files (<configDir>/sessions/<id>/<cmdId>:
// apps/daemon/pkg/session/types.go:24-37, v0.173.0); nothing a client sees
// depends on where they are.
func makeRunDir() string {
	dir, err := os.MkdirTemp("/dev/shm", "daytonatest-run-")
	if err != nil {
		return ""
	}
	return dir
}

// URL returns the server's base URL, such as "http://127.0.0.1:40123".
func (s *Server) URL() string { return s.url }

// APIURL returns the control-plane URL to use as DAYTONA_API_URL: URL()+"/api".
func (s *Server) APIURL() string { return s.url + "/api" }

// ToolboxURL returns the toolbox proxy URL that sandboxes report in their
// toolboxProxyUrl field: URL()+"/toolbox".
func (s *Server) ToolboxURL() string { return s.url + "/toolbox" }

// APIKey returns the key that every request must carry as
// "Authorization: Bearer <key>".
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Root returns the directory under which each sandbox gets its own directory.
func (s *Server) Root() string { return s.root }

// Close shuts the server down: it closes every connection, kills every shell
// and process it started, waits for its goroutines, and removes its
// temporary root directory (a root given with [WithRoot] is kept, but the
// sandbox directories created in it are removed). Close is idempotent and
// safe to call on a server that failed half-way.
func (s *Server) Close() {
	if s == nil {
		return
	}
	s.closeOnce.Do(s.close)
}

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	close(s.done)
	for _, sb := range s.sandboxes {
		if sb.timer != nil {
			sb.timer.Stop()
		}
	}
	conns := make([]io.Closer, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	// Streams first (Shutdown does not wait for hijacked connections), then
	// the HTTP server, which waits for the requests in flight.
	for _, c := range conns {
		_ = c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = s.srv.Shutdown(ctx)
	cancel()
	_ = s.srv.Close()
	s.closeServices()

	s.mu.Lock()
	var tbs []*toolbox
	var dirs []string
	for _, sb := range s.sandboxes {
		if sb.tb != nil {
			tbs = append(tbs, sb.tb)
		}
		dirs = append(dirs, sb.dir)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, tb := range tbs {
		wg.Go(func() { tb.shutdown(0) })
	}
	wg.Wait()
	s.wg.Done() // the reference taken in Run
	s.wg.Wait()
	if s.rootOwned {
		_ = os.RemoveAll(s.root)
	} else {
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
	}
	if s.runDir != "" {
		_ = os.RemoveAll(s.runDir)
	}
}

// enter registers a goroutine that Close must wait for, such as a stream
// handler whose connection was hijacked. It returns false once the server is
// closed; otherwise the caller must call s.wg.Done when finished.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) trackConn(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrackConn(c io.Closer) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// sleep waits for d, or until ctx is done or the server closes. It reports
// whether the full duration elapsed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func randomKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("daytonatest: crypto/rand failed: " + err.Error())
	}
	return "dtn_" + hex.EncodeToString(b[:])
}

// newUUID returns a random (version 4) UUID string, the shape of Daytona's ids.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("daytonatest: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// findShell picks the shell that runs sessions when no option chose one:
// bash if present, else sh. (The daemon takes the first of zsh and bash in
// /etc/shells; WithSessionShell("zsh") runs sessions as on Daytona's default
// image.)
func findShell() (string, error) {
	for _, name := range []string{"bash", "sh"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("daytonatest: no shell found: need bash or sh in PATH")
}

// goLocked runs f in a goroutine that Close waits for; callers hold s.mu.
// Once the server is closed, f runs synchronously instead.
func (s *Server) goLocked(f func()) {
	if s.closed {
		f()
		return
	}
	s.wg.Go(f)
}
