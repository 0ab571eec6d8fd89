package daytona

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/agentworkspace/daytona/internal/controlplane"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/retry"
	"github.com/agentworkspace/daytona/internal/shell"
	"github.com/agentworkspace/daytona/workspace"
)

// Preview URLs. Daytona reaches a port of a sandbox at
// https://{port}-{sandbox id}.{proxy domain}; a private sandbox's requests
// must carry its preview token (the same for every port, new at every
// start), a public one's need nothing. Signed URLs carry an expiring token
// of their own in the host name instead. Requests from a browser-like
// User-Agent are shown a warning page unless they carry
// X-Daytona-Skip-Preview-Warning: true, and a request without a valid
// token is redirected to a login page.

// Headers of Daytona's preview proxy (apps/proxy/pkg/proxy/proxy.go:38,
// warning_page.go at v0.173.0).
const (
	// PreviewTokenHeader carries a private sandbox's preview token.
	PreviewTokenHeader = "X-Daytona-Preview-Token"
	// PreviewSkipWarningHeader, set to "true", skips the warning page
	// shown to browser-like clients.
	PreviewSkipWarningHeader = "X-Daytona-Skip-Preview-Warning"
)

// Limits of signed preview URLs.
const (
	MinSignedURLTTL = time.Second
	MaxSignedURLTTL = 24 * time.Hour
)

// checkPort rejects a port outside 1-65535 before any request.
func checkPort(op string, port int) error {
	if !workspace.ValidPort(port) {
		return invalid("%s: port %d is outside 1-65535", op, port)
	}
	return nil
}

