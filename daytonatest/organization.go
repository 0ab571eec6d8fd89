//go:build unix

package daytonatest

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// What the organization behind the API key has: the snapshots sandboxes
// can be created from, the regions (targets) they can run in, and the
// largest sandbox it may create. The API checks a create request against
// them (apps/api/src/sandbox/services/sandbox.service.ts @v0.190.0:
// getValidatedOrDefaultRegion 2810-2835, the snapshot lookup 466-515,
// validateOrganizationQuotas 170-236; the same at v0.173.0).

// Sandbox classes. A sandbox takes its class from its snapshot (since
// v0.190.0; sandbox.service.ts:636 @v0.190.0), and only the VM classes can
// pause (sandbox.service.ts:2086-2088, 2201-2203 @v0.190.0). Service 0.173
// knew other classes, the sizes small, medium and large, chosen in the
// create request (apps/api/src/sandbox/enums/sandbox-class.enum.ts
// @v0.173.0).
const (
	ClassContainer = "container"
	ClassLinuxVM   = "linux-vm"
	ClassWindows   = "windows"
	ClassAndroid   = "android"
	classSmall     = "small" // the default of v0.173.0 (sandbox.service.ts:2328-2330 @v0.173.0)
)

// pausable reports whether sandboxes of class can pause.
func pausable(class string) bool { return class == ClassLinuxVM || class == ClassWindows }

// Snapshot is a snapshot the organization has: sandboxes created from it
// get its class and resources.
type Snapshot struct {
	Name   string
	Class  string // ClassContainer when empty
	CPU    int    // 0: DefaultCPU
	GPU    int
	Memory int // GiB; 0: DefaultMemory
	Disk   int // GiB; 0: DefaultDisk
}

// SandboxLimits is the largest sandbox the organization may create or
// start: cpu > CPU is refused with "CPU request N exceeds maximum allowed
// per sandbox (CPU)", and likewise for memory and disk. The default,
// [DefaultSandboxLimits], is the API's default organization quota.
type SandboxLimits struct {
	CPU    int
	Memory int // GiB
	Disk   int // GiB
}

// DefaultSandboxLimits are the per-sandbox maximums of a new organization
// (apps/api/src/organization/entities/organization.entity.ts:36-55 and
// apps/api/src/config/configuration.ts:295-297 @v0.190.0).
var DefaultSandboxLimits = SandboxLimits{CPU: 4, Memory: 8, Disk: 10}

// DefaultRegions are the targets the organization can create sandboxes
// in: Daytona's two regions, "us" being the default
// (apps/api/src/config/configuration.ts:302-304 @v0.190.0).
var DefaultRegions = []string{"us", "eu"}

// SnapshotsEnv is the environment variable that adds snapshots (by name,
// separated by commas, with the default class and resources) to the
// organization of servers started in this process, as [WithSnapshot] does.
const SnapshotsEnv = "DAYTONATEST_SNAPSHOTS"

// SandboxLimitsEnv is the environment variable that sets the per-sandbox
// maximums of servers started in this process, as "CPU,MEMORY,DISK" (such
// as "4,8,50"), as [WithSandboxLimits] does.
const SandboxLimitsEnv = "DAYTONATEST_SANDBOX_LIMITS"

// organization is the part of config that describes the organization.
type organization struct {
	snapshots map[string]Snapshot
	regions   []string
	limits    SandboxLimits
}

func defaultOrganization() organization {
	return organization{
		snapshots: map[string]Snapshot{DefaultSnapshot: {Name: DefaultSnapshot}},
		regions:   slices.Clone(DefaultRegions),
		limits:    DefaultSandboxLimits,
	}
}

// fromEnv adds the snapshots SnapshotsEnv names, and sets the limits
// SandboxLimitsEnv gives.
func (o *organization) fromEnv() error {
	for _, name := range strings.Split(os.Getenv(SnapshotsEnv), ",") {
		if name = strings.TrimSpace(name); name != "" {
			o.snapshots[name] = Snapshot{Name: name}
		}
	}
	v := os.Getenv(SandboxLimitsEnv)
	if v == "" {
		return nil
	}
	var l SandboxLimits
	if _, err := fmt.Sscanf(v, "%d,%d,%d", &l.CPU, &l.Memory, &l.Disk); err != nil || l.CPU < 1 || l.Memory < 1 || l.Disk < 1 {
		return fmt.Errorf("daytonatest: %s=%q: want CPU,MEMORY,DISK, each at least 1", SandboxLimitsEnv, v)
	}
	o.limits = l
	return nil
}

// withDefaults fills in a snapshot's zero fields.
func (sn Snapshot) withDefaults() Snapshot {
	if sn.Class == "" {
		sn.Class = ClassContainer
	}
	if sn.CPU == 0 {
		sn.CPU = DefaultCPU
	}
	if sn.Memory == 0 {
		sn.Memory = DefaultMemory
	}
	if sn.Disk == 0 {
		sn.Disk = DefaultDisk
	}
	return sn
}

// WithSnapshot adds a snapshot to the organization, so that sandboxes can
// be created from it by name; creating one from a snapshot the
// organization does not have is a 400 "Snapshot NAME not found. Did you
// add it through the Daytona Dashboard?", as in Daytona. The organization
// starts with [DefaultSnapshot] (and those [SnapshotsEnv] names). A
// snapshot of class [ClassLinuxVM] or [ClassWindows] makes sandboxes that
// can pause.
func WithSnapshot(sn Snapshot) Option {
	return func(c *config) error {
		if err := sn.check("WithSnapshot"); err != nil {
			return err
		}
		c.org.snapshots[sn.Name] = sn.withDefaults()
		return nil
	}
}

// AddSnapshot adds a snapshot to the organization of a running server, as
// creating one in Daytona's dashboard does (see [WithSnapshot]); one of the
// same name is replaced.
func (s *Server) AddSnapshot(sn Snapshot) error {
	if err := sn.check("AddSnapshot"); err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg.org.snapshots[sn.Name] = sn.withDefaults()
	s.mu.Unlock()
	return nil
}

// check says what is wrong with a snapshot given to fn.
func (sn Snapshot) check(fn string) error {
	switch {
	case strings.TrimSpace(sn.Name) == "":
		return fmt.Errorf("daytonatest: %s: empty name", fn)
	case sn.CPU < 0 || sn.GPU < 0 || sn.Memory < 0 || sn.Disk < 0:
		return fmt.Errorf("daytonatest: %s(%q): negative resources", fn, sn.Name)
	case !slices.Contains([]string{"", ClassContainer, ClassLinuxVM, ClassWindows, ClassAndroid}, sn.Class):
		return fmt.Errorf("daytonatest: %s(%q): unknown class %q", fn, sn.Name, sn.Class)
	}
	return nil
}

// WithRegion adds a region (a target) to those the organization can
// create sandboxes in, [DefaultRegions]; a create request for any other
// target is a 404 "Region not found".
func WithRegion(name string) Option {
	return checked(strings.TrimSpace(name) != "", func(c *config) {
		if !slices.Contains(c.org.regions, name) {
			c.org.regions = append(c.org.regions, name)
		}
	}, "daytonatest: WithRegion: empty name")
}

// WithSandboxLimits sets the organization's per-sandbox maximums (see
// [SandboxLimits]). Each must be at least 1.
func WithSandboxLimits(l SandboxLimits) Option {
	return checked(l.CPU >= 1 && l.Memory >= 1 && l.Disk >= 1, func(c *config) { c.org.limits = l },
		"daytonatest: WithSandboxLimits(%+v): each limit must be at least 1", l)
}
