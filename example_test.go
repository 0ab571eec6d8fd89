package daytona_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace"
)

// The examples run against daytonatest, an in-process Daytona; with a real
// account, drop the server and its Options: New then reads DAYTONA_API_KEY
// from the environment or a .env file.

func Example() {
	srv, err := daytonatest.Run() // an in-process Daytona, for this example
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey())) // no request yet
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.WithoutCancel(ctx))

	// The first command creates and starts the sandbox.
	res, err := sb.ExecuteCommand(ctx, "echo", []string{"Hello, world!"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Stdout)
	fmt.Println("exit code:", res.ExitCode)
	// Output:
	// Hello, world!
	// exit code: 0
}

func ExampleSandbox_ExecuteCommand_streaming() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.WithoutCancel(ctx))

	// Output goes to the writers as it arrives (os/exec semantics), and
	// the result keeps it too.
	var stderr bytes.Buffer
	res, err := sb.ExecuteCommand(ctx,
		`for i in 1 2 3; do echo "line $i"; done; echo done >&2`, nil,
		&workspace.ExecOptions{Stdout: os.Stdout, Stderr: &stderr})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stderr: %q, exit code: %d\n", stderr.String(), res.ExitCode)
	// Output:
	// line 1
	// line 2
	// line 3
	// stderr: "done\n", exit code: 0
}

func ExampleSandbox_ExecuteCommand_timeout() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.WithoutCancel(ctx))

	// A timeout kills the command; it is a result, not an error.
	res, err := sb.ExecuteCommand(ctx, "sleep", []string{"30"},
		&workspace.ExecOptions{Timeout: 200 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit code:", res.ExitCode)
	fmt.Println("timed out:", res.TimedOut)
	fmt.Println("stderr:", res.Stderr)
	// Output:
	// exit code: 124
	// timed out: true
	// stderr: Command timed out after 200ms
}

func ExampleSandbox_ExecuteCommand_cancel() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.Background())
	if err := sb.Start(context.Background()); err != nil {
		log.Fatal(err)
	}

	// Cancelling the context kills the command (here after half a second;
	// in a program, signal.NotifyContext makes Ctrl-C do it). The partial
	// result comes with an error matching the context's.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := sb.ExecuteCommand(ctx, "echo started; sleep 30; echo never", nil, nil)
	fmt.Println("deadline exceeded:", errors.Is(err, context.DeadlineExceeded))
	if res != nil {
		fmt.Printf("exit code: %d, killed: %v, stdout: %q\n", res.ExitCode, res.Killed, res.Stdout)
	}
	// Output:
	// deadline exceeded: true
	// exit code: 137, killed: true, stdout: "started\n"
}

func ExampleSandbox_GetInstructions() {
	// GetInstructions makes no request: it describes the configuration, for
	// the description of an agent's tool.
	sb, err := daytona.New()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sb.GetInstructions())

	sb, err = daytona.New(
		daytona.WithLanguage(daytona.Python),
		daytona.WithTimeout(60*time.Second),
		daytona.WithUser("app"),
		daytona.WithVolumes(daytona.VolumeMount{VolumeID: "vol-123", MountPath: "/data"}),
		daytona.WithNetworkBlockAll(true),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sb.GetInstructions())
	// Output:
	// Cloud sandbox with isolated execution (typescript runtime). Default working directory: /home/daytona. Command timeout: 300s. Running as user: daytona.
	// Cloud sandbox with isolated execution (python runtime). Default working directory: /home/daytona. Command timeout: 60s. Running as user: app. 1 volume(s) attached. Network access is blocked.
}

func ExampleNew_invalidOption() {
	_, err := daytona.New(daytona.WithAutoStopInterval(90 * time.Second))
	fmt.Println(err)
	fmt.Println(errors.Is(err, daytona.ErrInvalidInput))
	// Output:
	// daytona: invalid input: WithAutoStopInterval(1m30s): must be a whole number of minutes
	// true
}

func ExampleWithExistingSandbox() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// A first program creates a sandbox, leaves a file in it, stops it and
	// saves its Daytona id.
	first, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := first.ExecuteCommand(ctx, "echo 'work in progress' > notes.txt", nil, nil); err != nil {
		log.Fatal(err)
	}
	if err := first.Stop(ctx); err != nil { // files stay; Destroy would delete them
		log.Fatal(err)
	}
	saved := first.DaytonaID()

	// A later program reconnects by that id; the sandbox is restarted.
	later, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()), daytona.WithExistingSandbox(saved))
	if err != nil {
		log.Fatal(err)
	}
	defer later.Destroy(context.WithoutCancel(ctx))
	res, err := later.ExecuteCommand(ctx, "cat", []string{"notes.txt"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Stdout)
	fmt.Println("same sandbox:", later.DaytonaID() == saved)
	// Output:
	// work in progress
	// same sandbox: true
}

func ExampleStatusCode() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.FailNext(daytonatest.OpCreate, 1, 503, "no capacity") // Daytona is having a bad day

	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.Background())
	err = sb.Start(context.Background())
	fmt.Println(err)
	fmt.Println("status code:", daytona.StatusCode(err))
	var de *daytona.Error
	if errors.As(err, &de) {
		fmt.Println("op:", de.Op)
	}
	// A failed start is not remembered: the next call tries again.
	fmt.Println("retry:", sb.Start(context.Background()))
	// Output:
	// daytona: create sandbox: HTTP 503: no capacity
	// status code: 503
	// op: create sandbox
	// retry: <nil>
}

func ExampleSandbox_Processes() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.WithoutCancel(ctx))

	// Spawn returns once the process has started; it reads its stdin.
	proc, err := sb.Processes().Spawn(ctx, `read -r name; echo "hello, $name"`, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := proc.SendStdin(ctx, []byte("agent\n")); err != nil {
		log.Fatal(err)
	}
	res, err := proc.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%sexit code: %d\n", res.Stdout, res.ExitCode)
	// Output:
	// hello, agent
	// exit code: 0
}
