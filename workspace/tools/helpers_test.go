package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/internal/testparallel"
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

// newSandbox returns a started daytona.Sandbox on its own daytonatest
// server with instant transitions, destroyed at cleanup.
func newSandbox(t *testing.T, opts ...daytona.Option) *daytona.Sandbox {
	t.Helper()
	srv := daytonatest.NewServer(t, daytonatest.WithCloseDelay(0), daytonatest.WithTransitionDelay(0))
	sb, err := daytona.New(append([]daytona.Option{daytona.WithEndpoint(srv.APIURL(), srv.APIKey())}, opts...)...)
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
	if err := sb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sb
}

// newFilesSandbox returns a started daytona.Sandbox, which offers
// processes and files.
func newFilesSandbox(t *testing.T) *daytona.Sandbox { return newSandbox(t) }

// processesOnly hides a sandbox's filesystem: the sandbox of a provider
// that runs processes but has no file access.
type processesOnly struct {
	workspace.Sandbox
	workspace.ProcessSpawner
}

// withoutFiles returns sb without its filesystem.
func withoutFiles(sb *daytona.Sandbox) processesOnly { return processesOnly{sb, sb} }

func newKit(t *testing.T, sb workspace.Sandbox, opts *tools.Options) *tools.Toolkit {
	t.Helper()
	kit, err := tools.New(sb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return kit
}

// call calls a tool and fails the test on a Go error.
func call(t *testing.T, kit *tools.Toolkit, name, input string) *tools.Result {
	t.Helper()
	res, err := kit.Call(t.Context(), name, json.RawMessage(input))
	if err != nil {
		t.Fatalf("%s(%s): %v", name, input, err)
	}
	return res
}

// want checks a result's error flag and that its text contains each of
// wants.
func want(t *testing.T, res *tools.Result, isError bool, wants ...string) {
	t.Helper()
	if res.IsError != isError {
		t.Errorf("IsError = %v; want %v; text:\n%s", res.IsError, isError, res.Text)
	}
	for _, w := range wants {
		if !strings.Contains(res.Text, w) {
			t.Errorf("text lacks %q; text:\n%s", w, res.Text)
		}
	}
}

// decode decodes a result's structured data.
func decode[T any](t *testing.T, res *tools.Result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.Structured, &v); err != nil {
		t.Fatalf("structured %s: %v", res.Structured, err)
	}
	return v
}
