package genkittools_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/genkit"
	"go.uber.org/goleak"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/workspace/tools"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// secret is redacted by every toolkit of these tests.
const secret = "sk-test-0123456789"

// newSandbox returns a started daytona.Sandbox on its own daytonatest
// server, destroyed at cleanup, and the server.
func newSandbox(t *testing.T) (*daytona.Sandbox, *daytonatest.Server) {
	t.Helper()
	srv := daytonatest.NewServer(t, daytonatest.WithCloseDelay(0))
	sb, err := daytona.New(daytona.WithEndpoint(srv.APIURL(), srv.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = sb.Destroy(ctx) // some tests destroy it themselves
	})
	if err := sb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sb, srv
}

// options are the toolkit options of these tests: a deny-list and a
// secret to redact.
func options() *tools.Options {
	return &tools.Options{
		Redact: []string{secret},
		Policy: func(_ context.Context, req tools.Request) error {
			if strings.Contains(string(req.Input), "forbidden") {
				return errors.New("this command is forbidden here")
			}
			return nil
		},
	}
}

// scriptedModel is a model defined on a Genkit instance that asks for
// tool calls after the user's message and then answers with what the
// tools returned, one line per call ("ref: output"), as a model would.
// It records the tools each request offered.
type scriptedModel struct {
	ai.Model
	mu      sync.Mutex
	offered [][]*ai.ToolDefinition
}

// call is one tool request of the scripted model.
type call struct {
	name  string
	input any
}

func defineModel(g *genkit.Genkit, calls ...call) *scriptedModel {
	m := &scriptedModel{}
	m.Model = genkit.DefineModel(g, "test/scripted", &ai.ModelOptions{Supports: &ai.ModelSupports{Tools: true, Multiturn: true}},
		func(_ context.Context, req *ai.ModelRequest, _ ai.ModelStreamCallback) (*ai.ModelResponse, error) {
			m.mu.Lock()
			m.offered = append(m.offered, req.Tools)
			m.mu.Unlock()
			last := req.Messages[len(req.Messages)-1]
			if last.Role == ai.RoleUser {
				var parts []*ai.Part
				for i, c := range calls {
					parts = append(parts, ai.NewToolRequestPart(&ai.ToolRequest{Name: c.name, Input: c.input, Ref: strconv.Itoa(i)}))
				}
				return &ai.ModelResponse{Message: ai.NewModelMessage(parts...), FinishReason: ai.FinishReasonStop}, nil
			}
			var said []string
			for _, p := range last.Content {
				if p.IsToolResponse() {
					said = append(said, fmt.Sprintf("%s: %v", p.ToolResponse.Ref, p.ToolResponse.Output))
				}
			}
			return &ai.ModelResponse{Message: ai.NewModelTextMessage(strings.Join(said, "\n")), FinishReason: ai.FinishReasonStop}, nil
		})
	return m
}

// waitGone waits until process pid (run by daytonatest on this machine)
// has ended, failing the test after 20 seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return // gone, or a zombie
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising
	}
}
