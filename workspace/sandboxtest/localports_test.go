//go:build unix

package sandboxtest_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

var _ workspace.PortExposer = (*localSandbox)(nil)

// PortURL returns the port's address on this machine: a local sandbox's
// ports need no proxy and no credentials.
func (s *localSandbox) PortURL(ctx context.Context, port int) (*workspace.PortURL, error) {
	if !workspace.ValidPort(port) {
		return nil, fmt.Errorf("local: port %d is outside 1-65535", port)
	}
	if _, err := s.ensureRunning(ctx); err != nil {
		return nil, err
	}
	return &workspace.PortURL{Port: port, URL: "http://127.0.0.1:" + strconv.Itoa(port)}, nil
}

// WaitForPort dials the port on the loopback addresses until one accepts.
func (s *localSandbox) WaitForPort(ctx context.Context, port int) error {
	if !workspace.ValidPort(port) {
		return fmt.Errorf("local: port %d is outside 1-65535", port)
	}
	if _, err := s.ensureRunning(ctx); err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, host := range []string{"127.0.0.1", "::1"} {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 100*time.Millisecond); err == nil {
				return c.Close()
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
