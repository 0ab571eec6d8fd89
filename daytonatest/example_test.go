//go:build unix

package daytonatest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
)

// Outside a test (in an example, a demo or a main package), start the
// server with Run and stop it with Close; in a test, NewServer(t) does both.
func ExampleRun() {
	// Without transition delays, sandboxes are created, started and
	// deleted at once.
	srv, err := daytonatest.Run(daytonatest.WithTransitionDelay(0))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// Options points a daytona.Sandbox at the server, ignoring DAYTONA_*
	// settings in the environment.
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	res, err := sb.ExecuteCommand(ctx, "echo", []string{"hello from", "daytonatest"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Stdout)
	if err := sb.Destroy(ctx); err != nil {
		log.Fatal(err)
	}

	// The request log shows what the client did.
	fmt.Println("created:", srv.Count(daytonatest.OpCreate))
	fmt.Println("deleted:", srv.Count(daytonatest.OpDelete))
	fmt.Println("sandboxes left:", len(srv.Sandboxes()))
	// Output:
	// hello from daytonatest
	// created: 1
	// deleted: 1
	// sandboxes left: 0
}

// FailNext injects failures: here the first create fails with a 500, and
// the client reports it with the status code.
func ExampleServer_FailNext() {
	srv, err := daytonatest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.FailNext(daytonatest.OpCreate, 1, 500, "internal error")

	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(context.Background())
	err = sb.Start(context.Background())
	fmt.Println("status code:", daytona.StatusCode(err))
	fmt.Println("second try:", sb.Start(context.Background()))
	fmt.Println("create requests:", srv.Count(daytonatest.OpCreate))
	// Output:
	// status code: 500
	// second try: <nil>
	// create requests: 2
}
