package daytona

import (
	"time"

	"github.com/agentworkspace/daytona/workspace"
)

// What a Sandbox does for long-running services, beside running commands:
// keep-alive (keepalive.go), preview URLs (ports.go) and live figures
// (metrics.go).

var _ workspace.SignedPortExposer = (*Sandbox)(nil)

// serviceConfig is the part of config that the services' options set.
type serviceConfig struct {
	keepAlive time.Duration // 0: DefaultKeepAliveInterval; negative: off
}

// services is a Sandbox's state for the services, guarded by its own
// mutex (never held while s.mu is wanted).
type services struct {
	keep keeper
}
