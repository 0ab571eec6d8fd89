package mcptest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Browser is an http.RoundTripper that sends requests as a web page's
// fetch() from Origin does, and enforces CORS as a browser does (the Fetch
// standard, simplified to what an MCP client sends): a request that is not
// simple is preceded by a preflight (OPTIONS, without credentials) whose
// answer must allow the origin, the method and every header; every answer
// must allow the origin; and the page sees only the safelisted response
// headers and those the server exposes (Access-Control-Expose-Headers).
// A refusal is an error, as fetch() rejects.
type Browser struct {
	Origin string
	Base   http.RoundTripper // nil: http.DefaultTransport
}

// safelistedResponse are the response headers a page always sees.
var safelistedResponse = []string{"Cache-Control", "Content-Language", "Content-Length", "Content-Type", "Expires", "Last-Modified", "Pragma"}

// RoundTrip implements http.RoundTripper.
func (b *Browser) RoundTrip(r *http.Request) (*http.Response, error) {
	if unsafe := unsafeHeaders(r.Header); len(unsafe) > 0 || !slices.Contains([]string{"GET", "HEAD", "POST"}, r.Method) {
		if err := b.preflight(r, unsafe); err != nil {
			return nil, err
		}
	}
	r = r.Clone(r.Context())
	r.Header.Set("Origin", b.Origin)
	resp, err := b.base().RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != b.Origin {
		resp.Body.Close()
		return nil, fmt.Errorf("browser: CORS: %s %s answered %s with Access-Control-Allow-Origin %q, not %q", r.Method, r.URL, resp.Status, got, b.Origin)
	}
	visible := append(slices.Clone(safelistedResponse), list(resp.Header.Get("Access-Control-Expose-Headers"))...)
	for name := range resp.Header {
		if !containsFold(visible, name) {
			resp.Header.Del(name)
		}
	}
	return resp, nil
}

// preflight sends the CORS preflight for r and checks its answer.
func (b *Browser) preflight(r *http.Request, unsafe []string) error {
	pre, err := http.NewRequestWithContext(r.Context(), http.MethodOptions, r.URL.String(), nil)
	if err != nil {
		return err
	}
	pre.Header.Set("Origin", b.Origin)
	pre.Header.Set("Access-Control-Request-Method", r.Method)
	if len(unsafe) > 0 {
		pre.Header.Set("Access-Control-Request-Headers", strings.Join(unsafe, ","))
	}
	resp, err := b.base().RoundTrip(pre)
	if err != nil {
		return err
	}
	resp.Body.Close()
	refused := func(why string) error {
		return fmt.Errorf("browser: CORS preflight for %s %s refused (%s): %s", r.Method, r.URL, resp.Status, why)
	}
	switch {
	case resp.StatusCode/100 != 2:
		return refused("not an ok status")
	case resp.Header.Get("Access-Control-Allow-Origin") != b.Origin:
		return refused(fmt.Sprintf("Access-Control-Allow-Origin is %q", resp.Header.Get("Access-Control-Allow-Origin")))
	case !containsFold(list(resp.Header.Get("Access-Control-Allow-Methods")), r.Method) && !slices.Contains([]string{"GET", "HEAD", "POST"}, r.Method):
		return refused("method " + r.Method + " is not in Access-Control-Allow-Methods")
	}
	allowed := list(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range unsafe {
		if !containsFold(allowed, h) {
			return refused("header " + h + " is not in Access-Control-Allow-Headers")
		}
	}
	return nil
}

func (b *Browser) base() http.RoundTripper {
	if b.Base == nil {
		return http.DefaultTransport
	}
	return b.Base
}

// CloseIdleConnections closes the idle connections of Base.
func (b *Browser) CloseIdleConnections() {
	if c, ok := b.base().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// unsafeHeaders returns the lower-case, sorted names of the headers of h
// that are not CORS-safelisted request headers.
func unsafeHeaders(h http.Header) []string {
	var out []string
	for name, values := range h {
		lower := strings.ToLower(name)
		switch {
		case lower == "accept" || lower == "accept-language" || lower == "content-language":
			continue
		case lower == "content-type" && len(values) == 1 && simpleContentType(values[0]):
			continue
		}
		out = append(out, lower)
	}
	slices.Sort(out)
	return out
}

func simpleContentType(v string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(v), ";")
	return slices.Contains([]string{"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}, strings.TrimSpace(mt))
}

// list splits a comma-separated header value.
func list(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
