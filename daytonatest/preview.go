//go:build unix

package daytonatest

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"time"
)

// Preview links and the proxy behind them (citations at v0.173.0).
//
// The API hands out a preview URL for a port of a sandbox with the
// sandbox's token, the same for every port and new at every start
// (apps/api/src/sandbox/services/sandbox.service.ts:1556-1603), and signed
// URLs whose host carries a 16-character token that expires after
// expiresInSeconds (default 60, 1-86400; :1605-1667), which a POST expires
// with 201 and no body, idempotently (:1678-1691, controller :1198-1230).
//
// In Daytona the URL is https://{port}-{sandboxId}.{proxy domain}, and the
// proxy tells sandboxes and ports apart by host name. Here, where such
// names do not resolve, each sandbox port (and each signed token) gets a
// listener of its own on a loopback port, and its URL is
// http://127.0.0.1:{that port}. Behind it the proxy does what Daytona's
// does: a private sandbox's requests must carry the token in
// X-Daytona-Preview-Token or the DAYTONA_SANDBOX_AUTH_KEY query parameter,
// or the API key as a bearer token (all removed before forwarding), or
// come through a valid signed URL; others are redirected (307) to a login
// page, as Daytona's proxy redirects them to its OAuth login
// (apps/proxy/pkg/proxy/auth.go:17-105). A public sandbox needs none,
// except on ports 22222, 2280 and 33333 (get_sandbox_target.go:66). Each
// request counts as activity (:88-96) and goes to http://localhost:{port}
// on this machine, where the sandbox's processes run, as the daemon
// forwards it inside the sandbox (apps/daemon/pkg/toolbox/proxy/proxy.go:17-47);
// nothing listening there is a 502. Not modelled: the cookie a signed URL
// sets for an hour (auth.go:115-137) and the browser warning page.

// Headers and query parameter of the preview proxy
// (apps/proxy/pkg/proxy/proxy.go:38-39).
const (
	previewTokenHeader = "X-Daytona-Preview-Token"
	previewTokenQuery  = "DAYTONA_SANDBOX_AUTH_KEY"
)

// Token alphabets: nanoid's URL alphabet lowercased, and without "_" and
// "-" for signed tokens.
const (
	tokenAlphabet  = "abcdefghijklmnopqrstuvwxyz0123456789_-"
	signedAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// previewKey names a preview listener: a sandbox's port, reached with the
// sandbox's token ("") or with a signed token.
type previewKey struct {
	sandboxID string
	port      int
	signed    string
}

// previewListener is the loopback listener of one previewKey.
type previewListener struct {
	url string
	srv *http.Server
}

// signedToken is a signed preview URL's token.
type signedToken struct {
	sandboxID string
	port      int
	expires   time.Time
}

// randomToken returns n random characters of alphabet.
func randomToken(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic("daytonatest: crypto/rand failed: " + err.Error())
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// onSandboxPort serves a request about one port of one sandbox: under
// s.mu it finds the sandbox (404) and checks the port (400 "Invalid port"
// outside 1-65535), then answers with act's status and body (nil: none).
func (s *Server) onSandboxPort(act func(sb *sandbox, port int, r *http.Request) (int, any, *apiError)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		ref := r.PathValue("idOrName")
		s.mu.Lock()
		defer s.mu.Unlock()
		sb := s.lookupLocked(ref)
		if sb == nil || sb.state == StateDestroyed {
			writeAPIError(w, r, http.StatusNotFound, fmt.Sprintf("Sandbox with ID or name %s not found", ref))
			return
		}
		port, err := strconv.Atoi(r.PathValue("port"))
		if err != nil || port < 1 || port > 65535 {
			writeAPIError(w, r, http.StatusBadRequest, "Invalid port")
			return
		}
		status, body, aerr := act(sb, port, r)
		switch {
		case aerr != nil:
			writeAPIError(w, r, aerr.status, aerr.msg)
		case body == nil:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, body)
		}
	}
}

// previewURL answers {sandboxId, url, token}.
func (s *Server) previewURL(sb *sandbox, port int, _ *http.Request) (int, any, *apiError) {
	url, err := s.previewListenerLocked(previewKey{sandboxID: sb.id, port: port})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"sandboxId": sb.id, "url": url, "token": sb.svc.authToken}, nil
}

