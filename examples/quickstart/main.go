// Quickstart is the "Hello, world" of package daytona: it creates a
// sandbox, runs two commands in it, prints what they printed, describes the
// sandbox as an agent would see it, and destroys it.
//
//	go run ./examples/quickstart
//
// With DAYTONA_API_KEY set (in the environment, or in .env or .env.local in
// the working directory) it uses Daytona; without, it uses an in-process
// Daytona (package daytonatest) and says so, and the commands run on this
// machine.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
	"github.com/agentworkspace/daytona/workspace"
)

func main() {
	examplesupport.Main(run)
}

func run(ctx context.Context, w io.Writer) error {
	// New makes no request: the remote sandbox is created on first use.
	sb, cleanup, err := examplesupport.Connect(ctx, w, daytona.WithLanguage(daytona.TypeScript))
	if err != nil {
		return err
	}
	defer cleanup()

	// The first command creates and starts the sandbox.
	res, err := sb.ExecuteCommand(ctx, "echo", []string{"Hello, world!"}, nil)
	if err := show(w, `echo "Hello, world!"`, res, err); err != nil {
		return err
	}
	res, err = sb.ExecuteCommand(ctx, "pwd", nil, nil)
	if err := show(w, "pwd", res, err); err != nil {
		return err
	}

	info, err := sb.GetInfo(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nGetInfo:\n%s\n", b)
	fmt.Fprintf(w, "\nGetInstructions:\n%s\n", sb.GetInstructions())

	if err := sb.Destroy(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDestroyed sandbox %s (status %s).\n", sb.ID(), sb.Status())
	return nil
}

// show prints a command's result, and fails unless it succeeded.
func show(w io.Writer, line string, res *workspace.CommandResult, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	fmt.Fprintf(w, "$ %s\n%s(exit code %d, %v)\n", line, res.Stdout, res.ExitCode, res.Duration.Round(time.Millisecond))
	if !res.Success() {
		return fmt.Errorf("%s: exit code %d: %s", line, res.ExitCode, res.Stderr)
	}
	return nil
}
