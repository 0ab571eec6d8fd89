package workspace

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PortExposer is the optional capability of sandboxes whose network ports
// can be reached from outside: a dev server, a notebook, an API under
// test. Discover it with a type assertion:
//
//	if pe, ok := sb.(workspace.PortExposer); ok {
//		if err := pe.WaitForPort(ctx, 3000); err != nil { ... }
//		u, err := pe.PortURL(ctx, 3000)
//		req, err := u.NewRequest(ctx, "GET", "/", nil) // carries u.Headers
//		...
//	}
type PortExposer interface {
	// PortURL returns the URL at which port of the sandbox is reached
	// from outside, and what a client must send with its requests. It
	// starts the sandbox if needed; whether anything listens on the port
	// is not checked (see WaitForPort). A port outside 1-65535 is an
	// error before any request.
	PortURL(ctx context.Context, port int) (*PortURL, error)
	// WaitForPort returns once something inside the sandbox listens on
	// port (TCP, on the loopback or any address), starting the sandbox if
	// needed, or returns ctx's error when ctx ends first. A port outside
	// 1-65535 is an error before any request.
	WaitForPort(ctx context.Context, port int) error
}

// SignedPortExposer is the optional capability of sandboxes that hand out
// URLs that carry their own, expiring, credential: such a URL can be given
// to a browser or a third party as it is, and revoked.
type SignedPortExposer interface {
	PortExposer
	// SignedPortURL returns a URL for port that works without headers
	// until ttl has passed or ExpirePortURL revokes it.
	SignedPortURL(ctx context.Context, port int, ttl time.Duration) (*PortURL, error)
	// ExpirePortURL revokes a URL returned by SignedPortURL. Expiring one
	// that has expired already succeeds.
	ExpirePortURL(ctx context.Context, u *PortURL) error
}

// PortURL is how a port of a sandbox is reached from outside.
//
// Token and Headers are credentials: they grant access to the port as
// long as they are valid. Keep them out of logs.
type PortURL struct {
	// Port is the port inside the sandbox.
	Port int `json:"port"`
	// URL is the base URL, without a trailing slash, such as
	// "https://3000-<id>.proxy.daytona.works".
	URL string `json:"url"`
	// Token is the credential of the URL, if it has one: sent in Headers
	// for a URL that needs them, part of the URL itself for a signed one.
	Token string `json:"token,omitempty"`
	// Headers are the headers every request to URL must carry (empty
	// when the URL alone is enough).
	Headers map[string]string `json:"headers,omitempty"`
	// ExpiresAt is when a signed URL stops working; zero for a URL that
	// does not expire by itself.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// NewRequest returns a request for path (such as "/api/health?x=1")
// under u.URL, carrying u.Headers.
func (u *PortURL) NewRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	target := strings.TrimRight(u.URL, "/")
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, target+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range u.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// String describes u without its credentials: the token is left out, and
// replaced by "[redacted]" in a signed URL, which holds it.
func (u PortURL) String() string {
	shown := u.URL
	if u.Token != "" {
		shown = strings.ReplaceAll(shown, u.Token, "[redacted]")
	}
	return "port " + strconv.Itoa(u.Port) + " at " + shown
}

// GoString is String, so that %#v does not print the credentials either.
func (u PortURL) GoString() string { return u.String() }

// Format prints u as String does whatever the verb, so that no verb (%d,
// %x, ...) reaches the credentials.
func (u PortURL) Format(f fmt.State, verb rune) { formatAs(f, verb, u.String(), u.String()) }

// LogValue makes slog print u as String does: its JSON handler would
// otherwise print the token and the headers.
func (u PortURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// ValidPort reports whether port is a TCP port number (1-65535).
func ValidPort(port int) bool { return port >= 1 && port <= 65535 }