// signedPreviewURL answers {sandboxId, port, token, url} with a new token.
func (s *Server) signedPreviewURL(sb *sandbox, port int, r *http.Request) (int, any, *apiError) {
	ttl := 60
	if v := r.URL.Query().Get("expiresInSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 86400 {
			return 0, nil, &apiError{http.StatusBadRequest, "expiresInSeconds must be between 1 second and 24 hours"}
		}
		ttl = n
	}
	token := randomToken(16, signedAlphabet)
	url, err := s.previewListenerLocked(previewKey{sandboxID: sb.id, port: port, signed: token})
	if err != nil {
		return 0, nil, err
	}
	if s.svc.signed == nil {
		s.svc.signed = map[string]*signedToken{}
	}
	s.svc.signed[token] = &signedToken{sandboxID: sb.id, port: port, expires: time.Now().Add(time.Duration(ttl) * time.Second)}
	return http.StatusOK, map[string]any{"sandboxId": sb.id, "port": port, "token": token, "url": url}, nil
}

// expirePreviewURL forgets a signed token of this port, known or not.
func (s *Server) expirePreviewURL(_ *sandbox, port int, r *http.Request) (int, any, *apiError) {
	token := r.PathValue("token")
	if t := s.svc.signed[token]; t != nil && t.port == port {
		delete(s.svc.signed, token)
	}
	return http.StatusCreated, nil, nil
}

// previewListenerLocked returns the URL of key's listener, starting it on
// first use.
func (s *Server) previewListenerLocked(key previewKey) (string, *apiError) {
	if l := s.svc.previews[key]; l != nil {
		return l.url, nil
	}
	if s.closed {
		return "", &apiError{http.StatusServiceUnavailable, "server is shutting down"}
	}
	ln, err := listenLoopback()
	if err != nil {
		return "", &apiError{http.StatusInternalServerError, "failed to start the preview proxy: " + err.Error()}
	}
	l := &previewListener{
		url: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: s.previewHandler(key), ReadHeaderTimeout: 10 * time.Second},
	}
	if s.svc.previews == nil {
		s.svc.previews = map[previewKey]*previewListener{}
	}
	s.svc.previews[key] = l
	s.goLocked(func() { _ = l.srv.Serve(ln) })
	return l.url, nil
}

// previewHandler serves key's listener: it authorizes each request and
// forwards it to the port on this machine.
func (s *Server) previewHandler(key previewKey) http.Handler {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "localhost:" + strconv.Itoa(key.port)
			pr.Out.Host = ""
			pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
		},
		Transport: &http.Transport{DisableKeepAlives: true}, // no idle connection outlives Close
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch status, msg := s.authorizePreview(key, r); status {
		case http.StatusOK:
			proxy.ServeHTTP(w, r)
		case http.StatusTemporaryRedirect:
			http.Redirect(w, r, s.url+controlPrefix+"/preview-auth?port="+strconv.Itoa(key.port), status)
		default:
			writeToolboxError(w, r, status, msg)
		}
	})
}

// authorizePreview decides a preview request's fate: 200 (forward it,
// its credentials removed), 307 (to the login page), or an error status
// and message.
func (s *Server) authorizePreview(key previewKey, r *http.Request) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.sandboxes[key.sandboxID]
	if sb == nil || sb.tb == nil || sb.state == StateDestroying {
		return http.StatusNotFound, "not found: sandbox not found"
	}
	ok := s.previewCredentialLocked(key, sb, r)
	if !ok {
		return http.StatusTemporaryRedirect, ""
	}
	if r.Header.Get(skipActivityHeader) != "true" {
		sb.svc.activity = time.Now().UTC()
	}
	r.Header.Del(skipActivityHeader)
	if sb.state != StateStarted {
		return http.StatusBadRequest, toolboxNotStarted
	}
	return http.StatusOK, ""
}

// previewCredentialLocked reports whether r may reach key's port, and
// removes the credential it used from r.
func (s *Server) previewCredentialLocked(key previewKey, sb *sandbox, r *http.Request) bool {
	if key.signed != "" {
		t := s.svc.signed[key.signed]
		return t != nil && t.port == key.port && time.Now().Before(t.expires)
	}
	if sb.public && !slices.Contains([]int{22222, 2280, 33333}, key.port) {
		return true
	}
	if s.authorized(r) {
		r.Header.Del("Authorization")
		return true
	}
	tok := r.Header.Get(previewTokenHeader)
	r.Header.Del(previewTokenHeader)
	if tok != "" && tok == sb.svc.authToken {
		return true
	}
	q := r.URL.Query()
	if tok := q.Get(previewTokenQuery); tok != "" && tok == sb.svc.authToken {
		q.Del(previewTokenQuery)
		r.URL.RawQuery = q.Encode()
		return true
	}
	return false
}

// previewAuthPage stands for the login page Daytona's proxy redirects
// unauthenticated preview requests to.
func previewAuthPage(w http.ResponseWriter, r *http.Request) {
	writeToolboxError(w, r, http.StatusUnauthorized,
		"daytonatest: the preview request carried no valid token; Daytona's proxy would show its login page here. "+
			"Send the token in the "+previewTokenHeader+" header, or use a signed URL")
}
