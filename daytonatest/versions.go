//go:build unix

package daytonatest

import (
	"fmt"
	"os"
)

// The version of Daytona's service that the server reproduces. Daytona's
// open-source code stopped at v0.190.0; the live service went on, and the
// clients it publishes (control-plane client 0.220, toolbox client and
// TypeScript SDK 0.218) are the only public view of it since. Behaviour
// that differs between versions is keyed on the setting here, each with
// its source.

// ServiceVersion names a version of Daytona's service (its control-plane
// API and the daemon behind the toolbox proxy) whose behaviour the server
// reproduces. See [WithServiceVersion].
type ServiceVersion string

// The service versions the server can reproduce.
const (
	// Service0173 is the service of Daytona v0.173.0, the version of the Go
	// SDK this module is built on (apps/api/src and apps/daemon at the tag
	// v0.173.0).
	Service0173 ServiceVersion = "0.173"
	// Service0190 is the service of Daytona v0.190.0, the last open-source
	// release (apps/api/src and apps/daemon at the tag v0.190.0).
	Service0190 ServiceVersion = "0.190"
	// ServiceCurrent is the newest behaviour there is evidence for: v0.190.0's
	// source, plus what the published clients show changed since (control
	// plane @daytonaio/api-client 0.220.0, toolbox @daytona/toolbox-api-client
	// 0.218.0, TypeScript SDK @daytonaio/sdk 0.218.0). It is the default.
	ServiceCurrent ServiceVersion = "current"
)

// ServiceVersionEnv is the environment variable that sets the service
// version of servers started without [WithServiceVersion]: "0.173",
// "0.190" or "current". It lets a whole test suite run against an older
// service without changing its code, for example
//
//	DAYTONATEST_SERVICE_VERSION=0.173 go test ./...
const ServiceVersionEnv = "DAYTONATEST_SERVICE_VERSION"

// serviceLevel orders the service versions.
type serviceLevel int

const (
	level0173 serviceLevel = iota
	level0190
	levelCurrent
)

// level returns the order of v, or an error naming the valid versions.
func (v ServiceVersion) level() (serviceLevel, error) {
	switch v {
	case Service0173:
		return level0173, nil
	case Service0190:
		return level0190, nil
	case ServiceCurrent:
		return levelCurrent, nil
	}
	return 0, fmt.Errorf("unknown service version %q (want %q, %q or %q)", string(v), Service0173, Service0190, ServiceCurrent)
}

// WithServiceVersion sets the version of Daytona's service whose behaviour
// the server reproduces: [Service0173], [Service0190] or [ServiceCurrent].
// The default is the environment variable [ServiceVersionEnv] if it is
// set, else [ServiceCurrent]. Among what it changes (each difference
// cites its source in the code and in the package documentation):
//
//   - 0.173: GET /sandbox answers a bare array; stopping an ephemeral
//     sandbox keeps its name, which its destroyed record holds for a day;
//     the stop refusal is "Sandbox is not started"; recovering an errored
//     sandbox needs no recoverable flag; no pausing;
//   - 0.190: GET /sandbox answers {items, nextCursor}; stopping an
//     ephemeral sandbox frees its name at once; "Sandbox is not in a
//     stoppable state"; negative resources are refused; VM-class
//     sandboxes pause and resume;
//   - current: /sandbox/paginated is gone, auto-pause, daemon refusals
//     carry a JSON body with a code and a source, /files/upload-v2.
func WithServiceVersion(v ServiceVersion) Option {
	return func(c *config) error {
		l, err := v.level()
		if err != nil {
			return fmt.Errorf("daytonatest: WithServiceVersion: %w", err)
		}
		c.service, c.level = v, l
		return nil
	}
}

// WithAPIVersion sets the service version from a Daytona release number:
// before 0.190.0 it is [Service0173], from 0.190.0 to 0.200.x
// [Service0190], and from 0.201.0 (the release of structured toolbox
// errors) [ServiceCurrent].
//
// Deprecated: use [WithServiceVersion].
func WithAPIVersion(v string) Option {
	return func(c *config) error {
		parsed, err := parseVersion(v)
		if err != nil {
			return fmt.Errorf("daytonatest: WithAPIVersion(%q): %w", v, err)
		}
		switch {
		case !parsed.atLeast(version{0, 190, 0, ""}):
			c.service, c.level = Service0173, level0173
		case !parsed.atLeast(version{0, 201, 0, ""}):
			c.service, c.level = Service0190, level0190
		default:
			c.service, c.level = ServiceCurrent, levelCurrent
		}
		return nil
	}
}

// defaultServiceVersion is the version of a server started without
// WithServiceVersion: the environment's, else the current one.
func defaultServiceVersion() (ServiceVersion, serviceLevel, error) {
	v := ServiceVersion(os.Getenv(ServiceVersionEnv))
	if v == "" {
		return ServiceCurrent, levelCurrent, nil
	}
	l, err := v.level()
	if err != nil {
		return "", 0, fmt.Errorf("daytonatest: %s: %w", ServiceVersionEnv, err)
	}
	return v, l, nil
}

// ServiceVersion returns the version of the service the server reproduces.
func (s *Server) ServiceVersion() ServiceVersion { return s.cfg.service }

// since reports whether the server reproduces version l or a newer one.
func (s *Server) since(l serviceLevel) bool { return s.cfg.level >= l }