// portRemote checks a call about port (and, if set, the rest of its
// input) before any request, then returns the running remote sandbox,
// starting it if needed, and the control-plane client.
func (s *Sandbox) portRemote(ctx context.Context, op string, port int, checkRest func() error) (*remote, *controlplane.Client, error) {
	if err := s.check(ctx, op); err != nil {
		return nil, nil, err
	}
	if err := checkPort(op, port); err != nil {
		return nil, nil, err
	}
	if checkRest != nil {
		if err := checkRest(); err != nil {
			return nil, nil, err
		}
	}
	r, err := s.ensureRunning(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.client()
	return r, c, err
}

// PortURL returns the URL at which port of the sandbox is reached from
// outside, starting the sandbox if needed, with the headers a client must
// send: the preview token, and the header that skips Daytona's warning
// page for browser-like clients. Send them with every request (u.NewRequest
// does); they are needed unless the sandbox is public (WithPublic). The
// token changes at every start, so get a new URL after a restart. Whether
// anything listens on the port is not checked; see WaitForPort.
func (s *Sandbox) PortURL(ctx context.Context, port int) (*workspace.PortURL, error) {
	r, c, err := s.portRemote(ctx, "PortURL", port, nil)
	if err != nil {
		return nil, err
	}
	link, token, err := c.PreviewURL(ctx, r.TB.ID(), port)
	if err != nil {
		return nil, fault.WrapCtx(ctx, "get the preview URL of port "+strconv.Itoa(port), err)
	}
	return previewURL(port, link, token, map[string]string{
		PreviewTokenHeader:       token,
		PreviewSkipWarningHeader: "true",
	}), nil
}

// previewURL builds a PortURL from the API's answer.
func previewURL(port int, url, token string, headers map[string]string) *workspace.PortURL {
	return &workspace.PortURL{Port: port, URL: strings.TrimRight(url, "/"), Token: token, Headers: headers}
}

// SignedPortURL returns a URL for port that works without any header,
// public or not, until ttl has passed (rounded up to whole seconds,
// between MinSignedURLTTL and MaxSignedURLTTL) or ExpirePortURL revokes
// it; its Token is part of the URL. It starts the sandbox if needed. A
// browser that has used it keeps access for up to an hour through a
// cookie, even after it expires.
func (s *Sandbox) SignedPortURL(ctx context.Context, port int, ttl time.Duration) (*workspace.PortURL, error) {
	r, c, err := s.portRemote(ctx, "SignedPortURL", port, func() error {
		if ttl < MinSignedURLTTL || ttl > MaxSignedURLTTL {
			return invalid("SignedPortURL: ttl %v is outside %v-%v", ttl, MinSignedURLTTL, MaxSignedURLTTL)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	seconds := int(math.Ceil(ttl.Seconds()))
	issued := time.Now()
	link, token, err := c.SignedPreviewURL(ctx, r.TB.ID(), port, seconds)
	if err != nil {
		return nil, fault.WrapCtx(ctx, "get a signed preview URL of port "+strconv.Itoa(port), err)
	}
	u := previewURL(port, link, token, map[string]string{PreviewSkipWarningHeader: "true"})
	u.ExpiresAt = issued.Add(time.Duration(seconds) * time.Second)
	return u, nil
}

// ExpirePortURL revokes a URL returned by SignedPortURL (by its Port and
// Token), starting the sandbox if needed. Expiring an expired or unknown
// token succeeds. A URL without a token, or with an invalid port, is an
// error matching ErrInvalidInput.
func (s *Sandbox) ExpirePortURL(ctx context.Context, u *workspace.PortURL) error {
	if err := s.check(ctx, "ExpirePortURL"); err != nil {
		return err
	}
	if u == nil || u.Token == "" {
		return invalid("ExpirePortURL: the URL has no token (only SignedPortURL's URLs can be expired)")
	}
	r, c, err := s.portRemote(ctx, "ExpirePortURL", u.Port, nil)
	if err != nil {
		return err
	}
	if err := c.ExpirePreviewURL(ctx, r.TB.ID(), u.Port, u.Token); err != nil {
		return fault.WrapCtx(ctx, "expire a signed preview URL of port "+strconv.Itoa(u.Port), err)
	}
	return nil
}

// Ports the daemon's in-use check accepts
// (apps/daemon/pkg/toolbox/port/detector.go:98-110 at v0.173.0).
const (
	inUseMinPort = 3000
	inUseMaxPort = 9999
)

// WaitForPort returns once something in the sandbox listens on port (TCP,
// IPv4 or IPv6), starting the sandbox if needed, or returns an error
// matching ctx.Err() when ctx ends first. Ports 3000-9999 are checked
// with the daemon's in-use endpoint, polled; other ports with a command
// that tries to connect until it succeeds (it needs bash, as every
// command here does). A port outside 1-65535 is an error before any
// request.
func (s *Sandbox) WaitForPort(ctx context.Context, port int) error {
	if err := s.check(ctx, "WaitForPort"); err != nil {
		return err
	}
	if err := checkPort("WaitForPort", port); err != nil {
		return err
	}
	if port < inUseMinPort || port > inUseMaxPort {
		return s.probePort(ctx, port)
	}
	return waitForPort(ctx, func() (bool, error) {
		r, err := s.ensureRunning(ctx)
		if err != nil {
			return false, err
		}
		inUse, err := r.TB.PortInUse(ctx, port)
		if err != nil {
			return false, fault.WrapCtx(ctx, "check port "+strconv.Itoa(port), err)
		}
		return inUse, nil
	})
}

// probeRetain bounds the output kept of a port probe.
const probeRetain = 4096

// probeScript connects to the port on the loopback addresses until one
// accepts, with bash's /dev/tcp.
const probeScript = `until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || (exec 3<>"/dev/tcp/::1/$1") 2>/dev/null; do sleep 0.2; done`

// probePort waits for a port the daemon's in-use check does not accept,
// with one command that runs until the port accepts connections (or ctx
// ends, which kills it).
func (s *Sandbox) probePort(ctx context.Context, port int) error {
	p := s.scriptPlan("bash -c "+shell.Quote(probeScript)+" probe "+strconv.Itoa(port), 0)
	p.Retain = probeRetain
	res, err := s.exec(ctx, "execute command", p)
	switch {
	case err != nil:
		return fault.Errorf("wait for port %d: %w", port, err)
	case !res.Success():
		return fault.Errorf("wait for port %d: the probe failed with exit code %d: %s", port, res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	return nil
}

// Waiting for a port: the daemon's in-use check is polled, from
// portPollMin up to portPollMax between checks.
const (
	portPollMin = 50 * time.Millisecond
	portPollMax = time.Second
)

// waitForPort calls check until it reports the port in use, fails, or ctx
// ends (an error matching ctx.Err()).
func waitForPort(ctx context.Context, check func() (bool, error)) error {
	b := retry.Backoff{Next: portPollMin, Max: portPollMax}
	for {
		ok, err := check()
		if err != nil || ok {
			return err
		}
		if err := b.Wait(ctx); err != nil {
			return fault.Wrap("wait for port", err)
		}
	}
}
