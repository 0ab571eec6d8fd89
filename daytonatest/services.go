//go:build unix

package daytonatest

import (
	"net"
	"net/http"
	"time"
)

// The endpoints of long-running services: preview links and the reverse
// proxy behind them (preview.go), open ports (ports.go), activity and
// auto-stop (activity.go), metrics (metrics.go), and stub FUSE tools for
// bucket mounts (mountstubs.go).

// Operations of the services endpoints.
const (
	OpPreviewURL       Op = "preview-url"        // GET /sandbox/{id}/ports/{port}/preview-url
	OpSignedPreviewURL Op = "signed-preview-url" // GET /sandbox/{id}/ports/{port}/signed-preview-url
	OpExpirePreviewURL Op = "expire-preview-url" // POST /sandbox/{id}/ports/{port}/signed-preview-url/{token}/expire
	OpLastActivity     Op = "last-activity"      // POST /sandbox/{id}/last-activity
	OpSetAutoStop      Op = "set-autostop"       // POST /sandbox/{id}/autostop/{interval}
	OpMetrics          Op = "metrics"            // GET /sandbox/{id}/telemetry/metrics
	OpPortInUse        Op = "port-in-use"        // toolbox GET /port/{port}/in-use
)

// serviceConfig is the part of config the services options set.
type serviceConfig struct {
	autoStopUnit time.Duration // how long one minute of autoStopInterval lasts; 0: a minute
	mountStubs   bool
}

// serverServices is the server-wide state of the services, guarded by
// Server.mu.
type serverServices struct {
	previews map[previewKey]*previewListener
	signed   map[string]*signedToken // by token
	stubDir  string                  // the stub tools' directory, with WithMountStubs
}

// sandboxServices is a sandbox's state for the services, guarded by
// Server.mu.
type sandboxServices struct {
	// authToken is the preview token: 32 characters, the same for every
	// port, new at every start (apps/api/src/sandbox/entities/sandbox.entity.ts:213,
	// services/sandbox.service.ts:1785 at v0.173.0).
	authToken string
	// activity is the last activity the services saw (toolbox and
	// preview requests, last-activity calls); state changes count too
	// (see lastActivityLocked).
	activity time.Time
	// metrics replaces the measured figures, once SetMetrics was called.
	metrics *Metrics
	// stubState is where the stub mount tools of the sandbox's current
	// run keep what is mounted (WithMountStubs).
	stubState string
}

// rotateToken gives the sandbox a new preview token, as every start does.
func (sv *sandboxServices) rotateToken() { sv.authToken = randomToken(32, tokenAlphabet) }

// routeServices adds the services endpoints to mux, wrapped like the other
// routes of their family.
func (s *Server) routeServices(mux *http.ServeMux) {
	api := func(method, path string, op Op, h handlerFunc) {
		mux.Handle(method+" "+apiPrefix+path, s.endpoint(apiFamily, method, op, h))
	}
	const port = "/sandbox/{idOrName}/ports/{port}"
	api("GET", port+"/preview-url", OpPreviewURL, s.onSandboxPort(s.previewURL))
	api("GET", port+"/signed-preview-url", OpSignedPreviewURL, s.onSandboxPort(s.signedPreviewURL))
	api("POST", port+"/signed-preview-url/{token}/expire", OpExpirePreviewURL, s.onSandboxPort(s.expirePreviewURL))
	api("POST", "/sandbox/{idOrName}/last-activity", OpLastActivity, s.handleLastActivity)
	api("GET", "/sandbox/{idOrName}/telemetry/metrics", OpMetrics, s.handleMetrics)
	mux.Handle("GET "+toolboxPrefix+"/{sandboxId}/port/{port}/in-use",
		s.endpoint(toolboxFamily, "GET", OpPortInUse, s.handlePortInUse))
	mux.Handle("GET "+controlPrefix+"/preview-auth", http.HandlerFunc(previewAuthPage))
	mux.Handle("POST "+controlPrefix+"/sandboxes/{idOrName}/metrics", s.control("POST", applyControl(s.setMetricsControl)))
	mux.Handle("GET "+controlPrefix+"/sandboxes/{idOrName}/mount-calls", s.control("GET", s.mountCallsControl))
}

// setMetricsControl is SetMetrics over HTTP.
func (s *Server) setMetricsControl(r *http.Request, body []byte) error {
	var in struct {
		CPUPercent  float64 `json:"cpuPercent"`
		MemoryBytes int64   `json:"memoryBytes"`
		DiskBytes   int64   `json:"diskBytes"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return err
	}
	return s.SetMetrics(r.PathValue("idOrName"), Metrics(in))
}

// mountCallsControl is MountCalls and Mounted over HTTP.
func (s *Server) mountCallsControl(w http.ResponseWriter, r *http.Request, _ []byte) {
	ref := r.PathValue("idOrName")
	calls, err := s.MountCalls(ref)
	mounted, _ := s.Mounted(ref)
	if err != nil {
		writeAPIError(w, r, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": calls, "mounted": mounted})
}

// prepareServices writes the stub tools with WithMountStubs; Run calls it
// before it listens.
func (s *Server) prepareServices() error {
	if !s.cfg.svc.mountStubs {
		return nil
	}
	dir, err := writeMountStubs(s.root)
	if err != nil {
		return err
	}
	s.svc.stubDir = dir
	return nil
}

// startServices starts what runs for the server's life, the auto-stop
// check; Run calls it once it listens.
func (s *Server) startServices() { s.wg.Go(s.autoStopLoop) }

// closeServices closes the preview listeners; Close calls it once the
// server refuses requests.
func (s *Server) closeServices() {
	s.mu.Lock()
	var lns []*previewListener
	for _, l := range s.svc.previews {
		lns = append(lns, l)
	}
	s.mu.Unlock()
	for _, l := range lns {
		_ = l.srv.Close()
	}
}

// listenLoopback listens on a free loopback port, for a preview listener.
func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
