package mcpserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/mcptest"
	"github.com/agentworkspace/daytona/internal/testparallel"
	"github.com/agentworkspace/daytona/mcpserver"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/tools"
)

// minParallel is how many parallel tests run at once unless -parallel says
// otherwise: the tests mostly wait for the fake's answers and shells
// rather than compute.
const minParallel = 4

func TestMain(m *testing.M) {
	testparallel.AtLeast(minParallel)
	goleak.VerifyTestMain(m)
}

// newSandbox returns a daytona.Sandbox on its own daytonatest server,
// with instant transitions, destroyed at cleanup.
func newSandbox(t *testing.T) *daytona.Sandbox {
	t.Helper()
	srv := daytonatest.NewServer(t, daytonatest.WithCloseDelay(0), daytonatest.WithTransitionDelay(0))
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sb.Destroy(ctx); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	return sb
}

// denyForbidden refuses commands that mention "forbidden".
func denyForbidden(_ context.Context, req tools.Request) error {
	var in struct{ Command string }
	if err := req.Decode(&in); err != nil {
		return err
	}
	if strings.Contains(in.Command, "forbidden") {
		return errors.New("this command is forbidden here")
	}
	return nil
}

// connect serves server over an in-memory transport and returns a client
// session, closed at cleanup.
func connect(t *testing.T, server *mcp.Server) (*mcp.ClientSession, *mcptest.Recorder) {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := server.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, rec := mcptest.NewClient()
	cs, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs, rec
}

// processesOnly hides a sandbox's filesystem: a provider that runs
// processes but has no file access.
type processesOnly struct {
	workspace.Sandbox
	workspace.ProcessSpawner
}

// withoutFiles returns sb without its filesystem.
func withoutFiles(sb *daytona.Sandbox) processesOnly { return processesOnly{sb, sb} }

// newServer returns an mcpserver for sb with the denyForbidden policy,
// with the file tools (sb's own Filesystem) if files, else without.
func newServer(t *testing.T, sb *daytona.Sandbox, files bool) *mcp.Server {
	t.Helper()
	opts := &mcpserver.Options{Tools: tools.Options{Policy: denyForbidden}}
	var server *mcp.Server
	var err error
	if files {
		server, err = mcpserver.New(sb, opts)
	} else {
		server, err = mcpserver.New(withoutFiles(sb), opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return server
}
