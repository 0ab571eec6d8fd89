package mcpserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// HTTPOptions configure NewHTTPHandler.
type HTTPOptions struct {
	// Token is the bearer token every request must carry
	// ("Authorization: Bearer <Token>"). It is required.
	Token string
	// AllowedOrigins lists the browser origins (such as
	// "http://localhost:6274") allowed to call the server. A request with
	// any other Origin header is refused with 403, against DNS rebinding
	// and cross-site requests; requests without one (from programs, not
	// browsers) pass. The allowed origins get the CORS headers a browser
	// needs. Empty allows no browser at all.
	AllowedOrigins []string
}

// String describes the options without the token.
func (o HTTPOptions) String() string {
	return fmt.Sprintf("mcpserver.HTTPOptions{Token: [redacted], AllowedOrigins: %q}", o.AllowedOrigins)
}

// Format prints the options as String does whatever the verb, so that no
// verb (%#v, %d, ...) reaches the token.
func (o HTTPOptions) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, o.String()) }

// LogValue makes slog print the options as String does.
func (o HTTPOptions) LogValue() slog.Value { return slog.StringValue(o.String()) }

// The CORS answers: what a browser client of the streamable HTTP
// transport sends (MCP specification 2025-06-18, basic/transports) and
// must be able to read.
const (
	corsMethods = "GET, POST, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID"
	corsExpose  = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate"
	corsMaxAge  = "600"
)

// NewHTTPHandler returns an http.Handler serving server over MCP's
// streamable HTTP transport, for any path it is mounted at. It refuses,
// in this order: a request whose Origin header is not allowed (403), a
// request without the bearer token or with another one (401, with a
// WWW-Authenticate header, error="invalid_token" for a wrong token), and,
// as the SDK does, a request to a loopback address whose Host header
// names another host (403).
//
// A CORS preflight (OPTIONS with Access-Control-Request-Method) from an
// allowed origin is answered at once, without a token, as browsers send
// none with it. Every answer to an allowed origin carries
// Access-Control-Allow-Origin and exposes the Mcp-Session-Id header.
//
// The scheme "Bearer" is matched in any case (RFC 7235, section 2.1); the
// token is compared in constant time, its length included.
func NewHTTPHandler(server *mcp.Server, opts HTTPOptions) (http.Handler, error) {
	if server == nil {
		return nil, errors.New("mcpserver: NewHTTPHandler: nil server")
	}
	if opts.Token == "" {
		return nil, errors.New("mcpserver: NewHTTPHandler: empty token: an MCP server over HTTP runs commands for whoever reaches it")
	}
	origins := make([]string, 0, len(opts.AllowedOrigins))
	for _, o := range opts.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, errors.New("mcpserver: NewHTTPHandler: allowed origin " + o + " is not scheme://host[:port]")
		}
		origins = append(origins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return &httpHandler{
		mcp:     mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil),
		origins: origins,
		digest:  sha256.Sum256([]byte(opts.Token)),
	}, nil
}

// httpHandler guards the SDK's handler.
type httpHandler struct {
	mcp     http.Handler
	origins []string          // lower case
	digest  [sha256.Size]byte // of the token; the token itself is not kept
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" {
		if !slices.Contains(h.origins, strings.ToLower(origin)) {
			http.Error(w, "forbidden: origin "+origin+" is not allowed", http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Expose-Headers", corsExpose)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", corsMethods)
			w.Header().Set("Access-Control-Allow-Headers", corsHeaders)
			w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	switch h.check(r.Header.Values("Authorization")) {
	case tokenMissing:
		w.Header().Set("WWW-Authenticate", `Bearer realm="daytona-mcp"`)
		http.Error(w, "unauthorized: a bearer token is required (Authorization: Bearer <token>)", http.StatusUnauthorized)
	case tokenInvalid:
		w.Header().Set("WWW-Authenticate", `Bearer realm="daytona-mcp", error="invalid_token"`)
		http.Error(w, "unauthorized: the bearer token is invalid", http.StatusUnauthorized)
	default:
		h.mcp.ServeHTTP(w, r)
	}
}

// tokenCheck is the outcome of checking a request's credentials.
type tokenCheck int

const (
	tokenValid tokenCheck = iota
	tokenMissing
	tokenInvalid
)

// check checks the Authorization header values: one, with the scheme
// Bearer in any case, one or more spaces, and the token.
func (h *httpHandler) check(values []string) tokenCheck {
	if len(values) == 0 {
		return tokenMissing
	}
	if len(values) > 1 {
		return tokenInvalid
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	token = strings.TrimLeft(token, " ")
	switch {
	case !strings.EqualFold(scheme, "Bearer"), token == "":
		return tokenMissing
	case !sameDigest(token, h.digest):
		return tokenInvalid
	}
	return tokenValid
}

// sameDigest reports whether token hashes to digest. Comparing digests of
// a fixed length takes the same time whatever the token's length.
func sameDigest(token string, digest [sha256.Size]byte) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], digest[:]) == 1
}
