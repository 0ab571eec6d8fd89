package pool_test

import (
	"context"
	"fmt"
	"log"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/pool"
)

// Each user gets a sandbox of their own, which keeps its files from one
// turn to the next.
func Example() {
	srv, err := daytonatest.Run() // an in-process Daytona; use your API key instead
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	p, err := pool.Open(ctx, "example",
		pool.WithSandboxOptions(daytona.WithEndpoint(srv.APIURL(), srv.APIKey())),
		pool.WithOnClose(pool.CloseDestroy))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(ctx)

	for _, user := range []string{"alice", "bob", "alice"} {
		lease, err := p.Acquire(ctx, user)
		if err != nil {
			log.Fatal(err)
		}
		// Count the user's turns in a file of their sandbox.
		res, err := lease.Sandbox().ExecuteCommand(ctx, "echo $(( $(cat turns 2>/dev/null || echo 0) + 1 )) > turns; cat turns", nil, nil)
		lease.Release()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: turn %s", user, res.Stdout)
	}
	// Output:
	// alice: turn 1
	// bob: turn 1
	// alice: turn 2
}
