package daytona

import (
	"fmt"
	"time"
)

// The values a Sandbox's options take, and their defaults.

// Language is the code runtime of a sandbox.
type Language string

// Languages Daytona supports.
const (
	TypeScript Language = "typescript"
	JavaScript Language = "javascript"
	Python     Language = "python"
)

// Resources are the CPU cores and GiB of memory and disk of a sandbox
// created from an image. Zero fields keep Daytona's defaults.
type Resources struct {
	CPU    int // cores
	Memory int // GiB
	Disk   int // GiB
}

// VolumeMount mounts a Daytona volume into the sandbox.
type VolumeMount struct {
	VolumeID  string // the volume's id
	MountPath string // absolute path in the sandbox
	Subpath   string // optional path inside the volume
}

// Defaults.
const (
	// DefaultTimeout is the default command timeout.
	DefaultTimeout = 5 * time.Minute
	// DefaultAutoStopInterval is how long a sandbox may idle before Daytona
	// stops it.
	DefaultAutoStopInterval = 15 * time.Minute
	// DefaultAPIURL is Daytona's API.
	DefaultAPIURL = "https://app.daytona.io/api"
)

// checkMinutes reports a duration that is negative or not a whole number
// of minutes, as an error of opt.
func checkMinutes(opt string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s(%v): must not be negative", opt, d)
	}
	if d%time.Minute != 0 {
		return fmt.Errorf("%s(%v): must be a whole number of minutes", opt, d)
	}
	return nil
}
