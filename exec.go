package daytona

import (
	"context"
	"errors"

	"github.com/agentworkspace/daytona/workspace"
)

// ExecuteCommand is implemented in the next step.
func (s *Sandbox) ExecuteCommand(ctx context.Context, command string, args []string, opts *workspace.ExecOptions) (*workspace.CommandResult, error) {
	if _, err := s.ensureRunning(ctx); err != nil {
		return nil, err
	}
	return nil, errors.New("daytona: ExecuteCommand: not implemented")
}
