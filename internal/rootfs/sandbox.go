package rootfs

import (
	"context"
	"errors"
	"strings"

	"github.com/agentworkspace/daytona/workspace"
)

// ProcessSandbox is a sandbox that runs background processes.
type ProcessSandbox interface {
	workspace.Sandbox
	workspace.ProcessSpawner
}

// Sandbox adds a Filesystem to a sandbox whose files are a directory of
// this machine, such as one of daytonatest.
type Sandbox struct {
	ProcessSandbox
	FS *FS
}

var _ workspace.FilesystemProvider = Sandbox{}

// Filesystem returns FS.
func (s Sandbox) Filesystem() workspace.Filesystem { return s.FS }

// Local starts sb, asks it for its working directory (with pwd) and
// returns it with a filesystem there. That directory must be on this
// machine, as daytonatest's are. The caller must close the FS.
func Local(ctx context.Context, sb ProcessSandbox) (Sandbox, error) {
	res, err := sb.ExecuteCommand(ctx, "pwd", nil, nil)
	if err != nil {
		return Sandbox{}, err
	}
	if !res.Success() {
		return Sandbox{}, errors.New("rootfs: pwd failed: " + res.Stderr)
	}
	fsys, err := Open(strings.TrimSpace(res.Stdout))
	if err != nil {
		return Sandbox{}, err
	}
	return Sandbox{ProcessSandbox: sb, FS: fsys}, nil
}
