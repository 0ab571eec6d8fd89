package mcpserver

import (
	"crypto/subtle"
	"errors"
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
	// browsers) pass. Empty allows no browser at all.
	AllowedOrigins []string
}

// NewHTTPHandler returns an http.Handler serving server over MCP's
// streamable HTTP transport, for any path it is mounted at. It refuses,
// in this order: a request whose Origin header is not allowed (403), a
// request without the bearer token (401, with a WWW-Authenticate header),
// and, as the SDK does, a request to a loopback address whose Host header
// names another host (403).
func NewHTTPHandler(server *mcp.Server, opts HTTPOptions) (http.Handler, error) {
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
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	want := []byte("Bearer " + opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !slices.Contains(origins, strings.ToLower(o)) {
			http.Error(w, "forbidden: origin "+o+" is not allowed", http.StatusForbidden)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="daytona-mcp"`)
			http.Error(w, "unauthorized: a bearer token is required", http.StatusUnauthorized)
			return
		}
		mcpHandler.ServeHTTP(w, r)
	}), nil
}
